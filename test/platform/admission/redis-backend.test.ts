import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import FakeTimers from '@sinonjs/fake-timers';
import { Redis } from 'ioredis';
import { periodAt } from '../../../src/platform/admission/budget-period.js';
import { RedisAdmissionBackend } from '../../../src/platform/admission/index.js';
import { type BackendFactory, describeAdmissionConformance } from './conformance.js';
import { describeBudgetPeriodConformance } from './period-conformance.js';
import { createManualClock } from './fake-clock.js';
import type { ChildTally } from './redis-admission-child.js';

const CHILD_SCRIPT = fileURLToPath(new URL('./redis-admission-child.ts', import.meta.url));

function uniquePrefix(): string {
  return `test:admission:${randomUUID()}:`;
}

let redis: Redis;

describe('RedisAdmissionBackend on 127.0.0.1:6379', () => {
  before(() => {
    redis = new Redis(6379, '127.0.0.1');
  });

  after(async () => {
    await redis.quit();
  });

  const redisBackend: BackendFactory = async (clock, options) => {
    const keyPrefix = uniquePrefix();
    const backend = new RedisAdmissionBackend({ ...options, redis, clock, keyPrefix });
    return { backend, cleanup: () => backend.clear() };
  };

  describeAdmissionConformance('RedisAdmissionBackend', redisBackend);
  describeBudgetPeriodConformance('RedisAdmissionBackend', redisBackend);

  describeRedisSpecifics();
});

function startChild(settings: object): ChildProcess {
  return fork(CHILD_SCRIPT, [JSON.stringify(settings)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

async function nextMessage(child: ChildProcess): Promise<unknown> {
  const [message] = await once(child, 'message');
  return message;
}

async function collectTally(child: ChildProcess): Promise<ChildTally> {
  const message = await nextMessage(child);
  if (typeof message !== 'object' || message === null || !('tally' in message)) {
    throw new Error(`child failed: ${JSON.stringify(message)}`);
  }
  return message.tally as ChildTally;
}

function describeRedisSpecifics(): void {
  describe('RedisAdmissionBackend', () => {
    let backend: RedisAdmissionBackend;

    beforeEach(() => {
      backend = new RedisAdmissionBackend({ redis, keyPrefix: uniquePrefix() });
    });

    afterEach(async () => {
      await backend.clear();
    });

    it('admits 100 of 1,000 from two processes', async function () {
      this.timeout(30_000);
      const tenant = {
        id: 'tenant-two-process',
        requestsPerMinute: 100,
        tokensPerMinute: 10_000_000,
        maxInFlight: 10_000,
        budgetUsd: 1,
      };
      const keyPrefix = uniquePrefix();
      // Both children use the same frozen time, so no refill happens between
      // their requests: all 1,000 land within the same minute by construction.
      const settings = { keyPrefix, requests: 500, nowMs: Date.now(), tenant };
      const children = [startChild(settings), startChild(settings)];
      try {
        await Promise.all(
          children.map(async (child) => assert.equal(await nextMessage(child), 'ready')),
        );
        const tallies = children.map((child) => collectTally(child));
        for (const child of children) {
          child.send('go');
        }
        const [first, second] = await Promise.all(tallies);
        assert.ok(first);
        assert.ok(second);
        assert.equal(first.admitted + second.admitted, 100);
        const rejected =
          (first.rejectedByReason.requests_per_minute ?? 0) +
          (second.rejectedByReason.requests_per_minute ?? 0);
        assert.equal(rejected, 900);
        assert.ok(Math.min(first.minRetryAfterSeconds, second.minRetryAfterSeconds) > 0);
      } finally {
        for (const child of children) {
          child.kill();
        }
        await new RedisAdmissionBackend({ redis, keyPrefix }).clear();
      }
    });

    it('reads the server TIME when no clock is given', async () => {
      const tenant = {
        id: 'tenant-server-time',
        requestsPerMinute: 6,
        tokensPerMinute: 1000,
        maxInFlight: 100,
        budgetUsd: 1,
      };
      const results = [];
      for (let i = 0; i < 7; i += 1) {
        results.push(await backend.admit({ tenant, tokens: 1, maxCostUsd: 0 }));
      }
      assert.equal(results.filter((result) => result.admitted).length, 6);
      const last = results[6];
      assert.equal(last?.admitted === false && last.reason, 'requests_per_minute');
      assert.equal(last?.admitted === false && last.retryAfterSeconds, 10);
    });

    it('keeps keys under the configured prefix', async () => {
      const keyPrefix = uniquePrefix();
      const prefixed = new RedisAdmissionBackend({ redis, keyPrefix });
      const tenant = {
        id: 'tenant-prefix',
        requestsPerMinute: 1,
        tokensPerMinute: 1,
        maxInFlight: 1,
        budgetUsd: 1,
      };
      await prefixed.admit({ tenant, tokens: 0, maxCostUsd: 0 });
      const keys = await redis.keys(`${keyPrefix}*`);
      const base = `${keyPrefix}{tenant-prefix}`;
      assert.deepEqual(keys.sort(), [`${base}:open`, `${base}:state`, `${base}:tickets`]);
      await prefixed.clear();
      assert.equal((await redis.keys(`${keyPrefix}*`)).length, 0);
    });

    it('expires a day spend hash a TTL after the day', async () => {
      const keyPrefix = uniquePrefix();
      // Near the real time, because Redis deletes a hash whose expiry has passed.
      const day = periodAt('day', Date.now());
      const clock = createManualClock(day.endMs - 1);
      const timed = new RedisAdmissionBackend({ redis, keyPrefix, clock, ticketTtlSeconds: 60 });
      const tenant = {
        id: 'tenant-day-hash',
        requestsPerMinute: 100,
        tokensPerMinute: 1_000,
        maxInFlight: 5,
        budgetUsd: 1,
        budgetPeriod: 'day' as const,
      };
      const spendKey = `${keyPrefix}{tenant-day-hash}:spend:${day.key}`;
      try {
        const admission = await timed.admit({ tenant, tokens: 1, maxCostUsd: 0.25 });
        assert.ok(admission.admitted);
        assert.equal(await redis.pexpiretime(spendKey), day.endMs + 60_000);
        assert.deepEqual(await redis.hgetall(spendKey), { reserved: '0.25', budget: '1' });
        clock.tick(1);
        await timed.settle(admission.ticket, { run: 1, spentUsd: 0.125 });
        assert.deepEqual(await redis.hgetall(spendKey), {
          reserved: '0',
          spent: '0.125',
          budget: '1',
        });
        assert.equal(await redis.pexpiretime(spendKey), day.endMs + 60_000);
      } finally {
        await timed.clear();
      }
      assert.equal((await redis.keys(`${keyPrefix}*`)).length, 0);
    });

    it("admits on the server's day when the local date is off", async () => {
      const keyPrefix = uniquePrefix();
      const serverBackend = new RedisAdmissionBackend({ redis, keyPrefix });
      const tenant = {
        id: 'tenant-server-day',
        requestsPerMinute: 100,
        tokensPerMinute: 1_000,
        maxInFlight: 5,
        budgetUsd: 1,
        budgetPeriod: 'day' as const,
      };
      // This process guesses 2025-01-15, so the script returns the server's time and the
      // backend admits again in the server's day.
      try {
        const timers = FakeTimers.install({ now: Date.UTC(2025, 0, 15), toFake: ['Date'] });
        const admission = await serverBackend
          .admit({ tenant, tokens: 1, maxCostUsd: 0.25 })
          .finally(() => timers.uninstall());
        assert.ok(admission.admitted);
        const [seconds] = await redis.time();
        const serverDays = [Number(seconds) * 1000, Number(seconds) * 1000 - 5_000].map(
          (time) => periodAt('day', time).key,
        );
        const keys = await redis.keys(`${keyPrefix}{tenant-server-day}:spend:*`);
        assert.equal(keys.length, 1);
        const day = keys[0]?.slice(`${keyPrefix}{tenant-server-day}:spend:`.length);
        assert.ok(serverDays.includes(day ?? ''), `${day} is not the server's day`);
        assert.notEqual(day, 'day:2025-01-15');
        assert.equal((await serverBackend.usage(tenant)).reservedUsd, 0.25);
      } finally {
        await serverBackend.clear();
      }
    });

    it("settles another process's ticket in its period", async () => {
      const keyPrefix = uniquePrefix();
      const clock = createManualClock(periodAt('month', Date.now()).endMs - 1);
      const admitting = new RedisAdmissionBackend({ redis, keyPrefix, clock });
      // This backend never admitted the tenant, so it first tries the total period.
      const settling = new RedisAdmissionBackend({ redis, keyPrefix, clock });
      const tenant = {
        id: 'tenant-month-settle',
        requestsPerMinute: 100,
        tokensPerMinute: 1_000,
        maxInFlight: 5,
        budgetUsd: 1,
        budgetPeriod: 'month' as const,
      };
      try {
        const admission = await admitting.admit({ tenant, tokens: 1, maxCostUsd: 0.5 });
        assert.ok(admission.admitted);
        const settlement = await settling.settle(admission.ticket, { run: 1, spentUsd: 0.375 });
        assert.deepEqual(settlement, { outcome: 'applied', runs: [{ run: 1, spentUsd: 0.375 }] });
        assert.deepEqual(await admitting.usage(tenant), {
          inFlight: 0,
          reservedUsd: 0,
          spentUsd: 0.375,
        });
        assert.deepEqual(await settling.usage(tenant), {
          inFlight: 0,
          reservedUsd: 0,
          spentUsd: 0.375,
        });
        const stateKey = `${keyPrefix}{tenant-month-settle}:state`;
        assert.equal(await redis.hget(stateKey, 'spent'), null);
      } finally {
        await admitting.clear();
      }
    });

    it('deletes run charges when a ticket closes or expires', async () => {
      const keyPrefix = uniquePrefix();
      const clock = createManualClock();
      const timed = new RedisAdmissionBackend({ redis, keyPrefix, clock, ticketTtlSeconds: 60 });
      const tenant = {
        id: 'tenant-charges',
        requestsPerMinute: 100,
        tokensPerMinute: 1_000,
        maxInFlight: 5,
        budgetUsd: 1,
      };
      const chargesKey = `${keyPrefix}{tenant-charges}:charges`;
      try {
        const settled = await timed.admit({ tenant, tokens: 1, maxCostUsd: 0.25 });
        const expiring = await timed.admit({ tenant, tokens: 1, maxCostUsd: 0.25 });
        assert.ok(settled.admitted);
        assert.ok(expiring.admitted);
        await timed.charge(settled.ticket, { run: 1, spentUsd: 0.125 });
        await timed.charge(settled.ticket, { run: 2, spentUsd: 0.125 });
        await timed.charge(expiring.ticket, { run: 1, spentUsd: 0.125 });
        assert.equal(await redis.hlen(chargesKey), 2);

        await timed.settle(settled.ticket, { run: 2, spentUsd: 0.25 });
        assert.equal(await redis.hexists(chargesKey, settled.ticket.id), 0);
        // The next admission after the TTL closes the expired ticket and its charges.
        clock.tick(60_000);
        await timed.admit({ tenant, tokens: 1, maxCostUsd: 0 });
        assert.equal(await redis.hlen(chargesKey), 0);
        assert.equal((await timed.usage(tenant)).spentUsd, 0.5);
      } finally {
        await timed.clear();
      }
    });
  });
}
