import type { Clock } from '../clock.js';
import { isProviderError, ProviderError } from '../providers/errors.js';
import type { ProviderCall, ProviderClient } from '../providers/types.js';
import type { AttemptRecord, TaskRequest, TaskResult } from '../task.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import { candidateKey, orderForTask } from './candidate-order.js';
import type { Candidate, RoutePolicy } from './policy-types.js';
import type { ProviderThrottle } from './provider-throttle.js';
import type { RetryBudget } from './retry-budget.js';
import { RouterError, routerErrorFrom, StreamInterruptedError } from './router-errors.js';
import type { RouterEventMap, SkipReason } from './router-events.js';

/** Event of `Router.stream`. Every stream ends with exactly one `done` or `error`. */
export type RouterStreamEvent =
  | { type: 'delta'; text: string }
  | { type: 'done'; result: TaskResult }
  | { type: 'error'; error: RouterError };

/** Shared router parts one task run uses. */
export interface TaskRunContext {
  routeName: string;
  route: RoutePolicy;
  candidates: Candidate[];
  clock: Clock;
  random: () => number;
  clientFor(provider: string): ProviderClient;
  breakerFor(candidate: Candidate): CircuitBreaker;
  throttle: ProviderThrottle;
  budget: RetryBudget;
  emit<K extends keyof RouterEventMap>(name: K, ...args: RouterEventMap[K]): void;
}

type AttemptOutcome = { ok: true; result: TaskResult } | { ok: false; error: ProviderError };

const DEFAULT_RETRY_BACKOFF_MS = 100;

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
  readonly #forward: boolean;
  readonly #startedAt: number;
  readonly #deadlineAt: number;
  readonly #attempts: AttemptRecord[] = [];
  readonly #tried = new Set<string>();
  #calls = 0;
  #committed = false;
  #forwardedText = '';
  #lastFailure: { candidate: Candidate; error: ProviderError } | undefined;

  constructor(
    context: TaskRunContext,
    request: TaskRequest,
    signal: AbortSignal | undefined,
    forward: boolean,
  ) {
    this.#context = context;
    this.#call = providerCall(request);
    this.#signal = signal;
    this.#forward = forward;
    this.#startedAt = context.clock.monotonic();
    this.#deadlineAt = this.#startedAt + context.route.deadlineMs;
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
        if (!this.#reserve(candidate)) {
          continue;
        }
        calledThisPass = true;
        const outcome = yield* this.#attempt(candidate);
        if (outcome.ok) {
          return outcome.result;
        }
        this.#afterFailure(candidate, outcome.error);
      }
      if (!calledThisPass) {
        await this.#whenExhausted();
      }
    }
  }

  #order(): Candidate[] {
    const { candidates, random } = this.#context;
    return orderForTask(
      candidates,
      (candidate) => this.#blockedUntil(candidate) === undefined,
      random,
    );
  }

  /** Checks limits and reserves a breaker slot; returns false when the candidate is skipped. */
  #reserve(candidate: Candidate): boolean {
    const skip = this.#skipReason(candidate);
    if (skip !== undefined) {
      this.#recordSkip(candidate, skip);
      return false;
    }
    const maxAttempts = this.#context.route.retryBudget.maxAttemptsPerTask;
    if (this.#calls >= maxAttempts) {
      throw this.#finalError();
    }
    const breaker = this.#context.breakerFor(candidate);
    if (!breaker.tryAcquire()) {
      this.#recordSkip(candidate, 'breaker_open');
      return false;
    }
    try {
      this.#takeBudget();
    } catch (error) {
      breaker.release();
      throw error;
    }
    return true;
  }

  #skipReason(candidate: Candidate): SkipReason | undefined {
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

  async *#attempt(candidate: Candidate): AsyncGenerator<RouterStreamEvent, AttemptOutcome> {
    await this.#backoffIfRepeated(candidate);
    this.#announce(candidate);
    const attemptStart = this.#context.clock.monotonic();
    const state = { text: '', firstTokenAt: undefined as number | undefined, settled: false };
    try {
      const events = this.#context
        .clientFor(candidate.provider)
        .stream({ ...this.#call, model: candidate.model }, this.#callOptions());
      for await (const event of events) {
        if (event.type === 'open') {
          this.#context.throttle.observe(candidate.provider, event.rateLimit);
        } else if (event.type === 'first_token') {
          state.firstTokenAt = this.#context.clock.monotonic();
        } else if (event.type === 'text') {
          state.text += event.text;
          if (this.#forward) {
            this.#committed = true;
            this.#forwardedText += event.text;
            yield { type: 'delta', text: event.text };
          }
        } else {
          state.settled = true;
          const result = this.#succeed(
            candidate,
            attemptStart,
            state.text,
            event.usage,
            state.firstTokenAt,
          );
          return { ok: true, result };
        }
      }
      throw new ProviderError('malformed_response', 'stream ended without a done event', candidate);
    } catch (error) {
      state.settled = true;
      return { ok: false, error: this.#fail(candidate, attemptStart, error) };
    } finally {
      if (!state.settled) {
        this.#context.breakerFor(candidate).release();
      }
    }
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
    this.#tried.add(candidateKey(candidate));
    emit('attempt_start', { route: routeName, ...candidateRef(candidate), attempt: this.#calls });
  }

  async #backoffIfRepeated(candidate: Candidate): Promise<void> {
    if (!this.#tried.has(candidateKey(candidate))) {
      return;
    }
    const backoffMs = this.#context.route.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS;
    await this.#sleepWithinDeadline(backoffMs);
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

  #succeed(
    candidate: Candidate,
    attemptStart: number,
    text: string,
    usage: TaskResult['usage'],
    firstTokenAt: number | undefined,
  ): TaskResult {
    const { clock, breakerFor } = this.#context;
    const latencyMs = clock.monotonic() - attemptStart;
    breakerFor(candidate).onSuccess();
    this.#attempts.push({ ...candidateRef(candidate), outcome: 'success', latencyMs });
    this.#context.emit('attempt_end', {
      route: this.#context.routeName,
      ...candidateRef(candidate),
      outcome: 'success',
      latencyMs,
    });
    const timeToFirstTokenMs = (firstTokenAt ?? clock.monotonic()) - this.#startedAt;
    return {
      text,
      usage,
      ...candidateRef(candidate),
      attempts: [...this.#attempts],
      timeToFirstTokenMs,
    };
  }

  #fail(candidate: Candidate, attemptStart: number, error: unknown): ProviderError {
    const failure = isProviderError(error)
      ? error
      : new ProviderError('connection_error', 'client failed', { ...candidate, cause: error });
    const { clock, breakerFor, throttle, routeName, emit } = this.#context;
    breakerFor(candidate).onFailure(failure);
    if (failure.errorClass === 'status_429' && failure.retryAfterMs !== undefined) {
      throttle.observeRetryAfter(candidate.provider, failure.retryAfterMs);
    }
    const latencyMs = clock.monotonic() - attemptStart;
    const record = {
      ...candidateRef(candidate),
      outcome: 'failed' as const,
      errorClass: failure.errorClass,
      latencyMs,
    };
    this.#attempts.push(record);
    emit('attempt_end', { route: routeName, ...record });
    return failure;
  }

  #afterFailure(candidate: Candidate, error: ProviderError): void {
    this.#lastFailure = { candidate, error };
    if (this.#committed) {
      throw new StreamInterruptedError(error, this.#forwardedText, [...this.#attempts]);
    }
    if (!this.#context.route.failoverOn.includes(error.errorClass)) {
      throw routerErrorFrom(error, [...this.#attempts]);
    }
  }

  #recordSkip(candidate: Candidate, reason: SkipReason): void {
    this.#attempts.push({
      ...candidateRef(candidate),
      outcome: 'skipped',
      errorClass: reason,
      latencyMs: 0,
    });
    this.#context.emit('attempt_skipped', {
      route: this.#context.routeName,
      ...candidateRef(candidate),
      reason,
    });
  }

  /** With every candidate skipped: fail, or with `onExhausted: queue` wait for the first to recover. */
  async #whenExhausted(): Promise<void> {
    const { clock, route } = this.#context;
    const now = clock.monotonic();
    const until = this.#earliestAvailability();
    if (route.onExhausted === 'fail' || until === undefined || until >= this.#deadlineAt) {
      throw this.#finalError(until === undefined ? undefined : until - now);
    }
    await this.#sleepWithinDeadline(until - now);
  }

  #earliestAvailability(): number | undefined {
    const times = this.#context.candidates
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
      throw new RouterError('client_aborted', 'the caller aborted the task', {
        attempts: [...this.#attempts],
      });
    }
    if (this.#context.clock.monotonic() >= this.#deadlineAt) {
      const message = `task exceeded its ${this.#context.route.deadlineMs} ms deadline`;
      throw new RouterError('deadline_exceeded', message, {
        errorClass: 'deadline_exceeded',
        attempts: [...this.#attempts],
      });
    }
  }

  #finalError(retryAfterMs?: number): RouterError {
    if (this.#lastFailure !== undefined) {
      return routerErrorFrom(this.#lastFailure.error, [...this.#attempts]);
    }
    const message = `no candidate of route "${this.#context.routeName}" is available`;
    return new RouterError('provider_unavailable', message, {
      retryAfterMs,
      attempts: [...this.#attempts],
    });
  }

  #asRouterError(error: unknown): RouterError {
    if (error instanceof RouterError) {
      return error;
    }
    if (isProviderError(error)) {
      return routerErrorFrom(error, [...this.#attempts]);
    }
    if (this.#signal?.aborted) {
      return new RouterError('client_aborted', 'the caller aborted the task', {
        attempts: [...this.#attempts],
        cause: error,
      });
    }
    throw error;
  }
}

function candidateRef(candidate: Candidate): { provider: string; model: string } {
  return { provider: candidate.provider, model: candidate.model };
}

/** Builds the provider call; without messages, a short placeholder prompt is sent and `inputTokens` sizes it upstream. */
function providerCall(request: TaskRequest): ProviderCall {
  const messages = request.messages ?? [
    { role: 'user' as const, content: `Synthetic prompt of ${request.inputTokens ?? 0} tokens.` },
  ];
  return {
    model: '',
    messages,
    maxOutputTokens: request.maxOutputTokens,
    inputTokens: request.inputTokens,
    forcedOutputTokens: request.forcedOutputTokens,
  };
}
