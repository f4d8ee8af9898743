/** Times to first token of a provider before, during and after a fault, from a drill series. */
import { pointsIn } from '../drill/measures.js';
import { seconds } from '../report/format.js';
import { FIRST_TOKEN_SCHEMA_VERSION, type SeriesPoint } from '../report/types.js';
import { READ_GAP_S } from './commands.js';
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

/** Means of the fault's target over the seconds before, during and after the fault. */
interface FirstTokenWindows {
  provider: string;
  before: FirstTokenMean;
  during: FirstTokenMean;
  after: FirstTokenMean;
}

/**
 * Returns the fault target's times to first token in the whole seconds before the fault was
 * applied, those it was active, and those after it was removed, or undefined when the report
 * predates the series' times to first token.
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
    after: firstTokenMean(pointsIn(series, Math.ceil(to), end), provider),
  };
}

/** Formats a mean and the tasks behind it, such as `0.40 s over the 30 s before the fault (210 tasks)`. */
function meanText(mean: FirstTokenMean, where: string): string {
  if (mean.spanS === 0) return 'n/a (the series has no whole second there)';
  const tasks = `${mean.count} task${mean.count === 1 ? '' : 's'}`;
  return `${seconds(mean.meanS)} ${where} (${tasks})`;
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
  const duringText = meanText(during, `over the ${during.spanS} s it was active`);
  return ` In the drill, ${provider}'s mean was ${beforeText} and ${duringText}.`;
}

/**
 * Returns the check that the fault target's mean time to first token is back near its value
 * before the fault, with what the drill measured after the fault. Undefined for a report
 * without the series' times, or when no first token came from the target before the fault.
 */
export function firstTokenRecoveryText(evidence: Evidence): string | undefined {
  const windows = firstTokenWindows(evidence);
  if (windows === undefined || windows.before.meanS === null) return undefined;
  const { provider, before, after } = windows;
  const afterText = meanText(after, `over the ${after.spanS} s after it`);
  return `Step 1's mean for ${provider} over ${READ_GAP_S} s is back near ${seconds(before.meanS)}, its mean before the fault. In the drill, it was ${afterText}.`;
}
