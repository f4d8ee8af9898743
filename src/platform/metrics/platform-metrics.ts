import { Registry } from 'prom-client';
import type { RejectionReason } from '../admission/types.js';
import type { PriorityClass } from '../task.js';
import { defineMetrics } from './definitions.js';

/** Final outcome of a request as the gateway returned it. */
export type RequestOutcome = 'accepted' | 'succeeded' | 'failed' | 'rejected' | 'timed_out';

export type BreakerState = 'closed' | 'half-open' | 'open';

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

export interface ModelLabels {
  provider: string;
  model: string;
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
  recordAttempt(labels: ModelLabels, outcome: 'success' | 'failed' | 'aborted'): void;
  setBreakerState(labels: ModelLabels, state: BreakerState): void;
  setQueueGauges(queue: string, gauges: QueueGaugeSample): void;
  /** Reads the queue gauges on every scrape, and on `sampleQueues`. */
  setQueueGaugeSource(queue: string, read: () => Promise<QueueGaugeSample>): void;
  /** Reads every queue gauge source now; a failed read keeps the last sample. */
  sampleQueues(): Promise<void>;
  recordRejection(tenant: string, reason: RejectionReason): void;
  /** Counts an async task start put off by its tenant's running cap. */
  recordCapDeferral(tenant: string): void;
  recordCost(tenant: string, route: string, usd: number): void;
}

/**
 * Creates the platform metrics on `registry`.
 * @defaultValue a new Registry, so several instances in one process do not collide
 */
export function createPlatformMetrics(registry: Registry = new Registry()): PlatformMetrics {
  const {
    requests,
    latency,
    queueWait,
    timeToFirstToken,
    failovers,
    retries,
    attempts,
    breakerState,
    queueDepth,
    queueOldestAge,
    rejections,
    capDeferrals,
    cost,
  } = defineMetrics(registry, () => sampleQueues());

  const sources = new Map<string, () => Promise<QueueGaugeSample>>();
  const setQueueGauges = (queue: string, gauges: QueueGaugeSample): void => {
    queueDepth.set({ queue }, gauges.depth);
    queueOldestAge.set({ queue }, gauges.oldestAgeMs / 1000);
  };
  let sampling: Promise<void> | undefined;
  function sampleQueues(): Promise<void> {
    sampling ??= readSources(sources, setQueueGauges).finally(() => {
      sampling = undefined;
    });
    return sampling;
  }

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
    recordAttempt(labels, outcome) {
      attempts.inc({ provider: labels.provider, model: labels.model, outcome });
    },
    setBreakerState(labels, state) {
      const value = BREAKER_STATE_VALUES[state];
      breakerState.set({ provider: labels.provider, model: labels.model }, value);
    },
    setQueueGauges,
    setQueueGaugeSource(queue, read) {
      sources.set(queue, read);
    },
    sampleQueues,
    recordRejection(tenant, reason) {
      rejections.inc({ tenant, reason });
    },
    recordCapDeferral(tenant) {
      capDeferrals.inc({ tenant });
    },
    recordCost(tenant, route, usd) {
      if (Number.isFinite(usd) && usd > 0) {
        cost.inc({ tenant, route }, usd);
      }
    },
  };
}

async function readSources(
  sources: ReadonlyMap<string, () => Promise<QueueGaugeSample>>,
  set: (queue: string, gauges: QueueGaugeSample) => void,
): Promise<void> {
  await Promise.all(
    [...sources].map(async ([queue, read]) => {
      try {
        set(queue, await read());
      } catch {
        // A failed read keeps the last sample; the next scrape tries again.
      }
    }),
  );
}
