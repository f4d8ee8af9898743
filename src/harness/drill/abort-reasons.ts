/**
 * Reasons of an aborted drill beyond the abort itself: the breakers that opened, which point
 * at the provider whose calls failed, and the load generator's lag, which may point at the
 * machine instead.
 */
import { isStoppedEarlyReason } from '../load/health.js';
import type {
  BreakerRecord,
  BreakerTransitionRecord,
  DrillJournal,
  FaultRecord,
  TopologyResult,
} from '../report/types.js';

/** An opened breaker with the role the drill gave its provider. */
interface OpenedBreaker {
  target: BreakerRecord;
  opens: BreakerTransitionRecord[];
  /** Primaries that the drill expects to fail over to this breaker's provider, if any. */
  fallbackFor: string[];
}

/**
 * Returns the error class that opened a breaker, from reasons such as `failure threshold
 * reached, last error first_token_timeout; half-open in 15000 ms` or `half-open probe failed
 * with status_5xx; ...`, or undefined when the reason names none.
 */
function openingErrorClass(reason: string | undefined): string | undefined {
  const match = /(?:last error|probe failed with) ([^;\s]+)/.exec(reason ?? '');
  return match?.[1];
}

/** Returns the infrastructure faults on `provider` that were active at `atS`. */
function faultsActiveAt(
  faults: readonly FaultRecord[],
  provider: string,
  atS: number,
): FaultRecord[] {
  return faults.filter(
    (fault) =>
      (fault.kind === 'toxic' || fault.kind === 'provider-fault') &&
      fault.target === provider &&
      fault.appliedAtS !== null &&
      fault.appliedAtS <= atS &&
      (fault.removedAtS === null || fault.removedAtS >= atS),
  );
}

function describeBreaker(opened: OpenedBreaker, faults: readonly FaultRecord[]): string {
  const { target, opens, fallbackFor } = opened;
  const last = opens.at(-1) as BreakerTransitionRecord;
  const role = fallbackFor.length === 0 ? '' : ` (fallback of ${fallbackFor.join(', ')})`;
  const times =
    opens.length === 1
      ? `opened at ${last.atS.toFixed(2)} s`
      : `opened ${opens.length} times, last at ${last.atS.toFixed(2)} s`;
  const errorClass = openingErrorClass(last.reason);
  const error = errorClass === undefined ? 'last error not recorded' : `last error ${errorClass}`;
  const active = faultsActiveAt(faults, target.provider, last.atS);
  let during = '';
  if (active.length > 0) {
    const named = active.map((fault) => `${fault.id} (${fault.description})`).join(', ');
    during = ` while fault ${named} was active on ${target.provider}`;
    // A latency fault delays the first token, so a first-token timeout close to the added
    // latency fails the slower calls to that provider.
    if (errorClass === 'first_token_timeout' && active.some((fault) => fault.kind === 'toxic')) {
      during += ", so compare the route's firstTokenTimeoutMs with the latency it adds";
    }
  }
  return `${target.provider}/${target.model}${role} ${times}, ${error}${during}`;
}

/**
 * Returns a reason naming each breaker that opened during the drill, with its last error and
 * the faults active on its provider then, or none when no breaker opened. A fallback's
 * breaker comes first, because with it open the route has no provider left while the primary
 * is down, which fails requests with 503.
 */
export function openedBreakersReason(journal: DrillJournal): string[] {
  const opened: OpenedBreaker[] = [];
  for (const target of journal.breakers?.targets ?? []) {
    const opens = target.transitions.filter((transition) => transition.to === 'open');
    if (opens.length === 0) continue;
    const fallbackFor = journal.timings
      .filter((timing) => timing.fallback === target.provider)
      .map((timing) => timing.primary);
    opened.push({ target, opens, fallbackFor });
  }
  if (opened.length === 0) return [];
  opened.sort(
    (left, right) =>
      Number(right.fallbackFor.length > 0) - Number(left.fallbackFor.length > 0) ||
      (left.opens[0]?.atS ?? 0) - (right.opens[0]?.atS ?? 0),
  );
  const described = opened.map((entry) => describeBreaker(entry, journal.faults));
  return [`breakers opened during the drill: ${described.join('; ')}`];
}

function percentText(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/**
 * Returns a reason naming how the load generator fell behind in an aborted run, or none when
 * it kept up. In a drill the generator shares its process with the gateway and router, so
 * lag delays sends and replies alike, and the failures that fired the abort may then come
 * from the machine. The reason advises a rerun only when the lag can explain the failures.
 */
export function machineLagReason(result: TopologyResult | null, abortedAtS: number): string[] {
  if (result === null) return [];
  const lagged = result.harness.reasons.filter((reason) => !isStoppedEarlyReason(reason));
  if (lagged.length === 0) return [];

  const heading = `load generator behind schedule in this run: ${lagged.join('; ')}`;
  const rerun =
    'rerun the drill on a quieter machine or at a lower --time-scale before changing the policy';
  const { behindMs } = result.harness;
  if (behindMs === undefined || abortedAtS <= 0) {
    return [`${heading}; the failures may come from an overloaded machine, so ${rerun}`];
  }

  // A stall delays the requests in flight across it, so lag can fail about the share of
  // requests that ran while the generator was behind. NOTE: comparing the share of time
  // behind schedule with the share of failed requests is a judgement call, not a measured
  // bound. Requests that span a stall's edges, and breakers that a stall's timeouts open,
  // make the true share larger, and requests a stall delays without failing them make it
  // smaller.
  const behindShare = Math.min(1, behindMs / 1000 / abortedAtS);
  const failedShare = 1 - result.successRate;
  const measured =
    `it was behind for ${percentText(behindShare)} of the ${abortedAtS.toFixed(2)} s before ` +
    `the abort, and ${percentText(failedShare)} of ended requests failed`;

  if (behindShare >= failedShare) {
    return [
      `${heading}; ${measured}, so the failures may come from an overloaded machine; ${rerun}`,
    ];
  }
  const explained = percentText(behindShare / failedShare);
  return [
    `${heading}; ${measured}, so machine lag directly explains an estimated ${explained} of ` +
      'the failures. The rest likely come from the platform, though calls that the lag ' +
      'delays past a timeout can also open a breaker, whose failures outlast the lag',
  ];
}
