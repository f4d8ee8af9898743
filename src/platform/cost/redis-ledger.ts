import { Redis } from 'ioredis';
import {
  type CostEntry,
  type CostLedger,
  type CostSummary,
  type CostSummaryOptions,
  summarizeLedger,
  type TaskCost,
  taskCostOf,
} from './ledger.js';
import { ROUND_USD_LUA } from './usd.js';

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
 * route count hash. ARGV: task id, tenant id, route, total USD, the task's cost record
 * as JSON. Adds to every running total in one step, or to none when the task id is
 * already recorded. The USD totals are rounded to the picodollar as `addUsd` rounds,
 * which HINCRBYFLOAT, adding in long double and printing 17 decimals, does not do.
 */
const RECORD_SCRIPT = `${ROUND_USD_LUA}
local function addToTotal(key, field, usd)
  local total = tonumber(redis.call('HGET', key, field)) or 0
  redis.call('HSET', key, field, formatUsd(roundUsd(total + usd)))
end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[5]) == 0 then
  return 0
end
addToTotal(KEYS[2], ARGV[2], tonumber(ARGV[4]))
redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
addToTotal(KEYS[4], ARGV[3], tonumber(ARGV[4]))
redis.call('HINCRBY', KEYS[5], ARGV[3], 1)
return 1
`;

interface LedgerCommands {
  scalegateRecordCost(...args: string[]): Promise<unknown>;
}

/**
 * A cost ledger in Redis shared by every process: running totals per tenant and route are
 * kept inside one script, and each task's cost record in a hash, from which summary()
 * computes the totals, means and p95 values it returns.
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
    const cost = taskCostOf(entry);
    const reply = await this.#redis.scalegateRecordCost(
      ...this.#keys(),
      entry.taskId,
      entry.tenantId,
      entry.route,
      String(cost.totalUsd),
      JSON.stringify(cost),
    );
    return reply === 1;
  }

  async summary(options: CostSummaryOptions = {}): Promise<CostSummary> {
    const [tasks] = this.#keys();
    const records = Object.values(await this.#redis.hgetall(tasks));
    return summarizeLedger(records.map(parseTaskCost), options);
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

  #keys(): [string, string, string, string, string] {
    const p = this.#prefix;
    return [`${p}tasks`, `${p}tenant:usd`, `${p}tenant:count`, `${p}route:usd`, `${p}route:count`];
  }
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
