import { createHash, randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';

import { ROUND_USD_LUA } from '../cost/usd.js';
import type { DeliveryCost, StepCheckpoint, TaskRecord } from '../task.js';
import { TERMINAL_STATES } from '../task.js';
import type { CompletedRead, TaskAccounting, TaskCompletion, TaskStore } from './task-store.js';
import {
  emptyAccounting,
  resolveLifetimes,
  validateAddedCost,
  validateCheckpoint,
} from './task-store.js';

export interface RedisTaskStoreOptions {
  /** A connected client (the caller closes it) or a `redis://` URL (the store closes it). */
  redis: Redis | string;
  /** Prefix of every key the store writes, so several stores can share one Redis. */
  keyPrefix: string;
  /** Maximum time a key binds a task that has not ended. @defaultValue 86_400_000 (24 hours) */
  idempotencyTtlMs?: number;
  /** Time a claimed key waits for its task to be stored. @defaultValue 60_000 */
  claimTtlMs?: number;
  /**
   * How long a task, and the idempotency key bound to it, stay after the task reaches a
   * terminal state; Redis then expires them. @defaultValue 86_400_000 (24 hours)
   */
  retentionMs?: number;
}

// Each task is one hash. Its `base` field is the JSON of the fields that only
// `create` writes: id, tenantId, request, createdAt and any others. Each field
// that a transition writes has a hash field of its own. These are `state`,
// `deliveries`, `startedAt`, `finishedAt` and `costUsd` as decimal strings, and
// `result` and `error` as JSON. Each entry of `deliveryCosts` is a field named
// `deliveryCost:<delivery>` with the cost as a decimal string, and its busy time is a field
// named `deliveryBusyMs:<delivery>`, absent when not known. A checkpoint is
// `checkpoint` as JSON, with its step count also in `checkpointSteps`. A field that is
// undefined in the record is absent from the hash. The Lua scripts copy these
// strings and never convert them to Lua numbers or decode JSON, because Lua 5.1
// formats numbers with 14 significant digits. Numbers therefore read back exactly
// as JavaScript wrote them. Each transition is one script, which Redis runs
// atomically: it checks the state, writes the fields and moves the per-state
// counters in `<prefix>:counts` in one step.
// NOTE: tasks written in the earlier {json, state, version} layout are not read.

/** Prefix of the hash field of each entry of a record's `deliveryCosts`. */
const DELIVERY_COST_FIELD = 'deliveryCost:';

/** Prefix of the hash field of the busy time of an entry of a record's `deliveryCosts`. */
const DELIVERY_BUSY_FIELD = 'deliveryBusyMs:';

/** Lua table literal whose keys are the terminal states. */
const TERMINAL_LUA_TABLE = `{ ${TERMINAL_STATES.map((state) => `['${state}'] = true`).join(', ')} }`;

// KEYS: task, counts, idempotency key (the task key again when there is none). ARGV:
// state, retention in ms, idempotency TTL in ms, the task id when there is a key or
// '' when not, then the hash's field/value pairs. A key still bound to the task is
// kept for the TTL, and the hash names it in its `idem` field for the completion. A
// task created in a terminal state expires after the retention, with its key.
const CREATE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('HINCRBY', KEYS[2], 'accepted', 1)
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
local terminal = (${TERMINAL_LUA_TABLE})[ARGV[1]]
if ARGV[4] ~= '' and redis.call('GET', KEYS[3]) == ARGV[4] then
  redis.call('HSET', KEYS[1], 'idem', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], terminal and ARGV[2] or ARGV[3])
end
if terminal then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;

// KEYS: task, counts. ARGV: startedAt. Returns the task's fields, or nil when
// the task is missing or terminal.
const MARK_RUNNING_SCRIPT = `
local terminal = ${TERMINAL_LUA_TABLE}
local previous = redis.call('HGET', KEYS[1], 'state')
if not previous or terminal[previous] then return nil end
redis.call('HSET', KEYS[1], 'state', 'running', 'startedAt', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'deliveries', 1)
if previous ~= 'running' then
  redis.call('HINCRBY', KEYS[2], previous, -1)
  redis.call('HINCRBY', KEYS[2], 'running', 1)
end
return redis.call('HGETALL', KEYS[1])`;

// KEYS: task, counts. ARGV: cost to add, '0' for none, the number of the delivery that
// spent it, and its busy time in ms, '0' for none. Unlike the other scripts this one
// converts numbers: it adds the cost as the memory store's addUsd does, rounded to the
// picodollar, and writes the sum with as many digits as it takes to read back exactly.
// HINCRBYFLOAT adds the busy time.
// Returns 1 when requeued, 0 when the task is missing or terminal.
const REQUEUE_SCRIPT = `${ROUND_USD_LUA}
local function addCost(field, usd)
  local sum = (tonumber(redis.call('HGET', KEYS[1], field)) or 0) + usd
  redis.call('HSET', KEYS[1], field, formatUsd(roundUsd(sum)))
end
local terminal = ${TERMINAL_LUA_TABLE}
local previous = redis.call('HGET', KEYS[1], 'state')
if not previous or terminal[previous] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'queued')
local cost = tonumber(ARGV[1])
if cost > 0 then
  addCost('costUsd', cost)
  addCost('${DELIVERY_COST_FIELD}' .. ARGV[2], cost)
end
if tonumber(ARGV[3]) > 0 then
  redis.call('HINCRBYFLOAT', KEYS[1], '${DELIVERY_BUSY_FIELD}' .. ARGV[2], ARGV[3])
end
if previous ~= 'queued' then
  redis.call('HINCRBY', KEYS[2], previous, -1)
  redis.call('HINCRBY', KEYS[2], 'queued', 1)
end
return 1`;

// KEYS: task. ARGV: the checkpoint's step count, its JSON. The step counts are
// small whole numbers, which Lua compares exactly. Returns 1 when stored, 0 when
// the task is missing, not running, or has a checkpoint of as many steps.
const CHECKPOINT_SCRIPT = `
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
local saved = redis.call('HGET', KEYS[1], 'checkpointSteps')
if saved and tonumber(saved) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'checkpoint', ARGV[2], 'checkpointSteps', ARGV[1])
return 1`;

// KEYS: task, counts. ARGV: state, finishedAt, result JSON, error JSON, costUsd,
// where an empty string leaves that field as it is, then the retention in ms after
// which the task expires, the task id and the completion id. The idempotency key named
// in the `idem` field expires with the task while it is still bound to it. Returns nil
// when the task is missing, else {1 when stored or 0 when already terminal, the task's
// fields}. A terminal task whose `completionId` field is this completion id returns 1,
// because a client resent the write that ended it.
const COMPLETE_SCRIPT = `
local terminal = ${TERMINAL_LUA_TABLE}
local previous = redis.call('HGET', KEYS[1], 'state')
if not previous then return nil end
if terminal[previous] then
  local repeated = redis.call('HGET', KEYS[1], 'completionId') == ARGV[8]
  return {repeated and 1 or 0, redis.call('HGETALL', KEYS[1])}
end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'finishedAt', ARGV[2], 'completionId', ARGV[8])
redis.call('HDEL', KEYS[1], 'checkpoint', 'checkpointSteps')
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'result', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'costUsd', ARGV[5]) end
redis.call('HINCRBY', KEYS[2], previous, -1)
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('PEXPIRE', KEYS[1], ARGV[6])
local slot = redis.call('HGET', KEYS[1], 'idem')
if slot and redis.call('GET', slot) == ARGV[7] then redis.call('PEXPIRE', slot, ARGV[6]) end
return {1, redis.call('HGETALL', KEYS[1])}`;

// KEYS: idempotency key. ARGV: task id.
/**
 * Binds KEYS[1] to ARGV[1] for ARGV[2] ms unless it is bound, and returns the bound id.
 * One script, because a release landing between a separate SET NX and GET would leave
 * the claimer believing it owns a key that nothing binds.
 */
const CLAIM_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return ARGV[1] end
return redis.call('GET', KEYS[1])`;

const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

interface StoreCommands {
  scalegateTaskCreate(
    taskKey: string,
    countsKey: string,
    slot: string,
    ...args: string[]
  ): Promise<unknown>;
  scalegateTaskMarkRunning(taskKey: string, countsKey: string, startedAt: string): Promise<unknown>;
  scalegateTaskRequeue(
    taskKey: string,
    countsKey: string,
    costUsd: string,
    delivery: string,
    busyMs: string,
  ): Promise<unknown>;
  scalegateTaskCheckpoint(taskKey: string, steps: string, checkpoint: string): Promise<unknown>;
  scalegateTaskComplete(taskKey: string, countsKey: string, ...args: string[]): Promise<unknown>;
  scalegateIdempotencyRelease(slot: string, taskId: string): Promise<unknown>;
  scalegateIdempotencyClaim(slot: string, taskId: string, ttlMs: string): Promise<unknown>;
}

type CommandRedis = Redis & StoreCommands;

const COMMAND_NAMES: readonly (keyof StoreCommands)[] = [
  'scalegateTaskCreate',
  'scalegateTaskMarkRunning',
  'scalegateTaskRequeue',
  'scalegateTaskCheckpoint',
  'scalegateTaskComplete',
  'scalegateIdempotencyRelease',
  'scalegateIdempotencyClaim',
];

/** Record fields that transitions change, each stored in a hash field of its own. */
type MutableField =
  | 'state'
  | 'deliveries'
  | 'startedAt'
  | 'finishedAt'
  | 'result'
  | 'error'
  | 'costUsd'
  | 'deliveryCosts'
  | 'checkpoint';

/** Record fields that `create` stores in the `base` JSON. */
type BaseFields = Omit<TaskRecord, MutableField>;

/**
 * Task store on Redis, shared by every gateway and worker process of one
 * platform. Every write is one Lua script run with EVALSHA.
 */
export class RedisTaskStore implements TaskStore {
  readonly #redis: CommandRedis;
  readonly #ownsClient: boolean;
  readonly #prefix: string;
  readonly #ttlMs: string;
  readonly #claimTtlMs: string;
  readonly #retentionMs: string;

  constructor(options: RedisTaskStoreOptions) {
    if (options.keyPrefix.length === 0) throw new RangeError('keyPrefix must not be empty');
    this.#prefix = options.keyPrefix;
    const lifetimes = resolveLifetimes(options);
    this.#ttlMs = String(lifetimes.idempotencyTtlMs);
    this.#claimTtlMs = String(lifetimes.claimTtlMs);
    this.#retentionMs = String(lifetimes.retentionMs);
    this.#ownsClient = typeof options.redis === 'string';
    const redis =
      typeof options.redis === 'string'
        ? new Redis(options.redis, { maxRetriesPerRequest: 3 })
        : options.redis;
    this.#redis = defineCommands(redis);
  }

  /** Stores a new task. Rejects with a RangeError when the id exists or `deliveries` is invalid. */
  async create(record: TaskRecord, idempotencyKey?: string): Promise<void> {
    // HINCRBY in markRunning needs an integer in the `deliveries` field.
    if (!Number.isSafeInteger(record.deliveries) || record.deliveries < 0) {
      throw new RangeError(
        `deliveries of task ${record.id} must be a non-negative integer, got ${String(record.deliveries)}`,
      );
    }
    const taskKey = this.#taskKey(record.id);
    const created = await this.#redis.scalegateTaskCreate(
      taskKey,
      this.#countsKey(),
      idempotencyKey === undefined
        ? taskKey
        : this.#idempotencyKey(record.tenantId, idempotencyKey),
      record.state,
      this.#retentionMs,
      this.#ttlMs,
      idempotencyKey === undefined ? '' : record.id,
      ...fieldsOf(record),
    );
    if (created !== 1) throw new RangeError(`task ${record.id} already exists`);
  }

  async get(tenantId: string, id: string): Promise<TaskRecord | undefined> {
    const record = await this.getById(id);
    return record?.tenantId === tenantId ? record : undefined;
  }

  async getById(id: string): Promise<TaskRecord | undefined> {
    const fields = await this.#redis.hgetall(this.#taskKey(id));
    return Object.keys(fields).length === 0 ? undefined : recordOf(id, fields);
  }

  async markRunning(id: string, startedAt: number): Promise<TaskRecord | undefined> {
    const reply = await this.#redis.scalegateTaskMarkRunning(
      this.#taskKey(id),
      this.#countsKey(),
      String(startedAt),
    );
    return reply === null ? undefined : recordOf(id, fieldsFromReply(id, reply));
  }

  async requeue(id: string, cost: DeliveryCost): Promise<boolean> {
    const { costUsd, delivery, busyMs = 0 } = validateAddedCost(id, cost);
    const reply = await this.#redis.scalegateTaskRequeue(
      this.#taskKey(id),
      this.#countsKey(),
      String(costUsd),
      String(delivery),
      String(busyMs),
    );
    return reply === 1;
  }

  async saveCheckpoint(id: string, checkpoint: StepCheckpoint): Promise<boolean> {
    validateCheckpoint(id, checkpoint);
    const reply = await this.#redis.scalegateTaskCheckpoint(
      this.#taskKey(id),
      String(checkpoint.steps),
      JSON.stringify(checkpoint),
    );
    return reply === 1;
  }

  async complete(id: string, completion: TaskCompletion): Promise<boolean> {
    return (await this.completeAndRead(id, completion)).stored;
  }

  async completeAndRead(id: string, completion: TaskCompletion): Promise<CompletedRead> {
    const reply = await this.#redis.scalegateTaskComplete(
      this.#taskKey(id),
      this.#countsKey(),
      completion.state,
      String(completion.finishedAt),
      completion.result === undefined ? '' : JSON.stringify(completion.result),
      completion.error === undefined ? '' : JSON.stringify(completion.error),
      completion.costUsd === undefined ? '' : String(completion.costUsd),
      this.#retentionMs,
      id,
      completion.completionId ?? randomUUID(),
    );
    if (reply === null) return { stored: false, record: undefined };
    if (!Array.isArray(reply) || (reply[0] !== 0 && reply[0] !== 1)) {
      throw new TypeError(`unexpected reply from the task completion script: ${String(reply)}`);
    }
    return { stored: reply[0] === 1, record: recordOf(id, fieldsFromReply(id, reply[1])) };
  }

  async claimIdempotencyKey(tenantId: string, key: string, taskId: string): Promise<string> {
    const slot = this.#idempotencyKey(tenantId, key);
    const bound = await this.#redis.scalegateIdempotencyClaim(slot, taskId, this.#claimTtlMs);
    if (typeof bound !== 'string') {
      throw new TypeError(`unexpected reply from the idempotency claim script: ${String(bound)}`);
    }
    return bound;
  }

  async releaseIdempotencyKey(tenantId: string, key: string, taskId: string): Promise<void> {
    await this.#redis.scalegateIdempotencyRelease(this.#idempotencyKey(tenantId, key), taskId);
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

function defineCommands(redis: Redis): CommandRedis {
  redis.defineCommand('scalegateTaskCreate', { numberOfKeys: 3, lua: CREATE_SCRIPT });
  redis.defineCommand('scalegateTaskMarkRunning', { numberOfKeys: 2, lua: MARK_RUNNING_SCRIPT });
  redis.defineCommand('scalegateTaskRequeue', { numberOfKeys: 2, lua: REQUEUE_SCRIPT });
  redis.defineCommand('scalegateTaskCheckpoint', { numberOfKeys: 1, lua: CHECKPOINT_SCRIPT });
  redis.defineCommand('scalegateTaskComplete', { numberOfKeys: 2, lua: COMPLETE_SCRIPT });
  redis.defineCommand('scalegateIdempotencyRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
  redis.defineCommand('scalegateIdempotencyClaim', { numberOfKeys: 1, lua: CLAIM_SCRIPT });
  if (!hasCommands(redis)) {
    throw new TypeError('ioredis defineCommand did not add the task store commands');
  }
  return redis;
}

function hasCommands(redis: Redis): redis is CommandRedis {
  return COMMAND_NAMES.every((name) => typeof Reflect.get(redis, name) === 'function');
}

/** Flattens a record into the hash's field/value pairs, leaving out undefined fields. */
function fieldsOf(record: TaskRecord): string[] {
  const {
    state,
    deliveries,
    startedAt,
    finishedAt,
    result,
    error,
    costUsd,
    deliveryCosts,
    checkpoint,
    ...base
  } = record;
  const fields = ['base', JSON.stringify(base), 'state', state, 'deliveries', String(deliveries)];
  if (startedAt !== undefined) fields.push('startedAt', String(startedAt));
  if (finishedAt !== undefined) fields.push('finishedAt', String(finishedAt));
  if (result !== undefined) fields.push('result', JSON.stringify(result));
  if (error !== undefined) fields.push('error', JSON.stringify(error));
  if (costUsd !== undefined) fields.push('costUsd', String(costUsd));
  for (const entry of deliveryCosts ?? []) {
    fields.push(`${DELIVERY_COST_FIELD}${entry.delivery}`, String(entry.costUsd));
    if (entry.busyMs !== undefined) {
      fields.push(`${DELIVERY_BUSY_FIELD}${entry.delivery}`, String(entry.busyMs));
    }
  }
  if (checkpoint !== undefined) {
    fields.push(
      'checkpoint',
      JSON.stringify(checkpoint),
      'checkpointSteps',
      String(checkpoint.steps),
    );
  }
  return fields;
}

/** Converts a script's HGETALL reply, a flat field/value array, to an object. */
function fieldsFromReply(id: string, reply: unknown): Record<string, string> {
  if (!Array.isArray(reply) || reply.length % 2 !== 0) {
    throw new TypeError(`unexpected hash reply for task ${id}: ${String(reply)}`);
  }
  const fields: Record<string, string> = {};
  for (let index = 0; index < reply.length; index += 2) {
    fields[String(reply[index])] = String(reply[index + 1]);
  }
  return fields;
}

/** Rebuilds a record from the fields of its hash. */
function recordOf(id: string, fields: Record<string, string>): TaskRecord {
  const { base, state, deliveries } = fields;
  if (base === undefined || state === undefined || deliveries === undefined) {
    throw new TypeError(
      `task ${id} in Redis has no base, state or deliveries field, so this store version did not write it; clear the key prefix`,
    );
  }
  const record: TaskRecord = {
    ...(JSON.parse(base) as BaseFields),
    state: state as TaskRecord['state'],
    deliveries: Number(deliveries),
  };
  if (fields.startedAt !== undefined) record.startedAt = Number(fields.startedAt);
  if (fields.finishedAt !== undefined) record.finishedAt = Number(fields.finishedAt);
  if (fields.result !== undefined) record.result = JSON.parse(fields.result);
  if (fields.error !== undefined) record.error = JSON.parse(fields.error);
  if (fields.costUsd !== undefined) record.costUsd = Number(fields.costUsd);
  const deliveryCosts = deliveryCostsOf(fields);
  if (deliveryCosts.length > 0) record.deliveryCosts = deliveryCosts;
  if (fields.checkpoint !== undefined) record.checkpoint = JSON.parse(fields.checkpoint);
  return record;
}

/**
 * Reads the `deliveryCost:<delivery>` and `deliveryBusyMs:<delivery>` fields of a task's
 * hash, in delivery order. A delivery with a busy time and no cost field cost 0.
 */
function deliveryCostsOf(fields: Record<string, string>): DeliveryCost[] {
  const costs = new Map<number, DeliveryCost>();
  const entryOf = (delivery: number): DeliveryCost => {
    let entry = costs.get(delivery);
    if (entry === undefined) {
      entry = { delivery, costUsd: 0 };
      costs.set(delivery, entry);
    }
    return entry;
  };
  for (const [name, value] of Object.entries(fields)) {
    if (name.startsWith(DELIVERY_COST_FIELD)) {
      entryOf(Number(name.slice(DELIVERY_COST_FIELD.length))).costUsd = Number(value);
    } else if (name.startsWith(DELIVERY_BUSY_FIELD)) {
      entryOf(Number(name.slice(DELIVERY_BUSY_FIELD.length))).busyMs = Number(value);
    }
  }
  return [...costs.values()].sort((a, b) => a.delivery - b.delivery);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
