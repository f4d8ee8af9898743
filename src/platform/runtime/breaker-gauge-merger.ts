import type { BreakerState, ModelLabels } from '../metrics/index.js';
import type { MetricSink } from './metric-relay.js';

/** A change of the state that `scalegate_breaker_state` shows for one provider and model. */
export interface BreakerChange {
  provider: string;
  model: string;
  from: BreakerState;
  to: BreakerState;
  /** Cause of the state change, such as `half-open probe succeeded`, or absent when unknown. */
  reason?: string;
}

/** The state a breaker's gauge shows now. */
export interface BreakerGaugeState {
  provider: string;
  model: string;
  state: BreakerState;
}

/** The states that each source reported for one breaker. */
interface MergedBreaker {
  labels: { provider: string; model: string };
  bySource: Map<string, BreakerState>;
  /** The state the gauge shows, which starts closed. */
  gaugeState: BreakerState;
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
  readonly #onChange: ((change: BreakerChange) => void) | undefined;
  /** Reported states per provider and model. */
  readonly #states = new Map<string, MergedBreaker>();
  /** Sinks per source, built on first use. */
  readonly #sinks = new Map<string, MetricSink>();

  /** `onChange` runs on each change of a gauge's state and must not throw. */
  constructor(metrics: MetricSink, onChange?: (change: BreakerChange) => void) {
    this.#metrics = metrics;
    this.#onChange = onChange;
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
        recordFallbackAttempt: (...args) => metrics.recordFallbackAttempt(...args),
        recordCost: (...args) => metrics.recordCost(...args),
        recordCapDeferral: (...args) => metrics.recordCapDeferral(...args),
        recordResumedSteps: (...args) => metrics.recordResumedSteps(...args),
        setBreakerState: (labels, state, reason) => this.#report(source, labels, state, reason),
      };
      this.#sinks.set(source, sink);
    }
    return sink;
  }

  /** Returns the state each breaker's gauge shows, for every breaker reported so far. */
  states(): BreakerGaugeState[] {
    return [...this.#states.values()].map((breaker) => ({
      ...breaker.labels,
      state: breaker.gaugeState,
    }));
  }

  #report(source: string, labels: ModelLabels, state: BreakerState, reason?: string) {
    const key = JSON.stringify([labels.provider, labels.model]);
    let breaker = this.#states.get(key);
    if (breaker === undefined) {
      breaker = {
        labels: { provider: labels.provider, model: labels.model },
        bySource: new Map(),
        gaugeState: 'closed',
      };
      this.#states.set(key, breaker);
    }
    breaker.bySource.set(source, state);
    // The reason explains the gauge's change only when this source's state is the one shown.
    this.#show(breaker, (gaugeState) => (gaugeState === state ? reason : undefined));
  }

  /**
   * Drops every state `source` reported, such as a worker process that exited. `reason`
   * explains the changes this causes, such as `worker 0 exited`.
   */
  forget(source: string, reason?: string): void {
    for (const breaker of this.#states.values()) {
      if (breaker.bySource.delete(source)) this.#show(breaker, () => reason);
    }
  }

  #show(breaker: MergedBreaker, reasonFor: (gaugeState: BreakerState) => string | undefined) {
    let worst: BreakerState = 'closed';
    for (const reported of breaker.bySource.values()) {
      if (SEVERITY[reported] > SEVERITY[worst]) worst = reported;
    }
    this.#metrics.setBreakerState(breaker.labels, worst);
    const from = breaker.gaugeState;
    if (worst === from) return;
    breaker.gaugeState = worst;
    const reason = reasonFor(worst);
    this.#onChange?.({
      ...breaker.labels,
      from,
      to: worst,
      ...(reason === undefined ? {} : { reason }),
    });
  }
}
