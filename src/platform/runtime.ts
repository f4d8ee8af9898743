import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { relative } from 'node:path';

import { Registry } from 'prom-client';

import { loadProviderCatalog } from '../faults/providers/index.js';
import {
  createBackpressure,
  DEFAULT_BACKPRESSURE,
  type ResolvedBackpressure,
  resolveBackpressureOptions,
} from './admission/backpressure.js';
import { isScaledClock, systemClock } from './clock.js';
import type { CostLedger } from './cost/ledger.js';
import { DEFAULT_PRICES_PATH, readPriceTableFile } from './cost/load-price-table.js';
import { checkPriceCoverage } from './runtime/price-coverage.js';
import type { PriceTable, ServerlessPrices } from './cost/price-table.js';
import { roundUsd } from './cost/usd.js';
import { ServerlessExecutor } from './executors/serverless-executor.js';
import type { SyncExecutor } from './gateway/ports.js';
import { startGateway } from './gateway/server.js';
import { createPlatformMetrics, type PlatformMetrics } from './metrics/index.js';
import { createRouter, RouteOutputLimits } from './router/index.js';
import { DEFAULT_POLICY_PATH, readPolicyFile } from './router/load-policy.js';
import { BackendAdmissionGate, QueueBackpressureGate } from './runtime/admission-gate.js';
import { DirectExecutor } from './runtime/direct-executor.js';
import { startConsumers } from './runtime/consumers.js';
import type { WorkerSwitch } from './runtime/worker-switch.js';
import { createDrivers, type DriverKinds, type PlatformDrivers } from './runtime/drivers.js';
import { legacyKeyWarnings } from './runtime/legacy-keys.js';
import { type LoadedFiles, loadedFile } from './runtime/loaded-files.js';
import { recordStartKeys, START_CLAIM_TTL_MS, type StartKeys } from './runtime/start-keys.js';
import type { WorkerHandlerConfig } from './runtime/worker-handler.js';
import type { PlatformConfig } from './runtime/platform-config.js';
import { startProviderFleetProcess } from './runtime/fleet-child.js';
import { startProviderFleet } from './runtime/providers.js';
import { RouterModelPort } from './runtime/router-port.js';
import { capOf, createTaskHandler } from './runtime/task-consumer.js';
import { logWithheldAddresses } from './runtime/failure.js';
import {
  type IneffectiveRunningCap,
  ineffectiveRunningCaps,
  maxRunningByTenant,
  type SharedPrefix,
  workerSlots,
} from './runtime/running-caps.js';
import {
  type JobEndHooks,
  reconcileQueueFailures,
  storeJobEnd,
} from './runtime/queue-reconciler.js';
import { TaskFinisher } from './runtime/task-finisher.js';
import { drainAndStop } from './runtime/drain.js';
import {
  type BreakerChange,
  BreakerGaugeMerger,
  type BreakerGaugeState,
} from './runtime/breaker-gauge-merger.js';
import {
  recordFinished,
  startQueueSampler,
  wireRouterMetrics,
  wireTaskCounts,
  wireTenantUsage,
} from './runtime/metrics-wiring.js';
import { applyMetricCalls } from './runtime/metric-relay.js';
import { logWorkerRestart, recordWorkerExit } from './runtime/worker-exits.js';
import {
  checkPlatformLimits,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  type PlatformOptions,
  type StopOptions,
  WORKER_ABORT_GRACE_MS,
} from './runtime/platform-options.js';
import { checkRedis, withoutCredentials } from './runtime/redis-check.js';
import { RedisMonitor } from './runtime/redis-monitor.js';
import { DEFAULT_SYNC_LEASE_MS, startSyncTaskOwners } from './runtime/sync-task-owners.js';
import { startConfigCheck } from './runtime/config-check.js';
import { type ConfigFingerprint, configFingerprint } from './runtime/config-fingerprint.js';
import { asyncTaskDeadlineMs, SLOT_LEASE_MARGIN_MS } from './runtime/run-limits.js';
import { routeMaxCost } from './runtime/route-max-cost.js';
import { DEFAULT_MAX_TASK_DURATION_MS } from './gateway/schema.js';
import type { Policy } from './router/policy-types.js';
import { DEFAULT_TOPOLOGY, parseTopology, type Topology } from './runtime/topology.js';
import type { ProviderEndpoint } from './providers/types.js';
import type { TaskAccounting, TaskStore } from './store/task-store.js';
import { withTimeout } from './timeout.js';
import type { TaskRecord } from './task.js';
import { DEFAULT_TENANTS_PATH, readTenantsFile, tenantWarnings } from './tenants/index.js';
import type { Tenant } from './tenants/tenant.js';

export type { DriverKind, DriverKinds } from './runtime/drivers.js';
export type { PlatformConfig } from './runtime/platform-config.js';
export type { PlatformOptions, StopOptions } from './runtime/platform-options.js';
export { WORKER_ABORT_GRACE_MS } from './runtime/platform-options.js';
export { isRedisUnavailableError, RedisUnavailableError } from './runtime/redis-check.js';
export { formatTopology, parseTopology, type Topology } from './runtime/topology.js';
export type { BreakerChange, BreakerGaugeState } from './runtime/breaker-gauge-merger.js';
export {
  isWorkerPauseUnsupportedError,
  WorkerPauseUnsupportedError,
  type WorkerSwitch,
} from './runtime/worker-switch.js';

/** A {@link BreakerChange} with its time, in milliseconds of the platform clock's monotonic time. */
export type TimedBreakerChange = BreakerChange & { atMs: number };

/** A running platform on 127.0.0.1. */
export interface Platform {
  topology: Topology;
  /**
   * Warnings about the settings found at start, one message each. A tenant gets one for a
   * `budgetUsd` of 0, and for a `maxRunning` above its `maxInFlight` or at or above the
   * worker slots. On Redis, each running platform process on the key prefix with other
   * tenants or another route policy gets one. `config.logger` logged each.
   */
  warnings: readonly string[];
  /**
   * The running caps that `warnings` names as at or above the worker slots, with their
   * tenant, so a caller can tell which tenants they concern.
   */
  runningCaps: readonly IneffectiveRunningCap[];
  urls: {
    gateway: string;
    /**
     * Toxiproxy-compatible API of the fault proxy, with one proxy per provider named after
     * it. Undefined when `faultProxy` is false.
     */
    proxyApi: string | undefined;
    /** Each mock provider's own URL, which serves `/_control/faults`. */
    providers: Record<string, string>;
  };
  registry: Registry;
  metrics: PlatformMetrics;
  /** Returns the state `scalegate_breaker_state` shows for each breaker of the policy. */
  breakers(): BreakerGaugeState[];
  /**
   * Calls `listener` on each change of a state that `scalegate_breaker_state` shows, and
   * returns the function that removes it. Every breaker starts closed. The listener must
   * not throw.
   * NOTE: a worker process sends its changes in batches every 250 ms, so their `atMs`
   * can be that much later than the change itself.
   */
  onBreakerChange(listener: (change: TimedBreakerChange) => void): () => void;
  ledger: CostLedger;
  /** The dated price table that prices the tasks' tokens and the executors. */
  prices: PriceTable;
  /**
   * The tenants file, price table and route policy this process read at start, with hashes.
   * Worker processes run on the same policy, price table and provider profiles, passed in
   * their config.
   */
  files: LoadedFiles;
  /**
   * Returns the largest `maxOutputTokens` some candidate model of the route accepts, the
   * gateway's limit for the route, or undefined for a route the policy lacks.
   */
  maxOutputTokens(route: string): number | undefined;
  store: TaskStore;
  /** Storage of the task store, admission, queue and cost ledger. */
  drivers: DriverKinds;
  /** Redis URL of the drivers without user name and password; undefined in memory. */
  redisUrl: string | undefined;
  /** Pauses and resumes the async workers, on the in-memory queue only. */
  workers: WorkerSwitch;
  /** Queue limits at which the gateway sheds each priority class. */
  backpressure: ResolvedBackpressure;
  /**
   * Prefix of the run's Redis keys; undefined in memory. A later start with the
   * same prefix and Redis delivers the tasks this run left queued.
   */
  keyPrefix: string | undefined;
  /**
   * Id of this process in the record of running sync tasks and async admissions, which
   * `gateway_lost` errors name; undefined in memory.
   */
  syncOwnerId: string | undefined;
  /**
   * Deletes every Redis key of this run; call before `stop`. Nothing to do in memory.
   * `stop({ purge: true })` deletes them after the workers stopped instead, so no worker
   * process still runs a task whose keys are gone.
   */
  purge(): Promise<void>;
  /**
   * Returns the bill of the long-running worker pool from the start, or from the last
   * `startWorkerPoolBill`, until now on the platform's clock: one worker of the price table's
   * size per worker slot. On Redis the slots are the topology's workers rounded up to a
   * multiple of the worker processes.
   */
  workerPoolUsd(): number;
  /**
   * Starts the worker pool's bill again from now, as a load run does when it starts, so the
   * cost per task leaves out the platform's start-up.
   */
  startWorkerPoolBill(): void;
  /**
   * Stops taking requests, waits up to `shutdownTimeoutMs` for running tasks, then
   * closes everything. Sync tasks still running then fail with `platform_shutdown`. On
   * Redis, async ones go back to the queue for any platform process on the key prefix, or
   * the next start. In memory they fail with `platform_shutdown`, as do the tasks still
   * queued, which would otherwise never end.
   */
  stop(options?: StopOptions): Promise<void>;
}

/**
 * Starts mock providers, the fault proxy, the router, admission, the queue
 * with its consumers, the sync executor and the gateway, all on 127.0.0.1.
 * With `redisUrl`, admission, queue, store and ledger use Redis.
 */
export async function startPlatform(config: PlatformOptions = {}): Promise<Platform> {
  checkPlatformLimits(config);
  const clock = config.clock ?? systemClock;
  /** Start of the worker pool's bill on the clock's monotonic time. */
  let billedFrom = clock.monotonic();
  await checkRedisOf(config);
  const keyPrefix = config.keyPrefix ?? `scalegate-${randomBytes(6).toString('hex')}`;
  const redisUrl = redisUrlOf(config);
  const topology = resolveTopology(config.topology);
  const catalog = await loadProviderCatalog(config.providersDir);
  const [policyFile, tenantsFile, pricesFile] = await Promise.all([
    readPolicyFile(config.policyPath ?? DEFAULT_POLICY_PATH, catalog),
    readTenantsFile(config.tenantsPath ?? DEFAULT_TENANTS_PATH),
    readPriceTableFile(config.pricesPath ?? DEFAULT_PRICES_PATH),
  ]);
  const policy = policyFile.policy;
  const tenants = tenantsFile.registry;
  const prices = pricesFile.table;
  const files: LoadedFiles = {
    tenants: loadedFile(tenantsFileOf(config), tenantsFile.bytes),
    prices: loadedFile(pricesFileOf(config), pricesFile.bytes),
    policy: loadedFile(policyFileOf(config), policyFile.bytes),
  };
  checkPriceCoverage(
    policy,
    prices,
    { prices: pricesFileOf(config), policy: policyFileOf(config) },
    catalog,
  );
  const seed = config.seed ?? 1;
  const proxyOptions = {
    toxiproxyUrl: config.toxiproxyUrl ?? process.env.TOXIPROXY_URL,
    direct: config.faultProxy === false,
  };
  const fleet =
    config.providerProcess === 'child'
      ? await startProviderFleetProcess(catalog, seed, config.timeScale ?? 1, proxyOptions)
      : await startProviderFleet(catalog, clock, seed, proxyOptions);
  const stops: (() => Promise<void>)[] = [() => fleet.close()];
  const drains: (() => Promise<void>)[] = [];
  const shutdown = new AbortController();
  // Every running task listens on this one signal and removes its listener when it ends.
  setMaxListeners(0, shutdown.signal);
  const maxTaskDurationMs = config.maxTaskDurationMs ?? DEFAULT_MAX_TASK_DURATION_MS;
  let startKeys: StartKeys | undefined;
  try {
    // Read before any step of the start writes a key, so a failed start can remove its keys.
    startKeys =
      redisUrl === undefined
        ? undefined
        : await recordStartKeys(redisUrl, keyPrefix, config.keyPrefix === undefined, config.logger);
    const router = createRouter({ policy, catalog, endpoints: fleet.endpoints, clock });
    stops.unshift(() => router.close());
    const registry = new Registry();
    const metrics = createPlatformMetrics(registry);
    // The gateway's router and each worker process's report breakers of their own.
    const breakerListeners = new Set<(change: TimedBreakerChange) => void>();
    const breakers = new BreakerGaugeMerger(metrics, (change) => {
      const timed = { ...change, atMs: clock.monotonic() };
      for (const listener of breakerListeners) listener(timed);
    });
    wireRouterMetrics(router, breakers.sinkFor('platform'), policy);
    const drivers = createDrivers(config, keyPrefix, clock);
    // Set by stop({ purge: true }). The keys go after every other stop that may write them.
    let purgeOnStop = false;
    stops.unshift(async () => {
      try {
        if (purgeOnStop) await drivers.purge();
      } finally {
        await drivers.close();
      }
    });
    // The count listener of the current stop(). Each unshift puts its step first, so the
    // count read runs before the purge and the close above.
    let onTaskCounts: StopOptions['onTaskCounts'];
    stops.unshift(() => reportTaskCounts(drivers.store, onTaskCounts, config.logger));
    const redisMonitor =
      drivers.redisUrl === undefined
        ? undefined
        : new RedisMonitor({ redisUrl: drivers.redisUrl, logger: config.logger });
    if (redisMonitor !== undefined) stops.push(() => redisMonitor.close());
    const routerPort = new RouterModelPort(router, prices);
    const finisher = new TaskFinisher({
      store: drivers.store,
      admission: drivers.admission,
      clock,
      onFinished: ({ record, executorCostUsd, spentUsage }) =>
        recordFinished(metrics, drivers.ledger, record, executorCostUsd, spentUsage),
      onChargeError: (error, ticket) =>
        config.logger?.warn(
          { err: error, ticketId: ticket.id, tenantId: ticket.tenantId },
          'charging a ticket failed; the task goes on',
        ),
    });
    const executor = createExecutor(
      topology,
      config,
      routerPort,
      finisher,
      prices.executors.serverless,
      shutdown.signal,
    );
    stops.unshift(async () => executor.close?.());
    const maxRunning = maxRunningByTenant(tenants.tenants);
    const handler = createTaskHandler({
      store: drivers.store,
      router: routerPort,
      finisher,
      clock,
      maxAttempts: drivers.maxAttempts,
      deadlineMs: (request) =>
        asyncTaskDeadlineMs(request, routeDeadlineMs(policy, request.route), maxTaskDurationMs),
      shutdown: shutdown.signal,
      // The memory queue ends with this process, so only Redis can deliver a cut task again.
      onShutdown: drivers.redisUrl === undefined ? 'fail' : 'requeue',
      onStart: (task, waitMs) => metrics.observeQueueWait(task.request.priority, waitMs / 1000),
      // BullMQ stamps each job's enqueuedAt with the system clock, the memory queue with `clock`.
      // NOTE: under a scaled clock, the queue wait of BullMQ jobs is therefore wall time,
      // while the memory queue's is scaled time.
      queueClock: drivers.redisUrl === undefined ? clock : systemClock,
      runSlots: drivers.runSlots,
      maxRunningOf: (tenantId) => capOf(maxRunning, tenantId),
      onCapDeferral: (tenantId) => metrics.recordCapDeferral(tenantId),
      onResume: (task, steps) => metrics.recordResumedSteps(task.tenantId, steps),
      onFailure: (task, failure) => logWithheldAddresses(config.logger, task.id, failure),
      onCheckpointError: (error, taskId) =>
        config.logger?.warn(
          { err: error, taskId },
          'storing a step checkpoint failed; a later delivery repeats the steps after the last one stored',
        ),
      slotLeaseMs: maxTaskDurationMs + SLOT_LEASE_MARGIN_MS,
      onSlotReleaseError: (error, taskId, tenantId) =>
        config.logger?.warn(
          { err: error, taskId, tenantId },
          'freeing a running slot failed; it stays held until its lease ends',
        ),
    });
    const stopSampler = startQueueSampler(drivers.queue, metrics);
    wireTaskCounts(drivers.store, metrics);
    wireTenantUsage(drivers.admission, tenants.tenants, metrics, config.logger);
    stops.unshift(async () => stopSampler());
    const onJobEndStored = (record: TaskRecord) =>
      recordFinished(metrics, drivers.ledger, record, 0);
    const jobEndHooks: JobEndHooks = {
      admission: drivers.admission,
      runSlots: drivers.runSlots,
      onStored: onJobEndStored,
      onError: (error, event) =>
        config.logger?.error(
          { err: error, taskId: event.id, state: event.state },
          'storing the end of a queue-ended task failed',
        ),
    };
    reconcileQueueFailures(drivers.queue, drivers.store, clock, jobEndHooks);
    // No more processes than workers, so workers=1 runs one task at a time.
    const processes =
      drivers.redisUrl === undefined ? 0 : Math.min(config.workerProcesses ?? 2, topology.workers);
    const slots = workerSlots(topology.workers, processes);
    // A prefix that the caller named may be shared by other platform processes.
    const sharedKeyPrefix =
      drivers.redisUrl !== undefined && config.keyPrefix !== undefined ? keyPrefix : undefined;
    const warnings: string[] = [];
    /** Other platform processes running on the key prefix at start. */
    let others: ReadonlyMap<string, ConfigFingerprint> = new Map();
    // Worker processes abort their tasks when the drain time runs out, then get
    // WORKER_ABORT_GRACE_MS to return them to the queue before the pool kills them. A worker
    // process stopped on its own by SIGTERM keeps to the same times.
    const defaultDrainTimeoutMs = config.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    const consumers = await startConsumers({
      shutdownTimeoutMs: defaultDrainTimeoutMs,
      abortGraceMs: WORKER_ABORT_GRACE_MS,
      onWorkerMetrics: (calls, processIndex) =>
        applyMetricCalls(breakers.sinkFor(`worker ${processIndex}`), calls),
      onWorkerExit: (event) => {
        // A replacement process reports its own breakers once it loads its handler.
        breakers.forget(`worker ${event.index}`, `worker process ${event.index} exited`);
        recordWorkerExit(config.logger, metrics, event);
      },
      onWorkerRestart: (event) => logWorkerRestart(config.logger, event),
      onWorkerJobEnded: (event) => storeJobEnd(drivers.store, clock, event, jobEndHooks),
      workers: topology.workers,
      processes,
      queue: drivers.queue,
      handler,
      worker: workerConfig(config, drivers, keyPrefix, fleet.endpoints, maxRunning, {
        providers: catalog,
        policyText: policyFile.text,
        pricesText: pricesFile.bytes.toString('utf8'),
      }),
      // Worker processes log at the platform's level, so `--log-level` covers them too.
      ...(config.logger === undefined ? {} : { logLevel: config.logger.level }),
    });
    // The drain time of the current stop(), which may override the default.
    let drainTimeoutMs = defaultDrainTimeoutMs;
    drains.push(() => consumers.stop(drainTimeoutMs + WORKER_ABORT_GRACE_MS));
    shutdown.signal.addEventListener('abort', () => consumers.abort(), { once: true });
    const backpressure = resolveBackpressureOptions(config.backpressure ?? DEFAULT_BACKPRESSURE);
    const rule = createBackpressure(backpressure);
    const syncOwners =
      drivers.redisUrl === undefined
        ? undefined
        : await startSyncTaskOwners({
            redisUrl: drivers.redisUrl,
            keyPrefix,
            leaseMs: config.syncTaskLeaseMs,
            store: drivers.store,
            admission: drivers.admission,
            queue: drivers.queue,
            clock,
            onEnded: onJobEndStored,
            logger: config.logger,
          });
    // Stops run after the drain, when this process's sync tasks have ended.
    if (syncOwners !== undefined) stops.unshift(() => syncOwners.close());
    if (drivers.redisUrl !== undefined && syncOwners !== undefined) {
      const check = await startConfigCheck({
        redisUrl: drivers.redisUrl,
        keyPrefix,
        processId: syncOwners.instanceId,
        fingerprint: configFingerprint(
          { file: tenantsFileOf(config), tenants: tenants.tenants },
          { file: policyFileOf(config), policy },
          { file: pricesFileOf(config), data: prices.data },
          {
            taskRetentionMs: drivers.taskRetentionMs,
            stallIntervalMs: drivers.stallIntervalMs,
            maxAttempts: drivers.maxAttempts,
            backoffBaseMs: drivers.backoffBaseMs,
            backoffMaxMs: drivers.backoffMaxMs,
            ...backpressure,
          },
          slots,
        ),
        leaseMs: config.syncTaskLeaseMs ?? DEFAULT_SYNC_LEASE_MS,
        logger: config.logger,
      });
      stops.unshift(() => check.processes.close());
      warnings.push(...check.warnings);
      others = check.others;
    }
    const shared =
      sharedKeyPrefix === undefined
        ? undefined
        : {
            keyPrefix: sharedKeyPrefix,
            otherSlots: [...others.values()].map((other) => other.workerSlots),
          };
    const runningCaps = runningCapWarnings(config, tenants.tenants, slots, shared);
    warnings.unshift(
      ...tenantSettingWarnings(config, tenants.tenants),
      ...runningCaps.map((found) => found.message),
    );
    warnings.push(...(await legacyKeyWarnings(drivers, keyPrefix, config.logger)));
    const outputLimits = new RouteOutputLimits(policy, catalog);
    const gateway = await startGateway({
      port: config.port ?? 0,
      tenants,
      store: drivers.store,
      admission: new BackendAdmissionGate(drivers.admission, routeMaxCost(prices, outputLimits)),
      backpressure: new QueueBackpressureGate(rule, () => drivers.queue.gauges(), clock),
      executor,
      queue: drivers.queue,
      routes: {
        names: () => Object.keys(policy.routes),
        maxOutputTokens: (route) => outputLimits.largestLimit(route),
        maxInputTokens: (route, maxOutputTokens) =>
          outputLimits.maxInputTokens(route, maxOutputTokens),
      },
      readiness: redisMonitor === undefined ? [] : [redisMonitor],
      storeName: drivers.redisUrl === undefined ? undefined : 'the task store on Redis',
      registry,
      logger: config.logger,
      clock,
      maxTaskDurationMs,
      onRejection: (tenantId, rejection) => metrics.recordRejection(tenantId, rejection.reason),
      syncOwners,
      onTaskFailed: onJobEndStored,
    });
    drains.push(() => gateway.close());
    // Runs first of the stops, after the consumers drained and before the store closes.
    stops.unshift(() => drivers.endUnfinished(onJobEndStored));
    // A claim left behind expires by itself, so a failed release does not fail the start.
    await startKeys
      ?.release()
      .catch((releaseError: unknown) =>
        config.logger?.warn(
          { err: releaseError, redisKeyPrefix: keyPrefix },
          `releasing the start claim under key prefix ${keyPrefix} failed; it expires in ${START_CLAIM_TTL_MS} ms`,
        ),
      );
    return {
      topology,
      warnings,
      runningCaps,
      urls: {
        gateway: gateway.url,
        proxyApi: fleet.proxyApiUrl,
        providers: Object.fromEntries(fleet.providers.map((entry) => [entry.name, entry.url])),
      },
      registry,
      metrics,
      breakers: () => breakers.states(),
      onBreakerChange: (listener) => {
        breakerListeners.add(listener);
        return () => breakerListeners.delete(listener);
      },
      ledger: drivers.ledger,
      prices,
      files,
      maxOutputTokens: (route) => outputLimits.largestLimit(route),
      store: drivers.store,
      drivers: drivers.kinds,
      redisUrl: drivers.redisUrl === undefined ? undefined : withoutCredentials(drivers.redisUrl),
      workers: consumers.switch,
      backpressure,
      keyPrefix: drivers.redisUrl === undefined ? undefined : keyPrefix,
      syncOwnerId: syncOwners?.instanceId,
      purge: () => drivers.purge(),
      // Worker processes each run ceil(workers / processes) tasks, so the bill covers every
      // slot that ran, one more than `workers` names for an odd count on Redis.
      workerPoolUsd: () => prices.workerPoolUsd(slots, clock.monotonic() - billedFrom),
      startWorkerPoolBill: () => {
        billedFrom = clock.monotonic();
      },
      stop: (options = {}) => {
        drainTimeoutMs = options.drainTimeoutMs ?? defaultDrainTimeoutMs;
        purgeOnStop = options.purge === true;
        onTaskCounts = options.onTaskCounts;
        return drainAndStop({
          drains,
          stops,
          shutdown,
          clock,
          timeoutMs: drainTimeoutMs,
          onDrainTimeout: options.onDrainTimeout,
        });
      },
    };
  } catch (error) {
    try {
      await runStops([...drains, ...stops]);
    } catch (stopError) {
      // A writer may still run after a failed stop, so the keys stay. Ending the claim closes
      // its connection, which would otherwise keep renewing the claim and the process alive.
      await startKeys?.release().catch(() => undefined);
      throw stopError;
    }
    // The stops above end every writer, so no key of this start appears after the removal.
    await startKeys
      ?.removeCreated()
      .catch((removeError: unknown) =>
        config.logger?.warn(
          { err: removeError, redisKeyPrefix: keyPrefix },
          `removing the keys of the failed start under key prefix ${keyPrefix} failed; delete the keys ${keyPrefix}:* yourself`,
        ),
      );
    throw error;
  }
}

function resolveTopology(topology: PlatformConfig['topology']): Topology {
  if (topology === undefined) return { ...DEFAULT_TOPOLOGY };
  return typeof topology === 'string' ? parseTopology(topology) : topology;
}

function createExecutor(
  topology: Topology,
  config: PlatformConfig,
  router: RouterModelPort,
  finisher: TaskFinisher,
  prices: ServerlessPrices,
  shutdown: AbortSignal,
): SyncExecutor & { close?: () => void } {
  const clock = config.clock ?? systemClock;
  if (!topology.serverlessBurst) return new DirectExecutor({ router, finisher, clock, shutdown });
  const emulatorPrices = {
    perGbSecondUsd: prices.perGbSecond,
    perRequestUsd: roundUsd(prices.perMillionRequests / 1_000_000),
  };
  // The price table sizes the function; `config.serverless.memoryMb` overrides it in code.
  return new ServerlessExecutor({
    router,
    finisher,
    clock,
    emulator: {
      ...config.serverless,
      memoryMb: config.serverless?.memoryMb ?? prices.memoryMbPerFunction,
      prices: emulatorPrices,
    },
    shutdown,
  });
}

function workerConfig(
  config: PlatformOptions,
  drivers: PlatformDrivers,
  keyPrefix: string,
  endpoints: Record<string, ProviderEndpoint>,
  maxRunning: Record<string, number>,
  files: Pick<WorkerHandlerConfig, 'providers' | 'policyText' | 'pricesText'>,
) {
  if (drivers.redisUrl === undefined) return undefined;
  const clock = config.clock ?? systemClock;
  return {
    // NOTE: worker processes scale the system clock, so a scaled clock over another base
    // clock, such as a test's fake clock, gives them other times than this process.
    clock: isScaledClock(clock) ? { scale: clock.scale, originMs: clock.originMs } : undefined,
    redisUrl: drivers.redisUrl,
    keyPrefix,
    maxRunning,
    providersDir: config.providersDir,
    policyPath: config.policyPath ?? DEFAULT_POLICY_PATH,
    pricesPath: config.pricesPath,
    ...files,
    endpoints,
    maxAttempts: drivers.maxAttempts,
    maxTaskDurationMs: config.maxTaskDurationMs,
    backoffBaseMs: drivers.backoffBaseMs,
    backoffMaxMs: drivers.backoffMaxMs,
    stallIntervalMs: drivers.stallIntervalMs,
    taskRetentionMs: drivers.taskRetentionMs,
  };
}

/** Logs each of the tenants file's {@link tenantWarnings} and returns their messages. */
function tenantSettingWarnings(config: PlatformConfig, tenants: readonly Tenant[]): string[] {
  return tenantWarnings(tenants, tenantsFileOf(config)).map((found) => {
    config.logger?.warn(
      { tenant: found.tenantId, field: found.field, value: found.value },
      found.message,
    );
    return found.message;
  });
}

/** Logs a warning for each tenant whose `maxRunning` is at or above the worker slots, and returns them. */
function runningCapWarnings(
  config: PlatformConfig,
  tenants: readonly Tenant[],
  slots: number,
  shared: SharedPrefix | undefined,
): IneffectiveRunningCap[] {
  const file = tenantsFileOf(config);
  const found = ineffectiveRunningCaps(tenants, slots, file, shared);
  for (const cap of found) {
    config.logger?.warn(
      { tenant: cap.tenant, maxRunning: cap.maxRunning, workerSlots: cap.workerSlots },
      cap.message,
    );
  }
  return found;
}

/** Returns the tenants file as the platform's messages name it. */
function tenantsFileOf(config: PlatformConfig): string {
  return config.tenantsPath ?? relative(process.cwd(), DEFAULT_TENANTS_PATH);
}

/** Returns the route policy file as the platform's messages name it. */
function policyFileOf(config: PlatformConfig): string {
  return config.policyPath ?? relative(process.cwd(), DEFAULT_POLICY_PATH);
}

/** Returns the price table file as the platform's messages name it. */
function pricesFileOf(config: PlatformConfig): string {
  return config.pricesPath ?? relative(process.cwd(), DEFAULT_PRICES_PATH);
}

/** Checks the configured Redis, if any, before anything else starts. */
async function checkRedisOf(config: PlatformOptions): Promise<void> {
  const redisUrl = redisUrlOf(config);
  if (redisUrl === undefined) return;
  await checkRedis(redisUrl, config.redisCheckTimeoutMs ?? 3_000);
}

/** Returns the Redis URL the drivers use, or undefined when the platform runs in memory. */
function redisUrlOf(config: PlatformOptions): string | undefined {
  const redisUrl = config.redisUrl ?? process.env.REDIS_URL;
  return redisUrl === undefined || redisUrl.length === 0 ? undefined : redisUrl;
}

function routeDeadlineMs(policy: Policy, route: string): number {
  return policy.routes[route]?.deadlineMs ?? 0;
}

/** Maximum wait for the task counts that a stop reports, in ms. */
const STOP_COUNTS_TIMEOUT_MS = 1_000;

/**
 * Reads the task store's counts and passes them to `onTaskCounts`. A failed or timed-out
 * read is logged at warn and skips the call, so a Redis that does not reply cannot hold up
 * the stop.
 */
async function reportTaskCounts(
  store: TaskStore,
  onTaskCounts: StopOptions['onTaskCounts'],
  logger: PlatformConfig['logger'],
): Promise<void> {
  if (onTaskCounts === undefined) return;
  let counts: TaskAccounting;
  try {
    counts = await withTimeout(store.accounting(), STOP_COUNTS_TIMEOUT_MS, 'task count read');
  } catch (error) {
    logger?.warn({ err: error }, 'reading the task counts at stop failed; the stop goes on');
    return;
  }
  onTaskCounts(counts);
}

async function runStops(stops: readonly (() => Promise<void>)[]): Promise<void> {
  for (const stop of stops) {
    await stop();
  }
}
