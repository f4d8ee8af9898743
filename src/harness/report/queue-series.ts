import type { SeriesPoint } from './types.js';

/** The highest value of a queue gauge and when it was read. */
export interface QueuePeak {
  value: number;
  /**
   * Seconds from the load start when the gauge was read: the end of the series second `t`
   * that carries it, `t + 1`.
   */
  readAtS: number;
}

/** Peaks of the queue gauges over some seconds of a series. */
export interface QueuePeaks {
  /** Seconds that carry a read of the queue gauges. */
  reads: number;
  /** Null when no second carries a read. */
  depth: QueuePeak | null;
  oldestAgeS: QueuePeak | null;
}

function peakOf(
  points: readonly SeriesPoint[],
  pick: (point: SeriesPoint) => number | undefined,
): QueuePeak | null {
  let peak: QueuePeak | null = null;
  for (const point of points) {
    const value = pick(point);
    if (value !== undefined && (peak === null || value > peak.value)) {
      peak = { value, readAtS: point.t + 1 };
    }
  }
  return peak;
}

/** Returns the peaks of the queue depth and oldest age; the first second wins a tie. */
export function queuePeaks(points: readonly SeriesPoint[]): QueuePeaks {
  return {
    reads: points.filter((point) => point.queueDepth !== undefined).length,
    depth: peakOf(points, (point) => point.queueDepth),
    oldestAgeS: peakOf(points, (point) => point.queueOldestAgeS),
  };
}
