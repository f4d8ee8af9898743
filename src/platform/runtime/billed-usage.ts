import type { AttemptRecord, TaskResult, TokenUsage } from '../task.js';

/** Returns a usage of 0 input and 0 output tokens. */
export function noUsage(): TokenUsage {
  return { inputTokens: 0, outputTokens: 0 };
}

/** Returns the sum of two usages. */
export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
  };
}

/** True when the usage counts no token. */
export function isNoUsage(usage: TokenUsage): boolean {
  return usage.inputTokens === 0 && usage.outputTokens === 0;
}

/** Returns the tokens of the failed attempts that carry usage, which their providers bill. */
export function attemptsUsageOf(attempts: readonly AttemptRecord[]): TokenUsage {
  let usage = noUsage();
  for (const attempt of attempts) {
    if (attempt.usage !== undefined) usage = addUsage(usage, attempt.usage);
  }
  return usage;
}

/**
 * Returns every token the providers bill for a result: its usage and that of its failed
 * attempts that carry usage, which is what the result's token cost prices.
 */
export function billedUsageOf(result: TaskResult): TokenUsage {
  return addUsage(result.usage, attemptsUsageOf(result.attempts));
}
