import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import { checkNonNegative, tenantRejection, validateRequest } from './decision.js';
import { type AdmissionOptions, resolveAdmissionOptions } from './options.js';
import { ADMIT_SCRIPT, CLOSE_SCRIPT } from './redis-scripts.js';
import type {
  AdmissionBackend,
  AdmissionRequest,
  AdmissionResult,
  AdmissionTicket,
  RejectionReason,
  TenantUsage,
  TicketOutcome,
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
   * Time source for bucket refills. Every process sharing a prefix must use
   * the same source. @defaultValue the Redis server's TIME, read inside the script
   */
  clock?: Clock;
  /**
   * How long a ticket stays settleable, in seconds.
   * NOTE: a ticket that expires unsettled keeps its in-flight slot and reservation.
   * @defaultValue 86400
   */
  ticketTtlSeconds?: number;
}

interface AdmissionCommands {
  scalegateAdmit(stateKey: string, ticketKey: string, ...args: string[]): Promise<unknown>;
  scalegateCloseTicket(stateKey: string, ticketKey: string, cost: string): Promise<unknown>;
}

type CommandRedis = Redis & AdmissionCommands;

type TenantReason = Exclude<RejectionReason, 'backpressure'>;

type ScriptDecision =
  { admitted: true } | { admitted: false; reason: TenantReason; retryAfterSeconds: number };

const REASONS: readonly TenantReason[] = [
  'requests_per_minute',
  'tokens_per_minute',
  'in_flight',
  'budget',
];

/**
 * Admission state in Redis, exact across processes: each admit, settle and
 * release is one Lua script run with EVALSHA, taking from every limit or none.
 */
export class RedisAdmissionBackend implements AdmissionBackend {
  readonly #redis: CommandRedis;
  readonly #ownsConnection: boolean;
  readonly #prefix: string;
  readonly #clock: Clock | undefined;
  readonly #ticketTtlSeconds: number;
  readonly #budgetRetryAfterSeconds: number;

  constructor(options: RedisAdmissionOptions = {}) {
    this.#budgetRetryAfterSeconds = resolveAdmissionOptions(options).budgetRetryAfterSeconds;
    this.#ticketTtlSeconds = options.ticketTtlSeconds ?? 86_400;
    if (!Number.isInteger(this.#ticketTtlSeconds) || this.#ticketTtlSeconds < 1) {
      throw new RangeError(
        `ticketTtlSeconds must be an integer >= 1, got ${String(options.ticketTtlSeconds)}`,
      );
    }
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
      id: randomUUID(),
      tenantId: tenant.id,
      reservedUsd: request.maxCostUsd,
      tokens: request.tokens,
    };
    const reply = await this.#redis.scalegateAdmit(
      this.#stateKey(tenant.id),
      this.#ticketKey(ticket),
      this.#clock === undefined ? '' : String(this.#clock.now()),
      String(tenant.requestsPerMinute),
      String(tenant.tokensPerMinute),
      String(tenant.maxInFlight),
      String(tenant.budgetUsd),
      String(request.tokens),
      String(request.maxCostUsd),
      String(this.#ticketTtlSeconds),
      String(this.#budgetRetryAfterSeconds),
    );
    const decision = parseAdmitReply(reply);
    if (!decision.admitted) {
      return tenantRejection(decision.reason, decision.retryAfterSeconds, tenant);
    }
    return { admitted: true, ticket };
  }

  async settle(ticket: AdmissionTicket, actualCostUsd: number): Promise<TicketOutcome> {
    checkNonNegative('actualCostUsd', actualCostUsd);
    return this.#closeTicket(ticket, String(actualCostUsd));
  }

  async release(ticket: AdmissionTicket): Promise<TicketOutcome> {
    return this.#closeTicket(ticket, '');
  }

  async usage(tenantId: string): Promise<TenantUsage> {
    const key = this.#stateKey(tenantId);
    const [inFlight, reserved, spent] = await this.#redis.hmget(
      key,
      'inflight',
      'reserved',
      'spent',
    );
    return {
      inFlight: Number(inFlight ?? 0),
      reservedUsd: Number(reserved ?? 0),
      spentUsd: Number(spent ?? 0),
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

  async #closeTicket(ticket: AdmissionTicket, cost: string): Promise<TicketOutcome> {
    const stateKey = this.#stateKey(ticket.tenantId);
    const reply = await this.#redis.scalegateCloseTicket(stateKey, this.#ticketKey(ticket), cost);
    return reply === 1 ? 'applied' : 'already_closed';
  }

  // The hash tag {tenantId} keeps a tenant's keys in one Redis Cluster slot, as a script requires.
  #stateKey(tenantId: string): string {
    return `${this.#prefix}{${tenantId}}:state`;
  }

  #ticketKey(ticket: AdmissionTicket): string {
    return `${this.#prefix}{${ticket.tenantId}}:ticket:${ticket.id}`;
  }
}

function defineCommands(redis: Redis): CommandRedis {
  redis.defineCommand('scalegateAdmit', { numberOfKeys: 2, lua: ADMIT_SCRIPT });
  redis.defineCommand('scalegateCloseTicket', { numberOfKeys: 2, lua: CLOSE_SCRIPT });
  if (!hasCommands(redis)) {
    throw new TypeError('ioredis defineCommand did not add the admission commands');
  }
  return redis;
}

function hasCommands(redis: Redis): redis is CommandRedis {
  return (
    typeof Reflect.get(redis, 'scalegateAdmit') === 'function' &&
    typeof Reflect.get(redis, 'scalegateCloseTicket') === 'function'
  );
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
  return { admitted: false, reason, retryAfterSeconds };
}
