/** Admission rejections of a burst tenant, read from a drill report's series for the runbook. */
import { pointsIn } from '../drill/measures.js';
import { count } from '../report/format.js';
import type { SeriesPoint } from '../report/types.js';

/** Rejections of one tenant over some seconds of the series. */
interface RejectionSpan {
  /** First second of the span and the second after its last, from the load start. */
  fromS: number;
  toS: number;
  /** Seconds of the span; those without a read of the rejections count in `unread`. */
  seconds: number;
  unread: number;
  total: number;
  /** Starts of the first and the last second with a rejection, or null when none had one. */
  firstS: number | null;
  lastS: number | null;
  /** Highest count of one second, and the start of the first second with that count. */
  peak: { count: number; atS: number } | null;
}

/** Returns the first second with the highest count of `tenant`, or null when none had one. */
function peakOf(
  points: readonly SeriesPoint[],
  tenant: string,
): { count: number; atS: number } | null {
  let peak: { count: number; atS: number } | null = null;
  for (const point of points) {
    const rejected = point.admissionRejections?.[tenant] ?? 0;
    if (rejected > 0 && (peak === null || rejected > peak.count)) {
      peak = { count: rejected, atS: point.t };
    }
  }
  return peak;
}

function spanOf(points: readonly SeriesPoint[], tenant: string, fromS: number): RejectionSpan {
  const read = points.filter((point) => point.admissionRejections !== undefined);
  const rejecting = read.filter((point) => (point.admissionRejections?.[tenant] ?? 0) > 0);
  return {
    fromS,
    toS: (points.at(-1)?.t ?? fromS - 1) + 1,
    seconds: points.length,
    unread: points.length - read.length,
    total: read.reduce((sum, point) => sum + (point.admissionRejections?.[tenant] ?? 0), 0),
    firstS: rejecting[0]?.t ?? null,
    lastS: rejecting.at(-1)?.t ?? null,
    peak: peakOf(read, tenant),
  };
}

/** Notes seconds of a span that carry no read of the rejections, or returns ''. */
function unreadText(span: RejectionSpan): string {
  return span.unread === 0 ? '' : ` (${span.unread} of them without a read)`;
}

function perSecond(span: RejectionSpan): string {
  const read = span.seconds - span.unread;
  return read === 0 ? 'n/a' : (span.total / read).toFixed(1);
}

/**
 * Describes when the rejections of the burst span began, relative to the burst's start at
 * `startS`, and their peak per second, or returns '' when no second had one. The series
 * counts whole seconds, so the first rejection is placed within a second-long range.
 * NOTE: a drill read that outlasted a second spreads its count evenly over the seconds it
 * covered. In such a stretch the first second can be early by up to that many seconds, and
 * the peak lower than the real one.
 */
function shapeText(span: RejectionSpan, startS: number): string {
  if (span.firstS === null || span.peak === null) return '';
  const { firstS, peak } = span;
  const earliest = Math.max(0, firstS - startS).toFixed(2);
  const latest = (firstS + 1 - startS).toFixed(2);
  return (
    ` Rejections began in the second from ${firstS} s to ${firstS + 1} s, ${earliest}-${latest} s ` +
    `after the burst started, and peaked at ${count(peak.count)} in the second from ` +
    `${peak.atS} s to ${peak.atS + 1} s.`
  );
}

/** First report schema version whose series records admission rejections per second. */
const REJECTIONS_SCHEMA_VERSION = 4;

/**
 * Words what the drill measured for the check that a burst tenant's rejections stop rising.
 * It cites the rise of `scalegate_admission_rejections_total` for `tenant` over the seconds
 * that cover the burst window, per second, with the second in which they began and the
 * peak second. It then cites the rise over the seconds after the burst to the end of the
 * load. The report's series carries these counts from schema version 4 on. For a report of
 * that version whose drill read none of them, the text states that instead.
 */
export function burstRejectionsText(
  series: readonly SeriesPoint[],
  tenant: string,
  window: [number, number],
  schemaVersion: number,
): string {
  if (!series.some((point) => point.admissionRejections !== undefined)) {
    if (schemaVersion >= REJECTIONS_SCHEMA_VERSION) {
      return (
        `The drill read no admission rejections in any second of the report's series, so it ` +
        'gives no rate before or after the burst ended.'
      );
    }
    return (
      "The report's series has no admission rejections per second, which reports of schema " +
      `version ${REJECTIONS_SCHEMA_VERSION} record, so the drill gives no rate before or after ` +
      'the burst ended.'
    );
  }

  const [from, to] = window;
  const burstFromS = Math.floor(from);
  const afterFromS = Math.ceil(to);
  const during = spanOf(pointsIn(series, burstFromS, afterFromS), tenant, burstFromS);
  const afterPoints = pointsIn(series, afterFromS, Number.POSITIVE_INFINITY);
  const metric = `\`scalegate_admission_rejections_total{tenant="${tenant}"}\``;
  const burstText =
    `In the drill, ${metric} rose by ${count(during.total)} over the ${during.seconds} ` +
    `seconds from ${during.fromS} s to ${during.toS} s${unreadText(during)} that cover the ` +
    `burst (${from.toFixed(2)}-${to.toFixed(2)} s), ${perSecond(during)} per second.` +
    shapeText(during, from);

  if (afterPoints.length === 0) {
    return `${burstText} The series ends with the burst, so it shows no second after it.`;
  }

  const after = spanOf(afterPoints, tenant, afterFromS);
  const last =
    after.lastS === null
      ? ''
      : `, the last in the second from ${after.lastS} s to ${after.lastS + 1} s`;
  return (
    `${burstText} Over the ${after.seconds} seconds after it${unreadText(after)}, from ` +
    `${after.fromS} s to the drill's last reading at ${after.toS} s, it rose by ` +
    `${count(after.total)}${last}.`
  );
}
