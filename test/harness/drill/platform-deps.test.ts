import assert from 'node:assert/strict';

import { Registry } from 'prom-client';

import { SCENARIOS } from '../../../scenarios/index.js';
import {
  MAIN_DRAIN_TIMEOUT_MS,
  platformDrillDeps,
} from '../../../src/harness/drill/platform-deps.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../../src/harness/load/options.js';
import type { DrillSpec } from '../../../src/harness/drill/spec.js';
import { MemoryCostLedger } from '../../../src/platform/cost/index.js';
import { systemClock } from '../../../src/platform/clock.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';

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
          },
          spec,
          scenario,
          quotaPerMinute: {},
          topology: 'workers=1 serverless_burst=disabled',
          clock: systemClock,
        }),
      /runs without one; start it with faultProxy true/,
    );
  });
});

describe('MAIN_DRAIN_TIMEOUT_MS', () => {
  it('outlasts the load request timeout', () => {
    // A shorter drain would abort slow sync requests that the platform still serves.
    assert.ok(MAIN_DRAIN_TIMEOUT_MS > DEFAULT_REQUEST_TIMEOUT_MS);
  });
});
