import type { FailoverTiming, FaultRecord, SeriesPoint } from '../report/types.js';
import type { ProviderFaultStep } from './spec.js';

function served(point: SeriesPoint, provider: string): number {
  return point.servedBy[provider] ?? 0;
}

/**
 * Returns the seconds from `fromS` to the end of the first one-second bucket, at or after
 * it, in which `leader` served more requests than `other`, or null when none did. Because
 * buckets are whole seconds, the result is an upper bound.
 */
function secondsUntilLead(
  series: readonly SeriesPoint[],
  fromS: number,
  leader: string,
  other: string,
): number | null {
  const first = series.find(
    (point) => point.t >= Math.floor(fromS) && served(point, leader) > served(point, other),
  );
  return first === undefined ? null : Math.max(0, first.t + 1 - fromS);
}

/**
 * Measures detection (outage start to the fallback carrying traffic) and recovery (fault
 * end to failback) for a provider fault that names a fallback.
 */
export function failoverTiming(
  step: ProviderFaultStep & { failover: { fallback: string } },
  record: FaultRecord,
  series: readonly SeriesPoint[],
): FailoverTiming {
  const primary = step.provider;
  const fallback = step.failover.fallback;
  const start = record.appliedAtS;
  const end = record.removedAtS;
  return {
    faultId: step.id,
    primary,
    fallback,
    detectionS: start === null ? null : secondsUntilLead(series, start, fallback, primary),
    recoveryS: end === null ? null : secondsUntilLead(series, end, primary, fallback),
  };
}
