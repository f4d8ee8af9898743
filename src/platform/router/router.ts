import { EventEmitter } from 'node:events';
import { type Clock, systemClock } from '../clock.js';
import { createProviderClient } from '../providers/index.js';
import type { ProviderClient, ProviderEndpoint } from '../providers/types.js';
import type { AttemptRecord, TaskRequest, TaskResult } from '../task.js';
import type { BreakerState } from './breaker-state.js';
import { findProvider, type ProviderCatalog } from './catalog.js';
import { candidateKey, fallbackChain, routeCandidates } from './candidate-order.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { contextWindowOf, outputLimitOf } from './output-limits.js';
import type { Candidate, Policy } from './policy-types.js';
import { ProviderThrottle } from './provider-throttle.js';
import { RetryBudget } from './retry-budget.js';
import { RouterError } from './router-errors.js';
import type { RouterEventMap } from './router-events.js';
import { TaskRun } from './task-run.js';
import type { RouterStreamEvent, TaskRunContext } from './task-run-context.js';

/** Construction options of {@link Router}. */
export interface RouterOptions {
  /** A policy returned by `loadPolicy` or `parsePolicy`. */
  policy: Policy;
  catalog: ProviderCatalog;
  /** Base URL and API key of every provider the policy names. */
  endpoints: Record<string, ProviderEndpoint>;
  /** @defaultValue systemClock */
  clock?: Clock;
  /** Source of the weighted first pick and of backoff jitter, in [0, 1). @defaultValue Math.random */
  random?: () => number;
  /** Keep-alive connections per provider. @defaultValue 512 */
  connectionsPerProvider?: number;
}

/** Per-call options of {@link Router.execute} and {@link Router.stream}. */
export interface RouteCallOptions {
  signal?: AbortSignal;
  /**
   * Awaited before each provider call after the first, with the attempts so far.
   * A rejection ends the task with that error, so a caller can stop a retry its
   * budget does not cover. @defaultValue none
   */
  beforeRetry?: (attempts: readonly AttemptRecord[]) => Promise<void>;
}

/** Router state for metrics and reports. */
export interface RouterSnapshot {
  breakers: { provider: string; model: string; state: BreakerState }[];
  throttled: { provider: string; until: number }[];
  retryBudgets: { route: string; retriesInWindow: number; allowedRetries: number }[];
}

/** Routes tasks to provider models with failover, circuit breakers, retry budgets and throttling. */
export class Router extends EventEmitter<RouterEventMap> {
  readonly #policy: Policy;
  readonly #catalog: ProviderCatalog;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #clients = new Map<string, ProviderClient>();
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #budgets = new Map<string, RetryBudget>();
  readonly #candidates = new Map<string, Candidate[][]>();
  /** Task-run contexts per route, built on first use; their parts never change. */
  readonly #contexts = new Map<string, TaskRunContext>();
  /** Breakers by candidate object, so a task run looks a breaker up without building its key. */
  readonly #breakersByCandidate = new Map<Candidate, CircuitBreaker>();
  readonly #throttle: ProviderThrottle;

  constructor(options: RouterOptions) {
    super();
    this.#policy = options.policy;
    this.#catalog = options.catalog;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#throttle = new ProviderThrottle(options.policy.throttle, this.#clock, (notice) =>
      this.emit('provider_throttled', notice),
    );
    for (const [name, route] of Object.entries(options.policy.routes)) {
      this.#candidates.set(name, routeCandidates(options.policy, name, options.catalog));
      this.#budgets.set(name, new RetryBudget(route.retryBudget, this.#clock));
    }
    this.#createClients(options);
  }

  /** Runs a task to completion; nothing reaches the caller before it, so any listed failure fails over. */
  async execute(
    routeName: string,
    request: TaskRequest,
    options: RouteCallOptions = {},
  ): Promise<TaskResult> {
    for await (const event of this.#run(routeName, request, options, false)) {
      if (event.type === 'done') {
        return event.result;
      }
      if (event.type === 'error') {
        throw event.error;
      }
    }
    throw new RouterError('upstream_error', 'task ended without a result');
  }

  /**
   * Streams a task: deltas as they arrive, then one `done` or `error` event.
   * Failover happens only before the first delta is yielded; a failure after
   * it ends the stream with a `StreamInterruptedError`.
   */
  stream(
    routeName: string,
    request: TaskRequest,
    options: RouteCallOptions = {},
  ): AsyncGenerator<RouterStreamEvent, void, void> {
    return this.#run(routeName, request, options, true);
  }

  snapshot(): RouterSnapshot {
    return {
      breakers: [...this.#breakers.entries()].map(([key, breaker]) => ({
        ...splitKey(key),
        state: breaker.state,
      })),
      throttled: this.#throttle.snapshot(),
      retryBudgets: [...this.#budgets.entries()].map(([route, budget]) => ({
        route,
        retriesInWindow: budget.retriesInWindow(),
        allowedRetries: budget.allowedRetries(),
      })),
    };
  }

  /** Closes every provider connection pool. */
  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((client) => client.close()));
  }

  /** Returns the task run's own generator, so its events pass through no extra level. */
  #run(
    routeName: string,
    request: TaskRequest,
    options: RouteCallOptions,
    forward: boolean,
  ): AsyncGenerator<RouterStreamEvent, void, void> {
    const context = this.#context(routeName);
    if (context === undefined) {
      return unknownRoute(routeName);
    }
    return new TaskRun(context, request, options, forward).run();
  }

  #context(routeName: string): TaskRunContext | undefined {
    let context = this.#contexts.get(routeName);
    if (context === undefined) {
      context = this.#newContext(routeName);
      if (context !== undefined) this.#contexts.set(routeName, context);
    }
    return context;
  }

  #newContext(routeName: string): TaskRunContext | undefined {
    const route = this.#policy.routes[routeName];
    const groups = this.#candidates.get(routeName);
    const budget = this.#budgets.get(routeName);
    if (route === undefined || groups === undefined || budget === undefined) {
      return undefined;
    }
    // Group i lists the candidates of route i of the chain, each candidate in one group only.
    const chain = fallbackChain(this.#policy, routeName);
    const routeOfCandidate = new Map<Candidate, string>();
    for (const [index, group] of groups.entries()) {
      for (const candidate of group) routeOfCandidate.set(candidate, chain[index] ?? routeName);
    }
    return {
      routeName,
      route,
      candidateGroups: groups,
      candidates: groups.flat(),
      candidateRouteOf: (candidate) => routeOfCandidate.get(candidate) ?? routeName,
      outputLimitOf: (candidate) => outputLimitOf(this.#catalog, candidate),
      contextWindowOf: (candidate) => contextWindowOf(this.#catalog, candidate),
      budget,
      clock: this.#clock,
      random: this.#random,
      throttle: this.#throttle,
      clientFor: (provider) => this.#clientFor(provider),
      breakerFor: (candidate) => this.#breakerFor(candidate, route.breaker),
      emit: (name, ...args) => {
        (this.emit as (event: string, ...values: unknown[]) => boolean)(name, ...args);
      },
    };
  }

  #clientFor(provider: string): ProviderClient {
    const client = this.#clients.get(provider);
    if (client === undefined) {
      throw new RouterError('provider_unavailable', `no client for provider "${provider}"`);
    }
    return client;
  }

  /** Breakers are per provider/model; policy validation makes every route agree on their settings. */
  #breakerFor(candidate: Candidate, policy: Policy['routes'][string]['breaker']): CircuitBreaker {
    const cached = this.#breakersByCandidate.get(candidate);
    if (cached !== undefined) {
      return cached;
    }
    const key = candidateKey(candidate);
    let breaker = this.#breakers.get(key);
    if (breaker === undefined) {
      breaker = new CircuitBreaker({
        ...candidate,
        policy,
        clock: this.#clock,
        onTransition: (transition) => this.emit('breaker_transition', transition),
      });
      this.#breakers.set(key, breaker);
    }
    this.#breakersByCandidate.set(candidate, breaker);
    return breaker;
  }

  #createClients(options: RouterOptions): void {
    const providers = new Set(
      [...this.#candidates.values()].flat(2).map((candidate) => candidate.provider),
    );
    for (const provider of providers) {
      const endpoint = options.endpoints[provider];
      const profile = findProvider(options.catalog, provider);
      if (endpoint === undefined || profile === undefined) {
        const missing =
          endpoint === undefined ? `endpoints["${provider}"]` : `catalog entry "${provider}"`;
        throw new TypeError(
          `${missing} is required because the policy routes to ${provider}, got undefined`,
        );
      }
      const clientOptions = {
        provider,
        endpoint,
        clock: this.#clock,
        connections: options.connectionsPerProvider,
      };
      this.#clients.set(provider, createProviderClient(profile.format, clientOptions));
    }
  }
}

async function* unknownRoute(routeName: string): AsyncGenerator<RouterStreamEvent, void, void> {
  yield { type: 'error', error: new RouterError('unknown_route', `unknown route "${routeName}"`) };
}

function splitKey(key: string): { provider: string; model: string } {
  const slash = key.indexOf('/');
  return { provider: key.slice(0, slash), model: key.slice(slash + 1) };
}

/** Creates a router; see {@link RouterOptions}. */
export function createRouter(options: RouterOptions): Router {
  return new Router(options);
}
