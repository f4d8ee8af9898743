import type { Clock } from '../../platform/clock.js';
import type { FailoversByPair, FirstTokenSum, SeriesPoint } from '../report/types.js';
import { type MetricSampleValue, sumBy, sumOf } from './metric-samples.js';

/** Part `index` of `total` split into `parts` whole shares that add up to `total`. */
function evenShare(total: number, parts: number, index: number): number {
  return Math.floor((total * (index + 1)) / parts) - Math.floor((total * index) / parts);
}

/** Counters the sampler differences each second; every value is cumulative. */
interface Snapshot {
  succeeded: number;
  failed: number;
  servedBy: Record<string, number>;
  /** Admission rejections per tenant, burst tenants included. */
  admissionRejections: Record<string, number>;
  failoversByPair: FailoversByPair;
  /** Times to first token per provider label. */
  firstToken: Record<string, FirstTokenSum>;
  /** Cumulative count of succeeded requests at or under each bucket bound, in seconds. */
  buckets: Map<number, number>;
  /** Queue gauges at the read, not cumulative; undefined when the read had none. */
  queue: { depth: number; oldestAgeS: number } | undefined;
}

function durationBuckets(samples: readonly MetricSampleValue[]): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const sample of samples) {
    if (sample.name !== 'scalegate_request_duration_seconds_bucket') continue;
    if (sample.labels.outcome !== 'succeeded') continue;
    const bound = sample.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(sample.labels.le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + sample.value);
  }
  return buckets;
}

/**
 * Sums `scalegate_failover_activations_total` per `from_provider` and `to_provider`. A sample
 * without one of those labels counts under `unknown`, so every sample is in a pair.
 */
function failoverPairs(samples: readonly MetricSampleValue[]): FailoversByPair {
  const pairs: FailoversByPair = {};
  for (const sample of samples) {
    if (sample.name !== 'scalegate_failover_activations_total') continue;
    const from = sample.labels.from_provider ?? 'unknown';
    const to = sample.labels.to_provider ?? 'unknown';
    const targets = pairs[from] ?? {};
    targets[to] = (targets[to] ?? 0) + sample.value;
    pairs[from] = targets;
  }
  return pairs;
}

/**
 * Differences the failovers of each provider pair and takes one second's share of each
 * with `part`. The second's total is the sum of those shares, so its pairs add up to it.
 * Pairs without a failover in that second are left out.
 */
function failoverShares(
  current: FailoversByPair,
  previous: FailoversByPair,
  part: (total: number) => number,
): { failovers: number; failoversByPair: FailoversByPair } {
  let failovers = 0;
  const failoversByPair: FailoversByPair = {};
  for (const [from, targets] of Object.entries(current)) {
    for (const [to, total] of Object.entries(targets)) {
      const activations = part(total - (previous[from]?.[to] ?? 0));
      failovers += activations;
      if (activations > 0) failoversByPair[from] = { ...failoversByPair[from], [to]: activations };
    }
  }
  return { failovers, failoversByPair };
}

/** Sums `scalegate_time_to_first_token_seconds` `_count` and `_sum` per provider, over models. */
function firstTokenSums(samples: readonly MetricSampleValue[]): Record<string, FirstTokenSum> {
  const counts = sumBy(samples, 'scalegate_time_to_first_token_seconds_count', 'provider');
  const sums = sumBy(samples, 'scalegate_time_to_first_token_seconds_sum', 'provider');
  const byProvider: Record<string, FirstTokenSum> = {};
  for (const [provider, count] of Object.entries(counts)) {
    byProvider[provider] = { count, sumS: sums[provider] ?? 0 };
  }
  return byProvider;
}

/**
 * Differences the times to first token of each provider and takes one second's share of
 * the count with `part`, and the same share of the sum. Providers with no task in that
 * share are left out.
 */
function firstTokenShares(
  current: Record<string, FirstTokenSum>,
  previous: Record<string, FirstTokenSum>,
  part: (total: number) => number,
): Record<string, FirstTokenSum> {
  const shares: Record<string, FirstTokenSum> = {};
  for (const [provider, { count, sumS }] of Object.entries(current)) {
    const before = previous[provider] ?? { count: 0, sumS: 0 };
    const tasks = count - before.count;
    const share = part(tasks);
    if (share <= 0) continue;
    // Microseconds are finer than any bucket and keep float noise out of the report.
    const sum = Math.max(0, ((sumS - before.sumS) * share) / tasks);
    shares[provider] = { count: share, sumS: Math.round(sum * 1e6) / 1e6 };
  }
  return shares;
}

const EMPTY: Snapshot = {
  succeeded: 0,
  failed: 0,
  servedBy: {},
  admissionRejections: {},
  failoversByPair: {},
  firstToken: {},
  buckets: new Map(),
  queue: undefined,
};

/**
 * Reads the queue gauges: the depth summed over the platform's queues and the oldest age
 * of any of them. Undefined when the samples contain no depth gauge.
 */
function queueGauges(
  samples: readonly MetricSampleValue[],
): { depth: number; oldestAgeS: number } | undefined {
  const depths = samples.filter((sample) => sample.name === 'scalegate_queue_depth');
  if (depths.length === 0) return undefined;
  const ages = samples
    .filter((sample) => sample.name === 'scalegate_queue_oldest_age_seconds')
    .map((sample) => sample.value);
  return {
    depth: depths.reduce((total, sample) => total + sample.value, 0),
    oldestAgeS: ages.length === 0 ? 0 : Math.max(...ages),
  };
}

/**
 * Estimates the 95th percentile from per-bucket counts as Prometheus's
 * histogram_quantile does: by linear interpolation inside the bucket that contains
 * it, from 0 for the first bucket, and the largest finite bound past the last.
 */
function bucketP95(current: Map<number, number>, previous: Map<number, number>): number {
  const bounds = [...current.keys()].sort((a, b) => a - b);
  const total =
    (current.get(Number.POSITIVE_INFINITY) ?? 0) - (previous.get(Number.POSITIVE_INFINITY) ?? 0);
  if (total <= 0) return 0;
  const rank = 0.95 * total;
  const finite = bounds.filter((bound) => Number.isFinite(bound));
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bound of finite) {
    const below = (current.get(bound) ?? 0) - (previous.get(bound) ?? 0);
    if (below >= rank) {
      const inBucket = below - lowerCount;
      if (inBucket <= 0) return bound;
      return lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = bound;
    lowerCount = below;
  }
  return finite.at(-1) ?? 0;
}

/**
 * Builds a per-second series from the platform's cumulative metrics, for abort rules and
 * live probes while the load runs. Requests of `excludedTenants` (burst streams) are left
 * out of the request and success counts, so those show what the other tenants experienced.
 * Served counts per provider come from each mock provider's `mock_provider_requests_total`
 * samples with status 200, labelled with `provider`. Failovers are counted per provider
 * pair too. Admission rejections per tenant include the burst tenants. The queue depth and oldest age are gauges, read as they stand
 * at the end of each second. Times to first token are summed per provider that delivered
 * the first token.
 * NOTE: p95, failovers, served counts and times to first token include the burst tenants,
 * because the latency, failover and provider metrics carry no tenant label. p95 is interpolated inside a
 * histogram bucket, coarser than the load engine's HDR histogram that the report uses.
 */
export class SeriesSampler {
  readonly #points: SeriesPoint[] = [];
  readonly #excluded: ReadonlySet<string>;
  #previous: Snapshot | undefined;

  constructor(excludedTenants: readonly string[]) {
    this.#excluded = new Set(excludedTenants);
  }

  #snapshot(samples: readonly MetricSampleValue[]): Snapshot {
    const isKept = (labels: Record<string, string>): boolean =>
      !this.#excluded.has(labels.tenant ?? '');
    const isSuccess = (labels: Record<string, string>): boolean => labels.outcome === 'succeeded';
    return {
      succeeded: sumOf(
        samples,
        'scalegate_requests_total',
        (labels) => isKept(labels) && isSuccess(labels),
      ),
      failed:
        sumOf(
          samples,
          'scalegate_requests_total',
          (labels) => isKept(labels) && !isSuccess(labels),
        ) + sumOf(samples, 'scalegate_admission_rejections_total', isKept),
      servedBy: sumBy(
        samples.filter((sample) => sample.labels.status === '200'),
        'mock_provider_requests_total',
        'provider',
      ),
      admissionRejections: sumBy(samples, 'scalegate_admission_rejections_total', 'tenant'),
      failoversByPair: failoverPairs(samples),
      firstToken: firstTokenSums(samples),
      buckets: durationBuckets(samples),
      queue: queueGauges(samples),
    };
  }

  /** Stores the counters at the load start, so the first second counts only its own requests. */
  baseline(samples: readonly MetricSampleValue[]): void {
    this.#previous = this.#snapshot(samples);
  }

  /**
   * Records the seconds up to `t` from the samples read at the end of second `t`. `spanS`
   * is the number of seconds since the previous record. It is more than 1 when a slow read
   * skipped seconds, and then their counts are spread evenly over one point per second, so
   * every second has a point and rules over several seconds still see each of them. The
   * queue gauges describe the moment of the read, so only the point of second `t` carries
   * them. Returns the points recorded, oldest first.
   */
  record(t: number, samples: readonly MetricSampleValue[], spanS = 1): SeriesPoint[] {
    const current = this.#snapshot(samples);
    const previous: Snapshot = this.#previous ?? EMPTY;
    this.#previous = current;
    const successes = current.succeeded - previous.succeeded;
    const failures = current.failed - previous.failed;
    const p95S = bucketP95(current.buckets, previous.buckets);
    const span = Math.max(1, Math.round(spanS));
    const points: SeriesPoint[] = [];
    for (let index = 0; index < span; index += 1) {
      const part = (total: number) => evenShare(total, span, index);
      const servedBy: Record<string, number> = {};
      for (const [provider, count] of Object.entries(current.servedBy)) {
        servedBy[provider] = part(count - (previous.servedBy[provider] ?? 0));
      }
      const { failovers, failoversByPair } = failoverShares(
        current.failoversByPair,
        previous.failoversByPair,
        part,
      );
      const admissionRejections: Record<string, number> = {};
      for (const [tenant, total] of Object.entries(current.admissionRejections)) {
        const rejected = part(total - (previous.admissionRejections[tenant] ?? 0));
        if (rejected > 0) admissionRejections[tenant] = rejected;
      }
      const requests = part(successes + failures);
      const pointSuccesses = Math.min(requests, part(successes));
      const point: SeriesPoint = {
        t: t - span + 1 + index,
        requests,
        successes: pointSuccesses,
        throughputRpm: requests * 60,
        successRate: requests === 0 ? 0 : pointSuccesses / requests,
        p95S,
        failovers,
        failoversByPair,
        servedBy,
        admissionRejections,
        firstTokenByProvider: firstTokenShares(current.firstToken, previous.firstToken, part),
      };
      if (index === span - 1 && current.queue !== undefined) {
        point.queueDepth = current.queue.depth;
        point.queueOldestAgeS = current.queue.oldestAgeS;
      }
      points.push(point);
    }
    this.#points.push(...points);
    return points;
  }

  points(): readonly SeriesPoint[] {
    return this.#points;
  }
}

/** Inputs of {@link sampleSeries}. */
export interface SeriesSampling {
  /** The drill's clock; second `t` covers [t, t + 1) s after `originMs`. */
  clock: Clock;
  /** Monotonic time of `clock`, in ms, at which second 0 starts: the drill's time 0. */
  originMs: number;
  /** Sampler that already has the counters at `originMs` from {@link SeriesSampler.baseline}. */
  sampler: SeriesSampler;
  /** Reads the platform's cumulative samples. */
  read: () => Promise<MetricSampleValue[]>;
  /** Returns false once the load ended; the loop then records one last point and stops. */
  isRunning: () => boolean;
  /** Aborting it records the second in progress at once and stops the loop. */
  signal: AbortSignal;
  onPoint?: (point: SeriesPoint) => void;
}

/**
 * Reads the samples after each whole second from `originMs` and records one point per read.
 * Each point's second comes from the clock when its read starts, not from a count of
 * reads, so a slow read cannot shift later points against the fault timeline. When a
 * read outlasts a second, the next read is taken at once and the counts of every second
 * that passed meanwhile are spread evenly over one point per second.
 */
export async function sampleSeries(options: SeriesSampling): Promise<void> {
  const { clock, sampler, read, signal } = options;
  const startMs = options.originMs;
  // Seconds [0, covered) are recorded.
  let covered = 0;
  for (;;) {
    const waitMs = startMs + (covered + 1) * 1000 - clock.monotonic();
    if (waitMs > 0 && !signal.aborted) {
      // A timer can fire a little before the due time, so the wait repeats until it is due.
      await clock.sleep(waitMs, signal).catch(() => undefined);
      continue;
    }
    const elapsedS = Math.floor((clock.monotonic() - startMs) / 1000);
    const samples = await read();
    // A read on abort may come before the current second ends; it records that second.
    const t = Math.max(covered, elapsedS - 1);
    for (const point of sampler.record(t, samples, t + 1 - covered)) options.onPoint?.(point);
    covered = t + 1;
    if (signal.aborted || !options.isRunning()) break;
  }
}
