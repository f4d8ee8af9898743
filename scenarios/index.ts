import type { ScenarioSpec } from '../src/harness/scenario/types.js';
import { specsByName } from '../src/harness/specs-by-name.js';
import { agentMix } from './agent-mix.js';
import { asyncChat } from './async-chat.js';
import { convReplay } from './conv-replay.js';
import { noisyFlood, noisyHold } from './noisy-neighbour.js';
import { ramp } from './ramp.js';
import { steadyChat } from './steady-chat.js';

/** Shipped scenarios by name, in the order `load --help` lists them. */
export const SCENARIOS: Readonly<Record<string, ScenarioSpec>> = specsByName(
  'scenario',
  'scenarios/index.ts',
  [steadyChat, convReplay, agentMix, ramp, noisyFlood, noisyHold, asyncChat],
);
