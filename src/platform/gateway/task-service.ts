import { randomUUID } from 'node:crypto';

import type { AdmissionTicket, Rejection } from '../admission/types.js';
import type { Clock } from '../clock.js';
import type { TaskStore } from '../store/task-store.js';
import type { Tenant } from '../tenants/tenant.js';
import {
  PRIORITY_CLASSES,
  type PriorityClass,
  type TaskRecord,
  type TaskRequest,
} from '../task.js';
import { GatewayError, type GatewayErrorCode } from './gateway-error.js';
import { requestHash } from './request-hash.js';
import { DEFAULT_MAX_TASK_DURATION_MS } from './schema.js';
import type {
  AdmissionGate,
  BackpressureGate,
  ExecutionJob,
  ExecutionOutcome,
  RouteCatalog,
  SyncExecutor,
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
}

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

  constructor(options: TaskServiceOptions) {
    this.#options = options;
    this.#newId = options.newId ?? randomUUID;
  }

  /** @throws GatewayError for an unknown route, a replay conflict or a rejection. */
  async admit(
    tenant: Tenant,
    body: TaskBody,
    idempotencyKey?: string,
  ): Promise<AdmittedTask | ReplayedTask> {
    const request = this.#normalise(tenant, body);
    const id = this.#newId();
    if (idempotencyKey !== undefined) {
      const boundId = await this.#options.store.claimIdempotencyKey(tenant.id, idempotencyKey, id);
      if (boundId !== id) return this.#replay(tenant, boundId, request);
    }
    try {
      return await this.#admitNew(tenant, request, id);
    } catch (error) {
      if (idempotencyKey !== undefined) {
        await this.#options.store.releaseIdempotencyKey(tenant.id, idempotencyKey, id);
      }
      throw error;
    }
  }

  /** Runs an admitted sync task through the executor. */
  execute(admitted: AdmittedTask, hooks: Pick<ExecutionJob, 'onToken' | 'signal'> = {}) {
    const job: ExecutionJob = { task: admitted.task, ticket: admitted.ticket, ...hooks };
    return this.#options.executor.execute(job) as Promise<ExecutionOutcome>;
  }

  get(tenantId: string, id: string): Promise<TaskRecord | undefined> {
    return this.#options.store.get(tenantId, id);
  }

  #normalise(tenant: Tenant, body: TaskBody): TaskRequest {
    const routes = this.#options.routes.names();
    if (!routes.includes(body.route)) {
      const message = `unknown route ${JSON.stringify(body.route)}; valid routes: ${routes.join(', ')}`;
      throw new GatewayError(400, 'unknown_route', message, { field: 'route' });
    }
    if (body.stream === true && body.mode !== 'sync') {
      throw new GatewayError(400, 'invalid_request', 'invalid field stream: requires mode sync', {
        field: 'stream',
      });
    }
    if (body.forcedOutputTokens !== undefined && body.forcedOutputTokens > body.maxOutputTokens) {
      const message = `invalid field forcedOutputTokens: must be at most maxOutputTokens (${body.maxOutputTokens}), got ${body.forcedOutputTokens}; raise maxOutputTokens or lower forcedOutputTokens`;
      throw new GatewayError(400, 'invalid_request', message, { field: 'forcedOutputTokens' });
    }
    this.#checkToolWaits(body);
    return { ...body, priority: priorityWithinTier(tenant, body.priority) };
  }

  #checkToolWaits(body: TaskBody): void {
    const limit = this.#options.maxTaskDurationMs ?? DEFAULT_MAX_TASK_DURATION_MS;
    const steps = body.steps ?? 1;
    const total = steps * (body.toolWaitMs ?? 0);
    if (total > limit) {
      const message = `invalid fields steps and toolWaitMs: steps * toolWaitMs must be <= ${limit} ms (maxTaskDurationMs), got ${steps} * ${body.toolWaitMs} = ${total} ms`;
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
    const task = await this.#options.store.get(tenant.id, id);
    if (task === undefined) {
      const message = 'a request with this Idempotency-Key is still being admitted; retry shortly';
      throw new GatewayError(409, 'idempotency_conflict', message, { retryAfterSeconds: 1 });
    }
    if (requestHash(task.request) !== requestHash(request)) {
      const message = `Idempotency-Key was already used for task ${task.id} with a different body; send a new key for a new request`;
      throw new GatewayError(422, 'idempotency_key_reused', message, { field: 'Idempotency-Key' });
    }
    return { kind: 'replayed', task };
  }

  async #admitNew(tenant: Tenant, request: TaskRequest, id: string): Promise<AdmittedTask> {
    const shed = await this.#options.backpressure?.check(request.priority);
    if (shed !== undefined) throw this.#rejected(shed, tenant);
    const decision = await this.#options.admission.admit(tenant, request);
    if (!decision.admitted) throw this.#rejected(decision, tenant);
    const task = this.#newRecord(id, tenant, request);
    try {
      await this.#options.store.create(task);
      if (request.mode === 'async') await this.#enqueue(task, decision.ticket);
    } catch (error) {
      await this.#options.admission.release(decision.ticket);
      throw error;
    }
    return { kind: 'admitted', task, ticket: decision.ticket };
  }

  #rejected(rejection: Rejection, tenant: Tenant): GatewayError {
    this.#options.onRejection?.(tenant.id, rejection);
    return rejectionError(rejection, tenant);
  }

  async #enqueue(task: TaskRecord, ticket: AdmissionTicket): Promise<void> {
    const priority = QUEUE_PRIORITY[task.request.priority];
    try {
      await this.#options.queue.enqueue(task.id, { ticket }, { priority });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const finishedAt = this.#options.clock.now();
      const taskError = { code: 'enqueue_failed', message };
      await this.#options.store.complete(task.id, {
        state: 'failed',
        finishedAt,
        error: taskError,
      });
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
 * budget after admission does.
 */
export function rejectionError(rejection: Rejection, tenant: Tenant): GatewayError {
  const code = rejectionCode(rejection);
  const { name, value } = rejection.limit;
  const scope = rejection.reason === 'backpressure' ? 'platform' : `tenant ${tenant.id}`;
  const retry = `retry after ${rejection.retryAfterSeconds} s`;
  if (rejection.reason !== 'budget') {
    const message = `${name} limit of ${value} reached for ${scope}; ${retry}`;
    return new GatewayError(rejection.status, code, message, {
      limit: name,
      retryAfterSeconds: rejection.retryAfterSeconds,
    });
  }
  // Spent budget never comes back, only the reservations of running tasks do. When freeing
  // them would not make room, a retry cannot pass, so the rejection carries no Retry-After.
  const noRoom = `${name} limit of ${value} for ${scope} leaves no room for this task's reservation`;
  if (rejection.fitsAfterReservations === false) {
    const message = `${noRoom}, and freeing the reservations of running tasks would not make room; raise budgetUsd in the tenants file`;
    return new GatewayError(rejection.status, code, message, { limit: name });
  }
  const message = `${noRoom}; ${retry}, when running tasks may have freed their reservations, or raise budgetUsd in the tenants file`;
  return new GatewayError(rejection.status, code, message, {
    limit: name,
    retryAfterSeconds: rejection.retryAfterSeconds,
  });
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
