import { setTimeout as sleep } from 'node:timers/promises';

import type { Registry } from 'prom-client';
import { request } from 'undici';

import type { CostLedger } from '../../platform/cost/ledger.js';
import type { Clock } from '../../platform/clock.js';
import { settledCost } from '../../platform/runtime/settled-cost.js';
import type { TaskStore } from '../../platform/store/task-store.js';
import { runLoad } from '../load/engine.js';
import { LatencyBySecond } from '../load/latency-by-second.js';
import type { LoadResult } from '../load/result.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../load/options.js';
import { reportCostOf, type TopologyExtras, topologyFromLoad } from '../report/from-load.js';
import type { ResolvedBackpressure } from '../../platform/admission/backpressure.js';
import type {
  BreakerStateName,
  CostSummary,
  ProviderBill,
  FailoverCount,
  FallbackRouteAttempts,
  FailoversByPair,
  FirstTokenSum,
  PriorityClassName,
  SeriesPoint,
} from '../report/types.js';
import type { ScenarioSpec, TaskSizes } from '../scenario/types.js';
import type { BreakerChangeAt, BreakerWatch, DrillDeps, DrillWorkers, LoadStream } from './deps.js';
import { createFaultDriver } from './fault-driver.js';
import {
  keyedSamples,
  type MetricSampleValue,
  parsePrometheusText,
  readRegistry,
} from './metric-samples.js';
import { providerBillOf, type TokenPricer } from './provider-bill.js';
import { sampleSeries, SeriesSampler } from './series-sampler.js';
import type { DrillSpec, TenantBurstStep } from './spec.js';
import { shedCounts } from './worker-pause.js';

/** Timeout of one mock provider metrics scrape, in milliseconds. */
const PROVIDER_SCRAPE_TIMEOUT_MS = 2000;

/** Wall-clock wait after the main load for the platform's last tasks to end before its cost is read. */
const SETTLE_LIMIT_MS = 10_000;

/**
 * Time the main load waits for its last requests after its duration. It outlasts the
 * request timeout, so every sync request ends by itself, with its reply or its own timeout,
 * and the harness cuts none that a report would count as a platform failure.
 */
export const MAIN_DRAIN_TIMEOUT_MS = DEFAULT_REQUEST_TIMEOUT_MS + 5_000;

/** The parts of a running platform a drill drives and reads. */
export interface DrillPlatform {
  /** `proxyApi` is undefined on a platform started with `faultProxy: false`, which no drill can use. */
  urls: { gateway: string; proxyApi: string | undefined; providers: Record<string, string> };
  registry: Registry;
  ledger: CostLedger;
  /** Prices the tokens the mock providers served, for the report's providers' bill. */
  prices: { priceTokens: TokenPricer };
  store: Pick<TaskStore, 'accounting'>;
  /** Bill of the worker pool since the platform started or `startWorkerPoolBill`, in USD. */
  workerPoolUsd(): number;
  /** Starts the worker pool's bill again from now. */
  startWorkerPoolBill(): void;
  /** Returns the state `scalegate_breaker_state` shows for each breaker. */
  breakers(): { provider: string; model: string; state: BreakerStateName }[];
  /**
   * Calls `listener` on each change of a state `scalegate_breaker_state` shows, and returns
   * the function that removes it.
   */
  onBreakerChange(listener: (change: BreakerChangeAt) => void): () => void;
  /** The async workers, which a `worker-pause` step pauses. */
  workers: {
    readonly slots: number;
    readonly paused: boolean;
    pause(): Promise<void>;
    resume(): Promise<void>;
  };
  /** Queue limits at which the gateway sheds each class, with the defaults filled in. */
  backpressure: ResolvedBackpressure;
  /**
   * Returns the largest `maxOutputTokens` the route's models accept. The drill's loads clamp
   * larger output lengths to it. @defaultValue no clamp
   */
  maxOutputTokens?(route: string): number | undefined;
}

export interface PlatformDrillOptions {
  platform: DrillPlatform;
  spec: DrillSpec;
  /** Scenario of the main load stream, already looked up by the spec's `scenario` name. */
  scenario: ScenarioSpec;
  /** Requests per minute allowed to each tenant, to size tenant bursts. */
  quotaPerMinute: Record<string, number>;
  /** Tier of each tenant, the priority class of its requests that name none. */
  tierOf: Record<string, PriorityClassName>;
  /** Topology label of the report, such as `workers=4 serverless_burst=enabled`. */
  topology: string;
  clock: Clock;
  /** @defaultValue 1 */
  seed?: number;
  onEvent?: DrillDeps['onEvent'];
}

function failoverPairs(samples: Awaited<ReturnType<typeof readRegistry>>): FailoverCount[] {
  return samples
    .filter((sample) => sample.name === 'scalegate_failover_activations_total')
    .map((sample) => ({
      fromProvider: sample.labels.from_provider ?? 'unknown',
      toProvider: sample.labels.to_provider ?? 'unknown',
      activations: sample.value,
    }));
}

/**
 * Sums `scalegate_fallback_route_attempts_total` by route and fallback route, in the order the
 * samples first name each pair, leaving out pairs without a call.
 */
export function fallbackRouteAttempts(
  samples: readonly MetricSampleValue[],
): FallbackRouteAttempts[] {
  const pairs = new Map<string, FallbackRouteAttempts>();
  for (const sample of samples) {
    if (sample.name !== 'scalegate_fallback_route_attempts_total') continue;
    const route = sample.labels.route ?? 'unknown';
    const fallbackRoute = sample.labels.fallback_route ?? 'unknown';
    const key = JSON.stringify([route, fallbackRoute]);
    const entry = pairs.get(key) ?? { route, fallbackRoute, attempts: 0, succeeded: 0 };
    entry.attempts += sample.value;
    if (sample.labels.outcome === 'success') entry.succeeded += sample.value;
    pairs.set(key, entry);
  }
  return [...pairs.values()].filter((entry) => entry.attempts > 0);
}

/** Samples of the mock providers' /metrics, and the providers whose scrape failed. */
interface ProviderScrape {
  samples: MetricSampleValue[];
  unread: string[];
}

/** Scrapes each mock provider's /metrics on loopback; a failed scrape adds no samples. */
async function scrapeProviders(urls: Record<string, string>): Promise<ProviderScrape> {
  const scrapes = Object.entries(urls).map(async ([provider, url]) => {
    try {
      const response = await request(`${url.replace(/\/$/, '')}/metrics`, {
        headersTimeout: PROVIDER_SCRAPE_TIMEOUT_MS,
        bodyTimeout: PROVIDER_SCRAPE_TIMEOUT_MS,
      });
      const text = await response.body.text();
      if (response.statusCode === 200)
        return { provider, samples: parsePrometheusText(text, { provider }) };
    } catch {
      // The provider is reported below as one whose counters were not read.
    }
    return { provider, samples: undefined };
  });
  const results = await Promise.all(scrapes);
  return {
    samples: results.flatMap((result) => result.samples ?? []),
    unread: results.flatMap((result) => (result.samples === undefined ? [result.provider] : [])),
  };
}

/** Returns the samples of every mock provider whose /metrics could be read. */
async function readProviders(urls: Record<string, string>): Promise<MetricSampleValue[]> {
  return (await scrapeProviders(urls)).samples;
}

/**
 * Reads the providers' bill of a platform: the mock providers' token counters and the
 * platform's token cost counter, both since the platform started.
 */
export async function readProviderBill(
  platform: Pick<DrillPlatform, 'urls' | 'registry' | 'prices'>,
): Promise<ProviderBill> {
  const [providers, own] = await Promise.all([
    scrapeProviders(platform.urls.providers),
    readRegistry(platform.registry),
  ]);
  return providerBillOf(
    [...providers.samples, ...own],
    (provider, model, usage) => platform.prices.priceTokens(provider, model, usage),
    providers.unread,
  );
}

/**
 * Wall-clock wait between reads of the providers' bill, longer than the 250 ms in which a
 * worker process sends its batch of metric calls, charges included.
 */
const BILL_SETTLE_MS = 400;

/** Maximum reads of the providers' bill, so a charged total that keeps changing ends the wait. */
const BILL_READS = 5;

/**
 * Reads the providers' bill until its totals stay the same across one wait, because worker
 * processes send the charges of their last tasks in batches after the tasks end. Returns the
 * last read after `BILL_READS` reads, or once `signal` is aborted.
 */
export async function settledBill(
  platform: DrillPlatform,
  signal: AbortSignal,
): Promise<ProviderBill> {
  let bill = await readProviderBill(platform);
  for (let read = 1; read < BILL_READS && !signal.aborted; read += 1) {
    await sleep(BILL_SETTLE_MS);
    const next = await readProviderBill(platform);
    const settled = next.chargedUsd === bill.chargedUsd && next.totalUsd === bill.totalUsd;
    bill = next;
    if (settled) break;
  }
  return bill;
}

/**
 * Cost of the tasks of `tenants`, the main load's, which the rest of the report counts,
 * read once the platform's tasks ended, `SETTLE_LIMIT_MS` ran out or `signal` was aborted.
 * `unsettledTasks` counts the tasks still open at that read, whose cost the totals lack.
 */
async function costOf(
  platform: DrillPlatform,
  tenants: readonly string[],
  signal: AbortSignal,
): Promise<CostSummary> {
  const { summary, unsettled } = await settledCost(platform.store, platform.ledger, {
    tenants,
    limitMs: SETTLE_LIMIT_MS,
    signal,
    workerPoolUsd: () => platform.workerPoolUsd(),
  });
  return { ...reportCostOf(summary, unsettled), providerBill: await settledBill(platform, signal) };
}

/**
 * Task sizes of a burst whose main stream replays a trace. A constant-rate burst cannot
 * take sizes from trace rows, so it draws them from lognormals fitted to the Azure
 * conversation trace: median and p95 of 1,020 and 4,083 context tokens, and of 129 and
 * 451 generated tokens.
 */
const TRACE_LIKE_TASKS: TaskSizes = {
  source: 'distribution',
  kinds: [
    {
      name: 'conversation',
      weight: 1,
      inputTokens: { kind: 'lognormal', median: 1020, p95: 4083 },
      outputTokens: { kind: 'lognormal', median: 129, p95: 451 },
    },
  ],
};

function burstScenario(
  main: ScenarioSpec,
  step: TenantBurstStep,
  quotaPerMinute: number,
): ScenarioSpec {
  return {
    ...main,
    tasks: main.tasks.source === 'trace' ? TRACE_LIKE_TASKS : main.tasks,
    name: `${main.name}-burst-${step.tenant}`,
    description: `${step.quotaMultiplier}x the quota of ${step.tenant}`,
    durationSec: step.durationS,
    arrival: { kind: 'constant', ratePerSec: (quotaPerMinute * step.quotaMultiplier) / 60 },
    tenants: [{ tenantId: step.tenant, weight: 1 }],
    slo: {},
  };
}

/**
 * Watches the breakers of `platform`. Its change times are on the platform clock, which
 * the drill shares.
 */
function watchBreakers(platform: DrillPlatform): BreakerWatch {
  const changes: BreakerChangeAt[] = [];
  const initial = platform.breakers();
  const stop = platform.onBreakerChange((change) => changes.push(change));
  return { initial, changes: () => changes, stop };
}

/**
 * Creates drill dependencies that run against a live platform: the embedded load engine for
 * the main and burst streams, the platform's metrics for the live series, and the fault
 * driver against its fault proxy and mock providers.
 */
export function platformDrillDeps(options: PlatformDrillOptions): DrillDeps {
  const { platform, clock } = options;
  const toxiproxyUrl = platform.urls.proxyApi;
  if (toxiproxyUrl === undefined) {
    throw new TypeError(
      'a drill injects faults through the fault proxy, but the platform runs without one; start it with faultProxy true (the default)',
    );
  }
  const seed = options.seed ?? 1;
  const burstTenants = options.spec.faults.flatMap((step) =>
    step.kind === 'tenant-burst' ? [step.tenant] : [],
  );
  const read = async (): Promise<MetricSampleValue[]> => [
    ...(await readRegistry(platform.registry)),
    ...(await readProviders(platform.urls.providers)),
  ];

  function stream(
    run: Promise<LoadResult>,
    parts: { started: Promise<number>; sampler?: SeriesSampler; latencyBySecond: LatencyBySecond },
    extras: () => Promise<TopologyExtras>,
  ): LoadStream {
    const result = run.then(async (loadResult) => topologyFromLoad(loadResult, await extras()));
    return {
      started: parts.started,
      series: () => parts.sampler?.points() ?? [],
      latencyBySecond: parts.latencyBySecond,
      stop: () => undefined,
      result,
    };
  }

  /** Returns the per-second latencies of a stream and the load option that fills them. */
  function latencyRecording(): {
    latencyBySecond: LatencyBySecond;
    onLatency: (second: number, ms: number) => void;
  } {
    const latencyBySecond = new LatencyBySecond();
    return { latencyBySecond, onLatency: (second, ms) => latencyBySecond.record(second, ms) };
  }

  /**
   * Creates the `started` promise of a stream, the `onStart` load option that resolves it,
   * and `rejectOnFailure`, which rejects it with the error of a load that fails before its
   * first send. Burst streams leave `started` unread, so its rejection is marked handled here.
   */
  function startPromise(): {
    started: Promise<number>;
    onStart: (monotonicMs: number) => void;
    rejectOnFailure: (run: Promise<unknown>) => void;
  } {
    let onStart: (monotonicMs: number) => void = () => undefined;
    let fail: (error: unknown) => void = () => undefined;
    const started = new Promise<number>((resolve, reject) => {
      onStart = resolve;
      fail = reject;
    });
    started.catch(() => undefined);
    return { started, onStart, rejectOnFailure: (run) => run.catch(fail) };
  }

  function startMain(durationS: number, signal: AbortSignal): LoadStream {
    const sampler = new SeriesSampler(burstTenants);
    const servedBySecond = new Map<number, Record<string, number>>();
    const failoversBySecond = new Map<number, number>();
    const failoversByPairBySecond = new Map<number, FailoversByPair>();
    const queueBySecond = new Map<number, { depth: number; oldestAgeS: number }>();
    const admissionRejectionsBySecond = new Map<number, Record<string, number>>();
    const firstTokenBySecond = new Map<number, Record<string, FirstTokenSum>>();
    let running = true;
    const { started, onStart, rejectOnFailure } = startPromise();
    const onPoint = (point: SeriesPoint): void => {
      servedBySecond.set(point.t, point.servedBy);
      failoversBySecond.set(point.t, point.failovers);
      if (point.failoversByPair !== undefined) {
        failoversByPairBySecond.set(point.t, point.failoversByPair);
      }
      if (point.admissionRejections !== undefined) {
        admissionRejectionsBySecond.set(point.t, point.admissionRejections);
      }
      if (point.firstTokenByProvider !== undefined) {
        firstTokenBySecond.set(point.t, point.firstTokenByProvider);
      }
      if (point.queueDepth !== undefined && point.queueOldestAgeS !== undefined) {
        queueBySecond.set(point.t, {
          depth: point.queueDepth,
          oldestAgeS: point.queueOldestAgeS,
        });
      }
    };
    const { latencyBySecond, onLatency } = latencyRecording();
    // The cost per task bills the worker pool for the main load, not the drill's set-up.
    platform.startWorkerPoolBill();
    // The baseline is read before the load starts, so the sampler's first second counts
    // every request the load sends in it.
    const run = read()
      .then((samples) => {
        sampler.baseline(samples);
        return runLoad(options.scenario, {
          target: platform.urls.gateway,
          durationSec: durationS,
          seed,
          clock,
          signal,
          topology: options.topology,
          outputLimitOf: (route) => platform.maxOutputTokens?.(route),
          drainTimeoutMs: MAIN_DRAIN_TIMEOUT_MS,
          onLatency,
          onStart,
        });
      })
      .finally(() => {
        running = false;
      });
    rejectOnFailure(run);
    // The sampler counts its seconds from the load's second 0, so its fields and the load's
    // own counts of each second cover the same interval.
    const sampling = started.then(
      (originMs) =>
        sampleSeries({ clock, originMs, sampler, read, isRunning: () => running, signal, onPoint }),
      () => undefined,
    );
    return stream(run, { started, sampler, latencyBySecond }, async () => {
      await sampling;
      const samples = await read();
      const cost = await costOf(
        platform,
        options.scenario.tenants.map((tenant) => tenant.tenantId),
        signal,
      );
      // Read after the cost settled, when worker processes have sent the counts of their
      // last tasks.
      const fallbackSamples = await readRegistry(platform.registry);
      return {
        topology: options.topology,
        failovers: failoverPairs(samples),
        fallbackRouteAttempts: fallbackRouteAttempts(fallbackSamples),
        cost,
        servedBySecond,
        failoversBySecond,
        failoversByPairBySecond,
        queueBySecond,
        admissionRejectionsBySecond,
        firstTokenBySecond,
      };
    });
  }

  function startBurst(step: TenantBurstStep, signal: AbortSignal): LoadStream {
    const quota = options.quotaPerMinute[step.tenant];
    if (quota === undefined) {
      throw new RangeError(
        `no quota known for burst tenant ${step.tenant}; check fixtures/tenants.yaml`,
      );
    }
    const scenario = burstScenario(options.scenario, step, quota);
    const { latencyBySecond, onLatency } = latencyRecording();
    const { started, onStart, rejectOnFailure } = startPromise();
    const run = runLoad(scenario, {
      target: platform.urls.gateway,
      seed: seed + 1,
      clock,
      signal,
      topology: options.topology,
      outputLimitOf: (route) => platform.maxOutputTokens?.(route),
      onLatency,
      onStart,
    });
    rejectOnFailure(run);
    const empty = { meanUsd: 0, p95Usd: 0, totalUsd: 0, byTenant: [], byRoute: [] };
    return stream(run, { started, latencyBySecond }, async () => ({
      topology: `${options.topology} burst`,
      failovers: [],
      cost: empty,
    }));
  }

  const workers: DrillWorkers = {
    slots: platform.workers.slots,
    get paused() {
      return platform.workers.paused;
    },
    pause: () => platform.workers.pause(),
    resume: () => platform.workers.resume(),
    readShed: async () =>
      shedCounts(await readRegistry(platform.registry), (tenant) => options.tierOf[tenant]),
    backpressure: {
      maxQueueDepth: platform.backpressure.maxQueueDepth,
      maxOldestAgeMs: platform.backpressure.maxOldestAgeMs,
      watermarks: { ...platform.backpressure.watermarks },
      retryAfterS: {
        min: platform.backpressure.minRetryAfterSeconds,
        max: platform.backpressure.maxRetryAfterSeconds,
      },
    },
  };

  return {
    clock,
    watchBreakers: () => watchBreakers(platform),
    workers,
    faults: createFaultDriver({
      toxiproxyUrl,
      providers: platform.urls.providers,
    }),
    startLoad: (request, signal) =>
      request.kind === 'main'
        ? startMain(request.durationS, signal)
        : startBurst(request.step, signal),
    readMetrics: async () => keyedSamples(await read()),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
  };
}
