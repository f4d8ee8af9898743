import type { Counter, Gauge } from 'prom-client';

import type { BudgetPeriod } from '../tenants/tenant.js';
import { isOperationTimeoutError } from '../timeout.js';
import { TimeLimitedReader } from './source-reader.js';

/** One tenant's budget and its usage in the current budget period, in US dollars. */
export interface TenantUsageSample {
  /** Tenant id, never an API key. */
  tenant: string;
  period: BudgetPeriod;
  budgetUsd: number;
  spentUsd: number;
  reservedUsd: number;
}

/** Source of the tenant gauges. */
export interface TenantUsageSource {
  /** Reads every tenant's sample, such as with one Redis pipeline. */
  read: () => Promise<TenantUsageSample[]>;
  /** Receives the error of each read that failed or timed out. */
  onFailure?: (error: unknown) => void;
}

/** The gauges a {@link TenantGaugeSampler} sets, and its failure counter. */
export interface TenantGauges {
  budget: Gauge<'tenant' | 'period'>;
  spend: Gauge<'tenant' | 'period'>;
  reserved: Gauge<'tenant' | 'period'>;
  readFailures: Counter<'reason'>;
}

/**
 * Sets the tenant gauges from one read per scrape, waiting at most `timeoutMs` for it. A
 * read that fails or times out leaves every tenant gauge out of that scrape, because a
 * stale spend would hide how close a tenant is to its budget. A read that ends after the
 * time limit of its scrape is dropped, so no later scrape shows it. One read is in flight: a
 * scrape after a timed-out read waits for that read to end and then starts its own. A scrape
 * abandons a read still in flight after three time limits and starts a new one, and at most
 * two abandoned reads wait for Redis at once, as {@link TimeLimitedReader} describes.
 */
export class TenantGaugeSampler {
  readonly #gauges: TenantGauges;
  readonly #reader: TimeLimitedReader<TenantUsageSample[]>;
  #source: TenantUsageSource | undefined;
  /** The sample of the scrape in progress, which the collect of each gauge waits for. */
  #sampling: Promise<void> | undefined;

  constructor(gauges: TenantGauges, timeoutMs: number) {
    this.#gauges = gauges;
    this.#reader = new TimeLimitedReader(timeoutMs);
  }

  setSource(source: TenantUsageSource): void {
    this.#source = source;
  }

  /** Reads the source and sets the gauges. The collects of one scrape share one call. */
  sample(): Promise<void> {
    this.#sampling ??= this.#sampleOnce().finally(() => {
      this.#sampling = undefined;
    });
    return this.#sampling;
  }

  async #sampleOnce(): Promise<void> {
    const source = this.#source;
    if (source === undefined) return;
    const { budget, spend, reserved, readFailures } = this.#gauges;
    for (const gauge of [budget, spend, reserved]) gauge.reset();
    let samples: TenantUsageSample[];
    try {
      ({ sample: samples } = await this.#reader.read('tenants', source.read, 'tenant usage read'));
    } catch (error) {
      readFailures.inc({ reason: isOperationTimeoutError(error) ? 'timeout' : 'error' });
      source.onFailure?.(error);
      return;
    }
    for (const sample of samples) {
      const labels = { tenant: sample.tenant, period: sample.period };
      budget.set(labels, sample.budgetUsd);
      spend.set(labels, sample.spentUsd);
      reserved.set(labels, sample.reservedUsd);
    }
  }
}
