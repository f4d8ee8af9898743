import { plannedRatePerMinute } from '../load/schedule.js';
import { DEFAULT_POLICY_PATH } from '../../platform/router/load-policy.js';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

import { loadProviderCatalog } from '../../faults/providers/index.js';
import {
  type BackpressureLimits,
  DEFAULT_BACKPRESSURE,
} from '../../platform/admission/backpressure.js';
import { scaledClock, systemClock } from '../../platform/clock.js';
import { checkLoadedFiles } from '../../platform/runtime/loaded-files.js';
import {
  formatTopology,
  startPlatform,
  WorkerPauseUnsupportedError,
} from '../../platform/runtime.js';
import type { TaskAccounting } from '../../platform/store/task-store.js';
import type { PriorityClass } from '../../platform/task.js';
import {
  DEFAULT_DEMO_KEYS_PATH,
  DEFAULT_TENANTS_PATH,
  loadDemoKeys,
} from '../../platform/tenants/index.js';
import type { TenantRegistry } from '../../platform/tenants/registry.js';
import type { Tenant } from '../../platform/tenants/tenant.js';
import { interruptedStart } from './interrupt.js';
import { collectEnvironment, gitCommit, policyHash } from '../report/environment.js';
import type { Report } from '../report/types.js';
import { freeRunId, type WrittenReport, writeReport } from '../report/writer.js';
import { runbookEvidence } from '../runbook/evidence-reports.js';
import {
  keptRunbook,
  RUNBOOK_PATH,
  type RunbookOutcome,
  runbookUnchangedReason,
  writeRunbook,
} from '../runbook/write.js';
import { isTraceEndsEarlyError, loadScenarioTrace } from '../scenario/scenario-trace.js';
import type { ScenarioSpec } from '../scenario/types.js';
import type { DrillDeps } from './deps.js';
import { readDrillFiles } from './drill-files.js';
import { parseDrillPolicy } from './drill-policy.js';
import { DrillSpecError } from './errors.js';
import { failoverGaps } from './failover-coverage.js';
import { platformDrillDeps } from './platform-deps.js';
import { type BasePolicy, comparePolicies, exercisedRoutes } from './policy-change.js';
import { buildDrillReport, drillRunId } from './report.js';
import { runDrill } from './runner.js';
import type { DrillSpec } from './spec.js';
import { checkDrillTargets } from './targets.js';
import { validateDrillSpec } from './validate.js';

export interface PlatformDrillOptions {
  spec: DrillSpec;
  scenarios: Readonly<Record<string, ScenarioSpec>>;
  /** Simulated seconds per wall second. @defaultValue 1 */
  timeScale?: number;
  /** @defaultValue 'workers=24 serverless_burst=enabled' */
  topology?: string;
  /** @defaultValue 1 */
  seed?: number;
  /** @defaultValue 'policies/default.yaml' */
  policyPath?: string;
  /** Tenants file of the platform. @defaultValue fixtures/tenants.yaml of the checkout */
  tenantsPath?: string;
  /** Price table of the platform. @defaultValue fixtures/prices.yaml of the checkout */
  pricesPath?: string;
  /** Queue limits at which the gateway sheds requests. @defaultValue DEFAULT_BACKPRESSURE */
  backpressure?: BackpressureLimits;
  /** @defaultValue 'reports' */
  reportsDir?: string;
  /** @defaultValue 'runbooks/scaling_runbook.md' */
  runbookPath?: string;
  /** Reason this run must leave the runbook alone whatever its verdict. @defaultValue none */
  keepRunbookBecause?: string;
  /** Policy that the drilled one changes; the report then records the changes. @defaultValue none */
  basePolicy?: BasePolicy;
  /** Aborting it stops the drill; rollback runs and a partial, aborted report is still written. */
  signal?: AbortSignal;
  onEvent?: DrillDeps['onEvent'];
}

export interface PlatformDrillResult {
  report: Report;
  written: WrittenReport;
  /** Outcome for the runbook file: written, left as it was, or not written with none there. */
  runbook: RunbookOutcome;
  /** Text of the policy file as the platform loaded it, whose hash the report records. */
  policyText: string;
  /**
   * The task store's counts when the platform stopped, burst tenants' tasks included;
   * undefined when that read failed or took over 1 s.
   */
  taskCounts?: TaskAccounting;
}

/** Requests per minute of each tenant the drill sends as, from the entry that admits its key. */
function quotas(senders: ReadonlyMap<string, Tenant>): Record<string, number> {
  return Object.fromEntries([...senders].map(([id, tenant]) => [id, tenant.requestsPerMinute]));
}

function tiers(registry: TenantRegistry): Record<string, PriorityClass> {
  return Object.fromEntries(registry.tenants.map((tenant) => [tenant.id, tenant.tier]));
}

/**
 * Reads the trace of a trace-replay scenario for the drill's `durationS`, so a missing file,
 * a row that does not parse or a trace that ends before the drill fails before the platform
 * starts. The main load reads the file again when it starts.
 * @throws DrillSpecError on `durationS` for a trace that ends before the drill, and the
 *   errors of {@link loadScenarioTrace} otherwise.
 */
async function checkDrillTrace(spec: DrillSpec, scenario: ScenarioSpec): Promise<void> {
  try {
    await loadScenarioTrace({ ...scenario, durationSec: spec.durationS }, spec.durationS);
  } catch (error) {
    if (!isTraceEndsEarlyError(error)) throw error;
    const fits = Math.floor(error.endSec);
    const idleS = spec.durationS - error.endSec;
    const durationFix = fits >= 1 ? `lower durationS to ${fits} s or less, or ` : '';
    throw new DrillSpecError(
      'durationS',
      `is ${spec.durationS} s, but the trace of scenario ${scenario.name} (${error.file}) ends ` +
        `${error.endSec.toFixed(1)} s into the load at speedUp ${error.speedUp}, so the last ` +
        `${idleS.toFixed(1)} s would send nothing and lower the drill's per-minute rates; ` +
        `${durationFix}set arrival.file of scenario ${scenario.name} to a trace that lasts ` +
        'the whole drill',
    );
  }
}

/**
 * Starts the platform on 127.0.0.1, runs one drill against it, and writes the report and
 * the runbook, also when the drill was aborted. The platform is stopped on every path.
 * @throws {@link DrillSpecError} before the platform starts, when the spec is invalid,
 *   names a scenario, provider, proxy or tenant that does not exist, or outlasts its
 *   scenario's trace, and the errors of
 *   {@link readDrillFiles} when the tenants file or the price table is invalid or the tenants
 *   file lacks a tenant the drill sends as.
 */
export async function runDrillOnPlatform(
  options: PlatformDrillOptions,
): Promise<PlatformDrillResult> {
  // Everything the spec names is checked before the platform starts, so a bad spec fails
  // at once instead of as a failed fault step.
  const spec = validateDrillSpec(options.spec);
  const scenario = options.scenarios[spec.scenario];
  if (scenario === undefined) {
    const known = Object.keys(options.scenarios).join(', ');
    throw new DrillSpecError(
      'scenario',
      `is ${spec.scenario}, which is not a known scenario; known: ${known}; use one of them`,
    );
  }
  const catalog = await loadProviderCatalog();
  checkDrillTargets(spec, {
    providers: catalog.map((profile) => profile.name),
    tenants: [...(await loadDemoKeys()).keys()],
    tenantsFile: options.tenantsPath ?? DEFAULT_TENANTS_PATH,
    keysFile: DEFAULT_DEMO_KEYS_PATH,
  });
  await checkDrillTrace(spec, scenario);
  const timeScale = options.timeScale ?? 1;
  const seed = options.seed ?? 1;
  const policyPath = options.policyPath ?? DEFAULT_POLICY_PATH;
  // Read once, so the checks, the recorded hash and the comparison with what the platform
  // loads all concern the same bytes, whatever edits the file meanwhile.
  const policyBytes = await readFile(policyPath);
  const files = await readDrillFiles(spec, scenario, options);
  const policy = parseDrillPolicy(policyBytes, policyPath, catalog, spec, scenario);
  const policyText = policyBytes.toString('utf8');
  const policyRoutes = Object.keys(policy.routes);
  const scenarioRoutes = scenario.routes.map((route) => route.route);
  for (const detail of failoverGaps(spec, scenarioRoutes, policy, catalog)) {
    options.onEvent?.({ type: 'warning', detail });
  }
  const clock = scaledClock(timeScale);
  const backpressure = options.backpressure ?? DEFAULT_BACKPRESSURE;
  const platform = await startPlatform({
    topology: options.topology,
    seed,
    clock,
    policyPath,
    tenantsPath: options.tenantsPath,
    pricesPath: options.pricesPath,
    port: 0,
    providerProcess: 'child',
    timeScale,
    backpressure,
  }).catch(async (error: unknown) => {
    if (await interruptedStart(error, options.signal)) throw options.signal?.reason;
    throw error;
  });
  // Set before each return, so that the stop below can add the task counts it reads.
  let result: PlatformDrillResult | undefined;
  try {
    // The platform reads the files again, so an edit since readDrillFiles or the policy's
    // read would leave the report naming other content than the platform runs with.
    checkLoadedFiles(platform.files, {
      tenantsSha256: files.record.tenantsHash,
      pricesSha256: files.record.pricesHash,
      policySha256: policyHash(policyText),
    });
    if (spec.faults.some((step) => step.kind === 'worker-pause') && !platform.workers.pausable) {
      throw new WorkerPauseUnsupportedError(platform.workers.processes);
    }
    for (const detail of platform.warnings) options.onEvent?.({ type: 'warning', detail });
    const topology = formatTopology(platform.topology);
    const deps = platformDrillDeps({
      platform,
      spec,
      scenario,
      quotaPerMinute: quotas(files.senders),
      tierOf: tiers(files.registry),
      topology,
      clock,
      seed,
      onEvent: options.onEvent,
    });
    // The drill's clock runs `timeScale` times faster than the wall, so the report's
    // time and run id come from the system clock.
    const startedAt = systemClock.now();
    const outcome = await runDrill(
      spec,
      deps,
      options.signal === undefined ? {} : { signal: options.signal },
    );
    const environment = collectEnvironment({
      commit: await gitCommit(),
      policyHash: policyHash(policyText),
      policyPath: options.policyPath ?? relative(process.cwd(), DEFAULT_POLICY_PATH),
      engine: 'embedded',
      seed,
      timeScale,
      backpressure,
      drivers: platform.keyPrefix === undefined ? 'memory' : 'redis',
      ...files.record,
    });
    const exercised = exercisedRoutes(scenarioRoutes, [outcome.result]);
    const reportsDir = options.reportsDir ?? 'reports';
    const report = buildDrillReport({
      outcome: { ...outcome, startedAt },
      runId: await freeRunId(reportsDir, drillRunId(startedAt, spec.name)),
      environment,
      scenario: {
        name: spec.name,
        description: spec.description,
        durationS: spec.durationS,
        arrivalRatePerMinute: await plannedRatePerMinute(scenario, {
          seed,
          durationSec: spec.durationS,
        }),
        tenants: scenario.tenants.map((tenant) => tenant.tenantId),
        routes: scenario.routes.map((route) => route.route),
        unexercisedRoutes: policyRoutes.filter((route) => !exercised.includes(route)),
      },
      policyChange:
        options.basePolicy === undefined
          ? undefined
          : comparePolicies(options.basePolicy, policyText, policyPath, exercised),
    });
    const written = await writeReport(report, reportsDir);
    const runbookPath = options.runbookPath ?? RUNBOOK_PATH;
    const unchanged = options.keepRunbookBecause ?? runbookUnchangedReason(report);
    if (unchanged !== undefined) {
      result = { report, written, runbook: await keptRunbook(runbookPath, unchanged), policyText };
      return result;
    }
    // The other drills' newest reports keep their incidents in the rewritten runbook.
    const evidence = await runbookEvidence(report, reportsDir);
    for (const line of evidence.skipped) {
      options.onEvent?.({ type: 'warning', detail: `runbook evidence skipped: ${line}` });
    }
    const runbook: RunbookOutcome = {
      status: 'written',
      path: await writeRunbook(evidence.reports, runbookPath),
    };
    result = { report, written, runbook, policyText };
    return result;
  } finally {
    // The counts are read after the drain and before the purge deletes the tasks.
    let taskCounts: TaskAccounting | undefined;
    await platform.stop({
      purge: true,
      onTaskCounts: (counts) => {
        taskCounts = counts;
      },
    });
    if (result !== undefined && taskCounts !== undefined) result.taskCounts = taskCounts;
  }
}
