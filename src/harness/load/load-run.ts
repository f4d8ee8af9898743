import type { Dispatcher } from 'undici';
import { evaluateHealth } from './health.js';
import type { ResolvedLoadOptions } from './options.js';
import { LoadRecorder } from './recorder.js';
import type { LoadResult } from './result.js';
import type { ScheduledRequest } from './schedule.js';
import { SendAbortedError, type SendContext, sendScheduled } from './send.js';

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
 * state of earlier ones, drops sends over the in-flight cap, then drains.
 */
export class LoadRun {
  readonly #input: LoadRunInput;
  readonly #options: ResolvedLoadOptions;
  readonly #recorder: LoadRecorder;
  readonly #abort = new AbortController();
  readonly #pending = new Set<Promise<void>>();
  #next = 0;
  #runStartMs = 0;
  #dispatchTimer: NodeJS.Timeout | undefined;
  #progressTimer: NodeJS.Timeout | undefined;
  #stoppedEarly = false;
  #scheduleDone: () => void = () => {};
  #context: SendContext | undefined;

  constructor(input: LoadRunInput) {
    this.#input = input;
    this.#options = input.options;
    this.#recorder = new LoadRecorder(
      input.schedule.length,
      input.options.lateThresholdMs,
      input.options.topology,
    );
  }

  /** Runs the schedule, drains, and returns the result. */
  async execute(): Promise<LoadResult> {
    const clock = this.#options.clock;
    const startedAt = clock.now();
    this.#runStartMs = clock.monotonic();
    this.#context = this.#sendContext();
    const onAbort = (): void => this.#stopEarly();
    this.#options.signal?.addEventListener('abort', onAbort, { once: true });
    this.#scheduleProgress();
    try {
      await new Promise<void>((resolve) => {
        this.#scheduleDone = resolve;
        if (this.#options.signal?.aborted) this.#stopEarly();
        else this.#dispatchDue();
      });
      await this.#drain();
    } finally {
      this.#options.signal?.removeEventListener('abort', onAbort);
      this.#clearTimers();
    }
    return this.#result(startedAt, clock.monotonic() - this.#runStartMs);
  }

  #dispatchDue(): void {
    const clock = this.#options.clock;
    const schedule = this.#input.schedule;
    const now = clock.monotonic();
    for (
      let request = schedule[this.#next];
      request !== undefined;
      request = schedule[this.#next]
    ) {
      const scheduledAt = this.#runStartMs + request.offsetMs;
      if (scheduledAt > now) {
        this.#dispatchTimer = clock.setTimeout(() => this.#dispatchDue(), scheduledAt - now);
        return;
      }
      this.#next += 1;
      this.#fire(request, scheduledAt, now);
    }
    this.#scheduleDone();
  }

  #fire(request: ScheduledRequest, scheduledAt: number, now: number): void {
    if (this.#pending.size >= this.#options.maxInFlight) {
      this.#recorder.recordDrop();
      return;
    }
    this.#recorder.recordSend(now - this.#runStartMs, now - scheduledAt);
    const context = this.#context ?? this.#sendContext();
    const sending = sendScheduled(request, scheduledAt, context)
      .then((outcome) => this.#recorder.recordOutcome(outcome))
      .catch((error: unknown) => this.#recordSendError(request, error))
      .finally(() => this.#pending.delete(sending));
    this.#pending.add(sending);
  }

  #recordSendError(request: ScheduledRequest, error: unknown): void {
    if (error instanceof SendAbortedError) {
      this.#recorder.recordAbort(request);
      return;
    }
    const now = this.#options.clock.monotonic();
    const scheduledAt = this.#runStartMs + request.offsetMs;
    this.#recorder.recordOutcome({
      request,
      success: false,
      latencyMs: now - scheduledAt,
      finishedAtMs: now - this.#runStartMs,
      errorCode: 'engine_error',
    });
  }

  /** Waits for outstanding requests until the drain deadline, then aborts the rest. */
  async #drain(): Promise<void> {
    const clock = this.#options.clock;
    const deadline =
      this.#runStartMs + this.#input.durationSec * 1000 + this.#options.drainTimeoutMs;
    const waitMs = this.#stoppedEarly ? 0 : Math.max(0, deadline - clock.monotonic());
    const timeUp = new AbortController();
    await Promise.race([
      Promise.allSettled([...this.#pending]),
      clock.sleep(waitMs, timeUp.signal).catch(() => {}),
    ]);
    timeUp.abort();
    this.#abort.abort();
    await Promise.allSettled([...this.#pending]);
  }

  #stopEarly(): void {
    this.#stoppedEarly = true;
    this.#clearTimers();
    this.#scheduleDone();
  }

  #scheduleProgress(): void {
    const onProgress = this.#options.onProgress;
    if (onProgress === undefined) return;
    const intervalMs = this.#options.progressIntervalMs;
    const tick = (): void => {
      const elapsed = this.#options.clock.monotonic() - this.#runStartMs;
      onProgress(this.#recorder.progress(elapsed, this.#pending.size, intervalMs / 1000));
      this.#progressTimer = this.#options.clock.setTimeout(tick, intervalMs);
    };
    this.#progressTimer = this.#options.clock.setTimeout(tick, intervalMs);
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
      runId: `load-${this.#options.seed}-${this.#runStartMs.toFixed(0)}`,
      signal: this.#abort.signal,
    };
  }

  #result(startedAt: number, elapsedMs: number): LoadResult {
    const recorder = this.#recorder;
    const counts = recorder.counts;
    const finished = counts.succeeded + counts.failed + counts.aborted;
    const health = evaluateHealth({
      counts,
      lagP99Ms: recorder.schedulerLag.percentile(99),
      limits: this.#options.health,
      abortedEarly: this.#stoppedEarly,
    });
    return {
      engine: 'embedded',
      scenario: this.#input.scenarioName,
      target: this.#input.target,
      seed: this.#options.seed,
      startedAt,
      elapsedSec: elapsedMs / 1000,
      requests: { ...counts },
      successRate: finished === 0 ? 0 : counts.succeeded / finished,
      latency: {
        overall: recorder.overall.summary(),
        byTenant: recorder.byTenant.summaries(),
        byRoute: recorder.byRoute.summaries(),
        byTopology: recorder.byTopology.summaries(),
      },
      successRateByTenant: structuredClone(recorder.tenantOutcomes),
      schedulerLag: recorder.schedulerLag.summary(),
      statusCodes: { ...recorder.statusCodes },
      errorCodes: { ...recorder.errorCodes },
      timeSeries: recorder.timeSeries(),
      async: recorder.asyncSummary(),
      health,
    };
  }
}
