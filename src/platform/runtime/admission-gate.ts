import type { Backpressure, BackpressureDecision, QueueGauges } from '../admission/backpressure.js';
import type {
  AdmissionBackend,
  AdmissionResult,
  AdmissionTicket,
  Rejection,
} from '../admission/types.js';
import { GatewayError } from '../gateway/gateway-error.js';
import type { AdmissionGate, BackpressureGate, QueuedTaskHold } from '../gateway/ports.js';
import type { Clock } from '../clock.js';
import type { Tenant } from '../tenants/tenant.js';
import type { PriorityClass, TaskRequest } from '../task.js';
import { estimatePromptTokens } from '../token-estimate.js';

/** Token counts a task may use over all its steps. */
export interface TokenEstimate {
  inputTokens: number;
  outputTokens: number;
}

/** Prices the most a task can cost, in US dollars, for the budget reservation. */
export type MaxCostEstimator = (request: TaskRequest, tokens: TokenEstimate) => number;

const SYNTHETIC_PROMPT_TOKENS = 16;

/** Estimates a task's tokens: every step sends the prompt and may produce `maxOutputTokens`. */
export function estimateTokens(request: TaskRequest): TokenEstimate {
  const steps = request.steps ?? 1;
  const promptTokens = request.inputTokens ?? promptTokensOf(request);
  return { inputTokens: promptTokens * steps, outputTokens: request.maxOutputTokens * steps };
}

function promptTokensOf(request: TaskRequest): number {
  if (request.messages === undefined) return SYNTHETIC_PROMPT_TOKENS;
  return estimatePromptTokens(request.messages);
}

/**
 * A task that needs more tokens than the tenant's token bucket holds can never
 * be admitted, so it is rejected as too large instead of getting a Retry-After.
 */
function checkFitsTokenBucket(tenant: Tenant, request: TaskRequest, tokens: TokenEstimate): void {
  const needed = tokens.inputTokens + tokens.outputTokens;
  if (needed <= tenant.tokensPerMinute) return;
  const steps = request.steps ?? 1;
  const message =
    `request needs ${needed} tokens (${tokens.inputTokens} input plus ${tokens.outputTokens} ` +
    `maxOutputTokens over ${steps} step${steps === 1 ? '' : 's'}), more than the ` +
    `tokens_per_minute limit of ${tenant.tokensPerMinute} for tenant ${tenant.id}; ` +
    'lower maxOutputTokens, inputTokens or steps';
  throw new GatewayError(413, 'request_exceeds_tenant_limit', message, {
    limit: 'tokens_per_minute',
  });
}

/** Adapts an admission backend to the gateway: tokens and maximum cost come from the request. */
export class BackendAdmissionGate implements AdmissionGate {
  readonly #backend: AdmissionBackend;
  readonly #maxCost: MaxCostEstimator;

  constructor(backend: AdmissionBackend, maxCost: MaxCostEstimator) {
    this.#backend = backend;
    this.#maxCost = maxCost;
  }

  /** @throws GatewayError 413 when the task needs more tokens than the tenant's whole bucket. */
  async admit(tenant: Tenant, request: TaskRequest, ticketId?: string): Promise<AdmissionResult> {
    const tokens = estimateTokens(request);
    checkFitsTokenBucket(tenant, request, tokens);
    const maxCostUsd = this.#maxCost(request, tokens);
    const result = await this.#backend.admit({
      tenant,
      tokens: tokens.inputTokens + tokens.outputTokens,
      maxCostUsd,
      ticketId,
    });
    if (!result.admitted && result.reason === 'budget') {
      return { ...result, reservationUsd: maxCostUsd };
    }
    return result;
  }

  async release(ticket: AdmissionTicket): Promise<void> {
    await this.#backend.release(ticket);
  }

  /** Releases the ticket by id: both backends close a ticket by its id and tenant alone. */
  async abandon(tenantId: string, ticketId: string): Promise<void> {
    await this.#backend.release({ id: ticketId, tenantId, reservedUsd: 0, tokens: 0 });
  }
}

/** A queue gauge read, and the count of tasks this gate saw enqueued when the read started. */
interface GaugeSample {
  at: number;
  gauges: Promise<QueueGauges>;
  pending: boolean;
  enqueuedBefore: number;
}

/**
 * Applies the backpressure rule to queue gauges. Gauges are read at most once
 * per `maxGaugeAgeMs`, because reading BullMQ gauges costs several Redis
 * commands and the rule only needs a recent sample. A read still in flight is
 * shared however long it takes, so a Redis that does not reply gets one gauge
 * read at a time, not one per `maxGaugeAgeMs`.
 *
 * The depth the rule gets is the sampled depth plus the async tasks this gate let pass
 * since the read started: those whose enqueue is still under way and those enqueued. So a
 * burst within one sample stops at the limit. A task enqueued while the read was running
 * may count twice, so the gate sheds early rather than late. Tasks that other gateway
 * processes enqueue count only from the next read.
 */
export class QueueBackpressureGate implements BackpressureGate {
  readonly #rule: Backpressure;
  readonly #gauges: () => Promise<QueueGauges>;
  readonly #clock: Clock;
  readonly #maxGaugeAgeMs: number;
  #sample: GaugeSample | undefined;
  /** Async tasks let pass whose enqueue has not ended. */
  #enqueuing = 0;
  /** Async tasks enqueued since this gate was built. */
  #enqueued = 0;

  /** @param maxGaugeAgeMs oldest gauge sample reused, in ms. @defaultValue 100 */
  constructor(
    rule: Backpressure,
    gauges: () => Promise<QueueGauges>,
    clock: Clock,
    maxGaugeAgeMs = 100,
  ) {
    this.#rule = rule;
    this.#gauges = gauges;
    this.#clock = clock;
    this.#maxGaugeAgeMs = maxGaugeAgeMs;
  }

  async check(priority: PriorityClass): Promise<Rejection | undefined> {
    const decision = await this.#decide(priority);
    return decision.admitted ? undefined : decision;
  }

  async checkQueued(priority: PriorityClass): Promise<Rejection | QueuedTaskHold> {
    const decision = await this.#decide(priority);
    if (!decision.admitted) return decision;
    this.#enqueuing += 1;
    let settled = false;
    const settle = (enqueued: boolean) => {
      if (settled) return;
      settled = true;
      this.#enqueuing -= 1;
      if (enqueued) this.#enqueued += 1;
    };
    return { admitted: true, enqueued: () => settle(true), abandon: () => settle(false) };
  }

  async #decide(priority: PriorityClass): Promise<BackpressureDecision> {
    const sample = this.#currentSample();
    const gauges = await sample.gauges;
    const since = this.#enqueued - sample.enqueuedBefore;
    const depth = gauges.depth + since + this.#enqueuing;
    return this.#rule.decide(priority, { ...gauges, depth });
  }

  #currentSample(): GaugeSample {
    const sample = this.#sample;
    if (sample?.pending || (sample !== undefined && this.#ageOf(sample) <= this.#maxGaugeAgeMs)) {
      return sample;
    }
    const gauges = this.#gauges();
    const next = {
      at: this.#clock.monotonic(),
      gauges,
      pending: true,
      enqueuedBefore: this.#enqueued,
    };
    this.#sample = next;
    gauges.then(
      () => {
        // The sample's age counts from when its values were read.
        next.at = this.#clock.monotonic();
        next.pending = false;
      },
      () => {
        if (this.#sample === next) this.#sample = undefined;
      },
    );
    return next;
  }

  #ageOf(sample: { at: number }): number {
    return this.#clock.monotonic() - sample.at;
  }
}
