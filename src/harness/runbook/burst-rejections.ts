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
  /** Start of the last second with a rejection, or null when none had one. */
  lastS: number | null;
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
    lastS: rejecting.at(-1)?.t ?? null,
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

/** First report schema version whose series records admission rejections per second. */
const REJECTIONS_SCHEMA_VERSION = 4;

/**
 * Words what the drill measured for the check that a burst tenant's rejections stop rising.
 * It cites the rise of `scalegate_admission_rejections_total` for `tenant` over the seconds
 * that cover the burst window, per second, and over the seconds after it to the end of the
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
    `burst (${from.toFixed(2)}-${to.toFixed(2)} s), ${perSecond(during)} per second.`;

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
    `${after.fromS} s to the end of the load at ${after.toS} s, it rose by ` +
    `${count(after.total)}${last}.`
  );
}
