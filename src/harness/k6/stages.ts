import type { TraceRow } from '../scenario/trace.js';
import type { ArrivalProfile, BurstArrival, RampArrival } from '../scenario/types.js';

/** A piecewise-linear rate segment: the rate moves to `toRatePerSec` over `durationSec`. */
export interface RateSegment {
  durationSec: number;
  toRatePerSec: number;
}

/** Rate segments of a non-constant profile, clipped or extended to `durationSec`. */
export function rateSegments(
  arrival: Exclude<ArrivalProfile, { kind: 'constant' }>,
  durationSec: number,
  traceRows: readonly TraceRow[] | undefined,
  traceBucketSec: number,
): { startRatePerSec: number; segments: RateSegment[] } {
  switch (arrival.kind) {
    case 'ramp':
      return {
        startRatePerSec: arrival.startRatePerSec,
        segments: rampSegments(arrival, durationSec),
      };
    case 'burst':
      return {
        startRatePerSec: rateOfBurstAt(arrival, 0),
        segments: burstSegments(arrival, durationSec),
      };
    case 'trace':
      return traceSegments(traceRows ?? [], durationSec, traceBucketSec);
  }
}

function rampSegments(arrival: RampArrival, durationSec: number): RateSegment[] {
  const segments: RateSegment[] = [];
  let from = arrival.startRatePerSec;
  let elapsed = 0;
  for (const stage of arrival.stages) {
    const remaining = durationSec - elapsed;
    if (remaining <= 0) break;
    if (stage.durationSec <= remaining) {
      segments.push({ durationSec: stage.durationSec, toRatePerSec: stage.targetRatePerSec });
    } else {
      const cut = from + ((stage.targetRatePerSec - from) * remaining) / stage.durationSec;
      segments.push({ durationSec: remaining, toRatePerSec: cut });
    }
    from = stage.targetRatePerSec;
    elapsed += stage.durationSec;
  }
  if (elapsed < durationSec)
    segments.push({ durationSec: durationSec - elapsed, toRatePerSec: from });
  return segments;
}

/**
 * Steps between the base and burst rates. k6 stages interpolate linearly, so each
 * switch is a 1 s ramp; a burst window therefore starts and ends up to 1 s softer.
 */
function burstSegments(arrival: BurstArrival, durationSec: number): RateSegment[] {
  const edges = new Set<number>([0, durationSec]);
  for (const w of arrival.windows) {
    edges.add(Math.min(durationSec, w.startSec));
    edges.add(Math.min(durationSec, w.startSec + w.durationSec));
  }
  const sorted = [...edges].sort((a, b) => a - b);
  const segments: RateSegment[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const start = sorted[i] ?? 0;
    const end = sorted[i + 1] ?? start;
    const rate = rateOfBurstAt(arrival, start);
    const ramp = Math.min(1, end - start);
    segments.push({ durationSec: ramp, toRatePerSec: rate });
    if (end - start > ramp) segments.push({ durationSec: end - start - ramp, toRatePerSec: rate });
  }
  return segments;
}

function rateOfBurstAt(arrival: BurstArrival, tSec: number): number {
  const inside = arrival.windows.some(
    (w) => tSec >= w.startSec && tSec < w.startSec + w.durationSec,
  );
  return inside ? arrival.burstRatePerSec : arrival.baseRatePerSec;
}

/**
 * Converts the sped-up trace into the mean arrival rate of each bucket, as a 1 s ramp to that
 * rate and a hold. A ramp across the whole bucket would reach the rate only at the bucket's
 * end, so k6 would send each change in rate half a bucket late.
 */
function traceSegments(
  rows: readonly TraceRow[],
  durationSec: number,
  bucketSec: number,
): { startRatePerSec: number; segments: RateSegment[] } {
  const buckets = Math.max(1, Math.ceil(durationSec / bucketSec));
  const counts = new Array<number>(buckets).fill(0);
  for (const row of rows) {
    const bucket = Math.floor(row.offsetMs / 1000 / bucketSec);
    if (bucket < buckets) counts[bucket] = (counts[bucket] ?? 0) + 1;
  }
  // The last bucket is shorter when durationSec is no multiple of bucketSec, so each rate
  // divides by the bucket's own length.
  const lengths = counts.map((_, i) => Math.min(bucketSec, durationSec - i * bucketSec));
  const rates = counts.map((count, i) => count / (lengths[i] ?? bucketSec));
  const segments: RateSegment[] = [];
  rates.forEach((rate, i) => {
    const length = lengths[i] ?? bucketSec;
    const ramp = Math.min(1, length);
    segments.push({ durationSec: ramp, toRatePerSec: rate });
    if (length > ramp) segments.push({ durationSec: length - ramp, toRatePerSec: rate });
  });
  return { startRatePerSec: rates[0] ?? 0, segments };
}
