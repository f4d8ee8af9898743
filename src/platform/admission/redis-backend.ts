import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import { roundUsd } from '../cost/usd.js';
import { checkRunSpend, tenantRejection, validateRequest } from './decision.js';
import { type AdmissionOptions, resolveAdmissionOptions } from './options.js';
import { ADMIT_SCRIPT, CHARGE_SCRIPT, CLOSE_SCRIPT } from './redis-scripts.js';
import type {
  AdmissionBackend,
  AdmissionRequest,
  AdmissionResult,
  AdmissionTicket,
  ChargeOutcome,
  RunSpend,
  RejectionReason,
  Settlement,
  TenantUsage,
} from './types.js';

export interface RedisAdmissionOptions extends AdmissionOptions {
  /** A connection owned by the caller. Without one, the backend opens its own and `close()` quits it. */
  redis?: Redis;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** @defaultValue 6379 */
  port?: number;
  /**
   * Prefix of every key this backend writes. Tests pass a unique one.
   * @defaultValue 'scalegate:admission:'
   */
  keyPrefix?: string;
  /**
   * Time source for bucket refills and ticket expiry. Every process sharing a prefix must use
   * the same source. @defaultValue the Redis server's TIME, read inside the script
   */
  clock?: Clock;
}

/** The tenant's state hash, open tickets hash and open tickets sorted set. */
type TenantKeys = [state: string, tickets: string, open: string, runCharges: string];

interface AdmissionCommands {
  scalegateAdmit(...keysAndArgs: string[]): Promise<unknown>;
  scalegateCloseTicket(...keysAndArgs: string[]): Promise<unknown>;
  scalegateChargeTicket(...keysAndArgs: string[]): Promise<unknown>;
}

type CommandRedis = Redis & AdmissionCommands;

type TenantReason = Exclude<RejectionReason, 'backpressure'>;

type ScriptDecision =
  | { admitted: true }
  | {
      admitted: false;
      reason: TenantReason;
      retryAfterSeconds: number;
      fitsAfterReservations?: boolean;
    };

const REASONS: readonly TenantReason[] = [
  'requests_per_minute',
  'tokens_per_minute',
  'in_flight',
  'budget',
];

/**
 * Admission state in Redis, exact across processes: each admit, settle and
 * release is one Lua script run with EVALSHA, taking from every limit or none.
 * A tenant's open tickets live in one hash and one sorted set by expiry time.
 * NOTE: tickets opened by a version that kept one hash per ticket are not
 * found, so they close as already_closed and keep their in-flight slot.
 */
export class RedisAdmissionBackend implements AdmissionBackend {
  readonly #redis: CommandRedis;
  readonly #ownsConnection: boolean;
  readonly #prefix: string;
  readonly #clock: Clock | undefined;
  readonly #ticketTtlSeconds: number;
  readonly #budgetRetryAfterSeconds: number;

  constructor(options: RedisAdmissionOptions = {}) {
    const resolved = resolveAdmissionOptions(options);
    this.#budgetRetryAfterSeconds = resolved.budgetRetryAfterSeconds;
    this.#ticketTtlSeconds = resolved.ticketTtlSeconds;
    this.#prefix = options.keyPrefix ?? 'scalegate:admission:';
    this.#clock = options.clock;
    this.#ownsConnection = options.redis === undefined;
    const redis = options.redis ?? new Redis(options.port ?? 6379, options.host ?? '127.0.0.1');
    this.#redis = defineCommands(redis);
  }

  async admit(request: AdmissionRequest): Promise<AdmissionResult> {
    validateRequest(request);
    const { tenant } = request;
    const ticket: AdmissionTicket = {
      id: request.ticketId ?? randomUUID(),
      tenantId: tenant.id,
      reservedUsd: request.maxCostUsd,
      tokens: request.tokens,
    };
    const reply = await this.#redis.scalegateAdmit(
      ...this.#tenantKeys(tenant.id),
      this.#clock === undefined ? '' : String(this.#clock.now()),
      String(tenant.requestsPerMinute),
      String(tenant.tokensPerMinute),
      String(tenant.maxInFlight),
      String(tenant.budgetUsd),
      String(request.tokens),
      String(request.maxCostUsd),
      String(this.#ticketTtlSeconds),
      String(this.#budgetRetryAfterSeconds),
      ticket.id,
    );
    const decision = parseAdmitReply(reply);
    if (!decision.admitted) {
      return tenantRejection(decision, tenant);
    }
    return { admitted: true, ticket };
  }

  async settle(
    ticket: AdmissionTicket,
    spend: RunSpend,
    earlierRuns: readonly RunSpend[] = [],
  ): Promise<Settlement> {
    checkRunSpend(spend);
    for (const earlier of earlierRuns) checkRunSpend(earlier);
    const encoded = earlierRuns.map(({ run, spentUsd }) => `${run}=${spentUsd}`).join(' ');
    const reply = await this.#closeTicket(ticket, String(spend.spentUsd), spend.run, encoded);
    if (reply.closed === 0) return { outcome: 'already_closed', runs: [] };
    return { outcome: 'applied', runs: parseRunCharges(reply.runCharges) };
  }

  async release(ticket: AdmissionTicket): Promise<Settlement> {
    const reply = await this.#closeTicket(ticket, '', 1, '');
    if (reply.closed === 0) return { outcome: 'already_closed', runs: [] };
    return { outcome: 'applied', runs: parseRunCharges(reply.runCharges) };
  }

  async charge(ticket: AdmissionTicket, spend: RunSpend): Promise<ChargeOutcome> {
    checkRunSpend(spend);
    const keys = this.#tenantKeys(ticket.tenantId);
    const reply = await this.#redis.scalegateChargeTicket(
      ...keys,
      String(spend.run),
      String(spend.spentUsd),
      ticket.id,
    );
    if (!Array.isArray(reply) || reply.length !== 2) {
      throw new TypeError(`unexpected reply from the charge script: ${JSON.stringify(reply)}`);
    }
    return { open: reply[0] === 1, withinBudget: reply[1] === 1 };
  }

  /** Reads the tenant's counters; tickets past their TTL still count until the next admission. */
  async usage(tenantId: string): Promise<TenantUsage> {
    const [key] = this.#tenantKeys(tenantId);
    const [inFlight, reserved, spent] = await this.#redis.hmget(
      key,
      'inflight',
      'reserved',
      'spent',
    );
    return {
      inFlight: Number(inFlight ?? 0),
      reservedUsd: roundUsd(Number(reserved ?? 0)),
      spentUsd: roundUsd(Number(spent ?? 0)),
    };
  }

  /** Deletes every key under this backend's prefix, for tests and drill resets. */
  async clear(): Promise<void> {
    const stream = this.#redis.scanStream({ match: `${this.#prefix}*`, count: 500 });
    for await (const keys of stream) {
      if (Array.isArray(keys) && keys.length > 0) {
        await this.#redis.unlink(...keys.map(String));
      }
    }
  }

  async close(): Promise<void> {
    if (this.#ownsConnection) {
      await this.#redis.quit();
    }
  }

  async #closeTicket(
    ticket: AdmissionTicket,
    cost: string,
    run: number,
    earlierRuns: string,
  ): Promise<{ closed: 0 | 1; runCharges: string }> {
    const keys = this.#tenantKeys(ticket.tenantId);
    const reply = await this.#redis.scalegateCloseTicket(
      ...keys,
      cost,
      ticket.id,
      String(run),
      earlierRuns,
    );
    if (!Array.isArray(reply) || (reply[0] !== 0 && reply[0] !== 1)) {
      throw new TypeError(`unexpected reply from the close script: ${JSON.stringify(reply)}`);
    }
    return { closed: reply[0], runCharges: String(reply[1] ?? '') };
  }

  // The hash tag {tenantId} keeps a tenant's keys in one Redis Cluster slot, as a script requires.
  #tenantKeys(tenantId: string): TenantKeys {
    const base = `${this.#prefix}{${tenantId}}`;
    return [`${base}:state`, `${base}:tickets`, `${base}:open`, `${base}:charges`];
  }
}

function defineCommands(redis: Redis): CommandRedis {
  redis.defineCommand('scalegateAdmit', { numberOfKeys: 4, lua: ADMIT_SCRIPT });
  redis.defineCommand('scalegateCloseTicket', { numberOfKeys: 4, lua: CLOSE_SCRIPT });
  redis.defineCommand('scalegateChargeTicket', { numberOfKeys: 4, lua: CHARGE_SCRIPT });
  if (!hasCommands(redis)) {
    throw new TypeError('ioredis defineCommand did not add the admission commands');
  }
  return redis;
}

function hasCommands(redis: Redis): redis is CommandRedis {
  return (
    typeof Reflect.get(redis, 'scalegateAdmit') === 'function' &&
    typeof Reflect.get(redis, 'scalegateCloseTicket') === 'function' &&
    typeof Reflect.get(redis, 'scalegateChargeTicket') === 'function'
  );
}

/** Parses the close script's run charges, `run=usd` pairs separated by spaces, in run order. */
function parseRunCharges(encoded: string): RunSpend[] {
  const runs: RunSpend[] = [];
  for (const pair of encoded.split(' ')) {
    if (pair === '') continue;
    const [run, spentUsd] = pair.split('=');
    runs.push({ run: Number(run), spentUsd: Number(spentUsd) });
  }
  return runs.sort((a, b) => a.run - b.run);
}

function parseAdmitReply(reply: unknown): ScriptDecision {
  if (!Array.isArray(reply) || (reply[0] !== 0 && reply[0] !== 1)) {
    throw new TypeError(`unexpected reply from the admission script: ${JSON.stringify(reply)}`);
  }
  if (reply[0] === 1) {
    return { admitted: true };
  }
  const reason = REASONS.find((candidate) => candidate === reply[1]);
  const retryAfterSeconds = reply[2];
  if (reason === undefined || typeof retryAfterSeconds !== 'number') {
    throw new TypeError(`unexpected rejection from the admission script: ${JSON.stringify(reply)}`);
  }
  if (reason !== 'budget') return { admitted: false, reason, retryAfterSeconds };
  return { admitted: false, reason, retryAfterSeconds, fitsAfterReservations: reply[3] === 1 };
}
