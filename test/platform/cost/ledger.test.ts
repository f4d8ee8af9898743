import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { type Clock, systemClock } from '../../../src/platform/clock.js';
import {
  type CostEntry,
  type CostLedger,
  DEFAULT_COST_RETENTION_MS,
  MemoryCostLedger,
  percentile,
  RedisCostLedger,
} from '../../../src/platform/cost/index.js';
import { addUsd } from '../../../src/platform/cost/usd.js';

function entry(index: number, overrides: Partial<CostEntry> = {}): CostEntry {
  return {
    taskId: `task-${index}`,
    tenantId: index % 2 === 0 ? 'tenant-alpha' : 'tenant-beta',
    route: index < 10 ? 'chat' : 'summarize',
    provider: 'provider-a',
    model: 'gpt-4o',
    usage: { inputTokens: 100, outputTokens: 100 },
    tokenCostUsd: index / 100,
    executorCostUsd: 0,
    ...overrides,
  };
}

function assertUsd(actual: number | undefined, expected: number): void {
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) < 1e-9,
    `expected $${expected}, got $${actual}`,
  );
}

/** Options a test passes to a ledger factory. */
interface LedgerOptions {
  retentionMs?: number;
  clock?: Clock;
}

/** Returns a clock that starts a bucket of every retention below and moves only by `advance`. */
function manualClock(): Clock & { advance: (ms: number) => void } {
  let now = 1_000_000;
  return {
    ...systemClock,
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

/** Retention of the expiry tests: 8 s, so each time bucket is 1 s wide. */
const RETENTION_MS = 8_000;
const BUCKET_MS = 1_000;

function describeLedger(
  name: string,
  create: (options?: LedgerOptions) => CostLedger,
  cleanup: () => Promise<void>,
) {
  describe(`${name} (cost ledger)`, () => {
    let ledger: CostLedger;

    beforeEach(() => {
      ledger = create();
    });

    afterEach(async () => {
      await cleanup();
    });

    it('totals per tenant and per route', async () => {
      for (let i = 1; i <= 20; i += 1) {
        await ledger.record(entry(i));
      }
      const summary = await ledger.summary();
      assert.equal(summary.tasks, 20);
      assertUsd(summary.totalUsd, 2.1);
      assertUsd(summary.byTenant['tenant-alpha']?.totalUsd, 1.1);
      assert.equal(summary.byTenant['tenant-alpha']?.tasks, 10);
      assertUsd(summary.byRoute.chat?.totalUsd, 0.45);
      assert.equal(summary.byRoute.summarize?.tasks, 11);
    });

    it('reports mean and p95 per task', async () => {
      for (let i = 1; i <= 20; i += 1) {
        await ledger.record(entry(i));
      }
      const summary = await ledger.summary();
      assertUsd(summary.meanUsdPerTask, 0.105);
      assertUsd(summary.p95UsdPerTask, 0.19);
    });

    it('reports p95 per tenant and route', async () => {
      for (let i = 1; i <= 20; i += 1) {
        await ledger.record(entry(i));
      }
      const summary = await ledger.summary();
      assertUsd(summary.byTenant['tenant-alpha']?.p95Usd, 0.2);
      assertUsd(summary.byTenant['tenant-beta']?.p95Usd, 0.19);
      assertUsd(summary.byRoute.chat?.p95Usd, 0.09);
      assertUsd(summary.byRoute.summarize?.p95Usd, 0.2);
    });

    it('summarizes only the tenants asked for', async () => {
      for (let i = 1; i <= 20; i += 1) {
        await ledger.record(entry(i));
      }
      const summary = await ledger.summary({ tenants: ['tenant-beta'] });
      assert.equal(summary.tasks, 10);
      assertUsd(summary.totalUsd, 1.0);
      assert.deepEqual(Object.keys(summary.byTenant), ['tenant-beta']);
      assertUsd(summary.meanUsdPerTask, 0.1);
      assert.equal((await ledger.summary({ tenants: [] })).tasks, 0);
    });

    it('adds executor cost to token cost', async () => {
      await ledger.record(entry(1, { tokenCostUsd: 0.012, executorCostUsd: 0.003 }));
      assertUsd((await ledger.summary()).totalUsd, 0.015);
    });

    it('shares the pool bill by busy time', async () => {
      await ledger.record(entry(1, { tokenCostUsd: 0.01, workerBusyMs: 3000 }));
      await ledger.record(entry(2, { tokenCostUsd: 0.01, workerBusyMs: 1000 }));
      // A sync task, which never ran on the pool.
      await ledger.record(entry(3, { tokenCostUsd: 0.01 }));

      const summary = await ledger.summary({ workerPoolUsd: 0.4 });

      assertUsd(summary.workerPoolUsd, 0.4);
      assertUsd(summary.totalUsd, 0.43);
      // task-1 (tenant-beta) takes 3/4 of the bill and task-2 (tenant-alpha) 1/4.
      assertUsd(summary.byTenant['tenant-beta']?.totalUsd, 0.02 + 0.3);
      assertUsd(summary.byTenant['tenant-alpha']?.totalUsd, 0.01 + 0.1);
      assertUsd(summary.p95UsdPerTask, 0.31);
    });

    it('shares the pool bill before selecting tenants', async () => {
      await ledger.record(entry(1, { tokenCostUsd: 0, workerBusyMs: 1000 }));
      await ledger.record(entry(2, { tokenCostUsd: 0, workerBusyMs: 1000 }));

      const summary = await ledger.summary({ tenants: ['tenant-alpha'], workerPoolUsd: 1 });

      assert.equal(summary.tasks, 1);
      assertUsd(summary.totalUsd, 0.5);
    });

    it('shares an idle pool bill evenly', async () => {
      await ledger.record(entry(1, { tokenCostUsd: 0.01 }));
      await ledger.record(entry(2, { tokenCostUsd: 0.03 }));

      const summary = await ledger.summary({ workerPoolUsd: 0.4 });

      assertUsd(summary.workerPoolUsd, 0.4);
      assertUsd(summary.byTenant['tenant-beta']?.totalUsd, 0.21);
      assertUsd(summary.byTenant['tenant-alpha']?.totalUsd, 0.23);
    });

    it('reports no pool bill without tasks', async () => {
      const summary = await ledger.summary({ workerPoolUsd: 0.4 });

      assert.equal(summary.workerPoolUsd, 0);
      assert.equal(summary.totalUsd, 0);
    });

    it('rejects a negative pool bill', async () => {
      await assert.rejects(ledger.summary({ workerPoolUsd: -1 }), /workerPoolUsd must be/);
    });

    it('totals priced tokens to the exact decimal', async () => {
      // gpt-4o at $2.5 and $10 per million: 135 input tokens cost 0.0003375 and 32 output
      // tokens 0.00032, whose float sum is 0.0006575000000000001.
      await ledger.record(entry(2, { tokenCostUsd: 0.0003375 }));
      await ledger.record(entry(4, { tokenCostUsd: 0.00032 }));

      const summary = await ledger.summary();

      assert.equal(summary.totalUsd, 0.0006575);
      assert.equal(summary.meanUsdPerTask, 0.00032875);
      assert.equal(summary.byTenant['tenant-alpha']?.totalUsd, 0.0006575);
      assert.equal(summary.byRoute.chat?.totalUsd, 0.0006575);
      assert.equal(
        JSON.stringify(summary.byRoute.chat),
        '{"tasks":2,"totalUsd":0.0006575,"p95Usd":0.0003375}',
      );
    });

    it('keeps running totals to the exact decimal', async () => {
      await ledger.record(entry(2, { tokenCostUsd: 0.0003375 }));
      await ledger.record(entry(4, { tokenCostUsd: 0.00032 }));

      const totals = await ledger.totals();

      assert.equal(totals.totalUsd, 0.0006575);
      assert.equal(totals.byTenant['tenant-alpha']?.totalUsd, 0.0006575);
      assert.equal(totals.byRoute.chat?.totalUsd, 0.0006575);
    });

    it('adds executor cost to the exact decimal', async () => {
      await ledger.record(entry(1, { tokenCostUsd: 0.0003375, executorCostUsd: 0.00032 }));
      assert.equal((await ledger.summary()).totalUsd, 0.0006575);
    });

    it('shares the pool bill exactly', async () => {
      for (let i = 1; i <= 3; i += 1) {
        await ledger.record(entry(i, { tokenCostUsd: 0, workerBusyMs: 1000 }));
      }

      const summary = await ledger.summary({ workerPoolUsd: 0.01 });

      // A third of 0.01 is no whole number of picodollars, so one task takes one more. Which
      // one depends on the order in which the ledger returns its tasks.
      const alpha = summary.byTenant['tenant-alpha']?.totalUsd ?? Number.NaN;
      const beta = summary.byTenant['tenant-beta']?.totalUsd ?? Number.NaN;
      assert.ok([0.003333333333, 0.003333333334].includes(alpha), `tenant-alpha ${alpha}`);
      assert.equal(addUsd(alpha, beta), 0.01);
      assert.equal(summary.totalUsd, 0.01);
    });

    it('records a task id once', async () => {
      assert.equal(await ledger.record(entry(1)), true);
      assert.equal(await ledger.record(entry(1)), false);
      assert.equal((await ledger.summary()).tasks, 1);
      const totals = await ledger.totals();
      assert.equal(totals.tasks, 1);
      assertUsd(totals.totalUsd, 0.01);
    });

    it('keeps running totals per tenant and route', async () => {
      for (let i = 1; i <= 20; i += 1) {
        await ledger.record(entry(i));
      }
      const totals = await ledger.totals();
      assert.equal(totals.tasks, 20);
      assertUsd(totals.totalUsd, 2.1);
      assert.equal(totals.byTenant['tenant-alpha']?.tasks, 10);
      assertUsd(totals.byTenant['tenant-alpha']?.totalUsd, 1.1);
      assert.equal(totals.byTenant['tenant-beta']?.tasks, 10);
      assertUsd(totals.byTenant['tenant-beta']?.totalUsd, 1.0);
      assert.equal(totals.byRoute.chat?.tasks, 9);
      assertUsd(totals.byRoute.chat?.totalUsd, 0.45);
      assert.equal(totals.byRoute.summarize?.tasks, 11);
      assertUsd(totals.byRoute.summarize?.totalUsd, 1.65);
    });

    it('reports empty running totals', async () => {
      assert.deepEqual(await ledger.totals(), { tasks: 0, totalUsd: 0, byTenant: {}, byRoute: {} });
    });

    it('detects a duplicate within the retention', async () => {
      const clock = manualClock();
      ledger = create({ retentionMs: RETENTION_MS, clock });
      // The last ms of a bucket is the record that its bucket keeps the shortest time.
      clock.advance(BUCKET_MS - 1);
      assert.equal(await ledger.record(entry(1)), true);

      clock.advance(RETENTION_MS);

      assert.equal(await ledger.record(entry(1)), false);
      assert.equal((await ledger.summary()).tasks, 1);
      assert.equal((await ledger.totals()).tasks, 1);
    });

    it('drops a record one bucket after the retention', async () => {
      const clock = manualClock();
      ledger = create({ retentionMs: RETENTION_MS, clock });
      // The first ms of a bucket is the record that its bucket keeps the longest time.
      assert.equal(await ledger.record(entry(1)), true);

      clock.advance(RETENTION_MS + BUCKET_MS - 1);
      assert.equal((await ledger.summary()).tasks, 1, 'kept until its bucket expires');
      clock.advance(1);

      assert.equal((await ledger.summary()).tasks, 0);
      assert.equal(await ledger.record(entry(1)), true, 'an expired task id is recorded again');
      assert.equal((await ledger.summary()).tasks, 1);
      assert.equal((await ledger.totals()).tasks, 2);
    });

    it('summarizes a run shorter than the retention', async () => {
      const clock = manualClock();
      ledger = create({ retentionMs: RETENTION_MS, clock });
      // 20 tasks over 7.6 s, across 8 buckets, read 0.4 s before the first one expires.
      for (let i = 1; i <= 20; i += 1) {
        await ledger.record(entry(i, { workerBusyMs: i * 100 }));
        clock.advance(400);
      }
      clock.advance(RETENTION_MS - 20 * 400);

      const summary = await ledger.summary({ workerPoolUsd: 2.1 });

      assert.equal(summary.tasks, 20);
      // The pool bill, shared by busy time, doubles each task's cost.
      assertUsd(summary.totalUsd, 4.2);
      assertUsd(summary.byTenant['tenant-alpha']?.totalUsd, 2.2);
      assertUsd(summary.p95UsdPerTask, 0.38);
      assertUsd(summary.byRoute.chat?.p95Usd, 0.18);
    });

    it('keeps running totals past the retention', async () => {
      const clock = manualClock();
      ledger = create({ retentionMs: RETENTION_MS, clock });
      for (let i = 1; i <= 4; i += 1) {
        await ledger.record(entry(i));
      }
      clock.advance(RETENTION_MS + BUCKET_MS);
      await ledger.record(entry(5));
      await ledger.record(entry(16));

      const summary = await ledger.summary();
      const totals = await ledger.totals();

      assert.equal(summary.tasks, 2);
      assertUsd(summary.totalUsd, 0.21);
      assert.equal(totals.tasks, 6);
      assertUsd(totals.totalUsd, 0.31);
      assert.equal(totals.byTenant['tenant-alpha']?.tasks, 3);
      assertUsd(totals.byTenant['tenant-alpha']?.totalUsd, 0.22);
      assert.equal(totals.byTenant['tenant-beta']?.tasks, 3);
      assertUsd(totals.byTenant['tenant-beta']?.totalUsd, 0.09);
      assert.equal(totals.byRoute.chat?.tasks, 5);
      assert.equal(totals.byRoute.summarize?.tasks, 1);
      assertUsd(totals.byRoute.summarize?.totalUsd, 0.16);
    });

    it('rejects an invalid retention', () => {
      for (const retentionMs of [0, -1, 1.5, Number.NaN]) {
        assert.throws(() => create({ retentionMs }), {
          name: 'RangeError',
          message: `retentionMs must be a positive integer of ms, got ${String(retentionMs)}`,
        });
      }
    });
  });
}

describeLedger(
  'MemoryCostLedger',
  (options) => new MemoryCostLedger(options),
  async () => undefined,
);

describe('MemoryCostLedger', () => {
  it('defaults the retention to 24 hours', async () => {
    const clock = manualClock();
    const ledger = new MemoryCostLedger({ clock });
    await ledger.record(entry(1));
    clock.advance(DEFAULT_COST_RETENTION_MS);

    assert.equal(DEFAULT_COST_RETENTION_MS, 86_400_000);
    assert.equal(await ledger.record(entry(1)), false);
  });
});

describe('RedisCostLedger on 127.0.0.1:6379', () => {
  let redis: Redis | undefined;
  const ledgers: RedisCostLedger[] = [];

  after(async () => {
    await redis?.quit();
  });

  describeLedger(
    'RedisCostLedger',
    (options) => {
      redis ??= new Redis(6379, '127.0.0.1');
      const keyPrefix = `test:cost:${randomUUID()}:`;
      const ledger = new RedisCostLedger({ redis, keyPrefix, ...options });
      ledgers.push(ledger);
      return ledger;
    },
    async () => {
      await Promise.all(ledgers.splice(0).map((ledger) => ledger.clear()));
    },
  );

  describe('RedisCostLedger keys', () => {
    const keyPrefix = `test:cost:${randomUUID()}:`;

    afterEach(async () => {
      await new RedisCostLedger({ redis, keyPrefix }).clear();
    });

    it('expires a record bucket in Redis', async () => {
      redis ??= new Redis(6379, '127.0.0.1');
      // 200 ms of retention makes 25 ms buckets, which Redis deletes 200 to 225 ms after
      // their last write.
      const ledger = new RedisCostLedger({ redis, keyPrefix, retentionMs: 200 });
      await ledger.record(entry(1));
      const [bucket] = await redis.keys(`${keyPrefix}tasks:*`);
      assert.ok(bucket !== undefined, 'a record bucket exists');
      const ttlMs = await redis.pttl(bucket);
      assert.ok(ttlMs > 150, `bucket time to live ${ttlMs} ms`);
      assert.ok(ttlMs <= 225, `bucket time to live ${ttlMs} ms`);

      await systemClock.sleep(260);

      assert.equal(await redis.exists(bucket), 0);
      assert.equal((await ledger.summary()).tasks, 0);
      assert.equal((await ledger.totals()).tasks, 1);
    });

    it('deletes every bucket on clear', async () => {
      redis ??= new Redis(6379, '127.0.0.1');
      const clock = manualClock();
      const ledger = new RedisCostLedger({ redis, keyPrefix, retentionMs: RETENTION_MS, clock });
      await ledger.record(entry(1));
      clock.advance(3 * RETENTION_MS);
      await ledger.record(entry(2));
      assert.equal((await redis.keys(`${keyPrefix}*`)).length, 6);

      await ledger.clear();

      assert.deepEqual(await redis.keys(`${keyPrefix}*`), []);
    });

    it('keeps running totals to the exact decimal', async () => {
      redis ??= new Redis(6379, '127.0.0.1');
      const prefix = `test:cost:${randomUUID()}:`;
      const ledger = new RedisCostLedger({ redis, keyPrefix: prefix });
      try {
        await ledger.record(entry(2, { tokenCostUsd: 1000.1 }));
        await ledger.record(entry(4, { tokenCostUsd: 0.0006575 }));
        // HINCRBYFLOAT would store 1000.10065749999999996 on x86-64.
        assert.equal(await redis.hget(`${prefix}tenant:usd`, 'tenant-alpha'), '1000.1006575');
        assert.equal(await redis.hget(`${prefix}route:usd`, 'chat'), '1000.1006575');
        assert.equal((await ledger.summary()).totalUsd, 1000.1006575);
        assert.equal((await ledger.totals()).totalUsd, 1000.1006575);
      } finally {
        await ledger.clear();
      }
    });
  });
});

describe('percentile', () => {
  it('uses the nearest rank', () => {
    assert.equal(percentile([5, 1, 4, 2, 3], 0.95), 5);
    assert.equal(percentile([5, 1, 4, 2, 3], 0.5), 3);
    assert.equal(percentile([], 0.95), 0);
  });
});
