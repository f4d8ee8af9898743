import type { PriceTable } from '../cost/price-table.js';
import type { Router } from '../router/router.js';
import type { TaskRequest, TaskResult } from '../task.js';
import type { ModelCallInput, ModelCallOutput, ModelRouterPort } from './model-router.js';

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

  async call(input: ModelCallInput): Promise<ModelCallOutput> {
    const request = toRequest(input);
    const options = input.signal === undefined ? {} : { signal: input.signal };
    const result =
      input.onToken === undefined
        ? await this.#router.execute(input.route, request, options)
        : await this.#stream(input.route, request, options, input.onToken);
    let tokenCostUsd = this.#prices.priceTokens(result.provider, result.model, result.usage);
    // Attempts that failed after streaming text were billed for it by their provider.
    for (const attempt of result.attempts) {
      if (attempt.usage !== undefined) {
        tokenCostUsd += this.#prices.priceTokens(attempt.provider, attempt.model, attempt.usage);
      }
    }
    return { result, tokenCostUsd };
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
