import { Redis } from 'ioredis';

import { type Clock, systemClock } from '../clock.js';
import {
  type CostEntry,
  type CostLedger,
  type CostSummary,
  type CostSummaryOptions,
  type RunningTotal,
  type RunningTotals,
  summarizeLedger,
  type TaskCost,
  taskCostOf,
} from './ledger.js';
import {
  checkCostRetentionMs,
  DEFAULT_COST_RETENTION_MS,
  type LiveBuckets,
  liveBucketIndexes,
  liveBuckets,
} from './retention.js';
import { addUsd, ROUND_USD_LUA } from './usd.js';

export interface RedisCostLedgerOptions {
  /** A connection owned by the caller. Without one, the ledger opens its own and `close()` quits it. */
  redis?: Redis;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** @defaultValue 6379 */
  port?: number;
  /** @defaultValue 'scalegate:cost:' */
  keyPrefix?: string;
  /**
   * Time a task's cost record is kept for summary() and for duplicate checks, in ms. A
   * record may stay up to one bucket width longer (retention.ts). Every process that shares the key
   * prefix must use the same value, because it sets the bucket width.
   * @defaultValue DEFAULT_COST_RETENTION_MS (24 hours)
   */
  retentionMs?: number;
  /**
   * Clock that picks a record's bucket. The processes that share the key prefix must agree
   * on it to within a small part of a bucket width.
   * @defaultValue systemClock
   */
  clock?: Clock;
}

/**
 * KEYS: tenant USD hash, tenant count hash, route USD hash, route count hash, then the
 * record bucket hashes that are live now, the current one first. ARGV: task id, tenant
 * id, route, total USD, the task's cost record as JSON, the bucket's time to live in ms.
 * Writes the record to the current bucket and adds to every running total in one step,
 * or does nothing when a live bucket already has the task id. The USD totals are rounded
 * to the picodollar as `addUsd` rounds, which HINCRBYFLOAT, adding in long double and
 * printing 17 decimals, does not do.
 */
const RECORD_SCRIPT = `${ROUND_USD_LUA}
local function addToTotal(key, field, usd)
  local total = tonumber(redis.call('HGET', key, field)) or 0
  redis.call('HSET', key, field, formatUsd(roundUsd(total + usd)))
end
for index = 5, #KEYS do
  if redis.call('HEXISTS', KEYS[index], ARGV[1]) == 1 then return 0 end
end
redis.call('HSET', KEYS[5], ARGV[1], ARGV[5])
redis.call('PEXPIRE', KEYS[5], ARGV[6])
addToTotal(KEYS[1], ARGV[2], tonumber(ARGV[4]))
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
addToTotal(KEYS[3], ARGV[3], tonumber(ARGV[4]))
redis.call('HINCRBY', KEYS[4], ARGV[3], 1)
return 1
`;

interface LedgerCommands {
  scalegateRecordCost(keyCount: number, ...args: string[]): Promise<unknown>;
}

/**
 * A cost ledger in Redis shared by every process. Running totals per tenant and route are
 * kept in the script that records a task, and never expire. Each task's
 * cost record, from which summary() computes means, p95 values and pool shares, goes to a
 * hash per time bucket that expires as a whole after the retention period (retention.ts).
 * Redis 7.0 has no time to live per hash field, and a key per task would cost a key and an
 * expiry entry each and give summary() no way to list them but SCAN, so buckets it is.
 * NOTE: summary() reads every kept record, so it suits up to about a million tasks per
 * retention period.
 */
export class RedisCostLedger implements CostLedger {
  readonly #redis: Redis & LedgerCommands;
  readonly #ownsConnection: boolean;
  readonly #prefix: string;
  readonly #retentionMs: number;
  readonly #clock: Clock;

  constructor(options: RedisCostLedgerOptions = {}) {
    this.#retentionMs = checkCostRetentionMs(options.retentionMs ?? DEFAULT_COST_RETENTION_MS);
    this.#clock = options.clock ?? systemClock;
    this.#prefix = options.keyPrefix ?? 'scalegate:cost:';
    this.#ownsConnection = options.redis === undefined;
    const redis = options.redis ?? new Redis(options.port ?? 6379, options.host ?? '127.0.0.1');
    redis.defineCommand('scalegateRecordCost', { lua: RECORD_SCRIPT });
    if (!hasLedgerCommands(redis)) {
      throw new TypeError('ioredis defineCommand did not add the cost ledger command');
    }
    this.#redis = redis;
  }

  async record(entry: CostEntry): Promise<boolean> {
    const cost = taskCostOf(entry);
    const buckets = liveBuckets(this.#retentionMs, this.#clock.now());
    const bucketKeys = this.#bucketKeys(buckets).reverse();
    const keys = [...this.#totalKeys(), ...bucketKeys];
    const reply = await this.#redis.scalegateRecordCost(
      keys.length,
      ...keys,
      entry.taskId,
      entry.tenantId,
      entry.route,
      String(cost.totalUsd),
      JSON.stringify(cost),
      String(this.#retentionMs + buckets.widthMs),
    );
    return reply === 1;
  }

  async summary(options: CostSummaryOptions = {}): Promise<CostSummary> {
    const buckets = liveBuckets(this.#retentionMs, this.#clock.now());
    const reads = this.#redis.multi();
    for (const key of this.#bucketKeys(buckets)) reads.hgetall(key);
    const records = execReplies(await reads.exec()).flatMap((reply) =>
      Object.values(reply as Record<string, string>),
    );
    return summarizeLedger(records.map(parseTaskCost), options);
  }

  async totals(): Promise<RunningTotals> {
    const [tenantUsd, tenantCount, routeUsd, routeCount] = this.#totalKeys();
    const reads = this.#redis.multi().hgetall(tenantUsd).hgetall(tenantCount);
    reads.hgetall(routeUsd).hgetall(routeCount);
    const replies = execReplies(await reads.exec()) as Record<string, string>[];
    const byTenant = runningTotalsOf(replies[0] ?? {}, replies[1] ?? {});
    const overall = Object.values(byTenant).reduce(
      (sum, total) => ({
        tasks: sum.tasks + total.tasks,
        totalUsd: addUsd(sum.totalUsd, total.totalUsd),
      }),
      { tasks: 0, totalUsd: 0 },
    );
    return { ...overall, byTenant, byRoute: runningTotalsOf(replies[2] ?? {}, replies[3] ?? {}) };
  }

  /** Deletes this ledger's keys, record buckets of any time included, for tests and run resets. */
  async clear(): Promise<void> {
    const pattern = `${escapeGlob(this.#prefix)}tasks:*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      if (keys.length > 0) await this.#redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    await this.#redis.unlink(...this.#totalKeys());
  }

  async close(): Promise<void> {
    if (this.#ownsConnection) {
      await this.#redis.quit();
    }
  }

  #totalKeys(): [string, string, string, string] {
    const p = this.#prefix;
    return [`${p}tenant:usd`, `${p}tenant:count`, `${p}route:usd`, `${p}route:count`];
  }

  /** Returns the keys of the live record buckets, oldest first, named by their start in ms. */
  #bucketKeys(buckets: LiveBuckets): string[] {
    return liveBucketIndexes(buckets).map(
      (index) => `${this.#prefix}tasks:${index * buckets.widthMs}`,
    );
  }
}

/** Returns the replies of a MULTI, or throws the first command error. */
function execReplies(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new Error('Redis discarded the cost ledger transaction');
  return results.map(([error, reply]) => {
    if (error !== null) throw error;
    return reply;
  });
}

/** Joins a USD hash and a count hash, both keyed by tenant or route, into running totals. */
function runningTotalsOf(
  usd: Record<string, string>,
  counts: Record<string, string>,
): Record<string, RunningTotal> {
  const totals: Record<string, RunningTotal> = {};
  for (const [key, count] of Object.entries(counts)) {
    totals[key] = { tasks: Number(count), totalUsd: Number(usd[key] ?? 0) };
  }
  return totals;
}

/** Escapes the characters that SCAN MATCH reads as a pattern. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function parseTaskCost(text: string): TaskCost {
  const parsed: unknown = JSON.parse(text);
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof Reflect.get(parsed, 'tenantId') !== 'string' ||
    typeof Reflect.get(parsed, 'route') !== 'string' ||
    typeof Reflect.get(parsed, 'totalUsd') !== 'number' ||
    !['number', 'undefined'].includes(typeof Reflect.get(parsed, 'workerBusyMs'))
  ) {
    throw new TypeError(`invalid cost record in Redis: ${text}`);
  }
  return parsed as TaskCost;
}

function hasLedgerCommands(redis: Redis): redis is Redis & LedgerCommands {
  return typeof Reflect.get(redis, 'scalegateRecordCost') === 'function';
}
