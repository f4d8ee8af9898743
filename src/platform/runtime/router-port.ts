import type { PriceTable } from '../cost/price-table.js';
import { addUsd, roundUsd } from '../cost/usd.js';
import type { RouteCallOptions, Router } from '../router/router.js';
import { isRouterError, RouterError, withAttempts } from '../router/router-errors.js';
import type { AttemptRecord, TaskRequest, TaskResult } from '../task.js';
import { attemptsUsageOf } from './billed-usage.js';
import {
  type ModelCallInput,
  type ModelCallOutput,
  type ModelRouterPort,
  withSpentTokens,
} from './model-router.js';

/**
 * Adapts the model router to task execution: `execute` for plain calls,
 * `stream` when a token callback is set, and the token cost from the price table.
 */
export class RouterModelPort implements ModelRouterPort {
  readonly #router: Router;
  readonly #prices: PriceTable;

  constructor(router: Router, prices: PriceTable) {
    this.#router = router;
    this.#prices = prices;
  }

  /**
   * Calls the router. A call that fails after a provider accepted some attempt rejects
   * with a `SpentTokensError` carrying what those attempts cost.
   */
  async call(input: ModelCallInput): Promise<ModelCallOutput> {
    const request = toRequest(input);
    const options: RouteCallOptions = input.signal === undefined ? {} : { signal: input.signal };
    // The attempts the retry hook last saw, for an error that carries none.
    let hookAttempts: readonly AttemptRecord[] = [];
    if (input.beforeRetry !== undefined) {
      const hook = this.#retryHook(input.beforeRetry);
      options.beforeRetry = (attempts) => {
        hookAttempts = attempts;
        return hook(attempts);
      };
    }
    let result: TaskResult;
    try {
      result =
        input.onToken === undefined
          ? await this.#router.execute(input.route, request, options)
          : await this.#stream(input.route, request, options, input.onToken);
    } catch (error) {
      const attempts =
        isRouterError(error) && error.attempts.length > 0 ? error.attempts : hookAttempts;
      throw withSpentTokens(error, this.#attemptsCost(attempts), attemptsUsageOf(attempts));
    }
    const tokenCostUsd = addUsd(
      this.#prices.priceTokens(result.provider, result.model, result.usage),
      this.#attemptsCost(result.attempts),
    );
    return { result, tokenCostUsd };
  }

  /**
   * Adapts a caller's retry hook to the router's: prices the attempts made since the
   * previous retry, and gives a rejection without attempts the attempts so far, so
   * the cost of the failed call still counts them.
   */
  #retryHook(beforeRetry: (spentUsd: number) => Promise<void>) {
    let pricedUsd = 0;
    return async (attempts: readonly AttemptRecord[]): Promise<void> => {
      const spentUsd = this.#attemptsCost(attempts);
      const sinceLast = roundUsd(spentUsd - pricedUsd);
      pricedUsd = spentUsd;
      try {
        await beforeRetry(sinceLast);
      } catch (error) {
        if (!isRouterError(error) || error.attempts.length > 0) throw error;
        throw new RouterError(error.code, withAttempts(error.message, attempts), {
          retryAfterMs: error.retryAfterMs,
          attempts: [...attempts],
          cause: error,
        });
      }
    };
  }

  /** Cost of the failed attempts that carry usage: their providers bill it. */
  #attemptsCost(attempts: readonly AttemptRecord[]): number {
    let costUsd = 0;
    for (const attempt of attempts) {
      if (attempt.usage !== undefined) {
        const attemptUsd = this.#prices.priceTokens(attempt.provider, attempt.model, attempt.usage);
        costUsd = addUsd(costUsd, attemptUsd);
      }
    }
    return costUsd;
  }

  async #stream(
    route: string,
    request: TaskRequest,
    options: { signal?: AbortSignal },
    onToken: (text: string) => void,
  ): Promise<TaskResult> {
    for await (const event of this.#router.stream(route, request, options)) {
      if (event.type === 'delta') onToken(event.text);
      else if (event.type === 'done') return event.result;
      else throw event.error;
    }
    throw new Error(`router stream for route ${route} ended without a result`);
  }
}

function toRequest(input: ModelCallInput): TaskRequest {
  const request: TaskRequest = {
    route: input.route,
    messages: input.messages,
    maxOutputTokens: input.maxOutputTokens,
    mode: 'sync',
    priority: input.priority,
  };
  if (input.inputTokens !== undefined) request.inputTokens = input.inputTokens;
  if (input.forcedOutputTokens !== undefined) request.forcedOutputTokens = input.forcedOutputTokens;
  return request;
}
