/**
 * Running slots per tenant: how many of a tenant's async tasks run at once across every
 * worker. A task that finds its tenant's slots taken waits in the queue, so one tenant
 * cannot fill every worker while others wait.
 */
import type { Redis } from 'ioredis';

import { type Clock, systemClock } from '../clock.js';

export interface RunSlots {
  /**
   * Takes one of `cap` running slots of the tenant for the task, held until `release` or
   * for `leaseMs`, whichever ends first. A task that already holds a slot takes it again
   * with a new lease, as when its queue redelivers it. Resolves false when `cap` tasks of
   * the tenant already hold slots.
   */
  acquire(tenantId: string, taskId: string, cap: number, leaseMs: number): Promise<boolean>;
  /** Frees the task's slot. Freeing a slot that is not held does nothing. */
  release(tenantId: string, taskId: string): Promise<void>;
  /** Tasks of the tenant holding a slot whose lease has not ended. */
  running(tenantId: string): Promise<number>;
}

function checkArguments(cap: number, leaseMs: number): void {
  if (!Number.isInteger(cap) || cap < 1) {
    throw new RangeError(`invalid running cap ${cap}; pass an integer >= 1`);
  }
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) {
    throw new RangeError(`invalid slot lease ${leaseMs} ms; pass a finite number > 0`);
  }
}

/** Running slots in this process, for the embedded platform. */
export class MemoryRunSlots implements RunSlots {
  /** Lease end per task id, per tenant. */
  readonly #leases = new Map<string, Map<string, number>>();
  readonly #clock: Clock;

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  async acquire(tenantId: string, taskId: string, cap: number, leaseMs: number) {
    checkArguments(cap, leaseMs);
    const leases = this.#live(tenantId);
    if (!leases.has(taskId) && leases.size >= cap) return false;
    leases.set(taskId, this.#clock.now() + leaseMs);
    this.#leases.set(tenantId, leases);
    return true;
  }

  async release(tenantId: string, taskId: string): Promise<void> {
    const leases = this.#leases.get(tenantId);
    leases?.delete(taskId);
    if (leases?.size === 0) this.#leases.delete(tenantId);
  }

  async running(tenantId: string): Promise<number> {
    return this.#live(tenantId).size;
  }

  /** The tenant's leases with the ended ones removed. */
  #live(tenantId: string): Map<string, number> {
    const leases = this.#leases.get(tenantId) ?? new Map<string, number>();
    const now = this.#clock.now();
    for (const [taskId, endsAt] of leases) {
      if (endsAt <= now) leases.delete(taskId);
    }
    return leases;
  }
}

/**
 * KEYS[1] sorted set of the tenant's slot holders, scored by lease end in ms on the
 * server's clock. ARGV: task id, cap, lease ms. Returns 1 when the slot is taken.
 */
const ACQUIRE_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
local latest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], tonumber(latest[2]))
return 1
`;

/** KEYS[1] as in ACQUIRE_SCRIPT. Returns the holders whose lease has not ended. */
const RUNNING_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
`;

interface RunSlotCommands {
  scalegateAcquireRunSlot(
    key: string,
    taskId: string,
    cap: number,
    leaseMs: number,
  ): Promise<number>;
  scalegateRunningSlots(key: string): Promise<number>;
}

/**
 * Running slots in Redis, exact across worker processes: each tenant's holders are one
 * sorted set scored by lease end, and one script checks the cap and takes a slot. Lease
 * ends come from the Redis server's clock, so every process agrees on them.
 */
export class RedisRunSlots implements RunSlots {
  readonly #redis: Redis & RunSlotCommands;
  readonly #prefix: string;

  /** `redis` stays owned by the caller. Keys are `<keyPrefix>{<tenant>}:running`. */
  constructor(redis: Redis, keyPrefix: string) {
    redis.defineCommand('scalegateAcquireRunSlot', { numberOfKeys: 1, lua: ACQUIRE_SCRIPT });
    redis.defineCommand('scalegateRunningSlots', { numberOfKeys: 1, lua: RUNNING_SCRIPT });
    this.#redis = redis as Redis & RunSlotCommands;
    this.#prefix = keyPrefix;
  }

  async acquire(tenantId: string, taskId: string, cap: number, leaseMs: number) {
    checkArguments(cap, leaseMs);
    const key = this.#key(tenantId);
    return (await this.#redis.scalegateAcquireRunSlot(key, taskId, cap, leaseMs)) === 1;
  }

  async release(tenantId: string, taskId: string): Promise<void> {
    await this.#redis.zrem(this.#key(tenantId), taskId);
  }

  async running(tenantId: string): Promise<number> {
    return this.#redis.scalegateRunningSlots(this.#key(tenantId));
  }

  #key(tenantId: string): string {
    return `${this.#prefix}{${tenantId}}:running`;
  }
}
