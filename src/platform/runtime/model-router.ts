import { addUsd } from '../cost/usd.js';
import type { ChatMessage, PriorityClass, TaskResult } from '../task.js';

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

  constructor(cause: unknown, tokenCostUsd: number) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'SpentTokensError';
    this.tokenCostUsd = tokenCostUsd;
  }
}

/**
 * Adds `tokenCostUsd` to the cost an error carries. With a cost of 0 the error
 * comes back unchanged.
 */
export function withSpentTokens(error: unknown, tokenCostUsd: number): unknown {
  if (tokenCostUsd <= 0) return error;
  if (error instanceof SpentTokensError) {
    return new SpentTokensError(error.cause, addUsd(error.tokenCostUsd, tokenCostUsd));
  }
  return new SpentTokensError(error, tokenCostUsd);
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

/** Returns the failure a `SpentTokensError` wraps, or the error itself. */
export function failureOf(error: unknown): unknown {
  return error instanceof SpentTokensError ? error.cause : error;
}
