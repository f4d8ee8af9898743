import { isProviderError, type ProviderError } from '../providers/errors.js';
import type { ProviderCall } from '../providers/types.js';
import type { AttemptRecord, TaskRequest, TaskResult } from '../task.js';
import { inputTokensOf } from '../token-estimate.js';
import { AttemptLog } from './attempt-log.js';
import { candidateKey, orderForTask } from './candidate-order.js';
import type { BreakerPermit } from './circuit-breaker.js';
import { fitsContextWindow, largestOutputLimit, servingGroups } from './output-limits.js';
import type { Candidate } from './policy-types.js';
import { type AttemptOutcome, providerCall, runAttempt } from './provider-attempt.js';
import { DEFAULT_RETRY_BACKOFF_MS, retryBackoffMs } from './retry-backoff.js';
import {
  RouterError,
  routerErrorFrom,
  StreamInterruptedError,
  withAttempts,
} from './router-errors.js';
import type { SkipReason } from './router-events.js';
import { candidateRef, type RouterStreamEvent, type TaskRunContext } from './task-run-context.js';

/**
 * Shortest wait of a task whose candidates are all skipped, because a half-open
 * circuit with every probe slot taken has no reopen time to wait for.
 */
const EXHAUSTED_POLL_MS = 100;

/**
 * One task on one route. With `forward` set, text deltas go to the caller as
 * they arrive and the first one commits the task to its attempt: failover is
 * possible only before it. Without `forward`, nothing reaches the caller
 * before completion, so any listed failure can fail over.
 */
export class TaskRun {
  readonly #context: TaskRunContext;
  readonly #call: ProviderCall;
  readonly #signal: AbortSignal | undefined;
  readonly #beforeRetry: ((attempts: readonly AttemptRecord[]) => Promise<void>) | undefined;
  readonly #forward: boolean;
  readonly #startedAt: number;
  readonly #deadlineAt: number;
  readonly #log: AttemptLog;
  /** Calls made so far per candidate key. */
  readonly #callsTo = new Map<string, number>();
  #calls = 0;
  /** Candidates the task may call, as `#order` chose them. */
  #serving: Candidate[] = [];
  /**
   * Largest context window, in tokens, of a model whose provider rejected the task with
   * `context_length_exceeded`; 0 before any. No model with a window this size or smaller
   * is called again for the task.
   */
  #rejectedWindow = 0;
  #lastFailure: { candidate: Candidate; error: ProviderError } | undefined;

  constructor(
    context: TaskRunContext,
    request: TaskRequest,
    options: {
      signal?: AbortSignal;
      beforeRetry?: (attempts: readonly AttemptRecord[]) => Promise<void>;
    },
    forward: boolean,
  ) {
    this.#context = context;
    this.#call = providerCall(request);
    this.#signal = options.signal;
    this.#beforeRetry = options.beforeRetry;
    this.#forward = forward;
    this.#startedAt = context.clock.monotonic();
    this.#deadlineAt = this.#startedAt + context.route.deadlineMs;
    this.#log = new AttemptLog(context);
  }

  /** Runs the task; yields deltas when forwarding, then one terminal event. */
  async *run(): AsyncGenerator<RouterStreamEvent, void, void> {
    try {
      const result = yield* this.#loop();
      yield { type: 'done', result };
    } catch (error) {
      yield { type: 'error', error: this.#asRouterError(error) };
    }
  }

  async *#loop(): AsyncGenerator<RouterStreamEvent, TaskResult> {
    const order = this.#order();
    for (;;) {
      let calledThisPass = false;
      for (const candidate of order) {
        this.#checkTime();
        if (this.#calls > 0 && this.#mayCall(candidate)) {
          await this.#beforeRetry?.(this.#log.list());
        }
        const permit = this.#reserve(candidate);
        if (permit === undefined) {
          continue;
        }
        calledThisPass = true;
        const outcome = yield* this.#attempt(candidate, permit);
        if (outcome.ok) {
          return this.#result(candidate, outcome);
        }
        this.#afterFailure(candidate, outcome.error, outcome.forwardedText);
      }
      if (!calledThisPass) {
        await this.#whenExhausted();
      }
    }
  }

  /**
   * Orders the candidates whose model accepts the task's `maxOutputTokens` and whose context
   * window fits its input plus `maxOutputTokens`. Those below the output limit are left
   * out, as a quality floor leaves out weaker models, so no attempt lists them. Those with a
   * small window are logged as skipped with `context_length_exceeded`.
   * @throws RouterError `output_limit_exceeded` when the route has candidates but none
   *   accepts `maxOutputTokens`, and `context_length_exceeded` when no window of those that
   *   accept it fits the task.
   */
  #order(): Candidate[] {
    const { candidateGroups, candidates, outputLimitOf, random } = this.#context;
    const maxOutputTokens = this.#call.maxOutputTokens;
    const groups = servingGroups(candidateGroups, outputLimitOf, maxOutputTokens);
    if (candidates.length > 0 && groups.every((group) => group.length === 0)) {
      throw this.#outputLimitError(largestOutputLimit(candidates, outputLimitOf));
    }
    const fitting = this.#fittingGroups(groups);
    if (groups.some((group) => group.length > 0) && fitting.every((group) => group.length === 0)) {
      throw this.#contextLengthError(groups.flat());
    }
    this.#serving = fitting.flat();
    return orderForTask(
      fitting,
      (candidate) => this.#blockedUntil(candidate) === undefined,
      random,
    );
  }

  /** Keeps the candidates whose context window fits the task and logs the others as skipped. */
  #fittingGroups(groups: readonly Candidate[][]): Candidate[][] {
    const { contextWindowOf } = this.#context;
    const inputTokens = inputTokensOf(this.#call);
    const maxOutputTokens = this.#call.maxOutputTokens;
    return groups.map((group) =>
      group.filter((candidate) => {
        if (fitsContextWindow(contextWindowOf(candidate), inputTokens, maxOutputTokens)) {
          return true;
        }
        this.#log.skipped(candidate, 'context_length_exceeded');
        return false;
      }),
    );
  }

  #contextLengthError(serving: readonly Candidate[]): RouterError {
    const { routeName, contextWindowOf } = this.#context;
    const inputTokens = inputTokensOf(this.#call);
    const maxOutputTokens = this.#call.maxOutputTokens;
    const largestWindow = Math.max(0, ...serving.map(contextWindowOf));
    const room = Math.max(0, largestWindow - maxOutputTokens);
    const message =
      `input of ${inputTokens} tokens plus maxOutputTokens ${maxOutputTokens} is above the ` +
      `context window of every candidate of route "${routeName}" that accepts that ` +
      `maxOutputTokens, the largest being ${largestWindow}; send at most ${room} input ` +
      'tokens, or lower maxOutputTokens';
    return new RouterError('context_length_exceeded', message, { attempts: this.#log.list() });
  }

  #outputLimitError(largestLimit: number): RouterError {
    const { routeName } = this.#context;
    const message =
      `maxOutputTokens ${this.#call.maxOutputTokens} is above the output limit of every ` +
      `candidate of route "${routeName}", the largest being ${largestLimit}; ` +
      `send at most ${largestLimit}`;
    return new RouterError('output_limit_exceeded', message);
  }

  /**
   * True when `#reserve` would not skip the candidate or end the task for its
   * attempt count, so the retry hook runs only before a call that can follow.
   */
  #mayCall(candidate: Candidate): boolean {
    return (
      this.#skipReason(candidate) === undefined &&
      this.#calls < this.#context.route.retryBudget.maxAttemptsPerTask
    );
  }

  /**
   * Checks limits and reserves a breaker slot, or returns undefined when the candidate is
   * skipped. A task with no attempts left fails here, so it never queues for a candidate.
   */
  #reserve(candidate: Candidate): BreakerPermit | undefined {
    const maxAttempts = this.#context.route.retryBudget.maxAttemptsPerTask;
    if (this.#calls >= maxAttempts) {
      throw this.#finalError();
    }
    const skip = this.#skipReason(candidate);
    if (skip !== undefined) {
      this.#log.skipped(candidate, skip);
      return undefined;
    }
    const breaker = this.#context.breakerFor(candidate);
    const permit = breaker.tryAcquire();
    if (permit === undefined) {
      this.#log.skipped(candidate, 'breaker_open');
      return undefined;
    }
    try {
      this.#takeBudget();
    } catch (error) {
      breaker.release(permit);
      throw error;
    }
    return permit;
  }

  #skipReason(candidate: Candidate): SkipReason | undefined {
    if (this.#windowRejected(candidate)) {
      return 'context_length_exceeded';
    }
    if (this.#context.throttle.blockedUntil(candidate.provider) !== undefined) {
      return 'throttled';
    }
    return this.#context.breakerFor(candidate).blockedUntil() !== undefined
      ? 'breaker_open'
      : undefined;
  }

  #takeBudget(): void {
    const { budget, routeName } = this.#context;
    if (this.#calls === 0) {
      budget.recordFirstAttempt();
      return;
    }
    if (!budget.tryRetry()) {
      const event = {
        route: routeName,
        retriesInWindow: budget.retriesInWindow(),
        allowedRetries: budget.allowedRetries(),
      };
      this.#context.emit('retry_budget_exhausted', event);
      throw this.#finalError();
    }
  }

  /** Calls a reserved candidate; a backoff cut short by the deadline or the caller frees the reservation. */
  async *#attempt(
    candidate: Candidate,
    permit: BreakerPermit,
  ): AsyncGenerator<RouterStreamEvent, AttemptOutcome> {
    try {
      await this.#backoffIfRepeated(candidate);
    } catch (error) {
      this.#context.breakerFor(candidate).release(permit);
      throw error;
    }
    this.#announce(candidate);
    const request = {
      candidate,
      permit,
      call: this.#call,
      options: this.#callOptions(),
      forward: this.#forward,
    };
    return yield* runAttempt(this.#context, this.#log, request);
  }

  #announce(candidate: Candidate): void {
    const { routeName, emit } = this.#context;
    if (this.#lastFailure !== undefined) {
      const from = {
        provider: this.#lastFailure.candidate.provider,
        model: this.#lastFailure.candidate.model,
      };
      const to = { provider: candidate.provider, model: candidate.model };
      emit('failover', {
        route: routeName,
        from,
        to,
        errorClass: this.#lastFailure.error.errorClass,
      });
    }
    this.#calls += 1;
    const key = candidateKey(candidate);
    this.#callsTo.set(key, (this.#callsTo.get(key) ?? 0) + 1);
    emit('attempt_start', { route: routeName, ...candidateRef(candidate), attempt: this.#calls });
  }

  async #backoffIfRepeated(candidate: Candidate): Promise<void> {
    const repeat = this.#callsTo.get(candidateKey(candidate)) ?? 0;
    if (repeat === 0) {
      return;
    }
    const { route, random } = this.#context;
    const baseMs = route.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS;
    const waitMs = retryBackoffMs(baseMs, repeat, random, route.retryBackoffMaxMs);
    await this.#sleepWithinDeadline(waitMs);
  }

  #callOptions(): {
    signal?: AbortSignal;
    firstTokenTimeoutMs: number;
    stallTimeoutMs: number;
    deadlineMs: number;
  } {
    const { route, clock } = this.#context;
    return {
      signal: this.#signal,
      firstTokenTimeoutMs: route.firstTokenTimeoutMs,
      stallTimeoutMs: route.stallTimeoutMs,
      deadlineMs: Math.max(0, this.#deadlineAt - clock.monotonic()),
    };
  }

  #result(candidate: Candidate, outcome: Extract<AttemptOutcome, { ok: true }>): TaskResult {
    const timeToFirstTokenMs =
      (outcome.firstTokenAt ?? this.#context.clock.monotonic()) - this.#startedAt;
    return {
      text: outcome.text,
      usage: outcome.usage,
      ...candidateRef(candidate),
      attempts: this.#log.list(),
      timeToFirstTokenMs,
    };
  }

  #windowRejected(candidate: Candidate): boolean {
    return this.#context.contextWindowOf(candidate) <= this.#rejectedWindow;
  }

  #afterFailure(candidate: Candidate, error: ProviderError, forwardedText: string): void {
    this.#lastFailure = { candidate, error };
    if (error.errorClass === 'context_length_exceeded') {
      // The provider counted more tokens than the estimate, so only a larger window may fit.
      const window = this.#context.contextWindowOf(candidate);
      this.#rejectedWindow = Math.max(this.#rejectedWindow, window);
    }
    if (this.#signal?.aborted) {
      throw this.#clientAborted(error);
    }
    if (forwardedText !== '') {
      throw new StreamInterruptedError(error, forwardedText, this.#log.list());
    }
    if (!this.#context.route.failoverOn.includes(error.errorClass)) {
      throw routerErrorFrom(error, this.#log.list());
    }
  }

  /** With every candidate skipped: fail, or with `onExhausted: queue` wait for the first to recover. */
  async #whenExhausted(): Promise<void> {
    const { clock, route } = this.#context;
    const now = clock.monotonic();
    const until = this.#earliestAvailability();
    if (route.onExhausted === 'fail' || until === undefined || until >= this.#deadlineAt) {
      throw this.#finalError(until === undefined ? undefined : until - now);
    }
    await this.#sleepWithinDeadline(Math.max(until - now, EXHAUSTED_POLL_MS));
  }

  #earliestAvailability(): number | undefined {
    const times = this.#serving
      .filter((candidate) => !this.#windowRejected(candidate))
      .map((candidate) => this.#blockedUntil(candidate))
      .filter((time): time is number => time !== undefined);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  #blockedUntil(candidate: Candidate): number | undefined {
    const throttled = this.#context.throttle.blockedUntil(candidate.provider);
    const broken = this.#context.breakerFor(candidate).blockedUntil();
    if (throttled === undefined && broken === undefined) {
      return undefined;
    }
    return Math.max(throttled ?? 0, broken ?? 0);
  }

  async #sleepWithinDeadline(ms: number): Promise<void> {
    const remaining = this.#deadlineAt - this.#context.clock.monotonic();
    await this.#context.clock.sleep(Math.max(0, Math.min(ms, remaining)), this.#signal);
    this.#checkTime();
  }

  #checkTime(): void {
    if (this.#signal?.aborted) {
      throw this.#clientAborted();
    }
    if (this.#context.clock.monotonic() >= this.#deadlineAt) {
      const message = `task exceeded its ${this.#context.route.deadlineMs} ms deadline`;
      throw new RouterError('deadline_exceeded', message, {
        errorClass: 'deadline_exceeded',
        attempts: this.#log.list(),
      });
    }
  }

  #finalError(retryAfterMs?: number): RouterError {
    if (this.#lastFailure !== undefined) {
      return routerErrorFrom(this.#lastFailure.error, this.#log.list());
    }
    const attempts = this.#log.list();
    const message = `no candidate of route "${this.#context.routeName}" is available`;
    return new RouterError('provider_unavailable', withAttempts(message, attempts), {
      retryAfterMs,
      attempts,
    });
  }

  #asRouterError(error: unknown): RouterError {
    if (error instanceof RouterError) {
      return error;
    }
    if (isProviderError(error)) {
      return routerErrorFrom(error, this.#log.list());
    }
    if (this.#signal?.aborted) {
      return this.#clientAborted(error);
    }
    throw error;
  }

  /** The error of a task the caller aborted, even after text was forwarded. */
  #clientAborted(cause?: unknown): RouterError {
    return new RouterError('client_aborted', 'the caller aborted the task', {
      attempts: this.#log.list(),
      cause,
    });
  }
}
