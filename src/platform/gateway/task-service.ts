import { randomUUID } from 'node:crypto';

import type { Logger } from 'pino';

import type { AdmissionResult, AdmissionTicket, Rejection } from '../admission/types.js';
import type { Clock } from '../clock.js';
import type { TaskStore } from '../store/task-store.js';
import type { Tenant } from '../tenants/tenant.js';
import {
  PRIORITY_CLASSES,
  type PriorityClass,
  type TaskRecord,
  type TaskRequest,
} from '../task.js';
import { failureStatusOf } from '../runtime/failure.js';
import { withTimeout } from '../timeout.js';
import { CHARS_PER_TOKEN, inputTokensOf } from '../token-estimate.js';
import { GatewayError, type GatewayErrorCode } from './gateway-error.js';
import { budgetRejectionError } from './budget-rejection.js';
import { requestHash } from './request-hash.js';
import { DEFAULT_MAX_TASK_DURATION_MS } from './schema.js';
import { StoreRepairs } from './store-repairs.js';
import { isUnavailableError, storeUnavailableError } from './unavailable.js';
import type {
  AdmissionGate,
  BackpressureGate,
  ExecutionJob,
  ExecutionOutcome,
  QueuedTaskHold,
  RouteCatalog,
  SyncExecutor,
  SyncTaskOwnership,
  TaskEnqueuer,
} from './ports.js';

export interface TaskServiceOptions {
  store: TaskStore;
  admission: AdmissionGate;
  /** @defaultValue no backpressure */
  backpressure?: BackpressureGate;
  executor: SyncExecutor;
  queue: TaskEnqueuer;
  routes: RouteCatalog;
  clock: Clock;
  /** @defaultValue randomUUID */
  newId?: () => string;
  /** Cap of `steps * toolWaitMs`, the tool waits of one task. @defaultValue 900_000 */
  maxTaskDurationMs?: number;
  /** Called for each backpressure or tenant-limit rejection. @defaultValue none */
  onRejection?: (tenantId: string, rejection: Rejection) => void;
  /**
   * Maximum wait for each store, admission and queue call of a request, in ms. A call
   * that takes longer or loses its connection gets 503 `store_unavailable`.
   * @defaultValue 2000
   */
  storeTimeoutMs?: number;
  /** Name of the store in 503 messages, such as `Redis at redis://127.0.0.1:6379`. @defaultValue 'the task store' */
  storeName?: string;
  /** Logger for store clean-up writes that failed for good or were given up at close. @defaultValue no logging */
  logger?: Logger;
  /**
   * Record of the process that runs each sync task or admits each async task, on Redis.
   * @defaultValue none
   */
  syncOwners?: SyncTaskOwnership;
  /**
   * Called once with a task that the gateway stored and then failed itself, because its
   * enqueue or its store write did not complete in time, so that the request metrics count
   * its end. @defaultValue none
   */
  onTaskFailed?: (record: TaskRecord) => void;
}

/** Default of {@link TaskServiceOptions.storeTimeoutMs}. */
export const DEFAULT_STORE_TIMEOUT_MS = 2000;

/** A task that passed admission and is stored, with its ticket. */
export interface AdmittedTask {
  kind: 'admitted';
  task: TaskRecord;
  ticket: AdmissionTicket;
}

/** An earlier task bound to the same idempotency key. */
export interface ReplayedTask {
  kind: 'replayed';
  task: TaskRecord;
}

/** The body of `POST /v1/tasks` as ajv accepted it; `priority` may still be absent. */
export type TaskBody = Omit<TaskRequest, 'priority'> & { priority?: PriorityClass };

/** Queue priority per class: BullMQ runs lower numbers first. */
const QUEUE_PRIORITY: Record<PriorityClass, number> = { critical: 1, standard: 2, batch: 3 };

/**
 * Admits and stores tasks in the gateway's order: route check, idempotency,
 * backpressure, tenant admission, then the sync executor or the queue.
 */
export class TaskService {
  readonly #options: TaskServiceOptions;
  readonly #newId: () => string;
  readonly #timeoutMs: number;
  readonly #repairs: StoreRepairs;

  constructor(options: TaskServiceOptions) {
    this.#options = options;
    this.#newId = options.newId ?? randomUUID;
    this.#timeoutMs = options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
    if (!Number.isFinite(this.#timeoutMs) || this.#timeoutMs <= 0) {
      throw new RangeError(
        `storeTimeoutMs must be a positive number of ms, got ${String(options.storeTimeoutMs)}`,
      );
    }
    this.#repairs = new StoreRepairs({
      attemptTimeoutMs: this.#timeoutMs,
      logger: options.logger,
    });
  }

  /** Waits up to `timeoutMs` for the store writes still being retried, then gives them up. */
  close(timeoutMs: number): Promise<void> {
    return this.#repairs.close(timeoutMs);
  }

  /**
   * @throws GatewayError for an unknown route, a replay conflict, a rejection, or
   *   503 `store_unavailable` when the store, admission or queue did not reply in time.
   */
  async admit(
    tenant: Tenant,
    body: TaskBody,
    idempotencyKey?: string,
  ): Promise<AdmittedTask | ReplayedTask> {
    const request = this.#normalise(tenant, body);
    const id = this.#newId();
    if (idempotencyKey !== undefined) {
      const boundId = await this.#claimKey(tenant.id, idempotencyKey, id);
      if (boundId !== id) return this.#replay(tenant, boundId, request);
    }
    try {
      return await this.#admitNew(tenant, request, id, idempotencyKey);
    } catch (error) {
      if (idempotencyKey !== undefined) {
        await this.#repairOnTimeout('idempotency key release', { taskId: id }, () =>
          this.#options.store.releaseIdempotencyKey(tenant.id, idempotencyKey, id),
        );
      }
      throw error;
    }
  }

  /**
   * Runs an admitted sync task through the executor. The outcome carries a failure whenever
   * the stored task did not succeed, as when another process failed it first.
   * @throws GatewayError 503 `store_unavailable` when the store did not reply, so the task's
   *   end may not be stored. This process's next sweep of owner records then ends the task.
   */
  async execute(
    admitted: AdmittedTask,
    hooks: Pick<ExecutionJob, 'onToken' | 'signal'> = {},
  ): Promise<ExecutionOutcome> {
    // The owner record goes when the task ends, which can be after the client's 504. A task
    // whose end was not stored keeps it, so that a sweep ends the task.
    const onEnded = (stored: boolean) =>
      stored
        ? this.#dropOwner(admitted.task.id)
        : this.#options.syncOwners?.forget(admitted.task.id);
    const job: ExecutionJob = { task: admitted.task, ticket: admitted.ticket, ...hooks, onEnded };
    try {
      const outcome = (await this.#options.executor.execute(job)) as ExecutionOutcome;
      return withStoredFailure(outcome);
    } catch (error) {
      if (isUnavailableError(error)) throw this.#unavailable(error);
      throw error;
    }
  }

  /** @throws GatewayError 503 `store_unavailable` when the store did not reply in time. */
  get(tenantId: string, id: string): Promise<TaskRecord | undefined> {
    return this.#bounded('task read', this.#options.store.get(tenantId, id));
  }

  /**
   * Waits for a store, admission or queue call at most `storeTimeoutMs`.
   * @throws GatewayError 503 `store_unavailable` when it times out or loses its
   *   connection; other errors pass unchanged.
   */
  async #bounded<T>(operation: string, call: Promise<T>): Promise<T> {
    try {
      return await withTimeout(call, this.#timeoutMs, operation);
    } catch (error) {
      if (isUnavailableError(error)) throw this.#unavailable(error);
      throw error;
    }
  }

  #unavailable(error: unknown): GatewayError {
    return storeUnavailableError(this.#options.storeName ?? 'the task store', error);
  }

  /**
   * Runs an idempotent clean-up write with a bounded wait. When the store does not
   * reply, the write goes on in the background until it does, and this returns.
   */
  async #repairOnTimeout(
    description: string,
    ids: Record<string, string>,
    write: () => Promise<unknown>,
  ): Promise<void> {
    try {
      await this.#bounded(description, write());
    } catch (error) {
      if (!isUnavailableGatewayError(error)) throw error;
      this.#repairs.schedule(description, ids, write);
    }
  }

  /**
   * Claims the idempotency key. A claim that timed out may still land later, so a
   * release is queued behind it. Without the release the key would stay bound to a
   * task that never exists, and every retry with the key would get 409.
   */
  async #claimKey(tenantId: string, key: string, id: string): Promise<string> {
    try {
      return await this.#bounded(
        'idempotency key claim',
        this.#options.store.claimIdempotencyKey(tenantId, key, id),
      );
    } catch (error) {
      if (isUnavailableGatewayError(error)) {
        this.#repairs.schedule('idempotency key release', { taskId: id }, () =>
          this.#options.store.releaseIdempotencyKey(tenantId, key, id),
        );
      }
      throw error;
    }
  }

  #normalise(tenant: Tenant, body: TaskBody): TaskRequest {
    const routes = this.#options.routes.names();
    if (!routes.includes(body.route)) {
      const message = `unknown route ${JSON.stringify(body.route)}; valid routes: ${routes.join(', ')}`;
      throw new GatewayError(400, 'unknown_route', message, { field: 'route' });
    }
    this.#checkOutputLimit(body);
    this.#checkContextWindow(body);
    if (body.stream === true && body.mode !== 'sync') {
      const message = `invalid field stream: true needs mode sync, got mode ${body.mode}; send mode sync to stream the response, or leave stream out and read the task with GET /v1/tasks/:id`;
      throw new GatewayError(400, 'invalid_request', message, { field: 'stream' });
    }
    if (body.forcedOutputTokens !== undefined && body.forcedOutputTokens > body.maxOutputTokens) {
      const message = `invalid field forcedOutputTokens: must be at most maxOutputTokens (${body.maxOutputTokens}), got ${body.forcedOutputTokens}; raise maxOutputTokens or lower forcedOutputTokens`;
      throw new GatewayError(400, 'invalid_request', message, { field: 'forcedOutputTokens' });
    }
    this.#checkToolWaits(body);
    return { ...body, priority: priorityWithinTier(tenant, body.priority) };
  }

  /** Rejects a task that no candidate of its route can serve, because its provider would reject it with 400. */
  #checkOutputLimit(body: TaskBody): void {
    const limit = this.#options.routes.maxOutputTokens?.(body.route);
    if (limit === undefined || body.maxOutputTokens <= limit) return;
    const route = JSON.stringify(body.route);
    const message = `invalid field maxOutputTokens: route ${route} can serve at most ${limit} output tokens, the largest limit among its candidate models, got ${body.maxOutputTokens}; send maxOutputTokens of at most ${limit}`;
    throw new GatewayError(400, 'invalid_request', message, { field: 'maxOutputTokens' });
  }

  /**
   * Rejects a task whose input tokens, given or estimated from its messages, leave no
   * candidate of its route a context window that also fits `maxOutputTokens`.
   */
  #checkContextWindow(body: TaskBody): void {
    const limit = this.#options.routes.maxInputTokens?.(body.route, body.maxOutputTokens);
    const inputTokens = inputTokensOf(body);
    if (limit === undefined || inputTokens <= limit) return;
    const field = body.inputTokens === undefined ? 'messages' : 'inputTokens';
    const input =
      field === 'inputTokens'
        ? `inputTokens ${inputTokens}`
        : `messages of about ${inputTokens} tokens (${CHARS_PER_TOKEN} characters per token)`;
    const maxOutput = body.maxOutputTokens;
    const room = Math.max(0, limit);
    const fix =
      room > 0
        ? `send at most ${room} input tokens, or lower maxOutputTokens`
        : 'lower maxOutputTokens';
    const message = `${input} plus maxOutputTokens ${maxOutput} exceed the context window of route ${JSON.stringify(body.route)}: its largest context window among candidate models that accept maxOutputTokens ${maxOutput} is ${limit + maxOutput} tokens, which leaves room for ${room} input tokens; ${fix}`;
    throw new GatewayError(400, 'context_length_exceeded', message, {
      field,
      limit: 'contextWindowTokens',
    });
  }

  #checkToolWaits(body: TaskBody): void {
    const limit = this.#options.maxTaskDurationMs ?? DEFAULT_MAX_TASK_DURATION_MS;
    const steps = body.steps ?? 1;
    const total = steps * (body.toolWaitMs ?? 0);
    if (total > limit) {
      const message = `invalid fields steps and toolWaitMs: steps * toolWaitMs must be <= ${limit} ms (maxTaskDurationMs), got ${steps} * ${body.toolWaitMs} = ${total} ms; lower steps or toolWaitMs`;
      throw new GatewayError(400, 'invalid_request', message, {
        field: 'toolWaitMs',
        limit: 'maxTaskDurationMs',
      });
    }
    const integrationTimeoutMs = this.#options.executor.integrationTimeoutMs;
    if (body.mode !== 'sync' || integrationTimeoutMs === undefined) return;
    if (total < integrationTimeoutMs) return;
    // The tool waits alone already outlast the response, so the client would get a 504.
    const message = `invalid fields steps and toolWaitMs: a sync task's steps * toolWaitMs must be below the integration timeout of ${integrationTimeoutMs} ms, got ${steps} * ${body.toolWaitMs} = ${total} ms; send mode async for this task, or lower steps or toolWaitMs`;
    throw new GatewayError(400, 'exceeds_integration_timeout', message, {
      field: 'toolWaitMs',
      limit: 'integrationTimeoutMs',
    });
  }

  /**
   * Returns the task bound to the key. The stored task keeps its request, so
   * a body whose hash differs from it is a reused key: 422, not a replay.
   */
  async #replay(tenant: Tenant, id: string, request: TaskRequest): Promise<ReplayedTask> {
    const task = await this.get(tenant.id, id);
    if (task === undefined) {
      const message =
        'a request with this Idempotency-Key is still being admitted; retry after 1 s with the same key and body';
      throw new GatewayError(409, 'idempotency_conflict', message, { retryAfterSeconds: 1 });
    }
    if (requestHash(task.request) !== requestHash(request)) {
      const message = `Idempotency-Key was already used for task ${task.id} with a different body; send a new key for a new request`;
      throw new GatewayError(422, 'idempotency_key_reused', message, { field: 'Idempotency-Key' });
    }
    return { kind: 'replayed', task };
  }

  /**
   * Admits a new task, with an owner record first on Redis. A sync task keeps the record
   * until it ends. An async task keeps it until its job is in the queue, which then runs
   * the task and frees its ticket.
   */
  async #admitNew(
    tenant: Tenant,
    request: TaskRequest,
    id: string,
    idempotencyKey: string | undefined,
  ): Promise<AdmittedTask> {
    const { syncOwners } = this.#options;
    if (syncOwners === undefined) return this.#admitChecked(tenant, request, id, idempotencyKey);
    let admitted: AdmittedTask;
    try {
      admitted = await this.#admitOwned(tenant, request, id, syncOwners, idempotencyKey);
    } catch (error) {
      this.#dropOwnerOnceUndone(id);
      throw error;
    }
    if (request.mode === 'async') this.#dropOwner(id);
    return admitted;
  }

  /**
   * Records this process as the task's owner, before anything that another process
   * would have to undo if this one were killed.
   */
  async #admitOwned(
    tenant: Tenant,
    request: TaskRequest,
    id: string,
    owners: SyncTaskOwnership,
    idempotencyKey: string | undefined,
  ): Promise<AdmittedTask> {
    await this.#bounded('task owner record', owners.hold(tenant.id, id));
    return this.#admitChecked(tenant, request, id, idempotencyKey);
  }

  /**
   * Drops the owner record of a task whose admission failed once the writes that undo it,
   * retried in the background while the store does not reply, went through. When one of
   * them failed or was given up at close, the record stays, so that another process's
   * sweep fails the task and frees its ticket after this process stops.
   */
  #dropOwnerOnceUndone(id: string): void {
    void this.#repairs.settledFor(id).then((undone) => {
      if (undone) this.#dropOwner(id);
    });
  }

  /**
   * Deletes the task's owner record in the background; the owner's next sweep deletes an
   * entry whose delete failed.
   */
  #dropOwner(id: string): void {
    const owners = this.#options.syncOwners;
    if (owners === undefined) return;
    owners.drop(id).catch((error: unknown) => {
      this.#options.logger?.warn(
        { err: error, taskId: id },
        'deleting a task owner record failed; the next sweep deletes it',
      );
    });
  }

  /**
   * Runs backpressure, admission, store and queue in turn. A task whose record may
   * have been stored but whose enqueue did not complete is marked failed, in the
   * background until the store replies, so that no stored task stays queued forever.
   * NOTE: an enqueue that timed out may still land once Redis replies. Its job then
   * skips the failed task, unless a consumer marks it running before the failure lands.
   */
  async #admitChecked(
    tenant: Tenant,
    request: TaskRequest,
    id: string,
    idempotencyKey: string | undefined,
  ): Promise<AdmittedTask> {
    const passed = await this.#checkBackpressure(request);
    if (passed?.admitted === false) throw this.#rejected(passed, tenant, request.priority);
    try {
      const admitted = await this.#admitAndStore(tenant, request, id, idempotencyKey);
      passed?.enqueued();
      return admitted;
    } catch (error) {
      passed?.abandon();
      throw error;
    }
  }

  /**
   * Runs the backpressure check. An async task that passes gets a hold, which counts it in
   * the queue depth until the task is enqueued or given up.
   */
  async #checkBackpressure(request: TaskRequest): Promise<Rejection | QueuedTaskHold | undefined> {
    const gate = this.#options.backpressure;
    if (gate === undefined) return undefined;
    if (request.mode !== 'async' || gate.checkQueued === undefined) {
      return this.#bounded('backpressure check', gate.check(request.priority));
    }
    const check = gate.checkQueued(request.priority);
    try {
      return await this.#bounded('backpressure check', check);
    } catch (error) {
      // A check that timed out may still pass later, and its hold would then count a task
      // that never comes.
      check.then(
        (result) => {
          if (result.admitted) result.abandon();
        },
        () => {},
      );
      throw error;
    }
  }

  async #admitAndStore(
    tenant: Tenant,
    request: TaskRequest,
    id: string,
    idempotencyKey: string | undefined,
  ): Promise<AdmittedTask> {
    // The task id names the admission ticket, so a timed-out admission can be undone.
    const decision = await this.#admitTicket(tenant, request, id);
    if (!decision.admitted) throw this.#rejected(decision, tenant);
    const task = this.#newRecord(id, tenant, request);
    try {
      await this.#bounded('task create', this.#options.store.create(task, idempotencyKey));
      if (request.mode === 'async') await this.#enqueue(task, decision.ticket);
    } catch (error) {
      if (isUnavailableGatewayError(error)) this.#failLater(task, 'store_unavailable', error);
      await this.#repairOnTimeout('admission ticket release', { taskId: id }, () =>
        this.#options.admission.release(decision.ticket),
      );
      throw error;
    }
    return { kind: 'admitted', task, ticket: decision.ticket };
  }

  async #admitTicket(tenant: Tenant, request: TaskRequest, id: string): Promise<AdmissionResult> {
    const { admission } = this.#options;
    try {
      return await this.#bounded('admission', admission.admit(tenant, request, id));
    } catch (error) {
      if (isUnavailableGatewayError(error) && admission.abandon !== undefined) {
        const abandon = admission.abandon.bind(admission);
        this.#repairs.schedule('admission ticket release', { taskId: id }, () =>
          abandon(tenant.id, id),
        );
      }
      throw error;
    }
  }

  /**
   * Marks the task failed with `code`, retrying until the store replies, and passes the
   * stored record to `onTaskFailed`. A record that was never stored stays absent, because
   * `completeAndRead` changes nothing for an unknown id.
   */
  #failLater(task: TaskRecord, code: string, cause: unknown): void {
    const message = cause instanceof Error ? cause.message : String(cause);
    // One completion id for every attempt, so a retry of a write whose reply was lost
    // still reads as stored, and the flag keeps a late reply of a timed-out attempt from
    // reporting the task a second time.
    const completion = {
      state: 'failed' as const,
      finishedAt: this.#options.clock.now(),
      error: { code, message },
      completionId: randomUUID(),
    };
    let reported = false;
    this.#repairs.schedule('marking a task failed', { taskId: task.id }, async () => {
      const read = await this.#options.store.completeAndRead(task.id, completion);
      if (!read.stored || read.record === undefined || reported) return;
      reported = true;
      this.#options.onTaskFailed?.(read.record);
    });
  }

  #rejected(rejection: Rejection, tenant: Tenant, priority?: PriorityClass): GatewayError {
    this.#options.onRejection?.(tenant.id, rejection);
    return rejectionError(rejection, tenant, priority);
  }

  async #enqueue(task: TaskRecord, ticket: AdmissionTicket): Promise<void> {
    const priority = QUEUE_PRIORITY[task.request.priority];
    try {
      await this.#bounded(
        'enqueue',
        this.#options.queue.enqueue(task.id, { ticket }, { priority }),
      );
    } catch (error) {
      // The catch in #admitNew marks the task failed when the queue did not reply.
      if (isUnavailableGatewayError(error)) throw error;
      const message = error instanceof Error ? error.message : String(error);
      this.#failLater(task, 'enqueue_failed', error);
      throw new GatewayError(503, 'overloaded', `task queue unavailable: ${message}`, {
        retryAfterSeconds: 1,
        limit: 'queue',
      });
    }
  }

  #newRecord(id: string, tenant: Tenant, request: TaskRequest): TaskRecord {
    const createdAt = this.#options.clock.now();
    return { id, tenantId: tenant.id, request, state: 'queued', createdAt, deliveries: 0 };
  }
}

/**
 * Maps a backpressure or tenant-limit rejection to a 429 or 503 naming the limit.
 * A budget rejection has the code `budget_exhausted`, as a task stopped by its
 * budget after admission does. `priority`, the request's class, names whom a
 * backpressure 429 sheds, because each class has its own share of the limit.
 */
export function rejectionError(
  rejection: Rejection,
  tenant: Tenant,
  priority?: PriorityClass,
): GatewayError {
  const code = rejectionCode(rejection);
  const { name, value } = rejection.limit;
  const retry = `retry after ${rejection.retryAfterSeconds} s`;
  if (rejection.reason === 'backpressure') {
    const message = `${name} limit of ${value} ${backpressureScope(rejection, priority)}; ${retry}`;
    return new GatewayError(rejection.status, code, message, {
      limit: name,
      retryAfterSeconds: rejection.retryAfterSeconds,
    });
  }
  const scope = `tenant ${tenant.id}`;
  if (rejection.reason !== 'budget') {
    const message = `${name} limit of ${value} reached for ${scope}; ${retry}`;
    return new GatewayError(rejection.status, code, message, {
      limit: name,
      retryAfterSeconds: rejection.retryAfterSeconds,
    });
  }
  return budgetRejectionError(rejection, tenant, code);
}

/**
 * Names whom a backpressure limit stops: every request at a hard limit (a 503), else the
 * request's class, whose watermark is a fraction of the hard limit.
 */
function backpressureScope(rejection: Rejection, priority: PriorityClass | undefined): string {
  if (rejection.status === 503) return 'reached for every request to this platform';
  if (priority === undefined) return 'reached on this platform';
  return `for ${priority} requests reached on this platform`;
}

/**
 * Adds the stored error as the failure of an outcome whose task did not succeed. A run that
 * finished after another process had failed its task, as `gateway_lost`, returns the stored
 * record with no failure of its own, which would otherwise go out as a 200.
 */
function withStoredFailure(outcome: ExecutionOutcome): ExecutionOutcome {
  const { record } = outcome;
  if (outcome.failure !== undefined || record.state === 'succeeded') return outcome;
  const error = record.error ?? {
    code: 'internal_error',
    message: `task ${record.id} ended ${record.state} without an error`,
  };
  return { record, failure: { ...error, status: failureStatusOf(error.code) } };
}

function isUnavailableGatewayError(error: unknown): boolean {
  return error instanceof GatewayError && error.code === 'store_unavailable';
}

function rejectionCode(rejection: Rejection): GatewayErrorCode {
  if (rejection.status === 503) return 'overloaded';
  return rejection.reason === 'budget' ? 'budget_exhausted' : 'rate_limited';
}

/**
 * Returns the request's priority class, or the tenant's tier when it names none.
 * The tier is the highest class a tenant may send, so backpressure sheds by tier.
 * @throws GatewayError 403 `priority_above_tier` for a class above the tier.
 */
function priorityWithinTier(tenant: Tenant, priority: PriorityClass | undefined): PriorityClass {
  if (priority === undefined) return tenant.tier;
  const allowed = PRIORITY_CLASSES.slice(PRIORITY_CLASSES.indexOf(tenant.tier));
  if (allowed.includes(priority)) return priority;
  const message = `invalid field priority: ${priority} is above tier ${tenant.tier} of tenant ${tenant.id}; send ${allowed.join(' or ')}, leave priority out, or raise the tier in the tenants file`;
  throw new GatewayError(403, 'priority_above_tier', message, { field: 'priority' });
}
