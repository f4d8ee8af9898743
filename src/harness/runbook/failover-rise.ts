/**
 * The failover counter's rise over seconds of a drill report's series, for the provider
 * outage's first operator step and its recovery check. From schema version 5 on, the series
 * splits failovers by provider pair, so the text cites the failovers from the failed
 * provider and where they went. Older reports give only the sum over every provider pair.
 */
import { count } from '../report/format.js';
import { FAILOVER_PAIRS_SCHEMA_VERSION, type Report, type SeriesPoint } from '../report/types.js';
import type { Outage } from './breaker-outage.js';

/** Failovers from one provider over some seconds of the series. */
interface FailoversFrom {
  /** Seconds of the span. Those without a read of the pairs also count in `unread`. */
  seconds: number;
  unread: number;
  total: number;
  /** The same failovers per provider they went to. */
  byTarget: Map<string, number>;
}

/** Sums the failovers from `provider` over `points`, per provider they went to. */
function failoversFrom(points: readonly SeriesPoint[], provider: string): FailoversFrom {
  const byTarget = new Map<string, number>();
  let unread = 0;
  for (const point of points) {
    if (point.failoversByPair === undefined) {
      unread += 1;
      continue;
    }
    for (const [target, activations] of Object.entries(point.failoversByPair[provider] ?? {})) {
      byTarget.set(target, (byTarget.get(target) ?? 0) + activations);
    }
  }
  const total = [...byTarget.values()].reduce((sum, activations) => sum + activations, 0);
  return { seconds: points.length, unread, total, byTarget };
}

/** Lists the providers failed over to, most failovers first, as ` (756 to b, 28 to c)`, or ''. */
function targetsText(failovers: FailoversFrom): string {
  if (failovers.total === 0) return '';
  const targets = [...failovers.byTarget.entries()]
    .filter(([, activations]) => activations > 0)
    .sort(([nameA, a], [nameB, b]) => b - a || nameA.localeCompare(nameB))
    .map(([target, activations]) => `${count(activations)} to ${target}`);
  return ` (${targets.join(', ')})`;
}

/** Returns the counter of the failovers from `provider`, in Markdown code. */
function failoversFromMetric(provider: string): string {
  return `\`scalegate_failover_activations_total{from_provider="${provider}"}\``;
}

/** Describes the rise of the counter as `rose by 784 (756 to provider-b, 28 to provider-c)`. */
function riseText(failovers: FailoversFrom): string {
  return `rose by ${count(failovers.total)}${targetsText(failovers)}`;
}

/** Notes seconds of a span that carry no read of the pairs, or returns ''. */
function unreadText(failovers: FailoversFrom): string {
  return failovers.unread === 0 ? '' : ` (${failovers.unread} of them without a read)`;
}

/** Returns the mean failovers per second over the seconds with a read, or `n/a` without one. */
function perSecond(failovers: FailoversFrom): string {
  const read = failovers.seconds - failovers.unread;
  return read === 0 ? 'n/a' : (failovers.total / read).toFixed(1);
}

/** Sums the series' failovers, which count every provider pair, over `points`. */
function failoversIn(points: readonly SeriesPoint[]): number {
  return points.reduce((total, point) => total + point.failovers, 0);
}

/** Returns whether the report's series splits failovers by provider pair. */
function hasFailoverPairs(report: Report): boolean {
  return report.schemaVersion >= FAILOVER_PAIRS_SCHEMA_VERSION;
}

/**
 * Describes the failover counter over the fault window's seconds `points`: its rise and its
 * rate per second, from the failed provider when the series splits failovers by provider
 * pair, over every pair otherwise.
 */
export function windowFailoverText(
  report: Report,
  points: readonly SeriesPoint[],
  outage: Outage,
): string {
  const window = `${outage.fromS.toFixed(2)}-${outage.toS.toFixed(2)} s`;
  if (points.length === 0) {
    return `The report's series has no second inside the fault window (${window}).`;
  }
  const fromS = points[0]?.t ?? 0;
  const toS = (points.at(-1)?.t ?? 0) + 1;
  if (hasFailoverPairs(report)) {
    const failovers = failoversFrom(points, outage.primary);
    return (
      `Over the ${points.length} seconds from ${fromS} s to ${toS} s${unreadText(failovers)} ` +
      `that cover the fault window (${window}), ${failoversFromMetric(outage.primary)} ` +
      `${riseText(failovers)}, ${perSecond(failovers)} per second.`
    );
  }
  const total = failoversIn(points);
  const rate = (total / points.length).toFixed(1);
  return (
    `Over the ${points.length} seconds from ${fromS} s to ${toS} s that cover the fault ` +
    `window (${window}), \`scalegate_failover_activations_total\` rose by ${count(total)}, ` +
    `${rate} per second, counting every provider pair.`
  );
}

/**
 * Describes the failover counter's rise over `after`, the seconds from `endS` s to the end
 * of the load: from the failed provider when the series splits failovers by provider pair,
 * over every pair otherwise.
 */
export function afterFailoverText(
  report: Report,
  after: readonly SeriesPoint[],
  primary: string,
  endS: number,
): string {
  const span = `from ${endS} s to the drill's last reading at ${(after.at(-1)?.t ?? endS) + 1} s`;
  if (hasFailoverPairs(report)) {
    const failovers = failoversFrom(after, primary);
    return (
      `In the drill, ${failoversFromMetric(primary)} ${riseText(failovers)} over the ` +
      `${after.length} seconds ${span}${unreadText(failovers)}.`
    );
  }
  return (
    `In the drill, \`scalegate_failover_activations_total\` rose by ` +
    `${count(failoversIn(after))} over the ${after.length} seconds ${span}, counting every ` +
    'provider pair.'
  );
}

/** Failovers from the failed provider to the fallback, inside the outage's span and outside it. */
export interface OutageFailovers {
  during: number;
  /** Seconds outside the span with such failovers, as `{ t, count }`, in time order. */
  outside: { t: number; count: number }[];
}

/**
 * Splits the failovers from the failed provider to the fallback in `points`, the whole
 * series, into those of the outage and the rest. The outage's span covers the seconds from
 * the fault's start to its end, or to the last closing of a breaker of the failed provider
 * after the start when that came later. Returns undefined for a report whose series does not
 * split failovers by provider pair.
 */
export function outageFailovers(
  report: Report,
  points: readonly SeriesPoint[],
  outage: Outage,
): OutageFailovers | undefined {
  if (!hasFailoverPairs(report)) return undefined;
  const closings = (report.drill?.breakers?.targets ?? [])
    .filter((target) => target.provider === outage.primary)
    .flatMap((target) => target.transitions)
    .filter((entry) => entry.to === 'closed' && entry.atS >= outage.fromS)
    .map((entry) => entry.atS);
  const endS = Math.max(outage.toS, ...closings);
  const split: OutageFailovers = { during: 0, outside: [] };
  for (const point of points) {
    const activations = point.failoversByPair?.[outage.primary]?.[outage.fallback] ?? 0;
    if (activations === 0) continue;
    // A second counts as the outage's when any part of it lies inside the span.
    if (point.t + 1 > outage.fromS && point.t < endS) split.during += activations;
    else split.outside.push({ t: point.t, count: activations });
  }
  return split;
}

/**
 * Describes the failovers outside the outage that the outage's count leaves out, or returns
 * '' when there are none.
 */
export function outsideFailoversText(outage: Outage, split: OutageFailovers): string {
  if (split.outside.length === 0) return '';
  const total = split.outside.reduce((sum, second) => sum + second.count, 0);
  const seconds = split.outside.map((second) => `${second.t}-${second.t + 1} s`).join(', ');
  const times = total === 1 ? 'failover' : 'failovers';
  return (
    ` The drill also counted ${count(total)} ${times} from ${outage.primary} to ` +
    `${outage.fallback} outside the ${outage.noun} and the breaker's recovery, in the seconds ` +
    `${seconds}, which this count leaves out.`
  );
}
