import assert from 'node:assert/strict';

import { Counter, Registry } from 'prom-client';

import { SCENARIOS } from '../../../scenarios/index.js';
import type { BreakerChangeAt } from '../../../src/harness/drill/deps.js';
import {
  type DrillPlatform,
  fallbackRouteAttempts,
  MAIN_DRAIN_TIMEOUT_MS,
  platformDrillDeps,
  settledBill,
} from '../../../src/harness/drill/platform-deps.js';
import { readRegistry } from '../../../src/harness/drill/metric-samples.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../../src/harness/load/options.js';
import type { DrillSpec } from '../../../src/harness/drill/spec.js';
import { MemoryCostLedger } from '../../../src/platform/cost/index.js';
import { createPlatformMetrics } from '../../../src/platform/metrics/index.js';
import { systemClock } from '../../../src/platform/clock.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';
import { GatewayMetrics } from '../../../src/platform/gateway/metrics.js';

/** Returns worker, backpressure and price fields of a platform whose workers only record calls. */
function workerFields(
  calls: string[] = [],
): Pick<DrillPlatform, 'workers' | 'backpressure' | 'prices'> {
  let paused = false;
  return {
    prices: { priceTokens: () => 0 },
    workers: {
      slots: 24,
      get paused() {
        return paused;
      },
      pause: async () => {
        paused = true;
        calls.push('pause');
      },
      resume: async () => {
        paused = false;
        calls.push('resume');
      },
    },
    backpressure: {
      maxQueueDepth: 10_000,
      maxOldestAgeMs: 60_000,
      watermarks: { batch: 0.5, standard: 0.8 },
      minRetryAfterSeconds: 1,
      maxRetryAfterSeconds: 60,
    },
  };
}

/** Returns a platform without providers or breakers whose workers record calls in `calls`. */
function quietPlatform(registry: Registry, calls: string[] = []): DrillPlatform {
  return {
    urls: { gateway: 'http://127.0.0.1:1', proxyApi: 'http://127.0.0.1:2', providers: {} },
    registry,
    ledger: new MemoryCostLedger(),
    store: new MemoryTaskStore(),
    workerPoolUsd: () => 0,
    startWorkerPoolBill: () => undefined,
    breakers: () => [],
    onBreakerChange: () => () => undefined,
    ...workerFields(calls),
  };
}

describe('platformDrillDeps', () => {
  it('refuses a platform started without the fault proxy, naming the setting', () => {
    const scenario = SCENARIOS['steady-chat'];
    assert.ok(scenario !== undefined);
    const spec = { scenario: 'steady-chat', faults: [] } as unknown as DrillSpec;
    assert.throws(
      () =>
        platformDrillDeps({
          platform: {
            urls: { gateway: 'http://127.0.0.1:1', proxyApi: undefined, providers: {} },
            registry: new Registry(),
            ledger: new MemoryCostLedger(),
            store: new MemoryTaskStore(),
            workerPoolUsd: () => 0,
            startWorkerPoolBill: () => undefined,
            breakers: () => [],
            onBreakerChange: () => () => undefined,
            ...workerFields(),
          },
          spec,
          scenario,
          quotaPerMinute: {},
          tierOf: {},
          topology: 'workers=1 serverless_burst=disabled',
          clock: systemClock,
        }),
      /runs without one; start it with faultProxy true/,
    );
  });
});

describe('platformDrillDeps watchBreakers', () => {
  /** Creates a platform whose breaker changes the test sends through `change`. */
  function breakerPlatform(): { platform: DrillPlatform; change: (to: 'open' | 'closed') => void } {
    const listeners = new Set<(change: BreakerChangeAt) => void>();
    let atMs = 0;
    const platform: DrillPlatform = {
      urls: { gateway: 'http://127.0.0.1:1', proxyApi: 'http://127.0.0.1:2', providers: {} },
      registry: new Registry(),
      ledger: new MemoryCostLedger(),
      store: new MemoryTaskStore(),
      workerPoolUsd: () => 0,
      startWorkerPoolBill: () => undefined,
      breakers: () => [{ provider: 'provider-a', model: 'gpt-4o', state: 'closed' }],
      onBreakerChange: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      ...workerFields(),
    };
    const change = (to: 'open' | 'closed') => {
      atMs += 1000;
      const from = to === 'open' ? 'closed' : 'open';
      for (const listener of listeners) {
        listener({ provider: 'provider-a', model: 'gpt-4o', from, to, atMs });
      }
    };
    return { platform, change };
  }

  it('records changes until stopped', () => {
    const scenario = SCENARIOS['steady-chat'];
    assert.ok(scenario !== undefined);
    const spec = { scenario: 'steady-chat', faults: [] } as unknown as DrillSpec;
    const { platform, change } = breakerPlatform();
    const deps = platformDrillDeps({
      platform,
      spec,
      scenario,
      quotaPerMinute: {},
      tierOf: {},
      topology: 'workers=1 serverless_burst=disabled',
      clock: systemClock,
    });
    change('open');
    const watch = deps.watchBreakers?.();
    assert.ok(watch !== undefined);
    assert.deepEqual(watch.initial, [{ provider: 'provider-a', model: 'gpt-4o', state: 'closed' }]);
    change('closed');
    watch.stop();
    change('open');
    assert.deepEqual(
      watch.changes().map((entry) => [entry.from, entry.to, entry.atMs]),
      [['open', 'closed', 2000]],
    );
  });
});

describe('fallbackRouteAttempts', () => {
  it('sums the platform counter by route pair', async () => {
    const metrics = createPlatformMetrics();
    const backup = { route: 'chat', fallbackRoute: 'backup' };
    metrics.recordFallbackAttempt(backup, 'success');
    metrics.recordFallbackAttempt(backup, 'success');
    metrics.recordFallbackAttempt(backup, 'failed');
    metrics.recordFallbackAttempt(backup, 'aborted');
    metrics.recordFallbackAttempt({ route: 'chat-fast', fallbackRoute: 'backup' }, 'failed');
    metrics.recordAttempt({ provider: 'provider-a', model: 'gpt-4o' }, 'success');
    assert.deepEqual(fallbackRouteAttempts(await readRegistry(metrics.registry)), [
      { route: 'chat', fallbackRoute: 'backup', attempts: 4, succeeded: 2 },
      { route: 'chat-fast', fallbackRoute: 'backup', attempts: 1, succeeded: 0 },
    ]);
  });

  it('returns nothing without fallback calls', async () => {
    const metrics = createPlatformMetrics();
    metrics.recordAttempt({ provider: 'provider-a', model: 'gpt-4o' }, 'success');
    assert.deepEqual(fallbackRouteAttempts(await readRegistry(metrics.registry)), []);
  });
});

describe('MAIN_DRAIN_TIMEOUT_MS', () => {
  it('outlasts the load request timeout', () => {
    // A shorter drain would abort slow sync requests that the platform still serves.
    assert.ok(MAIN_DRAIN_TIMEOUT_MS > DEFAULT_REQUEST_TIMEOUT_MS);
  });
});

describe('platformDrillDeps workers', () => {
  function workerDeps(registry: Registry, calls: string[]) {
    const scenario = SCENARIOS['steady-chat'];
    assert.ok(scenario !== undefined);
    const spec = { scenario: 'steady-chat', faults: [] } as unknown as DrillSpec;
    const platform = quietPlatform(registry, calls);
    const deps = platformDrillDeps({
      platform,
      spec,
      scenario,
      quotaPerMinute: {},
      tierOf: { 'tenant-batch': 'batch', 'tenant-alpha': 'critical' },
      topology: 'workers=24 serverless_burst=enabled',
      clock: systemClock,
    });
    assert.ok(deps.workers !== undefined);
    return deps.workers;
  }

  it('pauses and resumes the platform workers', async () => {
    const calls: string[] = [];
    const workers = workerDeps(new Registry(), calls);
    await workers.pause();
    assert.equal(workers.paused, true);
    await workers.resume();
    assert.equal(workers.paused, false);
    assert.deepEqual(calls, ['pause', 'resume']);
  });

  it('reads backpressure rejections by tenant class', async () => {
    const registry = new Registry();
    const gateway = new GatewayMetrics(registry);
    gateway.observeRejection('tenant-batch', 'queue_oldest_age_ms', 429);
    gateway.observeRejection('tenant-batch', 'queue_oldest_age_ms', 429);
    gateway.observeRejection('tenant-batch', 'queue_depth', 429);
    gateway.observeRejection('tenant-alpha', 'queue_oldest_age_ms', 503);
    // A tenant limit is no backpressure, and an unknown tenant has no class.
    gateway.observeRejection('tenant-batch', 'requests_per_minute', 429);
    gateway.observeRejection('tenant-ghost', 'queue_depth', 429);
    const shed = await workerDeps(registry, []).readShed();
    const sorted = [...shed].sort((a, b) => a.tenant.localeCompare(b.tenant));
    assert.deepEqual(sorted, [
      { tenant: 'tenant-alpha', priorityClass: 'critical', status: 503, requests: 1 },
      { tenant: 'tenant-batch', priorityClass: 'batch', status: 429, requests: 3 },
    ]);
  });
});

describe('settledBill', () => {
  it('waits for late relayed charges', async () => {
    const registry = new Registry();
    const charged = new Counter({
      name: 'scalegate_token_cost_usd_total',
      help: 'token cost',
      labelNames: ['tenant', 'route'],
      registers: [registry],
    });
    charged.inc({ tenant: 'tenant-alpha', route: 'chat' }, 0.5);
    // A worker process's last batch arrives 100 ms after the first read.
    setTimeout(() => charged.inc({ tenant: 'tenant-alpha', route: 'chat' }, 0.25), 100);
    const bill = await settledBill(quietPlatform(registry), new AbortController().signal);
    assert.equal(bill.chargedUsd, 0.75);
  });

  it('stops waiting once aborted', async () => {
    const registry = new Registry();
    const controller = new AbortController();
    controller.abort();
    const started = performance.now();
    const bill = await settledBill(quietPlatform(registry), controller.signal);
    assert.equal(bill.chargedUsd, 0);
    assert.ok(performance.now() - started < 300, 'an aborted drill does not wait');
  });
});
