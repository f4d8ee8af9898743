import type { ScenarioSpec } from '../src/harness/scenario/types.js';
import { agentMix } from './agent-mix.js';
import { asyncChat } from './async-chat.js';
import { convReplay } from './conv-replay.js';
import { noisyFlood, noisyHold } from './noisy-neighbour.js';
import { ramp } from './ramp.js';
import { steadyChat } from './steady-chat.js';

/** Shipped scenarios by name. */
export const SCENARIOS: Readonly<Record<string, ScenarioSpec>> = {
  [steadyChat.name]: steadyChat,
  [convReplay.name]: convReplay,
  [agentMix.name]: agentMix,
  [ramp.name]: ramp,
  [noisyFlood.name]: noisyFlood,
  [noisyHold.name]: noisyHold,
  [asyncChat.name]: asyncChat,
};
