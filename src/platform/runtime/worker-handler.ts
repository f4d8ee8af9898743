/**
 * Handler module of worker pool processes: each process rebuilds the router,
 * the Redis store, admission and cost ledger from the JSON config, then runs
 * async tasks exactly as in-process consumers do.
 */
import { setMaxListeners } from 'node:events';

import { Redis } from 'ioredis';
import { pino } from 'pino';

import { syncLogDestination } from '../../log-destination.js';
import { loadProviderCatalog, type ProviderProfile } from '../../faults/providers/index.js';
import { RedisAdmissionBackend } from '../admission/redis-backend.js';
import { RedisRunSlots } from '../admission/run-slots.js';
import { type Clock, scaledClock, systemClock } from '../clock.js';
import { DEFAULT_PRICES_PATH, loadPriceTable, parsePriceTable } from '../cost/load-price-table.js';
import { RedisCostLedger } from '../cost/redis-ledger.js';
import type { QueuedTaskData } from '../gateway/ports.js';
import type { ProviderEndpoint } from '../providers/types.js';
import type { TaskRecord } from '../task.js';
import type { JobHandler } from '../queue/index.js';
import { createRouter, loadPolicy, parsePolicyYaml } from '../router/index.js';
import { DEFAULT_QUEUE_RETENTION_MS } from '../queue/options.js';
import { RedisTaskStore } from '../store/redis.js';
import { DEFAULT_MAX_TASK_DURATION_MS } from '../gateway/schema.js';
import { createMetricRelay, type MetricRelay } from './metric-relay.js';
import { recordFinished, wireRouterMetrics } from './metrics-wiring.js';
import { asyncTaskDeadlineMs, SLOT_LEASE_MARGIN_MS } from './run-limits.js';
import { RouterModelPort } from './router-port.js';
import type { ModelRouterPort } from './model-router.js';
import { capOf, createTaskHandler } from './task-consumer.js';
import { logWithheldAddresses } from './failure.js';
import { TaskFinisher } from './task-finisher.js';

/** JSON config the platform passes to each worker process. */
export interface WorkerHandlerConfig {
  redisUrl: string;
  keyPrefix: string;
  providersDir?: string;
  /**
   * The provider profiles the platform read at start. A worker process uses them in place of
   * reading `providersDir`, as it uses `policyText`. @defaultValue the folder's profiles
   */
  providers?: ProviderProfile[];
  policyPath: string;
  pricesPath?: string;
  /**
   * Text of the route policy the platform parsed at start. A worker process parses it in
   * place of reading `policyPath`, so it runs the same policy as the gateway, and so does a
   * process that replaces it after the file changed. @defaultValue the file's text
   */
  policyText?: string;
  /** Text of the price table the platform parsed at start, used as `policyText` is. @defaultValue the file's text */
  pricesText?: string;
  endpoints: Record<string, ProviderEndpoint>;
  maxAttempts: number;
  /** Cap of each async task's deadline. @defaultValue 900_000 */
  maxTaskDurationMs?: number;
  /** Running cap of each tenant that has one, from the tenants file. @defaultValue none */
  maxRunning?: Record<string, number>;
  /**
   * How long a finished task stays in the store, and a task's cost record in the ledger.
   * @defaultValue 86_400_000 (24 hours)
   */
  taskRetentionMs?: number;
  /**
   * Scale and origin of the platform's `scaledClock`. The process then runs on a scaled
   * system clock that reports the platform's `now()`, so its tool waits, deadlines,
   * provider timeouts and task times shrink as the platform's do. @defaultValue the system clock
   */
  clock?: { scale: number; originMs: number };
}

/** Builds the async task handler of one worker process. */
export async function createHandler(config: unknown): Promise<JobHandler<QueuedTaskData>> {
  const settings = config as WorkerHandlerConfig;
  const catalog = settings.providers ?? (await loadProviderCatalog(settings.providersDir));
  const { policyPath, policyText, pricesPath = DEFAULT_PRICES_PATH, pricesText } = settings;
  const policy =
    policyText === undefined
      ? await loadPolicy(policyPath, catalog)
      : parsePolicyYaml(policyText, catalog, policyPath);
  const prices =
    pricesText === undefined
      ? await loadPriceTable(pricesPath)
      : parsePriceTable(pricesText, pricesPath);
  const clock = workerClock(settings);
  const router = createRouter({ policy, catalog, endpoints: settings.endpoints, clock });
  wireRouterMetrics(router, openRelay(), policy);
  return createTaskHandlerAround(
    settings,
    new RouterModelPort(router, prices),
    (request) => policy.routes[request.route]?.deadlineMs ?? 0,
  );
}

/** Returns the clock of a worker process: the platform's scaled clock, or the system clock. */
export function workerClock(settings: Pick<WorkerHandlerConfig, 'clock'>): Clock {
  const { clock } = settings;
  return clock === undefined ? systemClock : scaledClock(clock.scale, systemClock, clock.originMs);
}

/** The settings of a worker process's task handler that do not concern its router. */
export type TaskHandlerSettings = Pick<
  WorkerHandlerConfig,
  | 'redisUrl'
  | 'keyPrefix'
  | 'maxAttempts'
  | 'maxTaskDurationMs'
  | 'maxRunning'
  | 'taskRetentionMs'
  | 'clock'
>;

/**
 * Builds a worker process's task handler around `router`, with the Redis store,
 * admission and cost ledger under the platform's key prefix. `routeDeadlineMs`
 * gives the deadline of a task's route, 0 for none.
 */
export function createTaskHandlerAround(
  settings: TaskHandlerSettings,
  router: ModelRouterPort,
  routeDeadlineMs: (request: TaskRecord['request']) => number,
): JobHandler<QueuedTaskData> {
  // Auto-pipelining sends the commands issued in one tick, such as a finished task's
  // settle and store write, in one socket write.
  const redis = new Redis(settings.redisUrl, {
    maxRetriesPerRequest: 3,
    enableAutoPipelining: true,
  });
  // Commands fail with their own errors; the connection's error events only repeat them.
  redis.on('error', () => undefined);
  const store = new RedisTaskStore({
    redis,
    keyPrefix: `${settings.keyPrefix}:store`,
    retentionMs: settings.taskRetentionMs ?? DEFAULT_QUEUE_RETENTION_MS,
  });
  const admission = new RedisAdmissionBackend({
    redis,
    keyPrefix: `${settings.keyPrefix}:admission:`,
  });
  const ledger = new RedisCostLedger({
    redis,
    keyPrefix: `${settings.keyPrefix}:cost:`,
    retentionMs: settings.taskRetentionMs ?? DEFAULT_QUEUE_RETENTION_MS,
  });
  const metrics = openRelay();
  const clock = workerClock(settings);
  const finisher = new TaskFinisher({
    store,
    admission,
    clock,
    onFinished: ({ record, executorCostUsd, spentUsage }) =>
      recordFinished(metrics, ledger, record, executorCostUsd, spentUsage),
    onChargeError: (error, ticket) =>
      logger.warn(
        { err: error, ticketId: ticket.id, tenantId: ticket.tenantId },
        'charging a ticket failed; the task goes on',
      ),
  });
  const maxTaskDurationMs = settings.maxTaskDurationMs ?? DEFAULT_MAX_TASK_DURATION_MS;
  return createTaskHandler({
    store,
    router,
    finisher,
    clock,
    // BullMQ stamps each job's enqueuedAt with the system clock.
    queueClock: systemClock,
    maxAttempts: settings.maxAttempts,
    deadlineMs: (request) =>
      asyncTaskDeadlineMs(request, routeDeadlineMs(request), maxTaskDurationMs),
    onStart: (task, waitMs) => metrics.observeQueueWait(task.request.priority, waitMs / 1000),
    shutdown: shutdown.signal,
    onShutdown: 'requeue',
    runSlots: new RedisRunSlots(redis, `${settings.keyPrefix}:admission:`),
    maxRunningOf: (tenantId) => capOf(settings.maxRunning ?? {}, tenantId),
    onCapDeferral: (tenantId) => metrics.recordCapDeferral(tenantId),
    onResume: (task, steps) => metrics.recordResumedSteps(task.tenantId, steps),
    onFailure: (task, failure) => logWithheldAddresses(logger, task.id, failure),
    onCheckpointError: (error, taskId) =>
      logger.warn(
        { err: error, taskId },
        'storing a step checkpoint failed; a later delivery repeats the steps after the last one stored',
      ),
    slotLeaseMs: maxTaskDurationMs + SLOT_LEASE_MARGIN_MS,
    onSlotReleaseError: (error, taskId, tenantId) =>
      logger.warn(
        { err: error, taskId, tenantId },
        'freeing a running slot failed; it stays held until its lease ends',
      ),
  });
}

/** Warnings of the handler, on stderr as the worker process logs. */
const logger = pino({ name: 'scalegate-worker-handler', level: 'warn' }, syncLogDestination(2));

/**
 * Aborted when the drain time runs out, the platform's or that of this process stopped on
 * its own by a signal, so running tasks go back to the queue.
 */
const shutdown = new AbortController();
// Every running task listens on this one signal and removes its listener when it ends.
setMaxListeners(0, shutdown.signal);

/**
 * Cuts the running tasks, which go back to the queue. The worker process calls it when the
 * platform's drain time runs out, and when its own drain after a signal times out.
 */
export function abortHandler(): void {
  shutdown.abort();
}

let relay: MetricRelay | undefined;

/**
 * Opens the relay that sends this process's metric calls to the platform process over
 * IPC; without an IPC channel the calls are dropped.
 */
function openRelay(): MetricRelay {
  relay ??= createMetricRelay((calls) => {
    if (process.connected) process.send?.({ type: 'metrics', calls });
  });
  return relay;
}

/** Sends the metric calls still waiting; the worker process calls it after its last job. */
export function closeHandler(): void {
  relay?.close();
}
