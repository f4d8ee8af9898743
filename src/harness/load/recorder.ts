import { LOAD_GENERATOR_ERROR_CODES } from './health.js';
import { LabelledHistograms, LatencyHistogram } from './latency-histogram.js';
import type {
  AsyncFollowSummary,
  GroupOutcomes,
  RequestCounts,
  TimeSeriesPoint,
} from './result.js';
import type { ScheduledRequest } from './schedule.js';
import { StallTracker } from './stall-tracker.js';
import { successRateOf } from './success-rate.js';
import { type LatencyListener, TimeSeries } from './time-series.js';

/** Outcome of one sent request. */
export interface RequestOutcome {
  request: ScheduledRequest;
  success: boolean;
  /** Scheduled send time to the response or terminal state, in milliseconds. */
  latencyMs: number;
  /** Milliseconds since the run start when the request finished. */
  finishedAtMs: number;
  status?: number;
  errorCode?: string;
  /** Set when the request failed in the transport, before any reply, with `errorCode`. */
  transportError?: boolean;
  /** The limit a rejected submission named in its error body, such as `max_in_flight`. */
  limit?: string;
  /** Topology label reported by the target, if any. */
  topology?: string;
  /** For async tasks: how following the task ended. */
  asyncEnd?: 'succeeded' | 'failed' | 'timed_out';
}

/**
 * Phase of a run: `sending` while the schedule runs, `draining` while outstanding requests
 * finish, `done` once the drain has ended.
 */
export type RunPhase = 'sending' | 'draining' | 'done';

/** Live numbers for a progress line. */
export interface ProgressSnapshot {
  elapsedSec: number;
  phase: RunPhase;
  /** Sends since the previous snapshot, per second. */
  rps: number;
  succeeded: number;
  failed: number;
  /** Requests aborted when the drain ended; 0 until then. */
  aborted: number;
  /** Same definition as `LoadResult.successRate`: succeeded over ended, aborted included. */
  successRate: number;
  /** Cumulative 95th percentile latency, in milliseconds. */
  p95Ms: number;
  inFlight: number;
  dropped: number;
}

/** Settings of a {@link LoadRecorder}. */
export interface RecorderSettings {
  /** Requests in the schedule. */
  scheduled: number;
  /** Scheduled duration of the send window, in milliseconds. */
  windowMs: number;
  /** A send later than this after its scheduled time counts as late. */
  lateThresholdMs: number;
  /** Topology label of outcomes that carry none. */
  defaultTopology: string;
  /** Lag past which a send counts as behind schedule, in milliseconds. */
  lagLimitMs: number;
  /** Receives each ended request's latency with its time-series second. */
  onLatency?: LatencyListener;
}

/** Collects counts, histograms and the time series of one run. */
export class LoadRecorder {
  readonly counts: RequestCounts;
  readonly overall = new LatencyHistogram();
  readonly byTenant = new LabelledHistograms();
  readonly byRoute = new LabelledHistograms();
  readonly byTopology = new LabelledHistograms();
  readonly schedulerLag = new LatencyHistogram();
  readonly asyncEndToEnd = new LatencyHistogram();
  /**
   * Latencies of requests that ended, without the waits of aborted ones, for upper bounds and
   * for the percentiles of a run its signal stopped.
   */
  readonly completedOverall = new LatencyHistogram();
  readonly completedByTenant = new LabelledHistograms();
  readonly completedByRoute = new LabelledHistograms();
  readonly statusCodes: Record<string, number> = {};
  readonly errorCodes: Record<string, number> = {};
  /** Transport failures of the load generator's own process, by error code. */
  readonly loadGeneratorErrors: Record<string, number> = {};
  readonly tenantOutcomes: Record<string, GroupOutcomes> = {};
  /** Rejected submissions per tenant, by the limit each named. */
  readonly tenantRejections: Record<string, Record<string, number>> = {};
  readonly routeOutcomes: Record<string, GroupOutcomes> = {};
  readonly asyncCounts = { accepted: 0, succeeded: 0, failed: 0, timedOut: 0, aborted: 0 };
  readonly stalls: StallTracker;
  readonly lateThresholdMs: number;
  readonly defaultTopology: string;
  readonly #series: TimeSeries;
  #sendsAtLastProgress = 0;
  #lastProgressMs = 0;
  #windowEndMs: number;
  #completedInWindow = 0;
  #succeededInWindow = 0;
  /** Indexes of accepted async tasks not yet ended, which `recordAbort` counts as aborted. */
  readonly #followedTasks = new Set<number>();

  constructor(settings: RecorderSettings) {
    const scheduled = settings.scheduled;
    this.counts = { scheduled, sent: 0, succeeded: 0, failed: 0, dropped: 0, late: 0, aborted: 0 };
    this.stalls = new StallTracker(settings.lagLimitMs);
    this.lateThresholdMs = settings.lateThresholdMs;
    this.defaultTopology = settings.defaultTopology;
    this.#windowEndMs = settings.windowMs;
    this.#series = new TimeSeries(settings.onLatency);
  }

  /** Length of the send window in milliseconds. */
  get windowMs(): number {
    return this.#windowEndMs;
  }

  /** Requests that ended in success or failure inside the send window. */
  get completedInWindow(): number {
    return this.#completedInWindow;
  }

  /** Requests that succeeded inside the send window, a subset of `completedInWindow`. */
  get succeededInWindow(): number {
    return this.#succeededInWindow;
  }

  /**
   * Ends the send window early, at a time since the run start in milliseconds. Outcomes are
   * recorded as they happen, so every outcome counted so far finished before this time.
   */
  closeWindow(elapsedMs: number): void {
    this.#windowEndMs = Math.min(this.#windowEndMs, Math.max(0, elapsedMs));
  }

  /** Records a send by its time since the run start and its scheduler lag, in milliseconds. */
  recordSend(elapsedMs: number, lagMs: number): void {
    this.counts.sent += 1;
    this.schedulerLag.record(lagMs);
    this.stalls.record(elapsedMs, lagMs);
    if (lagMs > this.lateThresholdMs) this.counts.late += 1;
    this.#series.recordSend(elapsedMs);
  }

  /** Records a send dropped at the in-flight cap; its lag counts towards stalls only. */
  recordDrop(elapsedMs: number, lagMs: number): void {
    this.counts.dropped += 1;
    this.stalls.record(elapsedMs, lagMs);
  }

  /**
   * Records a request the drain aborted after `waitedMs`. Its latency is unknown but no
   * shorter than that, so the latency percentiles count the wait: with aborts they are
   * lower bounds, and a run whose slow requests never finish cannot look fast. An accepted
   * async task counts the same way in the async figures.
   */
  recordAbort(request: ScheduledRequest, waitedMs: number): void {
    this.counts.aborted += 1;
    for (const group of [this.#tenant(request.tenantId), this.#route(request.route)]) {
      group.finished += 1;
      group.aborted += 1;
    }
    this.errorCodes.aborted = (this.errorCodes.aborted ?? 0) + 1;
    this.overall.record(waitedMs);
    this.byTenant.record(request.tenantId, waitedMs);
    this.byRoute.record(request.route, waitedMs);
    this.byTopology.record(this.defaultTopology, waitedMs);
    this.#series.recordAbort(request.offsetMs + waitedMs, waitedMs);
    if (this.#followedTasks.delete(request.index)) {
      this.asyncCounts.aborted += 1;
      this.asyncEndToEnd.record(waitedMs);
    }
  }

  recordStatus(status: number): void {
    const key = String(status);
    this.statusCodes[key] = (this.statusCodes[key] ?? 0) + 1;
  }

  /** Records a 202 for an async request, whose task is followed from now on. */
  recordAsyncAccepted(request: ScheduledRequest): void {
    this.asyncCounts.accepted += 1;
    this.#followedTasks.add(request.index);
  }

  recordOutcome(outcome: RequestOutcome): void {
    const { request, latencyMs } = outcome;
    if (outcome.success) this.counts.succeeded += 1;
    else this.counts.failed += 1;
    if (outcome.finishedAtMs <= this.#windowEndMs) {
      this.#completedInWindow += 1;
      if (outcome.success) this.#succeededInWindow += 1;
    }
    if (outcome.errorCode !== undefined) {
      this.errorCodes[outcome.errorCode] = (this.errorCodes[outcome.errorCode] ?? 0) + 1;
      if (outcome.transportError === true && LOAD_GENERATOR_ERROR_CODES.has(outcome.errorCode)) {
        const code = outcome.errorCode;
        this.loadGeneratorErrors[code] = (this.loadGeneratorErrors[code] ?? 0) + 1;
      }
    }
    if (outcome.limit !== undefined) {
      const rejections = this.tenantRejections[request.tenantId] ?? {};
      rejections[outcome.limit] = (rejections[outcome.limit] ?? 0) + 1;
      this.tenantRejections[request.tenantId] = rejections;
    }
    for (const group of [this.#tenant(request.tenantId), this.#route(request.route)]) {
      group.finished += 1;
      if (outcome.success) group.succeeded += 1;
    }
    this.overall.record(latencyMs);
    this.completedOverall.record(latencyMs);
    this.byTenant.record(request.tenantId, latencyMs);
    this.completedByTenant.record(request.tenantId, latencyMs);
    this.byRoute.record(request.route, latencyMs);
    this.completedByRoute.record(request.route, latencyMs);
    this.byTopology.record(outcome.topology ?? this.defaultTopology, latencyMs);
    this.#series.recordFinish(outcome.finishedAtMs, outcome.success, latencyMs);
    this.#recordAsyncEnd(outcome);
  }

  /** Returns live numbers and starts a new rps interval. */
  progress(elapsedMs: number, inFlight: number, phase: RunPhase): ProgressSnapshot {
    const sendsInInterval = this.counts.sent - this.#sendsAtLastProgress;
    const intervalSec = (elapsedMs - this.#lastProgressMs) / 1000;
    this.#sendsAtLastProgress = this.counts.sent;
    this.#lastProgressMs = elapsedMs;
    return {
      elapsedSec: elapsedMs / 1000,
      phase,
      rps: intervalSec > 0 ? sendsInInterval / intervalSec : 0,
      succeeded: this.counts.succeeded,
      failed: this.counts.failed,
      aborted: this.counts.aborted,
      successRate: successRateOf(this.counts),
      p95Ms: this.overall.percentile(95),
      inFlight,
      dropped: this.counts.dropped,
    };
  }

  asyncSummary(): AsyncFollowSummary {
    return { ...this.asyncCounts, endToEnd: this.asyncEndToEnd.summary() };
  }

  timeSeries(): TimeSeriesPoint[] {
    return this.#series.points();
  }

  /**
   * Counts how following an async task ended. An accepted task whose outcome carries no
   * `asyncEnd`, such as one ended by an engine error, counts as failed, so every accepted
   * task is counted once.
   */
  #recordAsyncEnd(outcome: RequestOutcome): void {
    const followed = this.#followedTasks.delete(outcome.request.index);
    if (outcome.asyncEnd === undefined && !followed) return;
    this.asyncEndToEnd.record(outcome.latencyMs);
    const end = outcome.asyncEnd ?? 'failed';
    if (end === 'succeeded') this.asyncCounts.succeeded += 1;
    else if (end === 'failed') this.asyncCounts.failed += 1;
    else this.asyncCounts.timedOut += 1;
  }

  #tenant(tenantId: string): GroupOutcomes {
    this.tenantOutcomes[tenantId] ??= { finished: 0, succeeded: 0, aborted: 0 };
    return this.tenantOutcomes[tenantId];
  }

  #route(route: string): GroupOutcomes {
    this.routeOutcomes[route] ??= { finished: 0, succeeded: 0, aborted: 0 };
    return this.routeOutcomes[route];
  }
}
