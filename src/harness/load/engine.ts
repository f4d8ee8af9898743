import { Pool } from 'undici';
import { loadScenarioTrace } from '../scenario/scenario-trace.js';
import { validateScenario } from '../scenario/validate.js';
import type { ScenarioSpec } from '../scenario/types.js';
import { loadTenantKeys, pickKeys } from './keys.js';
import { LoadRun } from './load-run.js';
import { type RunLoadOptions, resolveLoadOptions } from './options.js';
import { probeTarget } from './probe.js';
import type { LoadResult } from './result.js';
import { buildSchedule, checkPlannedRequests } from './schedule.js';

/**
 * Runs a scenario with the embedded open-model engine. It reads the trace of a replay,
 * probes `GET /healthz` and plans a seeded schedule. Then it sends each request at its
 * scheduled time through a keep-alive pool, and drains for at most `drainTimeoutMs`.
 * @throws ScenarioValidationError for an invalid spec or one that would plan more than
 *   MAX_PLANNED_REQUESTS, RangeError for an invalid option, TenantKeysError,
 *   TraceFileError or TraceFormatError for the trace, or TargetUnreachableError when the
 *   probe fails.
 */
export async function runLoad(
  spec: ScenarioSpec,
  options: RunLoadOptions = {},
): Promise<LoadResult> {
  const scenario = validateScenario({
    ...spec,
    ...(options.target === undefined ? {} : { target: options.target }),
    ...(options.durationSec === undefined ? {} : { durationSec: options.durationSec }),
  });
  checkPlannedRequests(scenario);
  const resolved = resolveLoadOptions(options);
  const tenantIds = scenario.tenants.map((tenant) => tenant.tenantId);
  const keys =
    options.keys === undefined
      ? await loadTenantKeys(resolved.keysFile, tenantIds)
      : pickKeys('options.keys', options.keys, tenantIds);
  // A missing or empty trace is an input error, reported before the target is contacted.
  const traceRows = resolved.traceRows ?? (await loadScenarioTrace(scenario, scenario.durationSec));
  const pool = new Pool(new URL(scenario.target).origin, {
    connections: resolved.connections,
    headersTimeout: resolved.requestTimeoutMs,
    bodyTimeout: resolved.requestTimeoutMs,
  });
  try {
    // Probing first fails an unreachable target at once, before a 24-hour schedule spends
    // seconds and hundreds of MB being planned.
    await probeTarget(pool, scenario.target, resolved.probeTimeoutMs);
    const schedule = await buildSchedule(scenario, {
      seed: resolved.seed,
      durationSec: scenario.durationSec,
      traceRows,
      outputLimitOf: resolved.outputLimitOf,
    });
    const run = new LoadRun({
      scenarioName: scenario.name,
      target: scenario.target,
      durationSec: scenario.durationSec,
      schedule,
      keys,
      pool,
      options: resolved,
    });
    return await run.execute();
  } finally {
    await pool.destroy();
  }
}
