import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import {
  describeFailure,
  type FailureDescription,
  failureStatusOf,
  logWithheldAddresses,
} from '../runtime/failure.js';
import { isTerminal } from '../store/task-store.js';
import type { TaskRecord } from '../task.js';
import { bearerAuth, requireTenant } from './auth.js';
import { GatewayError, isGatewayError } from './gateway-error.js';
import { headerLineCount } from './header-lines.js';
import { requireJsonBody } from './http-errors.js';
import { rejectOtherMethods } from './method-not-allowed.js';
import type { GatewayMetrics } from './metrics.js';
import type { TenantAuthenticator } from './ports.js';
import { taskParamsSchema, taskRequestSchema } from './schema.js';
import { streamTask } from './stream-route.js';
import type { AdmittedTask, ReplayedTask, TaskBody, TaskService } from './task-service.js';
import { TASK_ID_HEADER, toTaskView } from './task-view.js';

export interface TaskRouteDeps {
  service: TaskService;
  tenants: TenantAuthenticator;
  metrics: GatewayMetrics;
}

const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** Registers `POST /v1/tasks` and `GET /v1/tasks/:id`, both behind bearer-key auth. */
export function registerTaskRoutes(app: FastifyInstance, deps: TaskRouteDeps): void {
  const onRequest = bearerAuth(deps.tenants);
  const post = { onRequest: [onRequest, requireJsonBody], schema: { body: taskRequestSchema } };
  app.post('/v1/tasks', post, (request, reply) => submitTask(request, reply, deps));
  app.get('/v1/tasks/:id', { onRequest, schema: { params: taskParamsSchema } }, (request, reply) =>
    readTask(request as FastifyRequest<{ Params: { id: string } }>, reply, deps),
  );
  rejectOtherMethods(app, '/v1/tasks', 'POST', 'POST /v1/tasks to create a task');
  rejectOtherMethods(app, '/v1/tasks/:id', 'GET', 'GET /v1/tasks/:id to read a task');
}

async function submitTask(request: FastifyRequest, reply: FastifyReply, deps: TaskRouteDeps) {
  const tenant = requireTenant(request);
  const body = request.body as TaskBody;
  const admitted = await admitOrCount(deps, tenant.id, () =>
    deps.service.admit(tenant, body, idempotencyKeyOf(request)),
  );
  reply.header(TASK_ID_HEADER, admitted.task.id);
  if (admitted.kind === 'replayed') return sendReplay(reply, admitted);
  const { task } = admitted;
  request.log.debug({ tenantId: tenant.id, taskId: task.id, mode: body.mode }, 'task admitted');
  if (body.mode === 'async') {
    return reply
      .code(202)
      .header('location', `/v1/tasks/${task.id}`)
      .send({ id: task.id, state: 'queued' });
  }
  if (body.stream === true) return streamTask(reply, deps.service, admitted);
  return runSync(reply, deps, admitted);
}

async function admitOrCount<T>(deps: TaskRouteDeps, tenantId: string, admit: () => Promise<T>) {
  try {
    return await admit();
  } catch (error) {
    if (isGatewayError(error) && error.details.limit !== undefined) {
      deps.metrics.observeRejection(tenantId, error.details.limit, error.status);
    }
    throw error;
  }
}

/**
 * Runs a sync task and sends its result. A client that closes the connection first
 * aborts the task, which then fails with `client_aborted` and frees its reservation.
 */
async function runSync(reply: FastifyReply, deps: TaskRouteDeps, admitted: AdmittedTask) {
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  try {
    const outcome = await deps.service.execute(admitted, { signal: controller.signal });
    if (outcome.failure !== undefined) return sendFailure(reply, admitted.task.id, outcome.failure);
    return reply.send(syncBody(outcome.record));
  } catch (error) {
    return sendFailure(reply, admitted.task.id, describeFailure(error));
  }
}

function syncBody(record: TaskRecord) {
  return { id: record.id, state: record.state, result: record.result, costUsd: record.costUsd };
}

function sendFailure(reply: FastifyReply, id: string, failure: FailureDescription) {
  logWithheldAddresses(reply.log, id, failure);
  if (failure.retryAfterSeconds !== undefined) {
    reply.header('retry-after', String(failure.retryAfterSeconds));
  }
  return reply
    .code(failure.status)
    .send({ id, error: { code: failure.code, message: failure.message } });
}

/**
 * A replayed key gets 202 until the task is terminal, then 200, except for a sync
 * task that failed. Its replay gets the status, error body and Retry-After of the
 * task's stored failure, as the first response of a plain sync request did. A
 * stream, or a request whose integration timed out before the task ended, got
 * another first response, so its replay differs from it. The task never runs again.
 */
function sendReplay(reply: FastifyReply, replayed: ReplayedTask) {
  const { task } = replayed;
  reply.header('idempotent-replayed', 'true');
  if (task.request.mode === 'sync' && task.error !== undefined && task.state !== 'succeeded') {
    const { code, message, retryAfterSeconds } = task.error;
    if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
    return reply.code(failureStatusOf(code)).send({ id: task.id, error: { code, message } });
  }
  if (isTerminal(task.state)) return reply.send(toTaskView(task));
  return reply
    .code(202)
    .header('location', `/v1/tasks/${task.id}`)
    .send({ id: task.id, state: task.state });
}

async function readTask(
  request: FastifyRequest<{ Params: { id: string } }>,
  reply: FastifyReply,
  deps: TaskRouteDeps,
) {
  const tenant = requireTenant(request);
  const task = await deps.service.get(tenant.id, request.params.id);
  if (task === undefined) {
    const message = `task ${request.params.id} not found for tenant ${tenant.id}; a tenant reads only the tasks it created, and a finished task only until its retention ends, so check the id that POST /v1/tasks returned and the API key`;
    throw new GatewayError(404, 'not_found', message);
  }
  return reply.header(TASK_ID_HEADER, task.id).send(toTaskView(task));
}

/**
 * Returns the Idempotency-Key header, or undefined when there is none.
 * @throws GatewayError 400 for a key that is empty or too long, or for a header sent more
 *   than once. Node joins repeated header lines into one value, "a1, a2", a key that
 *   neither line names, so a retry with either key alone would run the task again.
 */
function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  if (header === undefined) return undefined;
  const lines = headerLineCount(request.raw.rawHeaders, 'idempotency-key');
  if (lines > 1) {
    const message = `invalid header Idempotency-Key: sent ${lines} times; send it once, with one key`;
    throw new GatewayError(400, 'invalid_request', message, { field: 'Idempotency-Key' });
  }
  const key = (Array.isArray(header) ? header[0] : header) ?? '';
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    // The key itself stays out of the message, as a client may put a secret there.
    const problem = `invalid header Idempotency-Key: must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`;
    const message =
      key.length === 0
        ? `${problem}, got an empty value; send a key, such as a UUID, or leave the header out`
        : `${problem}, got ${key.length}; send a shorter key, such as a UUID`;
    throw new GatewayError(400, 'invalid_request', message, { field: 'Idempotency-Key' });
  }
  return key;
}
