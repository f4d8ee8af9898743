import type { Dispatcher } from 'undici';
import type { Clock } from '../../platform/clock.js';
import { TERMINAL_STATES, type TerminalState } from '../../platform/task.js';
import { transportErrorCode } from './probe.js';
import type { LoadRecorder, RequestOutcome } from './recorder.js';
import type { ScheduledRequest } from './schedule.js';

/** Header through which a target may label the topology that served a request. */
export const TOPOLOGY_HEADER = 'x-scalegate-topology';

/** Everything a send needs besides the request itself. */
export interface SendContext {
  pool: Dispatcher;
  keys: Record<string, string>;
  clock: Clock;
  /** Monotonic time of the run start. */
  runStartMs: number;
  recorder: LoadRecorder;
  pollIntervalMs: number;
  asyncTimeoutMs: number;
  /** Prefix that makes Idempotency-Key values unique to this run. */
  runId: string;
  /** Aborted at the drain deadline, just before the pool is destroyed. */
  signal: AbortSignal;
}

interface HttpReply {
  status: number;
  body: unknown;
  location?: string;
  topology?: string;
}

/** Raised inside a send when the run's drain deadline aborts it. */
export class SendAbortedError extends Error {
  readonly code = 'SEND_ABORTED';
}

/**
 * Sends one scheduled request and, for a 202, follows the task to a terminal state.
 * Latency runs from the scheduled send time, so queueing inside the engine counts.
 * @throws SendAbortedError when the run's signal aborts the request.
 */
export async function sendScheduled(
  request: ScheduledRequest,
  scheduledAtMs: number,
  ctx: SendContext,
): Promise<RequestOutcome> {
  const reply = await call(ctx, {
    method: 'POST',
    path: '/v1/tasks',
    headers: postHeaders(request, ctx),
    body: JSON.stringify(taskBody(request)),
  });
  if (reply instanceof Error) return transportFailure(request, scheduledAtMs, ctx, reply);
  ctx.recorder.recordStatus(reply.status);
  if (request.mode === 'async' && reply.status === 202) {
    ctx.recorder.recordAsyncAccepted(request);
    return followTask(request, scheduledAtMs, ctx, taskPath(reply), reply.topology);
  }
  const success = reply.status >= 200 && reply.status < 300;
  const errorCode = success ? undefined : (errorCodeOf(reply) ?? `http_${reply.status}`);
  const limit = success ? undefined : limitOf(reply);
  return finish(request, scheduledAtMs, ctx, {
    success,
    status: reply.status,
    errorCode,
    ...(limit === undefined ? {} : { limit }),
    topology: reply.topology,
  });
}

function taskBody(request: ScheduledRequest): Record<string, unknown> {
  return {
    route: request.route,
    inputTokens: request.inputTokens,
    maxOutputTokens: request.maxOutputTokens,
    mode: request.mode,
    ...(request.forcedOutputTokens === undefined
      ? {}
      : { forcedOutputTokens: request.forcedOutputTokens }),
    ...(request.steps === undefined ? {} : { steps: request.steps }),
    ...(request.toolWaitMs === undefined ? {} : { toolWaitMs: request.toolWaitMs }),
  };
}

function postHeaders(request: ScheduledRequest, ctx: SendContext): Record<string, string> {
  return {
    authorization: `Bearer ${ctx.keys[request.tenantId] ?? ''}`,
    'content-type': 'application/json',
    'idempotency-key': `${ctx.runId}-${request.index}`,
  };
}

/** Polls `GET /v1/tasks/:id` until a terminal state or the async timeout. */
async function followTask(
  request: ScheduledRequest,
  scheduledAtMs: number,
  ctx: SendContext,
  path: string | undefined,
  topology: string | undefined,
): Promise<RequestOutcome> {
  if (path === undefined) {
    return finish(request, scheduledAtMs, ctx, {
      success: false,
      status: 202,
      errorCode: 'missing_task_id',
      asyncEnd: 'failed',
    });
  }
  const deadline = scheduledAtMs + ctx.asyncTimeoutMs;
  while (ctx.clock.monotonic() < deadline) {
    await sleepOrAbort(
      ctx,
      Math.min(ctx.pollIntervalMs, Math.max(0, deadline - ctx.clock.monotonic())),
    );
    const reply = await call(ctx, {
      method: 'GET',
      path,
      headers: { authorization: postHeaders(request, ctx).authorization },
    });
    if (reply instanceof Error) continue;
    const ended = pollEnd(reply);
    if (ended !== undefined) {
      const success = ended === 'succeeded';
      const fallback = ended === 'poll_error' ? `http_${reply.status}` : `task_${ended}`;
      const errorCode = success ? undefined : (errorCodeOf(reply) ?? fallback);
      return finish(request, scheduledAtMs, ctx, {
        success,
        status: reply.status,
        errorCode,
        topology: reply.topology ?? topology,
        asyncEnd: success ? 'succeeded' : 'failed',
      });
    }
  }
  return finish(request, scheduledAtMs, ctx, {
    success: false,
    status: 202,
    errorCode: 'async_timeout',
    topology,
    asyncEnd: 'timed_out',
  });
}

/** Terminal state of a poll reply, `poll_error` for a non-retryable HTTP error, else undefined. */
function pollEnd(reply: HttpReply): TerminalState | 'poll_error' | undefined {
  if (reply.status === 429 || reply.status === 503) return undefined;
  if (reply.status < 200 || reply.status > 299) return 'poll_error';
  const state = (reply.body as { state?: unknown } | undefined)?.state;
  return TERMINAL_STATES.find((terminal) => terminal === state);
}

function taskPath(reply: HttpReply): string | undefined {
  if (reply.location !== undefined) return new URL(reply.location, 'http://127.0.0.1').pathname;
  const id = (reply.body as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? `/v1/tasks/${encodeURIComponent(id)}` : undefined;
}

async function call(
  ctx: SendContext,
  options: Dispatcher.RequestOptions,
): Promise<HttpReply | Error> {
  try {
    // No per-request signal: the run destroys the pool at the drain deadline instead.
    const response = await ctx.pool.request(options);
    const text = await response.body.text();
    return {
      status: response.statusCode,
      body: parseJson(text),
      location: headerValue(response.headers.location),
      topology: headerValue(response.headers[TOPOLOGY_HEADER]),
    };
  } catch (error) {
    if (ctx.signal.aborted) throw new SendAbortedError('request aborted at the drain deadline');
    return error instanceof Error ? error : new Error(String(error));
  }
}

async function sleepOrAbort(ctx: SendContext, ms: number): Promise<void> {
  try {
    await ctx.clock.sleep(ms, ctx.signal);
  } catch {
    throw new SendAbortedError('task follow aborted at the drain deadline');
  }
}

function transportFailure(
  request: ScheduledRequest,
  scheduledAtMs: number,
  ctx: SendContext,
  error: Error,
): RequestOutcome {
  const errorCode = transportErrorCode(error) ?? 'transport_error';
  return finish(request, scheduledAtMs, ctx, { success: false, errorCode, transportError: true });
}

type OutcomeFields = Omit<RequestOutcome, 'request' | 'latencyMs' | 'finishedAtMs'>;

function finish(
  request: ScheduledRequest,
  scheduledAtMs: number,
  ctx: SendContext,
  fields: OutcomeFields,
): RequestOutcome {
  const now = ctx.clock.monotonic();
  return { request, latencyMs: now - scheduledAtMs, finishedAtMs: now - ctx.runStartMs, ...fields };
}

/** Reads the `error.code` of a gateway error body or of a failed task record. */
function errorCodeOf(reply: HttpReply): string | undefined {
  const code = (reply.body as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Reads the `error.limit` that a gateway rejection names, such as `requests_per_minute`. */
function limitOf(reply: HttpReply): string | undefined {
  const limit = (reply.body as { error?: { limit?: unknown } } | undefined)?.error?.limit;
  return typeof limit === 'string' ? limit : undefined;
}

function parseJson(text: string): unknown {
  try {
    return text.length === 0 ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
