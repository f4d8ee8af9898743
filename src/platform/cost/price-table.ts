import type { TokenUsage } from '../task.js';
import { PriceNotFoundError } from './errors.js';
import { workerPoolCostUsd } from './executor-cost.js';
import { roundUsd } from './usd.js';

/** USD per 1,000,000 tokens of one model. */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
}

/**
 * Long-running worker prices, per vCPU-hour and per GB-hour of memory in USD, and the
 * size assumed for each worker of a topology.
 */
export interface WorkerPrices {
  perVcpuHour: number;
  perGbHour: number;
  vcpuPerWorker: number;
  memoryGbPerWorker: number;
}

/**
 * Serverless prices, per GB-second of memory-duration and per million invocations in USD,
 * and the memory size configured for the function, which the GB-seconds are billed at.
 */
export interface ServerlessPrices {
  perGbSecond: number;
  perMillionRequests: number;
  memoryMbPerFunction: number;
}

export interface ExecutorPrices {
  worker: WorkerPrices;
  serverless: ServerlessPrices;
}

export interface PriceTableData {
  /** ISO date from which the prices apply. */
  effectiveDate: string;
  /** Source of the prices and how far to trust them. */
  source: string;
  /** Model prices by provider name, then model name. */
  models: Record<string, Record<string, ModelPrice>>;
  executors: ExecutorPrices;
}

/** A provider and model pair, as a route lists its candidates. */
export interface ModelRef {
  provider: string;
  model: string;
}

const TOKENS_PER_MILLION = 1_000_000;

/** A dated price table with the token price arithmetic. */
export class PriceTable {
  constructor(readonly data: PriceTableData) {}

  get effectiveDate(): string {
    return this.data.effectiveDate;
  }

  get executors(): ExecutorPrices {
    return this.data.executors;
  }

  /** Bill of `workers` workers of the assumed size for `wallMs` of wall time, in USD. */
  workerPoolUsd(workers: number, wallMs: number): number {
    const worker = this.data.executors.worker;
    return workerPoolCostUsd(worker, { ...worker, workers, wallMs });
  }

  /**
   * Returns whether the table prices `model` of `provider`. Only the table's own keys count,
   * so a name such as `constructor` or `toString` does not find a member of Object.prototype.
   */
  hasModelPrice(provider: string, model: string): boolean {
    const { models } = this.data;
    return Object.hasOwn(models, provider) && Object.hasOwn(models[provider] ?? {}, model);
  }

  /** @throws PriceNotFoundError when the table has no price for the pair. */
  modelPrice(provider: string, model: string): ModelPrice {
    const price = this.hasModelPrice(provider, model)
      ? this.data.models[provider]?.[model]
      : undefined;
    if (price === undefined) {
      throw new PriceNotFoundError(provider, model, this.data.effectiveDate);
    }
    return price;
  }

  /** Cost of a completion's tokens, in USD, rounded to the picodollar. */
  priceTokens(provider: string, model: string, usage: TokenUsage): number {
    const price = this.modelPrice(provider, model);
    const input = (usage.inputTokens * price.inputPerMillion) / TOKENS_PER_MILLION;
    const output = (usage.outputTokens * price.outputPerMillion) / TOKENS_PER_MILLION;
    return roundUsd(input + output);
  }

  /**
   * Maximum token cost of a task across `candidates`: its input tokens plus
   * `maxOutputTokens` at the most expensive one, or 0 for none. Admission reserves
   * this amount before the provider call (see `routeMaxCost`).
   */
  maxTokenCostUsd(candidates: readonly ModelRef[], inputTokens: number, maxOutputTokens: number) {
    const usage = { inputTokens, outputTokens: maxOutputTokens };
    const costs = candidates.map((ref) => this.priceTokens(ref.provider, ref.model, usage));
    return Math.max(0, ...costs);
  }
}
