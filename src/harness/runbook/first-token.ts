/** Times to first token of a provider before, during and after a fault, from a drill series. */
import { pointsIn } from '../drill/measures.js';
import { seconds } from '../report/format.js';
import { FIRST_TOKEN_SCHEMA_VERSION, type SeriesPoint } from '../report/types.js';
import { type Evidence, windowOf } from './evidence.js';

/** Mean time to first token of one provider over some seconds of a series. */
interface FirstTokenMean {
  /** Tasks whose first token came from the provider. */
  count: number;
  /** Null when `count` is 0. */
  meanS: number | null;
  /** Whole seconds the mean covers. */
  spanS: number;
}

function firstTokenMean(points: readonly SeriesPoint[], provider: string): FirstTokenMean {
  let count = 0;
  let sumS = 0;
  for (const point of points) {
    const sums = point.firstTokenByProvider?.[provider];
    if (sums === undefined) continue;
    count += sums.count;
    sumS += sums.sumS;
  }
  return { count, meanS: count === 0 ? null : sumS / count, spanS: points.length };
}

/** Means of the fault's target over the seconds before and during the fault. */
interface FirstTokenWindows {
  provider: string;
  before: FirstTokenMean;
  during: FirstTokenMean;
  /** Whole seconds after the fault was removed, oldest first. */
  after: SeriesPoint[];
  /** When the fault was removed, in seconds since the load started. */
  removedS: number;
}

/**
 * Returns the fault target's mean times to first token before the fault and while it was
 * active, in whole seconds, with the seconds after it. Undefined for a report that predates
 * the series' times to first token.
 */
function firstTokenWindows(evidence: Evidence): FirstTokenWindows | undefined {
  const { report, result, fault } = evidence;
  if (report.schemaVersion < FIRST_TOKEN_SCHEMA_VERSION) return undefined;
  const series = result.timeSeries;
  const [from, to] = windowOf(fault);
  const end = (series.at(-1)?.t ?? 0) + 1;
  const provider = fault.target;
  return {
    provider,
    before: firstTokenMean(pointsIn(series, 0, Math.floor(from)), provider),
    during: firstTokenMean(pointsIn(series, Math.floor(from), Math.ceil(to)), provider),
    after: pointsIn(series, Math.ceil(to), end),
    removedS: to,
  };
}

/**
 * Returns a sentence naming the drill's other faults whose windows overlap `fromS` to `toS`,
 * whose effects are in the means of those seconds too, or an empty string when none does.
 */
function otherFaultsText(evidence: Evidence, fromS: number, toS: number, where: string): string {
  const others = (evidence.report.drill?.faults ?? []).filter((other) => {
    if (other.id === evidence.fault.id) return false;
    const [start, end] = windowOf(other);
    return start < toS && end > fromS;
  });
  if (others.length === 0) return '';
  const named = others.map((other) => {
    const [start, end] = windowOf(other);
    return `${other.kind} on ${other.target} (${start.toFixed(2)}-${end.toFixed(2)} s)`;
  });
  const effect = others.length === 1 ? 'its effect is' : 'their effects are';
  return ` The drill's ${named.join(', ')} also overlapped ${where}, so ${effect} in these figures too.`;
}

/** Formats a count of tasks, such as `1 task` or `210 tasks`. */
function tasksText(count: number): string {
  return `${count} task${count === 1 ? '' : 's'}`;
}

/** Formats a mean and the tasks behind it, such as `0.40 s over the 30 s before the fault (210 tasks)`. */
function meanText(mean: FirstTokenMean, where: string): string {
  if (mean.spanS === 0) return 'n/a (the series has no whole second there)';
  return `${seconds(mean.meanS)} ${where} (${tasksText(mean.count)})`;
}

/**
 * Returns a sentence with the fault target's mean time to first token before and during the
 * fault, the normal value an operator compares step 1's mean with. Empty for a report without
 * the series' times.
 */
export function firstTokenBaselineText(evidence: Evidence): string {
  const windows = firstTokenWindows(evidence);
  if (windows === undefined) return '';
  const { provider, before, during } = windows;
  const beforeText = meanText(before, `over the ${before.spanS} s before the fault`);
  const duringText = meanText(during, `over the ${during.spanS} s that cover it`);
  const [, to] = windowOf(evidence.fault);
  const others = otherFaultsText(evidence, 0, to, 'these seconds');
  return ` In the drill, ${provider}'s mean was ${beforeText} and ${duringText}.${others}`;
}

/** Ratio to the mean before the fault under which a second's mean counts as recovered. */
const RECOVERED_RATIO = 1.5;

/**
 * Tasks a recovered mean needs at least, so that one fast task in a quiet second does not
 * count as recovery. Seconds with fewer are joined with the seconds after them.
 */
const MIN_RECOVERY_TASKS = 10;

/** Consecutive whole seconds of a series and the fault target's first tokens in them. */
interface RecoveryWindow {
  fromS: number;
  toS: number;
  count: number;
  sumS: number;
}

/**
 * Returns the first run of whole seconds that starts with a first token of `provider`,
 * contains at least `MIN_RECOVERY_TASKS` of them, and whose mean is at or under `limitS`. Each
 * run is as short as that count allows. Undefined when no run qualifies.
 */
function recoveryWindow(
  after: readonly SeriesPoint[],
  provider: string,
  limitS: number,
): RecoveryWindow | undefined {
  for (let start = 0; start < after.length; start += 1) {
    if ((after[start]?.firstTokenByProvider?.[provider]?.count ?? 0) === 0) continue;
    let count = 0;
    let sumS = 0;
    for (let end = start; end < after.length; end += 1) {
      const sums = after[end]?.firstTokenByProvider?.[provider];
      count += sums?.count ?? 0;
      sumS += sums?.sumS ?? 0;
      if (count < MIN_RECOVERY_TASKS) continue;
      const fromS = after[start]?.t ?? 0;
      const toS = (after[end]?.t ?? 0) + 1;
      if (sumS / count <= limitS) return { fromS, toS, count, sumS };
      break;
    }
  }
  return undefined;
}

/** Names the whole seconds of a window, such as `the second from 45 s to 46 s`. */
function windowText(window: RecoveryWindow): string {
  const span = window.toS - window.fromS;
  const spanText = span === 1 ? 'the second' : `the ${span} s`;
  return `${spanText} from ${window.fromS} s to ${window.toS} s`;
}

/**
 * Returns the check that the fault target's mean time to first token is back near its mean
 * before the fault, with the drill's first seconds after the fault whose mean over at least
 * `MIN_RECOVERY_TASKS` tasks was at or under `RECOVERED_RATIO` times that. `reading` names
 * where the operator reads that mean, such as `Step 1's mean for provider-b over 10 s`.
 * Undefined without the series' times or a first token before the fault.
 */
export function firstTokenRecoveryText(evidence: Evidence, reading: string): string | undefined {
  const windows = firstTokenWindows(evidence);
  const beforeS = windows?.before.meanS ?? null;
  if (windows === undefined || beforeS === null) return undefined;
  const { provider, after, removedS } = windows;
  const limitS = beforeS * RECOVERED_RATIO;
  const check = `${reading} is back near ${seconds(beforeS)}, its mean before the fault.`;
  const lag =
    'Tasks that started under the fault are counted when they finish, so the mean falls over the time those tasks take.';
  if (after.length === 0) {
    return `${check} In the drill, the series ended before a whole second after the fault, so it shows no recovery.`;
  }
  const recovered = recoveryWindow(after, provider, limitS);
  if (recovered === undefined) {
    const tasks = firstTokenMean(after, provider).count;
    return `${check} In the drill, no whole seconds after the fault with at least ${MIN_RECOVERY_TASKS} tasks had a mean for ${provider} at or under ${seconds(limitS)}, ${RECOVERED_RATIO} times that (${tasksText(tasks)} over ${after.length} s). ${lag}`;
  }
  const byS = recovered.toS - removedS;
  const others = otherFaultsText(evidence, removedS, recovered.toS, 'the seconds until then');
  return `${check} In the drill, its mean over at least ${MIN_RECOVERY_TASKS} tasks was at or under ${seconds(limitS)}, ${RECOVERED_RATIO} times that, by ${seconds(byS)} after the fault ended: ${seconds(recovered.sumS / recovered.count)} over ${tasksText(recovered.count)} in ${windowText(recovered)}. ${lag}${others}`;
}
