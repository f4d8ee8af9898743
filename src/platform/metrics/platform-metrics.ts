import { Registry } from 'prom-client';
import type { RejectionReason } from '../admission/types.js';
import type { PriorityClass } from '../task.js';
import { defineMetrics } from './definitions.js';

/** Final outcome of a request as the gateway answered it. */
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
  recordFailover(fromProvider: string, toProvider: string): void;
  setBreakerState(labels: ModelLabels, state: BreakerState): void;
  setQueueGauges(queue: string, gauges: { depth: number; oldestAgeMs: number }): void;
  recordRejection(tenant: string, reason: RejectionReason): void;
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
    breakerState,
    queueDepth,
    queueOldestAge,
    rejections,
    cost,
  } = defineMetrics(registry);

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
      failovers.inc({ from_provider: fromProvider, to_provider: toProvider });
    },
    setBreakerState(labels, state) {
      const value = BREAKER_STATE_VALUES[state];
      breakerState.set({ provider: labels.provider, model: labels.model }, value);
    },
    setQueueGauges(queue, gauges) {
      queueDepth.set({ queue }, gauges.depth);
      queueOldestAge.set({ queue }, gauges.oldestAgeMs / 1000);
    },
    recordRejection(tenant, reason) {
      rejections.inc({ tenant, reason });
    },
    recordCost(tenant, route, usd) {
      if (Number.isFinite(usd) && usd > 0) {
        cost.inc({ tenant, route }, usd);
      }
    },
  };
}
