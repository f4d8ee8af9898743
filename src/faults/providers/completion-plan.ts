import type { ModelProfile } from './profile.js';
import { drawClippedNormal, drawLognormal, type Prng } from './prng.js';

/** Length drawn when a model profile gives no `outputTokens` distribution. */
export const DEFAULT_OUTPUT_TOKENS = { median: 200, p95: 800 } as const;

/** Request values that shape a completion. */
export interface CompletionInputs {
  /** `max_tokens` from the request, if any. */
  maxTokens: number | undefined;
  /** `x-scalegate-output-tokens`, which overrides every other length rule. */
  forcedOutputTokens: number | undefined;
  /** `firstTokenDelayMs` from the active faults, replacing the drawn time to first token. */
  firstTokenDelayMs: number | undefined;
}

/** Timing and length of one completion, drawn before the first byte is sent. */
export interface CompletionPlan {
  timeToFirstTokenMs: number;
  tokensPerSecond: number;
  outputTokens: number;
  /** `length` when `max_tokens` cut the completion, else `stop`. */
  finishReason: 'stop' | 'length';
}

/**
 * Draws a completion's timing and length. The draws happen in a fixed order (time to first
 * token, speed, length) whether or not they are used, so a seed gives repeatable plans.
 */
export function planCompletion(
  model: ModelProfile,
  inputs: CompletionInputs,
  prng: Prng,
): CompletionPlan {
  const drawnTtft = drawLognormal(prng, model.ttftMs.median, model.ttftMs.p95);
  const speed = model.outputTokensPerSecond;
  const tokensPerSecond = drawClippedNormal(prng, speed.mean, speed.stddev, 1);
  const lengthSpec = model.outputTokens ?? DEFAULT_OUTPUT_TOKENS;
  const drawnLength = Math.max(
    1,
    Math.round(drawLognormal(prng, lengthSpec.median, lengthSpec.p95)),
  );
  // A forced length stops at max_tokens too, where a provider ends its completion.
  const length = inputs.forcedOutputTokens ?? drawnLength;
  const outputTokens = Math.min(inputs.maxTokens ?? length, length);
  const cutByMax = inputs.maxTokens !== undefined && outputTokens >= inputs.maxTokens;
  return {
    timeToFirstTokenMs: inputs.firstTokenDelayMs ?? drawnTtft,
    tokensPerSecond,
    outputTokens,
    finishReason: cutByMax ? 'length' : 'stop',
  };
}

/** Milliseconds a non-streaming response waits: time to first token plus generation time. */
export function totalGenerationMs(plan: CompletionPlan): number {
  return plan.timeToFirstTokenMs + (plan.outputTokens * 1000) / plan.tokensPerSecond;
}

/** Offset in milliseconds, from the request start, at which content token `index` (0-based) is due. */
export function tokenDueMs(plan: CompletionPlan, index: number): number {
  return plan.timeToFirstTokenMs + (index * 1000) / plan.tokensPerSecond;
}

const WORDS = ['The', ' mock', ' model', ' writes', ' one', ' word', ' per', ' token', '.'];

/**
 * Text of content token `index`; completions repeat a fixed nine-token sentence, and each
 * repeat after the first starts with a space so sentences stay apart.
 */
export function tokenText(index: number): string {
  const position = index % WORDS.length;
  const word = WORDS[position] ?? '';
  return position === 0 && index > 0 ? ` ${word}` : word;
}

/** Full completion text of `count` tokens. */
export function completionText(count: number): string {
  let text = '';
  for (let index = 0; index < count; index += 1) {
    text += tokenText(index);
  }
  return text;
}
