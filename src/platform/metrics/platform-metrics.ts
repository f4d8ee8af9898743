import { type Counter, Registry } from 'prom-client';
import type { RejectionReason } from '../admission/types.js';
import { addUsd } from '../cost/usd.js';
import type { PriorityClass, TaskState } from '../task.js';
import { defineMetrics, startAtZero } from './definitions.js';
import { SOURCE_READ_FAILURES, SourceReader } from './source-reader.js';
import { TenantGaugeSampler, type TenantUsageSource } from './tenant-gauges.js';

/**
 * Terminal state of an admitted task. Rejected requests are counted in
 * `scalegate_admission_rejections_total` instead.
 */
export type RequestOutcome = 'succeeded' | 'failed' | 'dead_lettered';

export type BreakerState = 'closed' | 'half-open' | 'open';

/** Cause of a worker process exit that the platform did not request. */
export type WorkerExitReason = 'signal' | 'error' | 'clean';

/** Gauge values of each breaker state. */
export const BREAKER_STATE_VALUES: Record<BreakerState, number> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};

/** Labels of one request. `tenant` is the tenant id, never an API key. */
export interface RequestLabels {
  tenant: string;
  route: string;
  outcome: RequestOutcome;
}

/** Queue gauges as the queue drivers report them. */
export interface QueueGaugeSample {
  depth: number;
  oldestAgeMs: number;
}

/** Tasks in the task store by state, as `scalegate_tasks` shows them. */
export type TaskCountSample = Record<TaskState, number>;

export interface ModelLabels {
  provider: string;
  model: string;
}

/** A task's route and the fallback route whose candidate the task called. */
export interface FallbackRouteLabels {
  route: string;
  fallbackRoute: string;
}

/** The platform's Prometheus metrics, with typed helpers that build every label set. */
export interface PlatformMetrics {
  readonly registry: Registry;
  recordRequest(labels: RequestLabels, durationSeconds?: number): void;
  observeQueueWait(priority: PriorityClass, seconds: number): void;
  observeTimeToFirstToken(labels: ModelLabels, seconds: number): void;
  /** A failover is a change of provider; a repeat on the same provider counts as a retry. */
  recordFailover(fromProvider: string, toProvider: string): void;
  /** Counts a provider call. An `aborted` call was stopped by the caller, not failed by the provider. */
  /** Counts a provider call, and a failed one also by its error class when given. */
  recordAttempt(
    labels: ModelLabels,
    outcome: 'success' | 'failed' | 'aborted',
    errorClass?: string,
  ): void;
  /**
   * Counts a provider call of a `route` task to a candidate that the route takes from
   * `fallbackRoute`, one of the routes its `fallbackRoute` links lead to.
   */
  recordFallbackAttempt(
    labels: FallbackRouteLabels,
    outcome: 'success' | 'failed' | 'aborted',
  ): void;
  setBreakerState(labels: ModelLabels, state: BreakerState): void;
  setQueueGauges(queue: string, gauges: QueueGaugeSample): void;
  /**
   * Reads the queue gauges on every scrape, and on `sampleQueues`. The queue's series of
   * `scalegate_queue_gauge_read_failures_total` start at 0 here.
   */
  setQueueGaugeSource(queue: string, read: () => Promise<QueueGaugeSample>): void;
  /**
   * Reads every queue gauge source now, waiting at most `queueGaugeTimeoutMs` for each.
   * A read that fails or times out keeps the last sample and counts in
   * `scalegate_queue_gauge_read_failures_total`. A timed-out read that ends later is
   * dropped. A later sample waits for it to end and then starts its own read.
   */
  sampleQueues(): Promise<void>;
  /**
   * Reads the task counts on every scrape of `scalegate_tasks`, waiting at most
   * `queueGaugeTimeoutMs`. A read that fails or times out keeps the last sample and counts
   * in `scalegate_task_count_read_failures_total`. A read that ends after that limit is dropped.
   */
  setTaskCountSource(read: () => Promise<TaskCountSample>): void;
  /**
   * Reads the tenant budget gauges on every scrape of them, waiting at most
   * `queueGaugeTimeoutMs`. A read that fails or times out leaves the tenant gauges out of
   * that scrape and counts in `scalegate_tenant_usage_read_failures_total`. A read that ends
   * after that limit is dropped.
   */
  setTenantUsageSource(source: TenantUsageSource): void;
  recordRejection(tenant: string, reason: RejectionReason): void;
  /** Counts an async task start put off by its tenant's running cap. */
  recordCapDeferral(tenant: string): void;
  /** Counts the steps a delivery skipped because an earlier delivery had finished them. */
  recordResumedSteps(tenant: string, steps: number): void;
  /** Counts a worker process exit that the platform did not request. */
  recordWorkerExit(reason: WorkerExitReason): void;
  /**
   * Adds a finished task's cost, `usd`, and the part of it its provider calls cost,
   * `tokenUsd`, to the tenant's and route's totals.
   */
  recordCost(tenant: string, route: string, usd: number, tokenUsd?: number): void;
}

export interface PlatformMetricsOptions {
  /**
   * Maximum wait for one queue gauge, task count or tenant usage read, in ms, so that a
   * scrape returns while Redis does not reply. @defaultValue 1000
   */
  queueGaugeTimeoutMs?: number;
}

/**
 * Creates the platform metrics on `registry`.
 * @defaultValue a new Registry, so several instances in one process do not collide
 */
export function createPlatformMetrics(
  registry: Registry = new Registry(),
  options: PlatformMetricsOptions = {},
): PlatformMetrics {
  const gaugeTimeoutMs = options.queueGaugeTimeoutMs ?? 1000;
  if (!Number.isFinite(gaugeTimeoutMs) || gaugeTimeoutMs <= 0) {
    throw new RangeError(
      `queueGaugeTimeoutMs must be a positive number of ms, got ${String(gaugeTimeoutMs)}`,
    );
  }
  const {
    requests,
    latency,
    queueWait,
    timeToFirstToken,
    failovers,
    retries,
    attempts,
    fallbackAttempts,
    providerErrors,
    breakerState,
    queueDepth,
    queueOldestAge,
    queueGaugeReadFailures,
    tasks,
    taskCountReadFailures,
    rejections,
    capDeferrals,
    resumedSteps,
    workerExits,
    cost,
    tokenCost,
    tenantBudget,
    tenantSpend,
    tenantReserved,
    tenantUsageReadFailures,
  } = defineMetrics(registry, {
    collectQueues: () => sampleQueues(),
    collectTasks: () => sampleTaskCounts(),
    collectTenants: () => tenantSampler.sample(),
  });
  const tenantSampler = new TenantGaugeSampler(
    {
      budget: tenantBudget,
      spend: tenantSpend,
      reserved: tenantReserved,
      readFailures: tenantUsageReadFailures,
    },
    gaugeTimeoutMs,
  );

  const addCost = usdCounterAdder(cost);
  const addTokenCost = usdCounterAdder(tokenCost);
  const sources = new Map<string, () => Promise<QueueGaugeSample>>();
  const setQueueGauges = (queue: string, gauges: QueueGaugeSample): void => {
    queueDepth.set({ queue }, gauges.depth);
    queueOldestAge.set({ queue }, gauges.oldestAgeMs / 1000);
  };
  const reader = new SourceReader<QueueGaugeSample>({
    set: setQueueGauges,
    timeoutMs: gaugeTimeoutMs,
    onFailure: (queue, reason) => queueGaugeReadFailures.inc({ queue, reason }),
    operation: (queue) => `queue ${queue} gauge read`,
  });
  let sampling: Promise<void> | undefined;
  function sampleQueues(): Promise<void> {
    sampling ??= reader.readAll(sources).finally(() => {
      sampling = undefined;
    });
    return sampling;
  }

  const taskCountSources = new Map<string, () => Promise<TaskCountSample>>();
  const taskCountReader = new SourceReader<TaskCountSample>({
    set: (_store, counts) => {
      for (const [state, count] of Object.entries(counts)) tasks.set({ state }, count);
    },
    timeoutMs: gaugeTimeoutMs,
    onFailure: (_store, reason) => taskCountReadFailures.inc({ reason }),
    operation: () => 'task count read',
  });
  const sampleTaskCounts = (): Promise<void> => taskCountReader.readAll(taskCountSources);

  return {
    registry,
    recordRequest(labels, durationSeconds) {
      requests.inc({ tenant: labels.tenant, route: labels.route, outcome: labels.outcome });
      if (durationSeconds !== undefined) {
        latency.observe({ route: labels.route, outcome: labels.outcome }, durationSeconds);
      }
    },
    observeQueueWait(priority, seconds) {
      queueWait.observe({ priority }, seconds);
    },
    observeTimeToFirstToken(labels, seconds) {
      timeToFirstToken.observe({ provider: labels.provider, model: labels.model }, seconds);
    },
    recordFailover(fromProvider, toProvider) {
      if (fromProvider === toProvider) retries.inc({ provider: fromProvider });
      else failovers.inc({ from_provider: fromProvider, to_provider: toProvider });
    },
    recordAttempt(labels, outcome, errorClass) {
      attempts.inc({ provider: labels.provider, model: labels.model, outcome });
      if (outcome === 'failed' && errorClass !== undefined) {
        const { provider, model } = labels;
        providerErrors.inc({ provider, model, error_class: errorClass });
      }
    },
    recordFallbackAttempt(labels, outcome) {
      fallbackAttempts.inc({ route: labels.route, fallback_route: labels.fallbackRoute, outcome });
    },
    setBreakerState(labels, state) {
      const value = BREAKER_STATE_VALUES[state];
      breakerState.set({ provider: labels.provider, model: labels.model }, value);
    },
    setQueueGauges,
    setQueueGaugeSource(queue, read) {
      sources.set(queue, read);
      for (const reason of SOURCE_READ_FAILURES) {
        startAtZero(queueGaugeReadFailures, { queue, reason });
      }
    },
    sampleQueues,
    setTaskCountSource(read) {
      taskCountSources.set('store', read);
    },
    setTenantUsageSource(source) {
      tenantSampler.setSource(source);
    },
    recordRejection(tenant, reason) {
      rejections.inc({ tenant, reason });
    },
    recordCapDeferral(tenant) {
      capDeferrals.inc({ tenant });
    },
    recordResumedSteps(tenant, steps) {
      resumedSteps.inc({ tenant }, steps);
    },
    recordWorkerExit(reason) {
      workerExits.inc({ reason });
    },
    recordCost(tenant, route, usd, tokenUsd = 0) {
      if (Number.isFinite(usd) && usd > 0) {
        addCost({ tenant, route }, usd);
      }
      if (Number.isFinite(tokenUsd) && tokenUsd > 0) {
        addTokenCost({ tenant, route }, tokenUsd);
      }
    },
  };
}

/**
 * Returns a function that adds USD to `counter` with the picodollar rounding of `addUsd`.
 * prom-client sums increments with plain float addition, so the function keeps each
 * series' rounded total and replaces the series with a fresh one holding that total.
 */
function usdCounterAdder(counter: Counter<'tenant' | 'route'>) {
  const totals = new Map<string, number>();
  return (labels: { tenant: string; route: string }, usd: number): void => {
    const key = JSON.stringify([labels.tenant, labels.route]);
    const total = addUsd(totals.get(key) ?? 0, usd);
    totals.set(key, total);
    counter.remove(labels);
    counter.inc(labels, total);
  };
}
