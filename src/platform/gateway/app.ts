import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';

import type { Rejection } from '../admission/types.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { ReasonPhraseResponse } from '../reason-phrase.js';
import type { TaskStore } from '../store/task-store.js';
import type { TaskRecord } from '../task.js';
import { gatewayErrorHandler, MAX_TASK_ID_LENGTH, notFoundHandler } from './error-handler.js';
import { GatewayError } from './gateway-error.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, gatewayClientErrorHandler } from './http-errors.js';
import { registerHealthRoutes } from './health-routes.js';
import { registerJsonBodyParser } from './json-body.js';
import { rejectOtherMethods } from './method-not-allowed.js';
import { GatewayMetrics } from './metrics.js';
import { countOnClose, REJECTED_BEFORE_ROUTING, UNMATCHED_ROUTE } from './request-metrics.js';
import type {
  AdmissionGate,
  BackpressureGate,
  MetricsSource,
  ReadinessCheck,
  RouteCatalog,
  SyncExecutor,
  SyncTaskOwnership,
  TaskEnqueuer,
  TenantAuthenticator,
} from './ports.js';
import { registerTaskRoutes } from './task-routes.js';
import { TaskService } from './task-service.js';

/** Header paths pino replaces with `[redacted]` in every gateway log line. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'authorization',
];

export interface GatewayOptions {
  tenants: TenantAuthenticator;
  store: TaskStore;
  admission: AdmissionGate;
  /** @defaultValue no backpressure */
  backpressure?: BackpressureGate;
  executor: SyncExecutor;
  queue: TaskEnqueuer;
  routes: RouteCatalog;
  /** Registry the gateway adds its metrics to and serves at `/metrics`. @defaultValue a new Registry */
  registry?: Registry;
  /** Dependencies `GET /readyz` checks, such as Redis. @defaultValue none */
  readiness?: ReadinessCheck[];
  /** Extra sources appended to `/metrics`, such as another registry. @defaultValue none */
  extraMetrics?: MetricsSource[];
  /** Logger of the process edge; the gateway adds key redaction. @defaultValue no logging */
  logger?: Logger;
  /** @defaultValue 1_048_576 */
  bodyLimitBytes?: number;
  /** Time a client has to send a whole request; the gateway returns 408 after it. @defaultValue 30_000 */
  requestTimeoutMs?: number;
  /** @defaultValue systemClock */
  clock?: Clock;
  /** @defaultValue randomUUID */
  newId?: () => string;
  /** Cap of `steps * toolWaitMs`; larger tasks get 400. @defaultValue 900_000 */
  maxTaskDurationMs?: number;
  /** Called for each backpressure or tenant-limit rejection, as for a metric. @defaultValue none */
  onRejection?: (tenantId: string, rejection: Rejection) => void;
  /** Maximum wait for each store, admission and queue call of a request, in ms. @defaultValue 2000 */
  storeTimeoutMs?: number;
  /** Name of the store in 503 `store_unavailable` messages. @defaultValue 'the task store' */
  storeName?: string;
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

/** Time `close` waits for store writes still being retried after failed requests, in ms. */
const STORE_REPAIR_CLOSE_MS = 5000;

/** Builds the gateway's Fastify app without listening; `app.inject` serves tests. */
export function buildGateway(options: GatewayOptions): FastifyInstance {
  const bodyLimit = options.bodyLimitBytes ?? 1_048_576;
  if (!Number.isInteger(bodyLimit) || bodyLimit < 1) {
    throw new RangeError(`bodyLimitBytes must be a positive integer, got ${String(bodyLimit)}`);
  }
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const registry = options.registry ?? new Registry();
  const metrics = new GatewayMetrics(registry);
  const frameworkErrorHandler = gatewayErrorHandler(bodyLimit);
  const app = Fastify({
    bodyLimit,
    routerOptions: { maxParamLength: MAX_TASK_ID_LENGTH },
    requestTimeout,
    // Node checks the request timeout only against a headers timeout no longer than it.
    // It sends the 408 at the first connection check after the timeout, so checking
    // every tenth of the timeout, at most every second, keeps the 408 close to it.
    http: {
      headersTimeout: Math.min(requestTimeout, 60_000),
      connectionsCheckingInterval: Math.max(1, Math.min(Math.ceil(requestTimeout / 10), 1_000)),
      // A 499 `client_aborted` gets the status line `499 Client Closed Request`, not `499 unknown`.
      ServerResponse: ReasonPhraseResponse,
    },
    // NOTE: the 408, 431 and 400 that Node rejects before a request exists are not
    // counted in scalegate_gateway_requests_total.
    clientErrorHandler: gatewayClientErrorHandler,
    // URL errors found before routing, such as a 414 id or bad percent-encoding, run no hooks.
    frameworkErrors: (error, request, reply) => {
      countOnClose(metrics, request, reply, REJECTED_BEFORE_ROUTING);
      return frameworkErrorHandler(error, request, reply);
    },
    ...loggerOption(options.logger),
    // verbose adds the failing schema to each error, so an unknown field can get a "did you mean".
    ajv: {
      customOptions: {
        coerceTypes: false,
        removeAdditional: false,
        allErrors: false,
        verbose: true,
      },
    },
    // Requests that arrive while the gateway closes get the gateway's own 503 below.
    return503OnClosing: false,
    logController: new RequestLogController(),
  });
  // Registered first, so requests that a later hook rejects are counted too.
  app.addHook('onRequest', async (request, reply) => {
    countOnClose(metrics, request, reply, request.routeOptions.url ?? UNMATCHED_ROUTE);
  });
  rejectWhileClosing(app);
  registerJsonBodyParser(app);
  const service = new TaskService({ ...options, clock: options.clock ?? systemClock });
  app.addHook('onClose', () => service.close(STORE_REPAIR_CLOSE_MS));
  app.decorateRequest('tenant', undefined);
  app.setErrorHandler(gatewayErrorHandler(bodyLimit));
  app.setNotFoundHandler(notFoundHandler);
  registerTaskRoutes(app, { service, tenants: options.tenants, metrics });
  registerHealthRoutes(app, options.executor.name, options.readiness ?? []);
  app.get('/metrics', async (_request, reply) => {
    const sources: MetricsSource[] = [registry, ...(options.extraMetrics ?? [])];
    const texts = await Promise.all(sources.map((source) => source.metrics()));
    return reply.header('content-type', registry.contentType).send(texts.join('\n'));
  });
  rejectOtherMethods(app, '/healthz', 'GET', 'GET /healthz for liveness');
  rejectOtherMethods(app, '/readyz', 'GET', 'GET /readyz for readiness');
  rejectOtherMethods(app, '/metrics', 'GET', 'GET /metrics for the Prometheus exposition');
  return app;
}

/** Interval at which a closing gateway ends the keep-alive connections that turned idle. */
const CLOSE_IDLE_INTERVAL_MS = 100;

/**
 * Rejects requests that arrive after `close` began, such as a second request on a
 * kept-alive connection, with a 503 `shutting_down` in the gateway's error format
 * and a Retry-After. The tasks already running finish. Fastify's `close` ends only
 * the connections idle when it starts and waits for the others, so a connection whose
 * last response is sent later is ended here once it turns idle, not after Fastify 5's
 * 72 s keep-alive timeout.
 */
function rejectWhileClosing(app: FastifyInstance): void {
  let closing = false;
  let idleCloser: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    closing = true;
    idleCloser = setInterval(() => app.server.closeIdleConnections(), CLOSE_IDLE_INTERVAL_MS);
  });
  app.addHook('onClose', async () => clearInterval(idleCloser));
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    throw new GatewayError(
      503,
      'shutting_down',
      'the gateway is shutting down; retry after 1 s, once another gateway or the restarted one listens',
      { retryAfterSeconds: 1 },
    );
  });
}

/**
 * Fastify's per-request log lines at debug in place of info, so that polling clients do not
 * fill the log. A 5xx response is logged at warn and a request that errored at error, except
 * a `/readyz` 503: a probe repeats it every few seconds during an outage, which the
 * platform already logs once.
 */
class RequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply) {
    const fields = { req: request, res: reply, responseTime: reply.elapsedTime };
    const probe = request.routeOptions.url === '/readyz';
    if (error) reply.log.error({ ...fields, err: error }, 'request errored');
    else if (reply.statusCode >= 500 && !probe)
      reply.log.warn(fields, 'request completed with a server error');
    else reply.log.debug(fields, 'request completed');
  }
}

function loggerOption(logger: Logger | undefined): {
  loggerInstance?: FastifyBaseLogger;
  logger?: false;
} {
  if (logger === undefined) return { logger: false };
  const child = logger.child({ component: 'gateway' }, { redact: REDACTED_LOG_PATHS });
  return { loggerInstance: child as FastifyBaseLogger };
}
