import { measureWindow, pointsIn } from '../drill/measures.js';
import { count, percent, seconds } from '../report/format.js';
import { breakerMeasured } from './breaker-signal.js';
import type {
  FaultRecord,
  ProbeResult,
  Report,
  SeriesPoint,
  TopologyResult,
} from '../report/types.js';

/** A signal an operator watches: the metric (Markdown), its threshold and what the drill measured. */
export interface Signal {
  metric: string;
  threshold: string;
  measured: string;
}

/** One incident the drill exercised, with every number taken from its report. */
export interface Incident {
  /** Groups the same incident across reports, such as `provider-outage:provider-a`. */
  key: string;
  title: string;
  signals: Signal[];
  systemActions: string[];
  operatorSteps: string[];
  verification: string[];
}

interface Evidence {
  report: Report;
  result: TopologyResult;
  fault: FaultRecord;
}

function windowOf(fault: FaultRecord): [number, number] {
  return [fault.appliedAtS ?? fault.startS, fault.removedAtS ?? fault.endS];
}

function faultPoints(evidence: Evidence): SeriesPoint[] {
  const [from, to] = windowOf(evidence.fault);
  return pointsIn(evidence.result.timeSeries, Math.floor(from), Math.ceil(to));
}

/** Steady-state window of a fault that a runbook line reads. */
type FaultWindow = 'during' | 'recovery';

/**
 * Returns the probe of `metric` in a window of the fault. `during` is the during window
 * that contains the fault's planned start. `recovery` is the first between or after window
 * that opens once the fault has ended.
 */
function probe(evidence: Evidence, window: FaultWindow, metric: string): ProbeResult | undefined {
  const { report, fault } = evidence;
  const check = report.drill?.steadyState.find((entry) =>
    window === 'during'
      ? entry.phase === 'during' && entry.fromS <= fault.startS && fault.startS < entry.toS
      : (entry.phase === 'between' || entry.phase === 'after') && entry.fromS >= fault.endS,
  );
  return check?.probes.find((entry) => entry.metric === metric);
}

function probeSignal(
  label: string,
  result: ProbeResult | undefined,
  format: (value: number) => string,
): Signal {
  if (result === undefined) {
    return { metric: label, threshold: 'not in the hypothesis', measured: 'not measured' };
  }
  const threshold = limitText(result);
  const measured =
    result.value === null
      ? 'no data'
      : `${format(result.value)} (${outcomeText(result, 'pass', 'fail')})`;
  return { metric: label, threshold, measured };
}

function probeLine(result: ProbeResult | undefined, format: (value: number) => string): string {
  if (result === undefined || result.value === null) {
    return 'not measured';
  }
  const outcome = outcomeText(result, 'within', 'outside');
  return `${format(result.value)} (${outcome}${result.passed === null ? '' : ` ${limitText(result)}`})`;
}

/** Words a probe's outcome, so a probe that could not fail in its window reads as unchecked. */
function outcomeText(result: ProbeResult, passed: string, failed: string): string {
  if (result.passed === null) {
    return `not checked in this phase: ${result.notChecked ?? 'no reason recorded'}`;
  }
  return result.passed ? passed : failed;
}

/**
 * Formats a probe's one-sided limit, such as `min 0.99, passes from 0.94`: the tolerance
 * widens the limit on its side only.
 */
function limitText(result: ProbeResult): string {
  if (result.tolerance === 0) return `${result.comparator} ${result.threshold}`;
  const min = result.comparator === 'min';
  const edge = min ? result.threshold - result.tolerance : result.threshold + result.tolerance;
  const passes = min ? `passes from ${roundLimit(edge)}` : `passes up to ${roundLimit(edge)}`;
  return `${result.comparator} ${result.threshold}, ${passes}`;
}

/** Rounds a limit to 6 decimals, so 0.99 - 0.05 prints as 0.94. */
function roundLimit(value: number): number {
  return Number(value.toFixed(6));
}

function worstSecond(
  points: readonly SeriesPoint[],
  pick: (point: SeriesPoint) => number,
  lowest: boolean,
): number | null {
  const values = points.filter((point) => point.requests > 0).map(pick);
  if (values.length === 0) {
    return null;
  }
  return lowest ? Math.min(...values) : Math.max(...values);
}

function orNa(value: number | null, format: (value: number) => string): string {
  return value === null ? 'n/a' : format(value);
}

/** Share of the served requests that `provider` served; null when none was served. */
function servedShare(points: readonly SeriesPoint[], provider: string): number | null {
  let total = 0;
  let mine = 0;
  for (const point of points) {
    for (const [name, count] of Object.entries(point.servedBy)) {
      total += count;
      if (name === provider) mine += count;
    }
  }
  return total === 0 ? null : mine / total;
}

/**
 * Describes the fallback's share of served requests over a fault: the share over the whole
 * window, and in how many seconds with served requests it was above half.
 */
function fallbackShareText(points: readonly SeriesPoint[], fallback: string): string {
  const served = points.filter((point) => servedShare([point], fallback) !== null);
  if (served.length === 0) return 'no served request in the fault window';
  const aboveHalf = served.filter((point) => (servedShare([point], fallback) ?? 0) > 0.5);
  return (
    `${orNa(servedShare(points, fallback), percent)} over the fault window; above half in ` +
    `${aboveHalf.length} of its ${served.length} seconds with served requests`
  );
}

/** Returns the seconds of a report before its first fault, as a baseline. */
function pointsBeforeFaults(report: Report, result: TopologyResult): SeriesPoint[] {
  const firstS = Math.min(...(report.drill?.faults.map((fault) => fault.startS) ?? []));
  return pointsIn(result.timeSeries, 0, Number.isFinite(firstS) ? firstS : 0);
}

function providerOutage(evidence: Evidence): Incident {
  const { report, result, fault } = evidence;
  const timing = report.drill?.timings.find((entry) => entry.faultId === fault.id);
  const primary = fault.target;
  const fallback = timing?.fallback ?? 'the fallback provider';
  const pair = result.failovers.find(
    (entry) => entry.fromProvider === primary && entry.toProvider === fallback,
  );
  const points = faultPoints(evidence);
  const windowSuccess = measureWindow(points, 'successRate');
  const lowest = worstSecond(points, (point) => point.successRate, true);
  const [from, to] = windowOf(fault);
  return {
    key: `provider-outage:${primary}`,
    title: `Provider outage: ${primary}`,
    signals: [
      {
        metric: `\`scalegate_breaker_state{provider="${primary}"}\``,
        threshold:
          'above 0 (1 half-open, 2 open) from the first trip until the provider recovers; 0 is closed',
        measured: breakerMeasured(report, primary, from),
      },
      {
        metric:
          `share of \`scalegate_provider_attempts_total{provider="${fallback}",outcome="success"}\`` +
          ' in all `scalegate_provider_attempts_total{outcome="success"}`',
        threshold: `above half; ${orNa(servedShare(pointsBeforeFaults(report, result), fallback), percent)} before the faults`,
        measured: `${fallbackShareText(points, fallback)} (from the providers' 200 responses)`,
      },
      probeSignal(
        'success rate while faults were active',
        probe(evidence, 'during', 'successRate'),
        percent,
      ),
    ],
    systemActions: [
      `The router failed over from ${primary} to ${fallback} ${count(pair?.activations ?? 0)} times. ` +
        `The count covers requests whose ${primary} attempt failed; once its breaker opened, ` +
        `requests went to ${fallback} directly and are not counted, so ` +
        '`scalegate_failover_activations_total` stops rising while the outage lasts and is no detection signal.',
      `${fallback} carried most of the traffic ${seconds(timing?.detectionS ?? null)} after the outage started (detection time).`,
      `Success rate over the fault window (${from.toFixed(2)}-${to.toFixed(2)} s): ${orNa(windowSuccess, percent)}; worst second: ${orNa(lowest, percent)}.`,
    ],
    operatorSteps: [
      `Confirm the breaker of ${primary} is open (2) or half-open (1): \`curl -s "$GATEWAY_URL/metrics" | grep 'scalegate_breaker_state{provider="${primary}"'\``,
      `Check which provider serves, by outcome: \`curl -s "$GATEWAY_URL/metrics" | grep -E 'scalegate_provider_attempts_total\\{provider="(${primary}|${fallback})"'\``,
      `In a drill environment, set \`PROVIDER_URL\` to ${primary}'s address from \`urls.providers\` and read the injected faults: \`curl -s "$PROVIDER_URL/_control/faults"\`. Clear them with \`curl -s -X DELETE "$PROVIDER_URL/_control/faults"\`.`,
      `Keep ${fallback} within its rate limits while it carries the traffic: \`scalegate_provider_errors_total{provider="${fallback}",error_class="status_429"}\` counts the calls it turned away at a limit. Rerun the drill with \`scalegate drill\` after a policy change.`,
    ],
    verification: [
      `Traffic moved back to ${primary} ${seconds(timing?.recoveryS ?? null)} after the fault ended (recovery time).`,
      `Success rate after settling: ${probeLine(probe(evidence, 'recovery', 'successRate'), percent)}.`,
      `\`scalegate_breaker_state\` for ${primary} is back at 0 (closed).`,
    ],
  };
}

function proxyFault(evidence: Evidence): Incident {
  const { report, fault } = evidence;
  const points = faultPoints(evidence);
  const worstP95 = worstSecond(points, (point) => point.p95S, false);
  const windowSuccess = measureWindow(points, 'successRate');
  const type = fault.description.split(' ')[0] ?? 'toxic';
  const title =
    type === 'latency'
      ? `Latency spike on ${fault.target}`
      : `Network fault (${type}) on ${fault.target}`;
  return {
    key: `toxic:${type}:${fault.target}`,
    title,
    signals: [
      probeSignal(
        'p95 latency while faults were active',
        probe(evidence, 'during', 'p95S'),
        seconds,
      ),
      {
        metric:
          'p95 latency the load generator measured, worst second of this fault (the platform exports it as `scalegate_request_duration_seconds`)',
        threshold: 'above the p95 probe threshold',
        measured: orNa(worstP95, seconds),
      },
    ],
    systemActions: [
      `Fault \`${fault.description}\` on proxy ${fault.target} from ${(fault.appliedAtS ?? fault.startS).toFixed(2)} s to ${(fault.removedAtS ?? fault.endS).toFixed(2)} s.`,
      `Success rate over the fault window: ${orNa(windowSuccess, percent)}; worst per-second p95: ${orNa(worstP95, seconds)}.`,
    ],
    operatorSteps: [
      `Compare latency per provider: \`curl -s "$GATEWAY_URL/metrics" | grep 'scalegate_time_to_first_token_seconds'\``,
      `List the toxics on the proxy: \`curl -s "$PROXY_API/proxies/${fault.target}/toxics"\``,
      `Remove a drill toxic: \`curl -s -X DELETE "$PROXY_API/proxies/${fault.target}/toxics/scalegate-drill-${fault.id}"\``,
    ],
    verification: [
      `p95 after settling: ${probeLine(probe(evidence, 'recovery', 'p95S'), seconds)}.`,
      `\`curl -s "$PROXY_API/proxies/${fault.target}/toxics"\` returns \`[]\`; the drill verified this: ${report.drill?.cleanAfterRollback === true ? 'no toxic was left' : `left ${report.drill?.leftovers.join(', ')}`}.`,
    ],
  };
}

function tenantBurst(evidence: Evidence): Incident {
  const { result, fault } = evidence;
  const burst = fault.burst;
  const tenant = burst?.tenant ?? fault.target;
  const others = result.perTenant.filter((slice) => slice.key !== tenant);
  return {
    key: `tenant-burst:${tenant}`,
    title: `Noisy tenant burst: ${tenant}`,
    signals: [
      {
        metric: `\`scalegate_admission_rejections_total{tenant="${tenant}"}\``,
        threshold: 'rising above 0',
        measured:
          burst === undefined
            ? 'not measured'
            : `${count(burst.shed)} rejected (429/503) of ${count(burst.requests)} burst requests`,
      },
    ],
    systemActions: [
      burst === undefined
        ? 'The burst outcome was not recorded.'
        : `Admission shed ${count(burst.shed)} of ${count(burst.requests)} requests of ${tenant} (${fault.description}); ${count(burst.succeeded)} succeeded.`,
      ...others.map(
        (slice) =>
          `${slice.key} had a success rate of ${percent(slice.successRate)} with p95 ${seconds(slice.latency.p95S)}.`,
      ),
    ],
    operatorSteps: [
      `Watch the rejections: \`curl -s "$GATEWAY_URL/metrics" | grep 'scalegate_admission_rejections_total{tenant="${tenant}"'\``,
      `Check the tenant's limits (requestsPerMinute, tokensPerMinute, maxInFlight, maxRunning) in the tenants file the platform was started with: its --tenants option, or fixtures/tenants.yaml.`,
      `If its async tasks hold the workers, lower its maxRunning in that file and restart the platform, which applies the cap to queued tasks too. Restart only a platform on Redis (REDIS_URL): on the embedded memory drivers a stop fails every queued task of every tenant. Then watch its deferrals: \`curl -s "$GATEWAY_URL/metrics" | grep 'scalegate_running_cap_deferrals_total{tenant="${tenant}"'\``,
      'Confirm other tenants are unaffected: `curl -s "$GATEWAY_URL/metrics" | grep scalegate_gateway_rejections_total`',
    ],
    verification: [
      `Rejections for ${tenant} stop rising once its rate is back under quota.`,
      `Success rate after settling: ${probeLine(probe(evidence, 'recovery', 'successRate'), percent)}.`,
    ],
  };
}

/**
 * Lists the incidents a report's drill exercised, in fault-timeline order.
 * NOTE: a queue-backlog incident needs queue depth in the report, which the schema does not
 * carry yet, so no drill fault produces one.
 */
export function incidentsOf(report: Report): { incident: Incident; report: Report }[] {
  const result = report.topologies[0];
  if (report.drill === null || result === undefined) {
    return [];
  }
  return report.drill.faults.map((fault) => {
    const evidence = { report, result, fault };
    const incident =
      fault.kind === 'provider-fault'
        ? providerOutage(evidence)
        : fault.kind === 'toxic'
          ? proxyFault(evidence)
          : tenantBurst(evidence);
    return { incident, report };
  });
}
