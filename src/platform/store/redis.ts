import { createHash } from 'node:crypto';

import { Redis } from 'ioredis';

import type { TaskRecord, TaskState } from '../task.js';
import type { CompletedRead, TaskAccounting, TaskCompletion, TaskStore } from './task-store.js';
import { applyCompletion, emptyAccounting, isTerminal, validateTtl } from './task-store.js';

export interface RedisTaskStoreOptions {
  /** A connected client (the caller closes it) or a `redis://` URL (the store closes it). */
  redis: Redis | string;
  /** Prefix of every key the store writes, so several stores can share one Redis. */
  keyPrefix: string;
  /** @defaultValue 86_400_000 (24 hours) */
  idempotencyTtlMs?: number;
}

// Each task is a hash {json, state, version}; writes are compare-and-set on
// `version`, so the state counters in `<prefix>:counts` move exactly once per transition.
const CREATE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'json', ARGV[1], 'state', ARGV[2], 'version', '0')
redis.call('HINCRBY', KEYS[2], 'accepted', 1)
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
return 1`;

const SWAP_SCRIPT = `
local version = redis.call('HGET', KEYS[1], 'version')
if not version then return -1 end
if version ~= ARGV[1] then return 0 end
local previous = redis.call('HGET', KEYS[1], 'state')
redis.call('HSET', KEYS[1], 'json', ARGV[3], 'state', ARGV[2], 'version', tostring(tonumber(version) + 1))
redis.call('HINCRBY', KEYS[2], previous, -1)
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
return 1`;

const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const MAX_SWAP_ATTEMPTS = 16;

/** Task store on Redis, shared by every gateway and worker process of one platform. */
export class RedisTaskStore implements TaskStore {
  readonly #redis: Redis;
  readonly #ownsClient: boolean;
  readonly #prefix: string;
  readonly #ttlMs: number;

  constructor(options: RedisTaskStoreOptions) {
    if (options.keyPrefix.length === 0) throw new RangeError('keyPrefix must not be empty');
    this.#ownsClient = typeof options.redis === 'string';
    this.#redis =
      typeof options.redis === 'string'
        ? new Redis(options.redis, { maxRetriesPerRequest: 3 })
        : options.redis;
    this.#prefix = options.keyPrefix;
    this.#ttlMs = validateTtl(options.idempotencyTtlMs ?? 86_400_000);
  }

  async create(record: TaskRecord): Promise<void> {
    const keys = [this.#taskKey(record.id), this.#countsKey()];
    const created = await this.#redis.eval(
      CREATE_SCRIPT,
      2,
      ...keys,
      JSON.stringify(record),
      record.state,
    );
    if (created !== 1) throw new RangeError(`task ${record.id} already exists`);
  }

  async get(tenantId: string, id: string): Promise<TaskRecord | undefined> {
    const record = await this.getById(id);
    return record?.tenantId === tenantId ? record : undefined;
  }

  async getById(id: string): Promise<TaskRecord | undefined> {
    const json = await this.#redis.hget(this.#taskKey(id), 'json');
    return json === null ? undefined : (JSON.parse(json) as TaskRecord);
  }

  async markRunning(id: string, startedAt: number): Promise<TaskRecord | undefined> {
    return this.#swap(id, (record) =>
      isTerminal(record.state)
        ? undefined
        : { ...record, state: 'running', startedAt, deliveries: record.deliveries + 1 },
    );
  }

  async complete(id: string, completion: TaskCompletion): Promise<boolean> {
    return (await this.completeAndRead(id, completion)).stored;
  }

  async completeAndRead(id: string, completion: TaskCompletion): Promise<CompletedRead> {
    let current: TaskRecord | undefined;
    const next = await this.#swap(id, (record) => {
      current = record;
      return isTerminal(record.state) ? undefined : applyCompletion(record, completion);
    });
    return { stored: next !== undefined, record: next ?? current };
  }

  async claimIdempotencyKey(tenantId: string, key: string, taskId: string): Promise<string> {
    const slot = this.#idempotencyKey(tenantId, key);
    const set = await this.#redis.set(slot, taskId, 'PX', this.#ttlMs, 'NX');
    if (set === 'OK') return taskId;
    return (await this.#redis.get(slot)) ?? taskId;
  }

  async releaseIdempotencyKey(tenantId: string, key: string, taskId: string): Promise<void> {
    await this.#redis.eval(RELEASE_SCRIPT, 1, this.#idempotencyKey(tenantId, key), taskId);
  }

  async accounting(): Promise<TaskAccounting> {
    const raw = await this.#redis.hgetall(this.#countsKey());
    const counts = emptyAccounting();
    for (const name of Object.keys(counts) as (keyof TaskAccounting)[]) {
      counts[name] = Number(raw[name] ?? 0);
    }
    return counts;
  }

  /** Deletes every key under the prefix; for tests and drills that own the prefix. */
  async clear(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(
        cursor,
        'MATCH',
        `${this.#prefix}:*`,
        'COUNT',
        500,
      );
      if (keys.length > 0) await this.#redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    if (this.#ownsClient) await this.#redis.quit();
  }

  async #swap(
    id: string,
    change: (record: TaskRecord) => TaskRecord | undefined,
  ): Promise<TaskRecord | undefined> {
    for (let attempt = 0; attempt < MAX_SWAP_ATTEMPTS; attempt += 1) {
      const [json, version] = await this.#redis.hmget(this.#taskKey(id), 'json', 'version');
      if (json === null || json === undefined || version === null || version === undefined) {
        return undefined;
      }
      const next = change(JSON.parse(json) as TaskRecord);
      if (next === undefined) return undefined;
      if (await this.#compareAndSet(id, version, next.state, next)) return next;
    }
    throw new Error(`task ${id} changed concurrently ${MAX_SWAP_ATTEMPTS} times; update abandoned`);
  }

  async #compareAndSet(id: string, version: string, state: TaskState, next: TaskRecord) {
    const keys = [this.#taskKey(id), this.#countsKey()];
    const swapped = await this.#redis.eval(
      SWAP_SCRIPT,
      2,
      ...keys,
      version,
      state,
      JSON.stringify(next),
    );
    return swapped === 1;
  }

  #taskKey(id: string): string {
    return `${this.#prefix}:task:${id}`;
  }

  #idempotencyKey(tenantId: string, key: string): string {
    return `${this.#prefix}:idem:${tenantId}:${sha256(key)}`;
  }

  #countsKey(): string {
    return `${this.#prefix}:counts`;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
