import { addUsd } from '../cost/usd.js';
import type { ChatMessage, PriorityClass, TaskResult, TokenUsage } from '../task.js';
import { addUsage, isNoUsage, noUsage } from './billed-usage.js';

/** One model call as a task step makes it. */
export interface ModelCallInput {
  tenantId: string;
  route: string;
  priority: PriorityClass;
  messages: ChatMessage[];
  inputTokens?: number;
  maxOutputTokens: number;
  forcedOutputTokens?: number;
  signal?: AbortSignal;
  /** Set for streamed calls; receives each text delta. */
  onToken?: (text: string) => void;
  /**
   * Awaited before each provider call of this model call after its first, with what
   * the attempts since the previous one spent, in US dollars. A rejection ends the
   * call with that error. @defaultValue none
   */
  beforeRetry?: (spentUsd: number) => Promise<void>;
}

/** A finished model call with its token cost in US dollars. */
export interface ModelCallOutput {
  result: TaskResult;
  tokenCostUsd: number;
}

/**
 * Model router interface used by task execution. The runtime adapts the model router
 * to this shape; tests pass a fake.
 */
export interface ModelRouterPort {
  call(input: ModelCallInput): Promise<ModelCallOutput>;
}

/**
 * A failed model call or task run whose provider calls had already cost money.
 * Such calls are a stream cut after its first tokens, an accepted attempt that
 * then failed over, or the finished steps of a task whose later step failed. `cause` is the failure itself.
 */
export class SpentTokensError extends Error {
  /** Cost of the provider calls of the failed call or run, in US dollars. */
  readonly tokenCostUsd: number;
  /** Tokens that `tokenCostUsd` prices, as the providers bill them. */
  readonly usage: TokenUsage;

  constructor(cause: unknown, tokenCostUsd: number, usage: TokenUsage = noUsage()) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'SpentTokensError';
    this.tokenCostUsd = tokenCostUsd;
    this.usage = usage;
  }
}

/**
 * Adds `tokenCostUsd`, and `usage`, the tokens it prices, to what an error carries. With a
 * cost of 0 and no tokens the error comes back unchanged.
 */
export function withSpentTokens(
  error: unknown,
  tokenCostUsd: number,
  usage: TokenUsage = noUsage(),
): unknown {
  if (tokenCostUsd <= 0 && isNoUsage(usage)) return error;
  if (error instanceof SpentTokensError) {
    const costUsd = addUsd(error.tokenCostUsd, tokenCostUsd);
    return new SpentTokensError(error.cause, costUsd, addUsage(error.usage, usage));
  }
  return new SpentTokensError(error, tokenCostUsd, usage);
}

/**
 * Returns the token cost an error carries, or its direct cause carries, such as a
 * function timeout caused by an aborted run; 0 for any other error.
 */
export function spentTokenCostOf(error: unknown): number {
  if (error instanceof SpentTokensError) return error.tokenCostUsd;
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof SpentTokensError ? cause.tokenCostUsd : 0;
}

/**
 * Returns the tokens that the cost an error carries prices, read as `spentTokenCostOf`
 * reads the cost; no tokens for any other error.
 */
export function spentUsageOf(error: unknown): TokenUsage {
  if (error instanceof SpentTokensError) return error.usage;
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof SpentTokensError ? cause.usage : noUsage();
}

/** Returns the failure a `SpentTokensError` wraps, or the error itself. */
export function failureOf(error: unknown): unknown {
  return error instanceof SpentTokensError ? error.cause : error;
}
