import { EventEmitter } from 'node:events';

import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { addUsd, roundUsd } from '../cost/usd.js';
import { ServerlessError } from './serverless-errors.js';
import type { ResolvedServerlessOptions, ServerlessOptions } from './serverless-options.js';
import { resolveServerlessOptions } from './serverless-options.js';
import type { ServerlessInstance, ThrottleReason } from './serverless-pool.js';
import { ServerlessPool } from './serverless-pool.js';

/**
 * How long a timed-out invocation waits for its aborted handler to reject, so that
 * the rejection can become the timeout's cause. A handler that takes longer is
 * not waited for.
 */
const TIMEOUT_CAUSE_WAIT_MS = 100;

/** Invocation details passed to a handler with its input. */
export interface InvocationContext {
  /** Aborted when the function timeout (`maxDurationMs`) expires. */
  signal: AbortSignal;
  instanceId: number;
  coldStart: boolean;
}

export type ServerlessHandler<I, O> = (input: I, context: InvocationContext) => Promise<O>;

/** The handler's value with the invocation's billing. */
export interface InvocationResult<O> {
  value: O;
  instanceId: number;
  coldStart: boolean;
  billedMs: number;
  costUsd: number;
}

/** One finished invocation, emitted whether the client still waited or not. */
export interface InvocationRecord {
  instanceId: number;
  coldStart: boolean;
  outcome: 'success' | 'error' | 'function_timeout';
  billedMs: number;
  costUsd: number;
  /** True when the client had already received an integration timeout. */
  clientTimedOut: boolean;
}

/** Outcome of the function itself; a failed invocation still carries its billing. */
export type InvocationCompletion<O> =
  | { ok: true; result: InvocationResult<O> }
  | { ok: false; error: unknown; billedMs: number; costUsd: number };

/** The two views of one invocation: the client's response and the function's end. */
export interface StartedInvocation<O> {
  response: Promise<InvocationResult<O>>;
  completion: Promise<InvocationCompletion<O>>;
}

/** Typed events of {@link ServerlessEmulator}. */
export interface ServerlessEvents {
  coldStart: [{ instanceId: number; coldStartMs: number }];
  throttled: [{ reason: ThrottleReason; retryAfterSeconds: number }];
  integrationTimeout: [{ instanceId: number; timeoutMs: number }];
  invocation: [InvocationRecord];
  reclaimed: [{ instanceId: number }];
}

/** Running totals since the emulator started. */
export interface ServerlessStats {
  instances: number;
  idleInstances: number;
  invocations: number;
  coldStarts: number;
  throttles: number;
  functionTimeouts: number;
  integrationTimeouts: number;
  billedMs: number;
  costUsd: number;
}

/**
 * Emulates a serverless function behind an API gateway: cold starts, a
 * concurrency cap, a scale-out rate, a function timeout, the gateway's
 * integration timeout and per-millisecond billing of duration times memory
 * plus a per-request price. The cold start is not billed.
 */
export class ServerlessEmulator<I, O> extends EventEmitter<ServerlessEvents> {
  readonly #handler: ServerlessHandler<I, O>;
  readonly #options: ResolvedServerlessOptions;
  readonly #clock: Clock;
  readonly #pool: ServerlessPool;
  readonly #running = new Set<AbortController>();
  readonly #stats: ServerlessStats = {
    instances: 0,
    idleInstances: 0,
    invocations: 0,
    coldStarts: 0,
    throttles: 0,
    functionTimeouts: 0,
    integrationTimeouts: 0,
    billedMs: 0,
    costUsd: 0,
  };
  #closed = false;

  constructor(handler: ServerlessHandler<I, O>, options: ServerlessOptions = {}) {
    super();
    this.#handler = handler;
    this.#options = resolveServerlessOptions(options);
    this.#clock = options.clock ?? systemClock;
    this.#pool = new ServerlessPool(this.#options, this.#clock, (instance) =>
      this.emit('reclaimed', { instanceId: instance.id }),
    );
  }

  get options(): Readonly<ResolvedServerlessOptions> {
    return this.#options;
  }

  stats(): ServerlessStats {
    return { ...this.#stats, instances: this.#pool.size, idleInstances: this.#pool.idleCount };
  }

  /**
   * Invokes the function as a synchronous API-gateway request.
   * @throws ServerlessError `throttled`, `function_timeout`, `integration_timeout` or `emulator_closed`;
   *   errors thrown by the handler pass through unchanged.
   */
  invoke(input: I): Promise<InvocationResult<O>> {
    return this.start(input).response;
  }

  /**
   * Starts an invocation. `response` is the API-gateway client's result;
   * `completion` settles when the function itself ends, which after an
   * integration timeout is later than the response, and it never rejects.
   */
  start(input: I): StartedInvocation<O> {
    if (this.#closed) {
      return failedStart(new ServerlessError('emulator_closed', 'serverless emulator is closed'));
    }
    const acquired = this.#pool.acquire();
    if (acquired.kind === 'throttled') return failedStart(this.#throttle(acquired));
    const state = { clientTimedOut: false };
    const completion = this.#execute(input, acquired.instance, acquired.kind === 'cold', state);
    return { response: this.#respond(completion, acquired.instance, state), completion };
  }

  /** Stops accepting invocations, aborts running handlers and drops idle instances. */
  close(): void {
    this.#closed = true;
    const error = new ServerlessError('emulator_closed', 'serverless emulator is closed');
    for (const controller of this.#running) controller.abort(error);
    this.#pool.clear();
  }

  #throttle(acquired: { reason: ThrottleReason; retryAfterSeconds: number }): ServerlessError {
    this.#stats.throttles += 1;
    this.emit('throttled', acquired);
    const message =
      acquired.reason === 'concurrency'
        ? `serverless concurrency cap of ${this.#options.maxInstances} instances reached`
        : `serverless scale-out rate of ${this.#options.scaleOutPerSecond} new instances per second reached`;
    return new ServerlessError('throttled', message, acquired.retryAfterSeconds);
  }

  #respond(
    completion: Promise<InvocationCompletion<O>>,
    instance: ServerlessInstance,
    state: { clientTimedOut: boolean },
  ): Promise<InvocationResult<O>> {
    return new Promise((resolve, reject) => {
      const timeoutMs = this.#options.integrationTimeoutMs;
      const timer = this.#clock.setTimeout(() => {
        state.clientTimedOut = true;
        this.#stats.integrationTimeouts += 1;
        this.emit('integrationTimeout', { instanceId: instance.id, timeoutMs });
        reject(
          new ServerlessError('integration_timeout', `integration timed out after ${timeoutMs} ms`),
        );
      }, timeoutMs);
      void completion.then((outcome) => {
        this.#clock.clearTimeout(timer);
        if (outcome.ok) resolve(outcome.result);
        else reject(outcome.error);
      });
    });
  }

  async #execute(
    input: I,
    instance: ServerlessInstance,
    coldStart: boolean,
    state: { clientTimedOut: boolean },
  ): Promise<InvocationCompletion<O>> {
    if (coldStart) await this.#coldStart(instance);
    const controller = new AbortController();
    this.#running.add(controller);
    const startedAt = this.#clock.monotonic();
    const finish = (outcome: InvocationRecord['outcome']) =>
      this.#bill(instance, coldStart, outcome, this.#clock.monotonic() - startedAt, state);
    try {
      const value = await this.#runWithFunctionTimeout(input, instance, coldStart, controller);
      const billing = finish('success');
      this.#pool.release(instance);
      return { ok: true, result: { value, instanceId: instance.id, coldStart, ...billing } };
    } catch (error) {
      const timedOut = controller.signal.aborted && !this.#closed;
      const billing = finish(timedOut ? 'function_timeout' : 'error');
      if (timedOut) this.#pool.discard(instance);
      else this.#pool.release(instance);
      return { ok: false, error, ...billing };
    } finally {
      this.#running.delete(controller);
    }
  }

  async #coldStart(instance: ServerlessInstance): Promise<void> {
    this.#stats.coldStarts += 1;
    this.emit('coldStart', { instanceId: instance.id, coldStartMs: this.#options.coldStartMs });
    await this.#clock.sleep(this.#options.coldStartMs);
  }

  #runWithFunctionTimeout(
    input: I,
    instance: ServerlessInstance,
    coldStart: boolean,
    controller: AbortController,
  ): Promise<O> {
    const maxMs = this.#options.maxDurationMs;
    const clock = this.#clock;
    return new Promise<O>((resolve, reject) => {
      const context = { signal: controller.signal, instanceId: instance.id, coldStart };
      const run = this.#handler(input, context);
      let timedOut = false;
      const timer = clock.setTimeout(() => {
        timedOut = true;
        const abort = new ServerlessError(
          'function_timeout',
          `function timed out after ${maxMs} ms`,
        );
        controller.abort(abort);
        // The aborted handler's own rejection, if it comes soon, becomes the cause,
        // so a caller can still read what the run had done, such as its spend.
        const grace = clock.setTimeout(() => reject(abort), TIMEOUT_CAUSE_WAIT_MS);
        run.then(
          () => {
            clock.clearTimeout(grace);
            reject(abort);
          },
          (cause: unknown) => {
            clock.clearTimeout(grace);
            reject(new ServerlessError('function_timeout', abort.message, undefined, { cause }));
          },
        );
      }, maxMs);
      run.then(
        (value) => {
          clock.clearTimeout(timer);
          if (!controller.signal.aborted) resolve(value);
        },
        (error: unknown) => {
          clock.clearTimeout(timer);
          if (!timedOut) reject(error);
        },
      );
    });
  }

  #bill(
    instance: ServerlessInstance,
    coldStart: boolean,
    outcome: InvocationRecord['outcome'],
    elapsedMs: number,
    state: { clientTimedOut: boolean },
  ): { billedMs: number; costUsd: number } {
    const billedMs = Math.max(1, Math.ceil(Math.min(elapsedMs, this.#options.maxDurationMs)));
    const gbSeconds = (billedMs / 1000) * (this.#options.memoryMb / 1024);
    const { perGbSecondUsd, perRequestUsd } = this.#options.prices;
    const costUsd = roundUsd(gbSeconds * perGbSecondUsd + perRequestUsd);
    this.#stats.invocations += 1;
    this.#stats.billedMs += billedMs;
    this.#stats.costUsd = addUsd(this.#stats.costUsd, costUsd);
    if (outcome === 'function_timeout') this.#stats.functionTimeouts += 1;
    this.emit('invocation', {
      instanceId: instance.id,
      coldStart,
      outcome,
      billedMs,
      costUsd,
      clientTimedOut: state.clientTimedOut,
    });
    return { billedMs, costUsd };
  }
}

function failedStart<O>(error: ServerlessError): StartedInvocation<O> {
  return {
    response: Promise.reject(error),
    completion: Promise.resolve({ ok: false, error, billedMs: 0, costUsd: 0 }),
  };
}
