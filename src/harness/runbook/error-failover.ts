/**
 * Whether the router sent the calls that a provider's injected error status failed to another
 * provider, read from the failovers a drill report recorded, and the runbook wording for each
 * case. The router fails over only for error classes that the route's `failoverOn` in the
 * policy lists, and the report records the policy's path and hash but not that list.
 */
import type { FaultConfig, FaultSettings } from '../../faults/providers/fault-config.js';
import { statusErrorClass } from '../../platform/providers/errors.js';
import { FAILOVER_PAIRS_SCHEMA_VERSION } from '../report/types.js';
import { twoReads } from './commands.js';
import { type Evidence, faultPoints, pointsBeforeFaults } from './evidence.js';

/**
 * Evidence in the report of failover for the injected status: `failed-over` when calls of
 * the fault's provider went to another provider while it was active, `not-failed-over` when
 * none did although the provider served traffic before the faults, `unknown` otherwise.
 */
export type ErrorFailover = 'failed-over' | 'not-failed-over' | 'unknown';

/**
 * Returns the one HTTP status that a fault config injects on a share of the calls, 500 when
 * the config names none, or undefined when its settings inject none or several.
 */
export function injectedErrorStatus(config: FaultConfig | undefined): number | undefined {
  if (config === undefined) return undefined;
  const { models, ...defaults } = config;
  const settings: FaultSettings[] = [
    defaults,
    ...Object.values(models ?? {}).map((own) => ({ ...defaults, ...own })),
  ];
  const statuses = new Set(
    settings.filter((entry) => (entry.errorRate ?? 0) > 0).map((entry) => entry.errorStatus ?? 500),
  );
  return statuses.size === 1 ? [...statuses][0] : undefined;
}

/** Returns whether `provider` served a request in the seconds before the first fault. */
function servedBeforeFaults(evidence: Evidence, provider: string): boolean {
  const points = pointsBeforeFaults(evidence.report, evidence.result);
  return points.some((point) => (point.servedBy[provider] ?? 0) > 0);
}

/**
 * Reads whether the router failed over from the fault's provider. From schema version 5 on,
 * the series splits failovers by provider pair, so the fault's own seconds count. Before,
 * only the run's total per pair exists, which other faults on the provider could have
 * raised, so a total above 0 is `unknown` when another fault targets the provider.
 */
export function errorFailoverOf(evidence: Evidence): ErrorFailover {
  const { report, result, fault } = evidence;
  const provider = fault.target;
  let failovers: number;
  if (report.schemaVersion >= FAILOVER_PAIRS_SCHEMA_VERSION) {
    const points = faultPoints(evidence);
    if (points.some((point) => point.failoversByPair === undefined)) return 'unknown';
    failovers = points.reduce((sum, point) => {
      const targets = Object.values(point.failoversByPair?.[provider] ?? {});
      return sum + targets.reduce((total, activations) => total + activations, 0);
    }, 0);
  } else {
    failovers = result.failovers
      .filter((pair) => pair.fromProvider === provider)
      .reduce((sum, pair) => sum + pair.activations, 0);
    const otherFaults = (report.drill?.faults ?? []).filter(
      (other) => other.id !== fault.id && other.target === provider,
    );
    if (failovers > 0 && otherFaults.length > 0) return 'unknown';
  }
  if (failovers > 0) return 'failed-over';
  return servedBeforeFaults(evidence, provider) ? 'not-failed-over' : 'unknown';
}

/**
 * Words the symptom of a provider fault that fails every call (`outage`) or a share of them
 * (`errors`) with `status`, when the report does not show that the router failed over.
 */
export function errorSymptom(
  kind: 'outage' | 'errors',
  provider: string,
  status: number,
  failover: Exclude<ErrorFailover, 'failed-over'>,
): string {
  const errorClass = statusErrorClass(status);
  const failing =
    kind === 'outage'
      ? `${provider} fails every call with status ${status}`
      : `${provider} fails a share of its calls with status ${status} and serves the others`;
  if (failover === 'not-failed-over') {
    return `${failing}. The drill recorded no failover from ${provider} while the fault was active, so the route's \`failoverOn\` in the policy does not list \`${errorClass}\`: the router does not send these calls to another provider, and their tasks fail with the error.`;
  }
  return `${failing}. The router sends such a call to another provider only when the route's \`failoverOn\` in the policy lists \`${errorClass}\`; otherwise the call's task fails with the error.`;
}

/**
 * Words the operator steps of an injected error status that the report does not show the
 * router failing over for: the read of the error class, then the route's `failoverOn`.
 */
export function errorFailoverSteps(
  provider: string,
  status: number,
  failover: Exclude<ErrorFailover, 'failed-over'>,
): string[] {
  const errorClass = statusErrorClass(status);
  const classStep = `Confirm the fault's failure mode: an \`error_class="${errorClass}"\` line of ${provider} that changes between the two reads of ${twoReads(`scalegate_provider_errors_total\\{provider="${provider}".*error_class="${errorClass}"`)} is calls to ${provider} still failing with status ${status}. No line means no call to ${provider} failed this way since the platform started.`;
  const policyStep =
    failover === 'not-failed-over'
      ? `Find \`failoverOn\` of the routes that call ${provider} in the policy file the platform was started with. \`${errorClass}\` is not in it, so each call that fails with status ${status} fails its task. Add \`${errorClass}\` only if another provider can serve the call that ${provider} rejected.`
      : `Find \`failoverOn\` of the routes that call ${provider} in the policy file the platform was started with. If it lists \`${errorClass}\`, the router sends these calls to another provider and the steps about the fallback apply; if it does not, each call that fails with status ${status} fails its task.`;
  return [classStep, policyStep];
}
