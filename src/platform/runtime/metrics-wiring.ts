import type { QueueGauges } from '../admission/backpressure.js';
import type { CostEntry } from '../cost/ledger.js';
import type { BreakerState, PlatformMetrics, RequestOutcome } from '../metrics/index.js';
import type { BreakerTransition } from '../router/breaker-state.js';
import type { Policy } from '../router/policy-types.js';
import type { Router } from '../router/router.js';
import type { TaskRecord } from '../task.js';
import { costEntryOf } from './cost-entry.js';
import type { MetricSink } from './metric-relay.js';

/** Gauge state of a router breaker kind. */
const BREAKER_STATES: Record<BreakerTransition['to']['kind'], BreakerState> = {
  closed: 'closed',
  open: 'open',
  half_open: 'half-open',
};

/**
 * Feeds router events to the metrics: breaker transitions to the breaker
 * gauge, failovers (or same-provider retries) and every attempt's outcome.
 * Every candidate of the policy starts with a closed breaker sample.
 */
export function wireRouterMetrics(router: Router, metrics: MetricSink, policy: Policy): void {
  for (const route of Object.values(policy.routes)) {
    for (const candidate of route.candidates) {
      metrics.setBreakerState({ provider: candidate.provider, model: candidate.model }, 'closed');
    }
  }
  router.on('breaker_transition', ({ provider, model, to }) =>
    metrics.setBreakerState({ provider, model }, BREAKER_STATES[to.kind]),
  );
  router.on('failover', ({ from, to }) => metrics.recordFailover(from.provider, to.provider));
  // A call the caller aborted says nothing about the provider, so it is not counted as failed.
  router.on('attempt_end', ({ provider, model, outcome, errorClass }) =>
    metrics.recordAttempt(
      { provider, model },
      errorClass === 'aborted' ? 'aborted' : outcome,
      errorClass,
    ),
  );
}

/** The states that each source reported for one breaker. */
interface MergedBreaker {
  labels: { provider: string; model: string };
  bySource: Map<string, BreakerState>;
}

/** Breaker states from least to most severe. */
const SEVERITY: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * Merges the breaker states that several routers report for one provider and
 * model, such as the platform process's own and each worker process's. The
 * gauge shows the most severe, so a breaker open in one process shows as open.
 * NOTE: a half-open breaker closes only when a probe call succeeds, so a
 * process that gets no more calls for a model keeps the gauge at half-open.
 */
export class BreakerGaugeMerger {
  readonly #metrics: MetricSink;
  /** Reported states per provider and model. */
  readonly #states = new Map<string, MergedBreaker>();
  /** Sinks per source, built on first use. */
  readonly #sinks = new Map<string, MetricSink>();

  constructor(metrics: MetricSink) {
    this.#metrics = metrics;
  }

  /** Returns the metrics with the breaker reports of `source` merged. */
  sinkFor(source: string): MetricSink {
    let sink = this.#sinks.get(source);
    if (sink === undefined) {
      const metrics = this.#metrics;
      sink = {
        recordRequest: (...args) => metrics.recordRequest(...args),
        observeQueueWait: (...args) => metrics.observeQueueWait(...args),
        observeTimeToFirstToken: (...args) => metrics.observeTimeToFirstToken(...args),
        recordFailover: (...args) => metrics.recordFailover(...args),
        recordAttempt: (...args) => metrics.recordAttempt(...args),
        recordCost: (...args) => metrics.recordCost(...args),
        recordCapDeferral: (...args) => metrics.recordCapDeferral(...args),
        setBreakerState: (labels, state) => this.#report(source, labels, state),
      };
      this.#sinks.set(source, sink);
    }
    return sink;
  }

  #report(source: string, labels: { provider: string; model: string }, state: BreakerState) {
    const key = JSON.stringify([labels.provider, labels.model]);
    let breaker = this.#states.get(key);
    if (breaker === undefined) {
      breaker = { labels: { provider: labels.provider, model: labels.model }, bySource: new Map() };
      this.#states.set(key, breaker);
    }
    breaker.bySource.set(source, state);
    this.#show(breaker);
  }

  /** Drops every state `source` reported, such as a worker process that exited. */
  forget(source: string): void {
    for (const breaker of this.#states.values()) {
      if (breaker.bySource.delete(source)) this.#show(breaker);
    }
  }

  #show(breaker: MergedBreaker): void {
    let worst: BreakerState = 'closed';
    for (const reported of breaker.bySource.values()) {
      if (SEVERITY[reported] > SEVERITY[worst]) worst = reported;
    }
    this.#metrics.setBreakerState(breaker.labels, worst);
  }
}

/**
 * Samples the queue gauges on every scrape and every `intervalMs` on a timer
 * that does not keep the process alive. Returns the function that stops it.
 */
export function startQueueSampler(
  queue: { name: string; gauges(): Promise<QueueGauges> },
  metrics: PlatformMetrics,
  intervalMs = 1000,
): () => void {
  metrics.setQueueGaugeSource(queue.name, () => queue.gauges());
  const timer = setInterval(() => void metrics.sampleQueues(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Observes the time to first token of a finished task that has a result. */
export function observeFirstToken(metrics: MetricSink, record: TaskRecord): void {
  const { result } = record;
  if (result === undefined) return;
  const labels = { provider: result.provider, model: result.model };
  metrics.observeTimeToFirstToken(labels, result.timeToFirstTokenMs / 1000);
}

/**
 * Records a task that reached its terminal state: the request outcome and latency, the
 * time to first token, and its cost in the metrics and the ledger when it has one.
 */
export function recordFinished(
  metrics: MetricSink,
  ledger: { record(entry: CostEntry): Promise<unknown> },
  record: TaskRecord,
  executorCostUsd: number,
): void {
  const outcome = requestOutcomeOf(record);
  const seconds = ((record.finishedAt ?? record.createdAt) - record.createdAt) / 1000;
  metrics.recordRequest({ tenant: record.tenantId, route: record.request.route, outcome }, seconds);
  observeFirstToken(metrics, record);
  const entry = costEntryOf(record, executorCostUsd);
  if (entry === undefined) return;
  metrics.recordCost(record.tenantId, record.request.route, record.costUsd ?? 0);
  void ledger.record(entry);
}

/** Returns the request outcome of a finished task: its terminal state, else `failed`. */
function requestOutcomeOf(record: TaskRecord): RequestOutcome {
  const { state } = record;
  return state === 'succeeded' || state === 'dead_lettered' ? state : 'failed';
}
