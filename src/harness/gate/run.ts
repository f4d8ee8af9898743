/**
 * Policy gate: drills the base policy and the pull request's policy one after the other with
 * the same drill, seed, time scale, topology, backpressure limits, tenants file and price
 * table, compares the two reports and writes a pull-request comment.
 */
import { join, relative } from 'node:path';

import { loadProviderCatalog } from '../../faults/providers/index.js';
import { isPriceTableError } from '../../platform/cost/errors.js';
import { DEFAULT_PRICES_PATH, loadPriceTable } from '../../platform/cost/load-price-table.js';
import { isPolicyValidationError } from '../../platform/router/policy-errors.js';
import type { ProviderCatalog } from '../../platform/router/catalog.js';
import type { Policy } from '../../platform/router/policy-types.js';
import { formatTopology, parseTopology } from '../../platform/runtime/topology.js';
import { checkPriceCoverage } from '../../platform/runtime/price-coverage.js';
import { loadDrillPolicy } from '../drill/drill-policy.js';
import { readDrillFiles } from '../drill/drill-files.js';
import type { BasePolicy } from '../drill/policy-change.js';
import {
  type PlatformDrillOptions,
  type PlatformDrillResult,
  runDrillOnPlatform,
} from '../drill/run-on-platform.js';
import type { PlatformFilesRecord } from '../report/platform-files.js';
import type { Report } from '../report/types.js';
import { renderGateComment } from './comment.js';
import { compareGateRuns, type GateComparison, type GateRun } from './compare.js';
import {
  BASE_REPORTS_DIR,
  createGateFolder,
  GATE_COMMENT,
  GATE_COMPARISON,
  GATE_RUNBOOK,
  PR_REPORTS_DIR,
  prepareGateFolder,
} from './folder.js';
import { replaceFile } from '../replace-file.js';

/** Reason the base drill leaves the runbook alone whatever its verdict. */
const BASE_RUNBOOK_REASON = 'the base drill of a policy gate writes no runbook';

export interface PolicyGateOptions extends Omit<
  PlatformDrillOptions,
  'policyPath' | 'basePolicy' | 'reportsDir' | 'runbookPath' | 'keepRunbookBecause'
> {
  /** Policy of the pull request. */
  policyPath: string;
  /** Policy that `policyPath` changes. Without it the gate drills the PR policy only. */
  basePolicy?: BasePolicy;
  /** Folder that receives both drills' reports, the runbook and the comment. */
  gateDir: string;
  /** Called before each drill starts, the base first. */
  onDrillStart?: (side: GateSide, policyPath: string) => void;
  /** Words the error of a drill that failed to run. @defaultValue the error's message */
  describeError?: (error: unknown) => string;
}

export type GateSide = 'base' | 'PR';

/** Outcome of one side's drill: a report, or the error that kept the drill from writing one. */
export type GateDrillOutcome =
  | { status: 'ran'; policyPath: string; run: PlatformDrillResult; reportPath: string }
  | { status: 'failed'; policyPath: string; error: unknown; message: string };

/**
 * Outcome of the base side: its drill's, or a drill skipped because the PR policy is invalid
 * or calls a model that the price table has no price for.
 */
export type BaseDrillOutcome =
  GateDrillOutcome | { status: 'skipped'; policyPath: string; reason: string };

/** Reason the base drill is skipped when the PR policy fails to load. */
const INVALID_PR_POLICY_REASON = 'the PR policy is invalid';
/** Reason the base drill is skipped when the price table lacks a model of the PR policy. */
const UNPRICED_PR_MODEL_REASON =
  'the price table has no price for a model that the PR policy calls';

export interface PolicyGateResult {
  /** Null when the gate had no base policy. */
  base: BaseDrillOutcome | null;
  /** Null when a signal stopped the gate during the base drill, so the PR policy was not drilled. */
  pr: GateDrillOutcome | null;
  /** Null unless both drills wrote a report. */
  comparison: GateComparison | null;
  /** Path of the comment, or null when the gate was stopped before the PR drill. */
  commentPath: string | null;
}

/** Settings both drills share, which the comment names. */
export interface GateSettings {
  drill: string;
  seed: number;
  timeScale: number;
  /**
   * Topology of the PR drill's report, or the one the gate was given when the PR drill wrote no
   * report. Empty when neither is known.
   */
  topology: string;
  /**
   * Price table and tenants file of the PR drill as its report records them, or as the gate
   * read them before the drills when the PR drill wrote no report. Null when the gate could
   * not read them, such as for a drill of an unknown scenario.
   */
  files: GateFiles | null;
}

/** Paths and sha256 hex digests of the price table and the tenants file. */
export type GateFiles = Pick<
  PlatformFilesRecord,
  'pricesPath' | 'pricesHash' | 'tenantsPath' | 'tenantsHash'
>;

/**
 * Runs the gate. A base drill that fails or aborts does not stop the PR drill, and the
 * comment states what happened to it. An invalid PR policy, or one that calls a model the
 * price table has no price for, skips the base drill. A signal during the base drill stops
 * the gate before the PR drill, because the signal means the user stopped the whole gate.
 * @throws {@link GateFolderInUseError} before either drill, when the gate folder contains outputs
 *   that no gate run wrote, as {@link prepareGateFolder} checks.
 * @throws the error of {@link readDrillFiles} before either drill, when the tenants file or the
 *   price table that both drills share is invalid or lacks a tenant the drill sends as.
 */
export async function runPolicyGate(options: PolicyGateOptions): Promise<PolicyGateResult> {
  const { gateDir } = options;
  await prepareGateFolder(gateDir);
  // Both drills run on these files, so a bad one fails the gate once, before the base drill.
  const scenario = options.scenarios[options.spec.scenario];
  const files =
    scenario === undefined ? null : (await readDrillFiles(options.spec, scenario, options)).record;
  await createGateFolder(gateDir);

  if (options.basePolicy !== undefined) {
    // Loaded before the base drill, so an invalid PR policy fails in a second, not after a drill.
    const invalid = await invalidPolicyOutcome(options);
    if (invalid !== undefined) {
      const base: BaseDrillOutcome = {
        status: 'skipped',
        policyPath: options.basePolicy.path,
        reason: invalid.reason,
      };
      return finishGate(options, files, base, invalid.outcome);
    }
  }

  let base: GateDrillOutcome | null = null;
  if (options.basePolicy !== undefined) {
    const basePath = options.basePolicy.path;
    options.onDrillStart?.('base', basePath);
    base = await drillSide(basePath, options.describeError, () =>
      runDrillOnPlatform({
        ...drillOptions(options),
        policyPath: basePath,
        reportsDir: join(gateDir, BASE_REPORTS_DIR),
        runbookPath: join(gateDir, `base-${GATE_RUNBOOK}`),
        keepRunbookBecause: BASE_RUNBOOK_REASON,
      }),
    );
    if (options.signal?.aborted === true) {
      return { base, pr: null, comparison: null, commentPath: null };
    }
  }

  options.onDrillStart?.('PR', options.policyPath);
  // The comment lists these too, because in CI the console output stays in the job's log.
  const prWarnings: string[] = [];
  const pr = await drillSide(options.policyPath, options.describeError, () =>
    runDrillOnPlatform({
      ...drillOptions(options),
      onEvent: (event) => {
        if (event.type === 'warning') prWarnings.push(event.detail);
        options.onEvent?.(event);
      },
      policyPath: options.policyPath,
      basePolicy: options.basePolicy,
      reportsDir: join(gateDir, PR_REPORTS_DIR),
      runbookPath: join(gateDir, GATE_RUNBOOK),
    }),
  );
  return finishGate(options, files, base, pr, prWarnings);
}

/** Compares both sides when both drills wrote a report, and writes the comment and comparison. */
async function finishGate(
  options: PolicyGateOptions,
  filesBefore: GateFiles | null,
  base: BaseDrillOutcome | null,
  pr: GateDrillOutcome,
  prWarnings: readonly string[] = [],
): Promise<PolicyGateResult> {
  const { gateDir } = options;
  const comparison =
    base?.status === 'ran' && pr.status === 'ran'
      ? compareGateRuns(gateRun(base), gateRun(pr))
      : null;
  const commentPath = join(gateDir, GATE_COMMENT);
  const settings: GateSettings = {
    drill: options.spec.name,
    seed: options.seed ?? 1,
    timeScale: options.timeScale ?? 1,
    topology:
      pr.status === 'ran'
        ? (pr.run.report.topologies[0]?.topology ?? '')
        : requestedTopology(options.topology),
    files: (pr.status === 'ran' ? recordedFiles(pr.run.report) : undefined) ?? filesBefore,
  };
  await replaceFile(commentPath, renderGateComment({ settings, base, pr, comparison, prWarnings }));
  if (comparison !== null) {
    const json = `${JSON.stringify(comparison.comparison, null, 2)}\n`;
    await replaceFile(join(gateDir, GATE_COMPARISON), json);
  }
  return { base, pr, comparison, commentPath };
}

/**
 * Formats the topology the gate was given as a report prints it, or returns '' when it does
 * not parse, because then the PR drill's error names it.
 */
function requestedTopology(spec: string | undefined): string {
  try {
    return formatTopology(parseTopology(spec ?? ''));
  } catch (error) {
    if (error instanceof RangeError) return '';
    throw error;
  }
}

/** Returns the files a drill report records, or undefined when it predates their record. */
function recordedFiles(report: Report): GateFiles | undefined {
  const { pricesPath, pricesHash, tenantsPath, tenantsHash } = report.environment;
  if (pricesPath === undefined || pricesHash === undefined) return undefined;
  if (tenantsPath === undefined || tenantsHash === undefined) return undefined;
  return { pricesPath, pricesHash, tenantsPath, tenantsHash };
}

/** Options both drills share. */
function drillOptions(options: PolicyGateOptions): Omit<PlatformDrillOptions, 'policyPath'> {
  return {
    spec: options.spec,
    scenarios: options.scenarios,
    timeScale: options.timeScale,
    topology: options.topology,
    seed: options.seed,
    tenantsPath: options.tenantsPath,
    pricesPath: options.pricesPath,
    backpressure: options.backpressure,
    signal: options.signal,
    onEvent: options.onEvent,
  };
}

/** Runs one side's drill and turns an error into a failed outcome. */
async function drillSide(
  policyPath: string,
  describeError: ((error: unknown) => string) | undefined,
  drill: () => Promise<PlatformDrillResult>,
): Promise<GateDrillOutcome> {
  try {
    const run = await drill();
    return { status: 'ran', policyPath, run, reportPath: join(run.written.runDir, 'report.json') };
  } catch (error) {
    return failedOutcome(policyPath, describeError, error);
  }
}

/**
 * Loads the PR policy as its drill would and checks that the price table prices its models.
 * Returns the failed outcome the PR drill would give, and the reason the base drill is
 * skipped, when the policy is invalid, lacks a route the drill's load uses, or calls a model
 * without a price. Returns undefined when both checks pass. Other errors, such as an unknown
 * scenario, are left to the drill.
 */
async function invalidPolicyOutcome(
  options: PolicyGateOptions,
): Promise<{ outcome: GateDrillOutcome; reason: string } | undefined> {
  const { policyPath, describeError, spec } = options;
  const scenario = options.scenarios[spec.scenario];
  if (scenario === undefined) return undefined;
  let catalog: ProviderCatalog;
  let policy: Policy;
  try {
    catalog = await loadProviderCatalog();
    policy = await loadDrillPolicy(policyPath, catalog, spec, scenario);
  } catch (error) {
    if (!isPolicyValidationError(error)) return undefined;
    const outcome = failedOutcome(policyPath, describeError, error);
    return { outcome, reason: INVALID_PR_POLICY_REASON };
  }
  // The PR drill's platform would stop at the same check, but only after the base drill ran.
  const pricesFile = options.pricesPath ?? relative(process.cwd(), DEFAULT_PRICES_PATH);
  try {
    const prices = await loadPriceTable(options.pricesPath);
    checkPriceCoverage(policy, prices, { prices: pricesFile, policy: policyPath }, catalog);
    return undefined;
  } catch (error) {
    if (!isPriceTableError(error)) return undefined;
    const outcome = failedOutcome(policyPath, describeError, error);
    return { outcome, reason: UNPRICED_PR_MODEL_REASON };
  }
}

function failedOutcome(
  policyPath: string,
  describeError: ((error: unknown) => string) | undefined,
  error: unknown,
): GateDrillOutcome {
  const message =
    describeError?.(error) ?? (error instanceof Error ? error.message : String(error));
  return { status: 'failed', policyPath, error, message };
}

function gateRun(outcome: GateDrillOutcome & { status: 'ran' }): GateRun {
  return { report: outcome.run.report, reportPath: outcome.reportPath };
}
