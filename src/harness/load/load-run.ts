import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Dispatcher } from 'undici';
import { evaluateHealth, stopReasonOf } from './health.js';
import {
  LatencyHistogram,
  type PercentileBounds,
  upperPercentileBounds,
} from './latency-histogram.js';
import type { ResolvedLoadOptions } from './options.js';
import { LoadRecorder, type RunPhase } from './recorder.js';
import type { DrainSummary, LoadResult, Throughput } from './result.js';
import type { ScheduledRequest } from './schedule.js';
import { SendAbortedError, type SendContext, sendScheduled } from './send.js';
import { successRateOf } from './success-rate.js';

export interface LoadRunInput {
  scenarioName: string;
  target: string;
  durationSec: number;
  schedule: readonly ScheduledRequest[];
  keys: Record<string, string>;
  pool: Dispatcher;
  options: ResolvedLoadOptions;
}

/**
 * One open-model run: sends each scheduled request at its time whatever the
 * state of earlier ones, drops sends over the in-flight cap, then drains. One
 * timer at a time drives the dispatcher, and each wake-up sends every due request.
 * NOTE: the dispatcher shares its event loop and heap with whatever else runs in the
 * process (the drill's gateway and mocks), so their pauses show up as scheduler lag.
 */
export class LoadRun {
  readonly #input: LoadRunInput;
  readonly #options: ResolvedLoadOptions;
  readonly #recorder: LoadRecorder;
  readonly #abort = new AbortController();
  /**
   * Prefix of this run's idempotency keys, unique per run: a platform on Redis keeps keys
   * for a day and would reply to a reused one with the earlier task's result.
   */
  readonly #runId = `load-${randomUUID()}`;
  /** Ends the drain wait: aborted once it is over, or when the run's signal stops the run. */
  readonly #drainWait = new AbortController();
  readonly #onDispatchTimer = (): void => this.#dispatchDue();
  #inFlight = 0;
  #onIdle: (() => void) | undefined;
  #next = 0;
  #runStartMs = 0;
  #dispatchTimer: NodeJS.Timeout | undefined;
  #progressTimer: NodeJS.Timeout | undefined;
  #stoppedEarly = false;
  /** Set when the stop came after the schedule ended, during the drain. */
  #stoppedInDrain = false;
  #phase: RunPhase = 'sending';
  #scheduleDone: () => void = () => {};
  #context: SendContext | undefined;

  constructor(input: LoadRunInput) {
    this.#input = input;
    this.#options = input.options;
    this.#recorder = new LoadRecorder({
      scheduled: input.schedule.length,
      windowMs: input.durationSec * 1000,
      lateThresholdMs: input.options.lateThresholdMs,
      defaultTopology: input.options.topology,
      lagLimitMs: input.options.health.maxLagMs,
      ...(input.options.onLatency === undefined ? {} : { onLatency: input.options.onLatency }),
    });
    // Async followers each listen on the drain signal while they sleep between polls.
    setMaxListeners(0, this.#abort.signal);
  }

  /** Runs the schedule, drains, emits a final `done` progress snapshot, and returns the result. */
  async execute(): Promise<LoadResult> {
    const clock = this.#options.clock;
    const startedAt = clock.now();
    this.#runStartMs = clock.monotonic();
    this.#options.onStart?.(this.#runStartMs);
    this.#context = this.#sendContext();
    const onAbort = (): void => this.#stopEarly();
    this.#options.signal?.addEventListener('abort', onAbort, { once: true });
    this.#scheduleProgress();
    let drainEnd: DrainSummary['endedBy'];
    try {
      await new Promise<void>((resolve) => {
        this.#scheduleDone = resolve;
        if (this.#options.signal?.aborted) this.#stopEarly();
        else this.#dispatchDue();
      });
      this.#phase = 'draining';
      drainEnd = await this.#drain();
    } finally {
      this.#options.signal?.removeEventListener('abort', onAbort);
      this.#clearTimers();
    }
    this.#phase = 'done';
    this.#emitProgress();
    return this.#result(startedAt, clock.monotonic() - this.#runStartMs, drainEnd);
  }

  #dispatchDue(): void {
    const clock = this.#options.clock;
    const schedule = this.#input.schedule;
    for (
      let request = schedule[this.#next];
      request !== undefined;
      request = schedule[this.#next]
    ) {
      const scheduledAt = this.#runStartMs + request.offsetMs;
      // Read per send, so the lag includes the time spent on earlier sends of this wake-up.
      const now = clock.monotonic();
      if (scheduledAt > now) {
        // Timers run in whole milliseconds; rounding up avoids a wake-up before the send is due.
        const delayMs = Math.ceil(scheduledAt - now);
        this.#dispatchTimer = clock.setTimeout(this.#onDispatchTimer, delayMs);
        return;
      }
      this.#next += 1;
      this.#fire(request, scheduledAt, now);
    }
    this.#scheduleDone();
  }

  #fire(request: ScheduledRequest, scheduledAt: number, now: number): void {
    const elapsedMs = now - this.#runStartMs;
    if (this.#inFlight >= this.#options.maxInFlight) {
      this.#recorder.recordDrop(elapsedMs, now - scheduledAt);
      return;
    }
    this.#recorder.recordSend(elapsedMs, now - scheduledAt);
    void this.#send(request, scheduledAt, this.#context ?? this.#sendContext());
  }

  /** Sends one request and records its outcome; never rejects. */
  async #send(request: ScheduledRequest, scheduledAt: number, context: SendContext) {
    this.#inFlight += 1;
    try {
      this.#recorder.recordOutcome(await sendScheduled(request, scheduledAt, context));
    } catch (error) {
      this.#recordSendError(request, error);
    } finally {
      this.#inFlight -= 1;
      if (this.#inFlight === 0) this.#onIdle?.();
    }
  }

  #whenIdle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onIdle = resolve;
    });
  }

  #recordSendError(request: ScheduledRequest, error: unknown): void {
    const now = this.#options.clock.monotonic();
    const scheduledAt = this.#runStartMs + request.offsetMs;
    if (error instanceof SendAbortedError) {
      this.#recorder.recordAbort(request, now - scheduledAt);
      return;
    }
    this.#recorder.recordOutcome({
      request,
      success: false,
      latencyMs: now - scheduledAt,
      finishedAtMs: now - this.#runStartMs,
      errorCode: 'engine_error',
    });
  }

  /**
   * Waits for outstanding requests until the drain deadline, then aborts the rest by
   * destroying the pool, and returns what ended the drain. Requests carry no abort signal of their own, because one
   * signal shared by thousands of requests costs a listener each.
   */
  async #drain(): Promise<DrainSummary['endedBy']> {
    const clock = this.#options.clock;
    const deadline =
      this.#runStartMs + this.#input.durationSec * 1000 + this.#options.drainTimeoutMs;
    const waitMs = this.#stoppedEarly ? 0 : Math.max(0, deadline - clock.monotonic());
    const wait = clock.sleep(waitMs, this.#drainWait.signal).catch(() => {});
    await Promise.race([this.#whenIdle(), wait]);
    this.#drainWait.abort();
    this.#abort.abort();
    const outstanding = this.#inFlight > 0;
    if (outstanding) {
      await this.#input.pool.destroy();
      await this.#whenIdle();
    }
    if (this.#stoppedEarly) return 'signal';
    return outstanding ? 'timeout' : 'idle';
  }

  #stopEarly(): void {
    this.#stoppedEarly = true;
    this.#stoppedInDrain = this.#phase === 'draining';
    this.#recorder.closeWindow(this.#options.clock.monotonic() - this.#runStartMs);
    this.#drainWait.abort();
    this.#clearTimers();
    this.#scheduleDone();
  }

  #scheduleProgress(): void {
    if (this.#options.onProgress === undefined) return;
    const intervalMs = this.#options.progressIntervalMs;
    const tick = (): void => {
      this.#emitProgress();
      this.#progressTimer = this.#options.clock.setTimeout(tick, intervalMs);
    };
    this.#progressTimer = this.#options.clock.setTimeout(tick, intervalMs);
  }

  #emitProgress(): void {
    const onProgress = this.#options.onProgress;
    if (onProgress === undefined) return;
    const elapsed = this.#options.clock.monotonic() - this.#runStartMs;
    onProgress(this.#recorder.progress(elapsed, this.#inFlight, this.#phase));
  }

  #clearTimers(): void {
    const clock = this.#options.clock;
    if (this.#dispatchTimer !== undefined) clock.clearTimeout(this.#dispatchTimer);
    if (this.#progressTimer !== undefined) clock.clearTimeout(this.#progressTimer);
    this.#dispatchTimer = undefined;
    this.#progressTimer = undefined;
  }

  #sendContext(): SendContext {
    return {
      pool: this.#input.pool,
      keys: this.#input.keys,
      clock: this.#options.clock,
      runStartMs: this.#runStartMs,
      recorder: this.#recorder,
      pollIntervalMs: this.#options.asyncPollIntervalMs,
      asyncTimeoutMs: this.#options.asyncTimeoutMs,
      runId: this.#runId,
      signal: this.#abort.signal,
    };
  }

  #result(startedAt: number, elapsedMs: number, drainEnd: DrainSummary['endedBy']): LoadResult {
    const recorder = this.#recorder;
    const counts = recorder.counts;
    const schedulerStalls = recorder.stalls.summary();
    const health = evaluateHealth({
      counts,
      lagP99Ms: recorder.schedulerLag.percentile(99),
      limits: this.#options.health,
      abortedEarly: this.#stoppedEarly,
      stoppedInDrain: this.#stoppedInDrain,
      stopReason: this.#stoppedEarly ? stopReasonOf(this.#options.signal) : undefined,
      stalls: schedulerStalls,
      scheduleMs: this.#input.durationSec * 1000,
      loadGeneratorErrors: recorder.loadGeneratorErrors,
    });
    return {
      engine: 'embedded',
      scenario: this.#input.scenarioName,
      target: this.#input.target,
      seed: this.#options.seed,
      startedAt,
      elapsedSec: elapsedMs / 1000,
      requests: { ...counts },
      throughput: this.#throughput(),
      drain: {
        timeoutSec: this.#options.drainTimeoutMs / 1000,
        endedBy: drainEnd,
        aborted: counts.aborted,
      },
      successRate: successRateOf(counts),
      latency: {
        overall: recorder.overall.summary(),
        byTenant: recorder.byTenant.summaries(),
        byRoute: recorder.byRoute.summaries(),
        byTopology: recorder.byTopology.summaries(),
        ...(counts.aborted === 0
          ? {}
          : {
              upperBounds: this.#upperBounds(),
              completed: {
                overall: recorder.completedOverall.summary(),
                byTenant: recorder.completedByTenant.summaries(),
                byRoute: recorder.completedByRoute.summaries(),
              },
            }),
      },
      successRateByTenant: structuredClone(recorder.tenantOutcomes),
      rejectionsByTenant: structuredClone(recorder.tenantRejections),
      successRateByRoute: structuredClone(recorder.routeOutcomes),
      schedulerLag: recorder.schedulerLag.summary(),
      schedulerStalls,
      statusCodes: { ...recorder.statusCodes },
      errorCodes: { ...recorder.errorCodes },
      timeSeries: recorder.timeSeries(),
      async: recorder.asyncSummary(),
      health,
    };
  }

  #upperBounds(): NonNullable<LoadResult['latency']['upperBounds']> {
    const recorder = this.#recorder;
    const byTenant: Record<string, PercentileBounds> = {};
    for (const [tenantId, outcomes] of Object.entries(recorder.tenantOutcomes)) {
      const completed = recorder.completedByTenant.get(tenantId) ?? new LatencyHistogram();
      byTenant[tenantId] = upperPercentileBounds(completed, outcomes.finished);
    }
    const total = recorder.counts.succeeded + recorder.counts.failed + recorder.counts.aborted;
    return { overall: upperPercentileBounds(recorder.completedOverall, total), byTenant };
  }

  #throughput(): Throughput {
    const recorder = this.#recorder;
    const windowMinutes = recorder.windowMs / 60_000;
    const perMinute = (count: number): number => (windowMinutes > 0 ? count / windowMinutes : 0);
    return {
      windowSec: recorder.windowMs / 1000,
      offeredRpm: perMinute(recorder.counts.sent),
      completedInWindow: recorder.completedInWindow,
      completedRpm: perMinute(recorder.completedInWindow),
      succeededInWindow: recorder.succeededInWindow,
      succeededRpm: perMinute(recorder.succeededInWindow),
    };
  }
}
