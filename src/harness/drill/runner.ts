import { LatencyBySecond } from '../load/latency-by-second.js';
import type {
  AbortRecord,
  DrillJournal,
  ShedCount,
  FaultRecord,
  RollbackStep,
  SeriesPoint,
  TopologyResult,
  VerdictRecord,
} from '../report/types.js';
import { breakerJournal } from './breakers.js';
import type { BreakerWatch, DrillDeps, LoadStream } from './deps.js';
import {
  isDrillAbortRuleError,
  DrillAbortRuleError,
  DrillSpecError,
  FaultStepError,
} from './errors.js';
import { firedValue } from './measures.js';
import { checkSteadyState, type MetricSample } from './probes.js';
import type {
  DrillSpec,
  FaultStep,
  InfraFaultStep,
  ProviderFaultStep,
  WorkerPauseStep,
} from './spec.js';
import { isInfra, newRecord, shedCount, timeline } from './timeline.js';
import { failoverTiming } from './timings.js';
import { shedSince } from './worker-pause.js';
import { validateDrillSpec } from './validate.js';
import { decideVerdict } from './verdict.js';

export interface RunDrillOptions {
  /** Aborting it stops the drill early; rollback still runs and the verdict is `aborted`. */
  signal?: AbortSignal;
}

/** Everything a drill produced, ready for a report. */
export interface DrillOutcome {
  spec: DrillSpec;
  journal: DrillJournal;
  verdict: VerdictRecord;
  /** Result of the main load stream; a partial one when the drill was aborted. */
  result: TopologyResult;
  /**
   * Wall-clock epoch milliseconds of the drill's time 0, the main load's second 0, or of the
   * drill's call when the load never started.
   */
  startedAt: number;
}

/** One drill execution; the public entry point is {@link runDrill}. */
class DrillRun {
  readonly #controller = new AbortController();
  readonly #records = new Map<string, FaultRecord>();
  readonly #touched: InfraFaultStep[] = [];
  readonly #bursts = new Map<string, LoadStream>();
  readonly #samples: MetricSample[] = [];
  /** Backpressure's shed counts when each worker pause started, by step id. */
  readonly #shedAtPause = new Map<string, ShedCount[]>();
  #aborted: AbortRecord | null = null;
  /** Monotonic ms of the drill's time 0; undefined until the main load starts. */
  #startMono: number | undefined;
  #main: LoadStream | undefined;
  #breakers: BreakerWatch | undefined;

  constructor(
    readonly spec: DrillSpec,
    readonly deps: DrillDeps,
  ) {
    for (const step of spec.faults) {
      this.#records.set(step.id, newRecord(step));
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    this.#controller.abort(reason);
  }

  /** Seconds since the drill's time 0; 0 until the main load starts. */
  elapsedS(): number {
    if (this.#startMono === undefined) return 0;
    return (this.deps.clock.monotonic() - this.#startMono) / 1000;
  }

  async execute(): Promise<DrillOutcome> {
    this.signal.throwIfAborted();
    this.#requireWorkers();
    this.#breakers = this.deps.watchBreakers?.();
    try {
      return await this.#run();
    } finally {
      this.#breakers?.stop();
    }
  }

  async #run(): Promise<DrillOutcome> {
    let startedAt = this.deps.clock.now();
    const main = this.deps.startLoad(
      { kind: 'main', scenario: this.spec.scenario, durationS: this.spec.durationS },
      this.signal,
    );
    this.#main = main;
    // Main load that fails ends the timeline at once; the rollback runs and `execute`
    // rejects with the failure below.
    main.result.catch((error: unknown) => this.abort(error));
    try {
      await this.#awaitLoadStart(main);
      startedAt = this.deps.clock.now() - this.elapsedS() * 1000;
      await this.#runTimeline();
    } catch (error) {
      this.#recordAbort(error);
      // A failed fault step ends the drill like a signal does, so the load streams stop now
      // instead of running to their planned end.
      if (!this.signal.aborted) this.abort(error);
    }
    const rollback = await this.#rollback();
    main.stop();
    const result = await main.result;
    return { spec: this.spec, startedAt, result, ...this.#finish(result, rollback) };
  }

  /**
   * Waits until the main load's set-up is done and puts the drill's time 0 at its second 0,
   * so fault offsets, probe windows and every per-second series count from one instant.
   * @throws the load's set-up error, or the signal's reason when the drill is aborted first.
   */
  async #awaitLoadStart(main: LoadStream): Promise<void> {
    const signal = this.signal;
    signal.throwIfAborted();
    let onAbort = (): void => undefined;
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      this.#startMono = await Promise.race([main.started, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async #runTimeline(): Promise<void> {
    for (const event of timeline(this.spec)) {
      await this.#waitUntil(event.atS);
      await (event.action === 'start' ? this.#start(event.step) : this.#end(event.step));
    }
    await this.#waitUntil(this.spec.durationS);
  }

  async #waitUntil(targetS: number): Promise<void> {
    const intervalS = this.spec.probeIntervalS ?? 1;
    for (let left = targetS - this.elapsedS(); left > 0; left = targetS - this.elapsedS()) {
      await this.deps.clock.sleep(Math.min(intervalS, left) * 1000, this.signal);
      await this.#tick();
    }
    this.signal.throwIfAborted();
  }

  async #tick(): Promise<void> {
    const nowS = this.elapsedS();
    const series = this.#main?.series() ?? [];
    this.deps.onEvent?.({ type: 'tick', atS: nowS, point: series.at(-1) });
    if (this.deps.readMetrics !== undefined && this.#needsMetrics()) {
      this.#samples.push({ atS: nowS, values: await this.deps.readMetrics() });
    }
    for (const rule of this.spec.abortRules) {
      const value = firedValue(rule, series, nowS);
      if (value !== null) {
        this.abort(new DrillAbortRuleError(rule.name, value));
        this.signal.throwIfAborted();
      }
    }
  }

  /** Rejects a worker pause before the load starts when the deps cannot pause workers. */
  #requireWorkers(): void {
    const index = this.spec.faults.findIndex((step) => step.kind === 'worker-pause');
    if (index === -1 || this.deps.workers !== undefined) return;
    throw new DrillSpecError(
      `faults[${index}]`,
      'is a worker-pause, but the drill has no control over the platform workers; run it ' +
        'with `scalegate drill`, which starts the platform',
    );
  }

  #needsMetrics(): boolean {
    return this.spec.steadyState.probes.some((probe) => probe.source === 'metrics');
  }

  #record(step: FaultStep): FaultRecord {
    const record = this.#records.get(step.id);
    if (record === undefined) {
      throw new RangeError(`no journal record for fault step ${step.id}`);
    }
    return record;
  }

  async #start(step: FaultStep): Promise<void> {
    const record = this.#record(step);
    if (isInfra(step)) {
      this.#touched.push(step);
      await this.#guard(step, 'apply', () => this.deps.faults.apply(step));
    } else if (step.kind === 'worker-pause') {
      await this.#guard(step, 'apply', () => this.#pauseWorkers(step));
    } else {
      const stream = this.deps.startLoad({ kind: 'burst', step }, this.signal);
      // The result is awaited only at the end, so a failure before then is recorded here
      // and does not go unhandled.
      stream.result.catch((error: unknown) => {
        record.error ??= `burst load failed: ${error instanceof Error ? error.message : String(error)}`;
      });
      this.#bursts.set(step.id, stream);
    }
    record.appliedAtS = this.elapsedS();
    this.deps.onEvent?.({ type: 'fault-applied', stepId: step.id, atS: record.appliedAtS });
  }

  async #end(step: FaultStep): Promise<void> {
    const record = this.#record(step);
    if (isInfra(step)) {
      await this.#guard(step, 'remove', () => this.deps.faults.remove(step));
    } else if (step.kind === 'worker-pause') {
      await this.#guard(step, 'remove', () => this.#workers().resume());
    } else {
      // The burst's result is collected at the end, so draining it cannot delay the timeline.
      this.#bursts.get(step.id)?.stop();
    }
    record.removedAtS = this.elapsedS();
    this.deps.onEvent?.({ type: 'fault-removed', stepId: step.id, atS: record.removedAtS });
  }

  #workers(): NonNullable<DrillDeps['workers']> {
    const workers = this.deps.workers;
    if (workers === undefined) throw new RangeError('the drill deps have no workers');
    return workers;
  }

  async #pauseWorkers(step: WorkerPauseStep): Promise<void> {
    const workers = this.#workers();
    this.#shedAtPause.set(step.id, await workers.readShed());
    await workers.pause();
  }

  /** Resumes paused workers and records what backpressure shed since each pause started. */
  async #rollbackWorkers(): Promise<RollbackStep[]> {
    const workers = this.deps.workers;
    if (workers === undefined || this.#shedAtPause.size === 0) return [];
    const steps: RollbackStep[] = [];
    const step = 'resume the async workers';
    try {
      if (workers.paused) await workers.resume();
      steps.push({ step, ok: true });
    } catch (error) {
      steps.push({
        step,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    try {
      const shedNow = await workers.readShed();
      for (const [stepId, before] of this.#shedAtPause) {
        const record = this.#records.get(stepId);
        if (record === undefined) continue;
        record.workerPause = {
          slots: workers.slots,
          shed: shedSince(before, shedNow),
          backpressure: workers.backpressure,
        };
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      steps.push({ step: 'read the requests backpressure shed', ok: false, error: message });
    }
    return steps;
  }

  async #guard(
    step: FaultStep,
    action: 'apply' | 'remove',
    run: () => Promise<void>,
  ): Promise<void> {
    try {
      await run();
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      this.#record(step).error = `${action} failed: ${message}`;
      this.deps.onEvent?.({
        type: 'fault-failed',
        stepId: step.id,
        atS: this.elapsedS(),
        error: cause,
      });
      throw new FaultStepError(step.id, action, { cause });
    }
  }

  async #settleBurst(stepId: string, stream: LoadStream): Promise<void> {
    const result = await stream.result;
    const record = this.#records.get(stepId);
    if (record !== undefined && record.kind === 'tenant-burst') {
      const succeeded = Math.round(result.requests * result.successRate);
      record.burst = {
        tenant: record.target,
        requests: result.requests,
        succeeded,
        shed: shedCount(result),
      };
    }
  }

  async #settleBursts(): Promise<RollbackStep[]> {
    const steps: RollbackStep[] = [];
    for (const [stepId, stream] of this.#bursts) {
      try {
        await this.#settleBurst(stepId, stream);
        steps.push({ step: `stop burst ${stepId}`, ok: true });
      } catch (error) {
        steps.push({ step: `stop burst ${stepId}`, ok: false, error: String(error) });
      }
    }
    return steps;
  }

  #recordAbort(error: unknown): void {
    const atS = Math.max(0, this.elapsedS());
    const reason = this.signal.aborted ? this.signal.reason : error;
    if (isDrillAbortRuleError(reason)) {
      this.#aborted = { reason: 'abort-rule', detail: reason.rule, atS, value: reason.value };
    } else if (this.signal.aborted) {
      const detail = reason instanceof Error ? reason.message : String(reason);
      this.#aborted = { reason: 'signal', detail, atS };
    } else {
      const detail = error instanceof Error ? error.message : String(error);
      this.#aborted = { reason: 'error', detail, atS };
    }
    this.deps.onEvent?.({ type: 'aborting', atS, detail: this.#aborted.detail });
  }

  /** Stops bursts, removes every fault and checks that nothing is left; runs on every path. */
  async #rollback(): Promise<{ steps: RollbackStep[]; leftovers: string[] }> {
    for (const stream of this.#bursts.values()) {
      stream.stop();
    }
    const steps: RollbackStep[] = [];
    const removed = await this.deps.faults.rollback(this.#touched).catch((error: unknown) => [
      {
        step: 'roll back faults',
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      },
    ]);
    steps.push(...removed);
    steps.push(...(await this.#rollbackWorkers()));
    const infra = this.spec.faults.filter(isInfra);
    const leftovers = await this.deps.faults
      .leftovers(infra)
      .catch((error: unknown) => [
        `leftover check failed: ${error instanceof Error ? error.message : String(error)}`,
      ]);
    if (this.deps.workers?.paused === true) leftovers.push('async workers still paused');
    const atS = this.elapsedS();
    for (const record of this.#records.values()) {
      if (record.appliedAtS !== null && record.removedAtS === null) {
        record.removedAtS = atS;
      }
    }
    steps.push(...(await this.#settleBursts()));
    this.deps.onEvent?.({ type: 'rolled-back', clean: leftovers.length === 0, leftovers });
    return { steps, leftovers };
  }

  #finish(
    result: TopologyResult,
    rollback: { steps: RollbackStep[]; leftovers: string[] },
  ): { journal: DrillJournal; verdict: VerdictRecord } {
    const series: readonly SeriesPoint[] = result.timeSeries;
    const endedAtS = this.#aborted?.atS ?? this.spec.durationS;
    const withFallback = this.spec.faults.filter(
      (step): step is ProviderFaultStep & { failover: { fallback: string } } =>
        step.kind === 'provider-fault' && step.failover !== undefined,
    );
    const latencies = this.#main?.latencyBySecond ?? new LatencyBySecond();
    const journal: DrillJournal = {
      name: this.spec.name,
      steadyState: checkSteadyState(this.spec, endedAtS, {
        series,
        latencies,
        samples: this.#samples,
      }),
      faults: [...this.#records.values()],
      timings: withFallback.map((step) => failoverTiming(step, this.#record(step), series)),
      aborted: this.#aborted,
      rollback: rollback.steps,
      cleanAfterRollback: rollback.leftovers.length === 0,
      leftovers: rollback.leftovers,
      breakers:
        this.#breakers === undefined
          ? null
          : breakerJournal(
              this.#breakers,
              this.#startMono ?? this.deps.clock.monotonic(),
              this.elapsedS(),
            ),
    };
    return { journal, verdict: decideVerdict(journal, result) };
  }
}

/**
 * Runs a drill: starts the main load, applies each fault at its offset and checks abort
 * rules every probe interval. On every path (end, abort rule, signal, failed step) it then
 * rolls back all faults and verifies through the proxy and provider APIs that none is left.
 * @throws {@link DrillSpecError} when the spec is invalid, before anything starts.
 */
export async function runDrill(
  spec: unknown,
  deps: DrillDeps,
  options: RunDrillOptions = {},
): Promise<DrillOutcome> {
  const run = new DrillRun(validateDrillSpec(spec), deps);
  const external = options.signal;
  const forward = (): void => run.abort(external?.reason);
  if (external?.aborted === true) {
    forward();
  }
  external?.addEventListener('abort', forward, { once: true });
  try {
    return await run.execute();
  } finally {
    external?.removeEventListener('abort', forward);
  }
}
