import type { PriorityClassName, ShedCount } from '../report/types.js';
import type { MetricSampleValue } from './metric-samples.js';

/** `limit` labels of `scalegate_gateway_rejections_total` that backpressure sets. */
const BACKPRESSURE_LIMITS: ReadonlySet<string> = new Set(['queue_depth', 'queue_oldest_age_ms']);

function keyOf(count: Pick<ShedCount, 'tenant' | 'status'>): string {
  return `${count.tenant} ${count.status}`;
}

/**
 * Sums the requests backpressure shed, from the gateway's rejection counter, by tenant and
 * status. `classOf` gives each tenant's priority class; a tenant it does not know is left out.
 */
export function shedCounts(
  samples: readonly MetricSampleValue[],
  classOf: (tenant: string) => PriorityClassName | undefined,
): ShedCount[] {
  const counts = new Map<string, ShedCount>();
  for (const sample of samples) {
    if (sample.name !== 'scalegate_gateway_rejections_total') continue;
    if (!BACKPRESSURE_LIMITS.has(sample.labels.limit ?? '')) continue;
    const tenant = sample.labels.tenant ?? '';
    const priorityClass = classOf(tenant);
    const status = Number(sample.labels.status);
    if (priorityClass === undefined || !Number.isInteger(status)) continue;
    const key = keyOf({ tenant, status });
    const count = counts.get(key) ?? { tenant, priorityClass, status, requests: 0 };
    count.requests += sample.value;
    counts.set(key, count);
  }
  return [...counts.values()];
}

/**
 * Returns the shed counts that rose from `before` to `now`, sorted by tenant and status.
 * Counters only rise, so a count missing from `before` started at 0.
 */
export function shedSince(before: readonly ShedCount[], now: readonly ShedCount[]): ShedCount[] {
  const earlier = new Map(before.map((count) => [keyOf(count), count.requests]));
  return now
    .map((count) => ({ ...count, requests: count.requests - (earlier.get(keyOf(count)) ?? 0) }))
    .filter((count) => count.requests > 0)
    .sort((a, b) => a.tenant.localeCompare(b.tenant) || a.status - b.status);
}
