import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import { roundUsd } from '../cost/usd.js';
import type { BudgetPeriod } from '../tenants/tenant.js';
import {
  budgetPeriodOf,
  type PeriodWindow,
  parsePeriodKey,
  periodAt,
  periodKindOf,
  previousPeriod,
  TOTAL_PERIOD_KEY,
} from './budget-period.js';
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
  UsageTenant,
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

/** The tenant's state hash, open tickets hash, open tickets sorted set and run charges hash. */
type TenantKeys = [state: string, tickets: string, open: string, runCharges: string];

/** Admission attempts whose period, taken from this process's clock, the script may reject. */
const ADMIT_ATTEMPTS = 3;

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
 * The spend of a `day` or `month` budget lives in one hash per period, which
 * expires a ticket TTL after the period ends.
 * NOTE: an admission closes an expired ticket of a period before the previous one,
 * which a ticket TTL longer than the period allows, without freeing its reservation,
 * because the script can touch only the two periods' hashes it is given. That
 * reservation stays in its period's hash until the hash expires, and still counts when
 * the period's other open tickets charge. The memory backend frees it.
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
  /**
   * Each tenant's budget period as of its last admission or ticket script in this process,
   * from which `settle`, `charge` and `release` guess the period of a ticket before the
   * script checks it. `usage` reads the period its caller gives instead.
   */
  readonly #periods = new Map<string, BudgetPeriod>();

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
    const period = budgetPeriodOf(tenant);
    this.#periods.set(tenant.id, period);
    const ticket: AdmissionTicket = {
      id: request.ticketId ?? randomUUID(),
      tenantId: tenant.id,
      reservedUsd: request.maxCostUsd,
      tokens: request.tokens,
    };
    // Without a clock, the script reads the server's TIME, and this process's time only
    // guesses the period. The script rejects a wrong guess with the server's time.
    const now = this.#clock?.now();
    let periodTime = now ?? Date.now();
    for (let attempt = 1; attempt <= ADMIT_ATTEMPTS; attempt += 1) {
      const window = periodAt(period, periodTime);
      const reply = await this.#admitIn(request, ticket.id, window, now);
      const serverTime = periodMismatchTime(reply);
      if (serverTime === undefined) {
        const decision = parseAdmitReply(reply);
        // NOTE: without a clock, the reset time of a budget rejection is taken from this
        // process's clock, unless the script returned the server's time for a new period.
        if (!decision.admitted) return tenantRejection(decision, request, periodTime);
        return { admitted: true, ticket };
      }
      periodTime = serverTime;
    }
    throw new Error(
      `admission of tenant ${tenant.id} found a new ${period} budget period on each of ${ADMIT_ATTEMPTS} attempts; check that the Redis server's clock is steady`,
    );
  }

  /**
   * Runs the admission script in `window`, the budget period the caller expects, at `now`,
   * or at the server's TIME when undefined.
   */
  async #admitIn(
    request: AdmissionRequest,
    ticketId: string,
    window: PeriodWindow,
    now: number | undefined,
  ) {
    const { tenant } = request;
    const previous = previousPeriod(window);
    const total = window.key === TOTAL_PERIOD_KEY;
    return this.#redis.scalegateAdmit(
      ...this.#tenantKeys(tenant.id),
      this.#spendKey(tenant.id, window.key),
      this.#spendKey(tenant.id, previous.key),
      now === undefined ? '' : String(now),
      String(tenant.requestsPerMinute),
      String(tenant.tokensPerMinute),
      String(tenant.maxInFlight),
      String(tenant.budgetUsd),
      String(request.tokens),
      String(request.maxCostUsd),
      String(this.#ticketTtlSeconds),
      String(this.#budgetRetryAfterSeconds),
      ticketId,
      window.key,
      total ? '' : String(window.startMs),
      total ? '' : String(window.endMs),
      previous.key,
      this.#spendExpiry(window),
    );
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
    const reply = await this.#inTicketPeriod(ticket.tenantId, (window) =>
      this.#redis.scalegateChargeTicket(
        ...this.#tenantKeys(ticket.tenantId),
        this.#spendKey(ticket.tenantId, window.key),
        String(spend.run),
        String(spend.spentUsd),
        ticket.id,
        window.key,
        this.#spendExpiry(window),
      ),
    );
    if (!Array.isArray(reply) || reply.length !== 2) {
      throw new TypeError(`unexpected reply from the charge script: ${JSON.stringify(reply)}`);
    }
    return { open: reply[0] === 1, withinBudget: reply[1] === 1 };
  }

  /**
   * Reads the tenant's in-flight count and the spend of its current budget period. Tickets
   * past their TTL still count until the next admission.
   */
  async usage(tenant: UsageTenant): Promise<TenantUsage> {
    const [usage] = await this.usageOf([tenant]);
    return usage ?? { inFlight: 0, reservedUsd: 0, spentUsd: 0 };
  }

  /**
   * Reads the usage of each tenant with one pipeline of two HMGETs per tenant, after the
   * server's TIME when the backend has no clock.
   * @throws the first command error of the pipeline, such as a connection error.
   */
  async usageOf(tenants: readonly UsageTenant[]): Promise<TenantUsage[]> {
    if (tenants.length === 0) return [];
    const now = await this.#now();
    const pipeline = this.#redis.pipeline();
    for (const tenant of tenants) {
      const [stateKey] = this.#tenantKeys(tenant.id);
      const window = periodAt(budgetPeriodOf(tenant), now);
      pipeline.hmget(stateKey, 'inflight');
      pipeline.hmget(this.#spendKey(tenant.id, window.key), 'reserved', 'spent');
    }
    const replies = (await pipeline.exec()) ?? [];
    return tenants.map((_tenant, index) => {
      const [inFlight] = pipelineValue(replies[2 * index]);
      const [reserved, spent] = pipelineValue(replies[2 * index + 1]);
      return {
        inFlight: Number(inFlight ?? 0),
        reservedUsd: roundUsd(Number(reserved ?? 0)),
        spentUsd: roundUsd(Number(spent ?? 0)),
      };
    });
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
    const reply = await this.#inTicketPeriod(ticket.tenantId, (window) =>
      this.#redis.scalegateCloseTicket(
        ...this.#tenantKeys(ticket.tenantId),
        this.#spendKey(ticket.tenantId, window.key),
        cost,
        ticket.id,
        String(run),
        earlierRuns,
        window.key,
        this.#spendExpiry(window),
      ),
    );
    if (!Array.isArray(reply) || (reply[0] !== 0 && reply[0] !== 1)) {
      throw new TypeError(`unexpected reply from the close script: ${JSON.stringify(reply)}`);
    }
    return { closed: reply[0], runCharges: String(reply[1] ?? '') };
  }

  /**
   * Runs a ticket script with the spend hash of the period the ticket most likely belongs
   * to: the current period of the tenant's last admission in this process, else `total`.
   * When the script replies with the ticket's own period, runs it again with that one.
   */
  async #inTicketPeriod(
    tenantId: string,
    run: (window: PeriodWindow) => Promise<unknown>,
  ): Promise<unknown> {
    const time = this.#clock?.now() ?? Date.now();
    const guess = periodAt(this.#periods.get(tenantId) ?? 'total', time);
    const reply = await run(guess);
    const period = ticketPeriodOf(reply);
    if (period === undefined) return reply;
    // A process that settles without admitting, such as a worker, guesses right from now on.
    this.#periods.set(tenantId, periodKindOf(period));
    const retried = await run(parsePeriodKey(period));
    if (ticketPeriodOf(retried) !== undefined) {
      throw new TypeError(`the ticket script rejected the ticket's own period ${period}`);
    }
    return retried;
  }

  /** Returns the clock's time, or the Redis server's when the backend has no clock. */
  async #now(): Promise<number> {
    if (this.#clock !== undefined) return this.#clock.now();
    const [seconds, microseconds] = await this.#redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(microseconds) / 1000);
  }

  /** Key of the hash with a budget period's spend; a `total` budget keeps it in the state hash. */
  #spendKey(tenantId: string, period: string): string {
    const [stateKey] = this.#tenantKeys(tenantId);
    return period === TOTAL_PERIOD_KEY
      ? stateKey
      : `${stateKey.slice(0, -':state'.length)}:spend:${period}`;
  }

  /**
   * Expiry of a period's spend hash in ms since the epoch, '' for `total`: a ticket TTL
   * after the period ends, when every ticket it admitted has closed or expired.
   */
  #spendExpiry(window: PeriodWindow): string {
    if (window.key === TOTAL_PERIOD_KEY) return '';
    return String(window.endMs + this.#ticketTtlSeconds * 1000);
  }

  // The hash tag {tenantId} keeps a tenant's keys in one Redis Cluster slot, as a script requires.
  #tenantKeys(tenantId: string): TenantKeys {
    const base = `${this.#prefix}{${tenantId}}`;
    return [`${base}:state`, `${base}:tickets`, `${base}:open`, `${base}:charges`];
  }
}

function defineCommands(redis: Redis): CommandRedis {
  redis.defineCommand('scalegateAdmit', { numberOfKeys: 6, lua: ADMIT_SCRIPT });
  redis.defineCommand('scalegateCloseTicket', { numberOfKeys: 5, lua: CLOSE_SCRIPT });
  redis.defineCommand('scalegateChargeTicket', { numberOfKeys: 5, lua: CHARGE_SCRIPT });
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

/** Returns the values of one HMGET reply of a pipeline, or throws its error. */
function pipelineValue(reply: [Error | null, unknown] | undefined): (string | null)[] {
  if (reply === undefined) throw new TypeError('the usage pipeline returned too few replies');
  const [error, value] = reply;
  if (error !== null) throw error;
  if (!Array.isArray(value)) {
    throw new TypeError(`unexpected HMGET reply in the usage pipeline: ${JSON.stringify(value)}`);
  }
  return value.map((item) => (item === null ? null : String(item)));
}

/** Returns the server time of an admit reply that rejected the expected period, else undefined. */
function periodMismatchTime(reply: unknown): number | undefined {
  if (!Array.isArray(reply) || reply[0] !== 2) return undefined;
  const [, serverTime] = reply;
  if (typeof serverTime !== 'number') {
    throw new TypeError(
      `unexpected period reply from the admission script: ${JSON.stringify(reply)}`,
    );
  }
  return serverTime;
}

/** Returns the ticket's period key from a ticket script reply that rejected the expected one. */
function ticketPeriodOf(reply: unknown): string | undefined {
  if (!Array.isArray(reply) || reply[0] !== 2) return undefined;
  return String(reply[1]);
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
