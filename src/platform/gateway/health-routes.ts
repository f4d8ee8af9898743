import type { FastifyInstance } from 'fastify';

import { withTimeout } from '../timeout.js';
import type { ReadinessCheck, ReadinessResult } from './ports.js';

/** Maximum time of one readiness check before `GET /readyz` counts it as failed, in ms. */
const READINESS_TIMEOUT_MS = 2000;

/**
 * Registers `GET /healthz`, liveness: 200 while the process serves requests, with the
 * latest result of each readiness check. Load probes rely on it staying 200 during a
 * Redis outage. Also registers `GET /readyz`, readiness: it runs every check now and
 * returns 503 with Retry-After when one fails.
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  executorName: string,
  checks: readonly ReadinessCheck[],
): void {
  app.get('/healthz', async () => {
    const latest = checks.map((check) => [check.name, check.lastResult()] as const);
    return { status: 'ok', executor: executorName, checks: Object.fromEntries(latest) };
  });
  app.get('/readyz', async (_request, reply) => {
    const results = await Promise.all(checks.map(async (check) => runCheck(check)));
    const failed = results.filter(([, result]) => result.status === 'failed');
    const body = { status: failed.length === 0 ? 'ready' : 'not_ready' };
    if (failed.length === 0) return reply.send({ ...body, checks: Object.fromEntries(results) });
    const message = failed
      .map(([name, result]) => `${name}: ${result.status === 'failed' ? result.message : ''}`)
      .join('; ');
    return reply
      .code(503)
      .header('retry-after', '1')
      .send({
        ...body,
        checks: Object.fromEntries(results),
        error: { code: 'not_ready', message: `${message}; retry after 1 s` },
      });
  });
}

async function runCheck(check: ReadinessCheck): Promise<readonly [string, ReadinessResult]> {
  try {
    return [check.name, await withTimeout(check.check(), READINESS_TIMEOUT_MS, check.name)];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return [check.name, { status: 'failed', message }];
  }
}
