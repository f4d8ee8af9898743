import { Redis } from 'ioredis';
import {
  type CostEntry,
  type CostLedger,
  type CostSummary,
  type CostTotal,
  entryTotalUsd,
  summarize,
} from './ledger.js';

export interface RedisCostLedgerOptions {
  /** A connection owned by the caller. Without one, the ledger opens its own and `close()` quits it. */
  redis?: Redis;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** @defaultValue 6379 */
  port?: number;
  /** @defaultValue 'scalegate:cost:' */
  keyPrefix?: string;
}

/**
 * KEYS: recorded-task hash, tenant USD hash, tenant count hash, route USD hash,
 * route count hash. ARGV: task id, tenant id, route, total USD. Adds to every
 * total in one step, or to none when the task id is already recorded.
 */
const RECORD_SCRIPT = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[4]) == 0 then
  return 0
end
redis.call('HINCRBYFLOAT', KEYS[2], ARGV[2], ARGV[4])
redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
redis.call('HINCRBYFLOAT', KEYS[4], ARGV[3], ARGV[4])
redis.call('HINCRBY', KEYS[5], ARGV[3], 1)
return 1
`;

interface LedgerCommands {
  scalegateRecordCost(...args: string[]): Promise<unknown>;
}

/**
 * A cost ledger in Redis shared by every process: totals are kept with
 * HINCRBYFLOAT inside one script, and per-task costs in a hash for the mean and p95.
 * NOTE: summary() reads every per-task cost, so it suits runs of up to about a million tasks.
 */
export class RedisCostLedger implements CostLedger {
  readonly #redis: Redis & LedgerCommands;
  readonly #ownsConnection: boolean;
  readonly #prefix: string;

  constructor(options: RedisCostLedgerOptions = {}) {
    this.#prefix = options.keyPrefix ?? 'scalegate:cost:';
    this.#ownsConnection = options.redis === undefined;
    const redis = options.redis ?? new Redis(options.port ?? 6379, options.host ?? '127.0.0.1');
    redis.defineCommand('scalegateRecordCost', { numberOfKeys: 5, lua: RECORD_SCRIPT });
    if (!hasLedgerCommands(redis)) {
      throw new TypeError('ioredis defineCommand did not add the cost ledger command');
    }
    this.#redis = redis;
  }

  async record(entry: CostEntry): Promise<boolean> {
    const reply = await this.#redis.scalegateRecordCost(
      ...this.#keys(),
      entry.taskId,
      entry.tenantId,
      entry.route,
      String(entryTotalUsd(entry)),
    );
    return reply === 1;
  }

  async summary(): Promise<CostSummary> {
    const [tasks, tenantUsd, tenantCount, routeUsd, routeCount] = this.#keys();
    const costs = Object.values(await this.#redis.hgetall(tasks)).map(Number);
    return summarize(
      costs,
      await this.#totals(tenantUsd, tenantCount),
      await this.#totals(routeUsd, routeCount),
    );
  }

  /** Deletes this ledger's keys, for tests and run resets. */
  async clear(): Promise<void> {
    await this.#redis.unlink(...this.#keys());
  }

  async close(): Promise<void> {
    if (this.#ownsConnection) {
      await this.#redis.quit();
    }
  }

  async #totals(usdKey: string, countKey: string): Promise<Record<string, CostTotal>> {
    const usd = await this.#redis.hgetall(usdKey);
    const counts = await this.#redis.hgetall(countKey);
    const totals: Record<string, CostTotal> = {};
    for (const [name, value] of Object.entries(usd)) {
      totals[name] = { tasks: Number(counts[name] ?? 0), totalUsd: Number(value) };
    }
    return totals;
  }

  #keys(): [string, string, string, string, string] {
    const p = this.#prefix;
    return [`${p}tasks`, `${p}tenant:usd`, `${p}tenant:count`, `${p}route:usd`, `${p}route:count`];
  }
}

function hasLedgerCommands(redis: Redis): redis is Redis & LedgerCommands {
  return typeof Reflect.get(redis, 'scalegateRecordCost') === 'function';
}
