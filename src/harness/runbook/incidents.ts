import type { RejectionReason } from '../../platform/admission/types.js';
import { measureWindow } from '../drill/measures.js';
import { count, percent, seconds } from '../report/format.js';
import { failoverCountText } from './breaker-outage.js';
import { breakerMeasured } from './breaker-signal.js';
import { carriedBreakersText } from './carried-breakers.js';
import { breakerRecoveryCheck, breakerStep } from './breaker-step.js';
import { burstRejectionsText } from './burst-rejections.js';
import {
  type ErrorFailover,
  errorFailoverOf,
  errorFailoverSteps,
  errorSymptom,
  injectedErrorStatus,
} from './error-failover.js';
import { outageFailovers, outsideFailoversText } from './failover-rise.js';
import { firstTokenBaselineText, firstTokenRecoveryText } from './first-token.js';
import { p95Of, READ_GAP_S, rateShare, sumRate, twoReads } from './commands.js';
import {
  type Evidence,
  faultPoints,
  type Incident,
  orNa,
  passEdge,
  pointsBeforeFaults,
  probe,
  probeLine,
  probeSignal,
  successSignal,
  windowOf,
  worstSecond,
} from './evidence.js';
import {
  injectedSettingsText,
  providerFaultConfig,
  providerFaultKind,
  type ProviderFaultKind,
  toxicSettings,
} from './fault-settings.js';
import { type ProviderKindText, providerKindText } from './provider-kinds.js';
import { queueBacklog } from './queue-backlog.js';
import { toxicKindText } from './toxic-kinds.js';
import type { Signal } from './evidence.js';
import type {
  FailoverCount,
  FailoverTiming,
  ProbeResult,
  Report,
  SeriesPoint,
} from '../report/types.js';

export type { Incident, Signal } from './evidence.js';

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
 * Names the whole seconds `points` that cover a fault, such as `the 31 seconds from 20 s to
 * 51 s that cover the fault window`. They reach past the fault's own times, so a figure over
 * them differs from one over those times.
 */
function coveringSecondsText(points: readonly SeriesPoint[]): string {
  const first = points[0];
  const last = points.at(-1);
  if (first === undefined || last === undefined) return 'the fault window, which has no second';
  return `the ${points.length} seconds from ${first.t} s to ${last.t + 1} s that cover the fault window`;
}

/**
 * Describes the fallback's share of served requests over the seconds `points` that cover a
 * fault: the share over all of them, and in how many of those with served requests it was
 * above half.
 */
function fallbackShareText(points: readonly SeriesPoint[], fallback: string): string {
  const served = points.filter((point) => servedShare([point], fallback) !== null);
  if (served.length === 0) return 'no served request in the fault window';
  const aboveHalf = served.filter((point) => (servedShare([point], fallback) ?? 0) > 0.5);
  return (
    `${orNa(servedShare(points, fallback), percent)} over ${coveringSecondsText(points)}; ` +
    `above half in ${aboveHalf.length} of the ${served.length} of them with served requests`
  );
}

/** A detection or recovery time: when `leader` took over most of the traffic from `other`. */
interface Lead {
  leader: string;
  other: string;
  valueS: number | null | undefined;
  /** Event the time counts from, such as `the outage started`. */
  event: string;
  name: 'detection time' | 'recovery time';
}

/**
 * Words a detection or recovery time as a sentence: `clause`, then a bound such as
 * `by 3.99 s after the outage started` and the second it ends with. The drill measures it
 * to the end of a whole second of its series, so it is an upper bound.
 */
function leadSentence(clause: string, { leader, other, valueS, event, name }: Lead): string {
  if (valueS === undefined) {
    return `The drill did not measure the ${name}, because the fault step names no \`failover.fallback\`.`;
  }
  if (valueS === null) {
    return `The drill measured no whole second after ${event} in which ${leader} served more requests than ${other} (${name} not measured).`;
  }
  return `${clause} by ${seconds(valueS)} after ${event} (${name}): the end of the first whole second in which ${leader} served more requests than ${other}.`;
}

/** PromQL p95 of the platform's request latency histogram. */
const PLATFORM_P95 = p95Of('scalegate_request_duration_seconds');

/**
 * Returns the provider that took over from `primary`: the step's `failover.fallback`, else
 * the provider that received the most of `primary`'s failovers in the run.
 */
function fallbackOf(
  timing: FailoverTiming | undefined,
  failovers: readonly FailoverCount[],
  primary: string,
): string | undefined {
  if (timing !== undefined) return timing.fallback;
  const fromPrimary = failovers
    .filter((pair) => pair.fromProvider === primary && pair.activations > 0)
    .sort((a, b) => b.activations - a.activations);
  return fromPrimary[0]?.toProvider;
}

/**
 * Returns the step that reads the error class a provider fault's failed calls get, or
 * undefined when the kind has no single class.
 */
function errorClassStep(primary: string, errorClass: string | undefined): string[] {
  if (errorClass === undefined) return [];
  return [
    `Confirm the fault's failure mode: an \`error_class="${errorClass}"\` line of ${primary} that changes between the two reads of ${twoReads(`scalegate_provider_errors_total\\{provider="${primary}".*error_class="${errorClass}"`)} is calls to ${primary} still failing this way. No line means no call to ${primary} failed this way since the platform started.`,
  ];
}

/** An injected error status that the report does not show the router failing over for. */
interface UnshownFailover {
  kind: 'outage' | 'errors';
  status: number;
  failover: Exclude<ErrorFailover, 'failed-over'>;
}

/**
 * Returns the status an outage or injected-errors fault injects when the report does not
 * show the router failing over for it, else undefined.
 */
function unshownFailoverOf(
  evidence: Evidence,
  kind: ProviderFaultKind,
): UnshownFailover | undefined {
  if (kind !== 'outage' && kind !== 'errors') return undefined;
  const status = injectedErrorStatus(providerFaultConfig(evidence.fault.description));
  if (status === undefined) return undefined;
  const failover = errorFailoverOf(evidence);
  return failover === 'failed-over' ? undefined : { kind, status, failover };
}

/**
 * Builds the incident of a provider fault that fails calls, which the router sends to another
 * provider when their error class is in the route's `failoverOn`: an outage, injected
 * errors, rate limiting, a hang or a broken stream.
 */
function providerFailure(
  evidence: Evidence,
  kind: ProviderFaultKind,
  text: ProviderKindText,
): Incident {
  const { report, result, fault } = evidence;
  const unshown = unshownFailoverOf(evidence, kind);
  const timing = report.drill?.timings.find((entry) => entry.faultId === fault.id);
  const primary = fault.target;
  // NOTE: without a named fallback or a recorded failover, the commands below keep the
  // placeholder text in their provider label, so they need editing before use.
  const fallback = fallbackOf(timing, result.failovers, primary) ?? 'the fallback provider';
  const pair = result.failovers.find(
    (entry) => entry.fromProvider === primary && entry.toProvider === fallback,
  );
  const points = faultPoints(evidence);
  const windowSuccess = measureWindow(points, 'successRate');
  const lowest = worstSecond(points, (point) => point.successRate, true);
  const [from, to] = windowOf(fault);
  const outage = { primary, fallback, fromS: from, toS: to, noun: text.noun };
  // From schema version 5 on, the outage's own failovers; the whole run's before.
  const split = outageFailovers(report, result.timeSeries, outage);
  const activations = split?.during ?? pair?.activations ?? 0;
  const outside = split === undefined ? '' : outsideFailoversText(outage, split);
  return {
    key: text.key,
    title: text.title,
    symptom:
      unshown === undefined
        ? text.symptom
        : errorSymptom(unshown.kind, primary, unshown.status, unshown.failover),
    injected: injectedSettingsText(fault),
    signals: [
      {
        metric: `\`scalegate_breaker_state{provider="${primary}"}\``,
        threshold:
          'above 0 (1 half-open, 2 open) from the first trip until the provider recovers; 0 is closed',
        measured: breakerMeasured(report, primary, from, text.noun),
      },
      {
        metric:
          `${fallback}'s share of the successful provider calls: ` +
          rateShare(
            `scalegate_provider_attempts_total{provider="${fallback}",outcome="success"}`,
            'scalegate_provider_attempts_total{outcome="success"}',
          ),
        threshold: `above half; ${orNa(servedShare(pointsBeforeFaults(report, result), fallback), percent)} before the faults`,
        measured: `${fallbackShareText(points, fallback)} (from the providers' 200 responses)`,
      },
      successSignal(probe(evidence, 'during', 'successRate')),
    ],
    systemActions: [
      `${failoverCountText(report, outage, activations)}${outside}`,
      leadSentence(`${fallback} carried most of the traffic`, {
        leader: fallback,
        other: primary,
        valueS: timing?.detectionS,
        event: `the ${text.noun} started`,
        name: 'detection time',
      }),
      `Success rate over ${coveringSecondsText(points)} (${from.toFixed(2)}-${to.toFixed(2)} s): ${orNa(windowSuccess, percent)}; worst second: ${orNa(lowest, percent)}.`,
    ],
    operatorSteps: [
      breakerStep(report, outage, activations, points),
      `Check which provider serves now, by outcome. The counters are totals since the platform started, so this command prints them twice, ${READ_GAP_S} s apart, and the lines that changed are the current traffic: ${twoReads(`scalegate_provider_attempts_total\\{provider="(${primary}|${fallback})"`)}`,
      ...errorClassStep(primary, text.errorClass),
      ...(unshown === undefined
        ? []
        : errorFailoverSteps(primary, unshown.status, unshown.failover)),
      `In a drill environment, set \`PROVIDER_URL\` to ${primary}'s address from \`urls.providers\` and read the injected faults: \`curl -s "$PROVIDER_URL/_control/faults"\`. Clear them with \`curl -s -X DELETE "$PROVIDER_URL/_control/faults"\`.`,
      // A fallback that gets none of the failed calls has no extra traffic to turn away.
      ...(unshown?.failover === 'not-failed-over'
        ? []
        : [
            `Check that ${fallback} does not turn the extra traffic away at its rate limit: a \`status_429\` line that changes between the two reads of ${twoReads(`scalegate_provider_errors_total\\{provider="${fallback}".*error_class="status_429"`)} means it does. No line means no call was rate-limited since the platform started.`,
          ]),
      'Drill a changed route policy with `make policy-gate POLICY=path/to/policy.yaml` before it goes live: the gate exits 0 only when the policy passes this drill.',
    ],
    verification: [
      `Success rate after settling: ${probeLine(probe(evidence, 'recovery', 'successRate'), percent)}.`,
      breakerRecoveryCheck(report, outage, result.timeSeries),
      `Step 2's command shows ${primary}'s \`outcome="success"\` line rising again. ` +
        leadSentence(`In the drill, traffic moved back to ${primary}`, {
          leader: primary,
          other: fallback,
          valueS: timing?.recoveryS,
          event: 'the fault ended',
          name: 'recovery time',
        }),
    ],
  };
}

/**
 * Words the p95 recovery check on `/metrics`. Its limit is the one the drill's p95 probe
 * passes at after settling, tolerance included, so a value the drill called recovered reads
 * as recovered here too.
 */
function platformP95Recovery(result: ProbeResult | undefined): string {
  const buckets =
    "Its buckets are 1 s wide from 2 s to 12 s, so it can differ from the load generator's p95 by up to 1 s.";
  if (result === undefined) {
    return `On \`/metrics\`, ${PLATFORM_P95} is back under the p95 limit. ${buckets}`;
  }
  const limit =
    result.tolerance === 0
      ? `the p95 probe's ${result.comparator} after settling`
      : `the p95 probe's ${result.comparator} of ${result.threshold} s plus its tolerance after settling`;
  const measured =
    result.value === null
      ? 'the drill measured no p95 there'
      : `the drill's load generator measured ${seconds(result.value)} there`;
  return `On \`/metrics\`, ${PLATFORM_P95} is back at or under ${passEdge(result)} s, ${limit}; ${measured}. ${buckets}`;
}

/** Signals of a fault that slows calls: the drill's p95 probe and this fault's worst second. */
function latencySignals(evidence: Evidence, worstP95: number | null): Signal[] {
  const p95Probe = probe(evidence, 'during', 'p95S');
  return [
    probeSignal('p95 latency while faults were active', PLATFORM_P95, p95Probe, seconds),
    {
      metric: 'p95 latency the load generator measured, worst second of this fault',
      threshold:
        p95Probe === undefined
          ? 'no p95 probe in the hypothesis'
          : `above ${p95Probe.threshold} s, the p95 probe's ${p95Probe.comparator}`,
      measured: orNa(worstP95, seconds),
    },
  ];
}

/** Returns the worst per-second p95 over the seconds that cover a fault. */
function worstP95Of(points: readonly SeriesPoint[]): number | null {
  return worstSecond(
    points,
    (point) => point.p95S,
    false,
    (point) => point.successes,
  );
}

/** Words the step that compares the fault target's time to first token with its baseline. */
function firstTokenStep(evidence: Evidence): string {
  return `Compare the time to first token per provider: \`_sum\` over \`_count\` is a provider's mean since the platform started, and the change of both between the two reads of ${twoReads('scalegate_time_to_first_token_seconds_sum', 'scalegate_time_to_first_token_seconds_count')} gives the mean of the last ${READ_GAP_S} s.${firstTokenBaselineText(evidence)}`;
}

/** Names step 1 of an incident that opens with {@link firstTokenStep} as the mean's source. */
function firstTokenStepReading(provider: string): string {
  return `Step 1's mean for ${provider} over ${READ_GAP_S} s`;
}

/**
 * Names the command that reads `provider`'s mean time to first token, for an incident whose
 * steps do not compare it.
 */
function firstTokenCommandReading(provider: string): string {
  const samples = `scalegate_time_to_first_token_seconds_(sum|count)\\{provider="${provider}"`;
  return `The mean time to first token of ${provider} over the last ${READ_GAP_S} s, the change of \`_sum\` over the change of \`_count\` between the two reads of ${twoReads(samples)},`;
}

/**
 * Words the p95 and first-token checks of a fault that slowed calls, once it has ended.
 * `firstTokenReading` names where the operator reads the fault target's mean time to first
 * token.
 */
function latencyVerification(evidence: Evidence, firstTokenReading: string): string[] {
  const recoveryP95 = probe(evidence, 'recovery', 'p95S');
  const firstTokenRecovery = firstTokenRecoveryText(evidence, firstTokenReading);
  return [
    `p95 after settling: ${probeLine(recoveryP95, seconds)}.`,
    platformP95Recovery(recoveryP95),
    ...(firstTokenRecovery === undefined ? [] : [firstTokenRecovery]),
  ];
}

/** Words whether the drill's rollback left a fault behind. */
function rollbackText(report: Report, cleared: string): string {
  return report.drill?.cleanAfterRollback === true
    ? `the drill verified this: ${cleared}`
    : `the drill left ${report.drill?.leftovers.join(', ')}`;
}

/**
 * Builds the incident of a provider fault that only delays the first token: every call
 * succeeds later than usual, unless the delay passes the route's first-token timeout.
 */
function providerSlowdown(evidence: Evidence, text: ProviderKindText): Incident {
  const { report, fault } = evidence;
  const provider = fault.target;
  const points = faultPoints(evidence);
  const worstP95 = worstP95Of(points);
  const [from, to] = windowOf(fault);
  return {
    key: text.key,
    title: text.title,
    symptom: text.symptom,
    injected: injectedSettingsText(fault),
    signals: [
      ...latencySignals(evidence, worstP95),
      successSignal(probe(evidence, 'during', 'successRate')),
    ],
    systemActions: [
      `Provider fault \`${fault.description}\` on ${provider} from ${from.toFixed(2)} s to ${to.toFixed(2)} s.`,
      `Success rate over ${coveringSecondsText(points)}: ${orNa(measureWindow(points, 'successRate'), percent)}; worst per-second p95: ${orNa(worstP95, seconds)}.`,
    ],
    operatorSteps: [
      firstTokenStep(evidence),
      `Check whether calls to ${provider} time out: an \`error_class="first_token_timeout"\` line of ${provider} that changes between the two reads of ${twoReads(`scalegate_provider_errors_total\\{provider="${provider}".*error_class="first_token_timeout"`)} is calls whose first token came later than their route's \`firstTokenTimeoutMs\` in the policy, which then go to another provider.`,
      `In a drill environment, set \`PROVIDER_URL\` to ${provider}'s address from \`urls.providers\` and read the injected faults: \`curl -s "$PROVIDER_URL/_control/faults"\`. Clear them with \`curl -s -X DELETE "$PROVIDER_URL/_control/faults"\`.`,
    ],
    verification: [
      ...latencyVerification(evidence, firstTokenStepReading(provider)),
      `\`curl -s "$PROVIDER_URL/_control/faults"\` prints no fault setting; ${rollbackText(report, 'no provider fault was left')}.`,
    ],
  };
}

/** Builds the incident of a mock provider fault, by the kind of its settings. */
function providerFault(evidence: Evidence): Incident {
  const kind = providerFaultKind(providerFaultConfig(evidence.fault.description));
  const text = providerKindText(kind, evidence.fault.target);
  return kind === 'slowdown'
    ? providerSlowdown(evidence, text)
    : providerFailure(evidence, kind, text);
}

function proxyFault(evidence: Evidence): Incident {
  const { report, fault } = evidence;
  const points = faultPoints(evidence);
  const worstP95 = worstP95Of(points);
  const windowSuccess = measureWindow(points, 'successRate');
  const toxic = toxicSettings(fault.description);
  const type = toxic?.type ?? fault.description.split(' ')[0] ?? 'toxic';
  const text = toxicKindText(toxic?.type, fault.target, fault.toxic?.stream);
  const signals = latencySignals(evidence, worstP95);
  const firstStep = text.failsCalls
    ? `Check how calls to ${fault.target} fail: a line that changes between the two reads of ${twoReads(`scalegate_provider_errors_total\\{provider="${fault.target}"`)} is calls still failing, by \`error_class\`.`
    : firstTokenStep(evidence);
  return {
    key: `toxic:${type}:${fault.target}${text.onRequests === true ? ':upstream' : ''}`,
    title: text.title,
    symptom: text.symptom,
    injected: injectedSettingsText(fault),
    signals: text.failsCalls
      ? [successSignal(probe(evidence, 'during', 'successRate')), ...signals]
      : signals,
    systemActions: [
      `Fault \`${fault.description}\` on proxy ${fault.target} from ${(fault.appliedAtS ?? fault.startS).toFixed(2)} s to ${(fault.removedAtS ?? fault.endS).toFixed(2)} s.`,
      `Success rate over ${coveringSecondsText(points)}: ${orNa(windowSuccess, percent)}; worst per-second p95: ${orNa(worstP95, seconds)}.`,
    ],
    operatorSteps: [
      firstStep,
      `List the toxics on the proxy: \`curl -s "$PROXY_API/proxies/${fault.target}/toxics"\``,
      `Remove a drill toxic: \`curl -s -X DELETE "$PROXY_API/proxies/${fault.target}/toxics/scalegate-drill-${fault.id}"\``,
    ],
    verification: [
      ...(text.failsCalls
        ? [
            `Success rate after settling: ${probeLine(probe(evidence, 'recovery', 'successRate'), percent)}.`,
          ]
        : []),
      ...latencyVerification(
        evidence,
        text.failsCalls
          ? firstTokenCommandReading(fault.target)
          : firstTokenStepReading(fault.target),
      ),
      `\`curl -s "$PROXY_API/proxies/${fault.target}/toxics"\` returns \`[]\`; ${rollbackText(report, 'no toxic was left')}.`,
    ],
  };
}

/**
 * Tenants-file field behind each `reason` label of `scalegate_admission_rejections_total`
 * that a tenant's limit sets. Typed by the reasons, so a new one must be added here.
 */
const REASON_LIMITS: Record<Exclude<RejectionReason, 'backpressure'>, string> = {
  requests_per_minute: 'requestsPerMinute',
  tokens_per_minute: 'tokensPerMinute',
  in_flight: 'maxInFlight',
  budget: 'budgetUsd over its budgetPeriod',
};

/** Lists the reasons and their fields, such as `` `budget` is budgetUsd ``. */
function reasonLimits(): string {
  const pairs = Object.entries(REASON_LIMITS).map(([reason, field]) => `\`${reason}\` is ${field}`);
  return `${pairs.slice(0, -1).join(', ')} and ${pairs.at(-1)}`;
}

/**
 * Words the read of a tenant's budget gauges for `budget` rejections. They are gauges, so
 * one read shows the current values.
 */
function budgetReadText(tenant: string): string {
  const gauges = [
    'scalegate_tenant_budget_usd',
    'scalegate_tenant_spend_usd',
    'scalegate_tenant_reserved_usd',
  ];
  const selectors = gauges.map((gauge) => `${gauge}\\{tenant="${tenant}"`).join('|');
  return `For \`budget\`, read the tenant's budget, its spend and its open reservations in the current budget period, in US dollars, with \`curl -s "$GATEWAY_URL/metrics" | grep -E '${selectors}'\`. Spend plus reservations near the budget means 429 \`budget\` rejections go on until running tasks settle below their reservations, the period named by the \`period\` label resets (\`day\` at 00:00 UTC, \`month\` at 00:00 UTC on the 1st, \`total\` never), or budgetUsd is raised.`;
}

/**
 * Names the tenants file that the drill's platform read, whose limits gave the rejections this
 * incident cites, or '' for a report that predates the record of that file.
 */
function drillTenantsText(report: Report): string {
  const { tenantsPath, tenantsHash } = report.environment;
  if (tenantsPath === undefined || tenantsHash === undefined) return '';
  return ` The drill's platform read \`${tenantsPath}\` (sha256 ${tenantsHash.slice(0, 12)}), so the rejections cited here come from its limits.`;
}

/**
 * `limit` labels of `scalegate_gateway_rejections_total` that a tenant's load can reach: the
 * tenant quotas and in-flight cap that `limitFor` in admission/decision.ts names, and the
 * queue limits of admission/backpressure.ts. The other labels reject a request for its own
 * size, its tenant's spend or a failed enqueue, such as `contextWindowTokens` or `budget_usd`.
 */
const LOAD_LIMITS = [
  'requests_per_minute',
  'tokens_per_minute',
  'max_in_flight',
  'queue_depth',
  'queue_oldest_age_ms',
] as const;

/**
 * Words the check that a burst leaves the other tenants alone. Its grep keeps only the
 * rejections at `LOAD_LIMITS` with status 429, or 503 at a hard backpressure limit, because a
 * 413 `tokens_per_minute` is a request larger than its tenant's whole token bucket.
 */
function otherTenantsStep(): string {
  const limits = LOAD_LIMITS.map((limit) => `\`${limit}\``);
  const rejections = `scalegate_gateway_rejections_total\\{[^}]*limit="(${LOAD_LIMITS.join('|')})",status="(429|503)"`;
  return `Confirm other tenants are unaffected: between the two reads of ${twoReads(rejections, 'scalegate_requests_total\\{')} no rejection line of another tenant changes, and neither do their \`outcome="failed"\` lines. The command prints only rejections at the limits that the burst's load can reach: a quota, in-flight or backpressure limit (${limits.slice(0, -1).join(', ')} or ${limits.at(-1)}) with status 429 or 503. It leaves out rejections for a request's own size or its tenant's spend, such as \`contextWindowTokens\` or \`budget_usd\`, which another tenant's burst does not cause.`;
}

function tenantBurst(evidence: Evidence): Incident {
  const { report, result, fault } = evidence;
  const burst = fault.burst;
  const tenant = burst?.tenant ?? fault.target;
  const others = result.perTenant.filter((slice) => slice.key !== tenant);
  const rejections = `scalegate_admission_rejections_total{tenant="${tenant}"}`;
  return {
    key: `tenant-burst:${tenant}`,
    title: `Noisy tenant burst: ${tenant}`,
    symptom: `${tenant} sends requests above its quota, so admission rejects its excess with 429 (or 503 under backpressure) while the other tenants keep their share.`,
    injected: injectedSettingsText(fault),
    signals: [
      {
        metric: `\`${rejections}\``,
        threshold: `rising: \`${sumRate(rejections)}\` above 0`,
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
      `While faults were active, the main load of ${report.scenario.tenants.join(', ')} had a success rate of ${probeLine(probe(evidence, 'during', 'successRate'), percent)} and a p95 of ${probeLine(probe(evidence, 'during', 'p95S'), seconds)}.`,
      ...others.map(
        (slice) =>
          `Over the whole drill, other faults included, ${slice.key} had a success rate of ${percent(slice.successRate)} with p95 ${seconds(slice.latency.p95S)}.`,
      ),
    ],
    operatorSteps: [
      `Watch the rejections, read twice ${READ_GAP_S} s apart: a line that changed is the tenant still being turned away, by reason: ${twoReads(`scalegate_admission_rejections_total\\{tenant="${tenant}"`)}`,
      `Find the limit behind each reason of step 1 in the tenants file the platform was started with, its --tenants option, or fixtures/tenants.yaml: ${reasonLimits()}. \`backpressure\` is the platform's queue backlog, which no limit of the tenant sets.${drillTenantsText(report)} ${budgetReadText(tenant)}`,
      `If its async tasks hold the workers, lower its maxRunning in that file and restart the platform, which applies the cap to queued tasks too. Restart only a platform on Redis (REDIS_URL), with the same REDIS_URL and \`--key-prefix\` so it finds the queued tasks: on the embedded memory drivers a stop fails every queued task of every tenant. Then check that its deferrals rise between the two reads of ${twoReads(`scalegate_running_cap_deferrals_total\\{tenant="${tenant}"`)}, which shows the cap holding its tasks back.`,
      otherTenantsStep(),
    ],
    verification: [
      `Rejections for ${tenant} stop rising once its rate is back under quota: step 1's two reads print the same lines. ${burstRejectionsText(result.timeSeries, tenant, windowOf(fault), report.schemaVersion)}`,
      `Success rate after settling: ${probeLine(probe(evidence, 'recovery', 'successRate'), percent)}.`,
    ],
  };
}

/** Adds to a provider or proxy incident's system actions the breakers it started with open. */
function withCarriedBreakers(incident: Incident, evidence: Evidence): Incident {
  const carried = carriedBreakersText(evidence.report, evidence.fault);
  if (carried === undefined) return incident;
  return { ...incident, systemActions: [...incident.systemActions, carried] };
}

/** Builds the incident of one fault; undefined for a worker pause without its record. */
function incidentOf(evidence: Evidence): Incident | undefined {
  switch (evidence.fault.kind) {
    case 'provider-fault':
      return withCarriedBreakers(providerFault(evidence), evidence);
    case 'toxic':
      return withCarriedBreakers(proxyFault(evidence), evidence);
    case 'tenant-burst':
      return tenantBurst(evidence);
    case 'worker-pause':
      return queueBacklog(evidence);
  }
}

/**
 * Lists the incidents a report's drill exercised, in fault-timeline order. A worker pause
 * gives the queue-backlog incident once its report records what backpressure shed.
 */
export function incidentsOf(report: Report): { incident: Incident; report: Report }[] {
  const result = report.topologies[0];
  if (report.drill === null || result === undefined) {
    return [];
  }
  return report.drill.faults.flatMap((fault) => {
    const incident = incidentOf({ report, result, fault });
    return incident === undefined ? [] : [{ incident, report }];
  });
}
