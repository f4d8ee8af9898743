import type { Backpressure, QueueGauges } from '../admission/backpressure.js';
import type {
  AdmissionBackend,
  AdmissionResult,
  AdmissionTicket,
  Rejection,
} from '../admission/types.js';
import type { AdmissionGate, BackpressureGate } from '../gateway/ports.js';
import type { Clock } from '../clock.js';
import type { Tenant } from '../tenants/tenant.js';
import type { PriorityClass, TaskRequest } from '../task.js';

/** Token counts a task may use over all its steps. */
export interface TokenEstimate {
  inputTokens: number;
  outputTokens: number;
}

/** Prices the most a task can cost, in US dollars, for the budget reservation. */
export type MaxCostEstimator = (request: TaskRequest, tokens: TokenEstimate) => number;

/** Characters per token used to size a prompt given as messages; a common rule of thumb. */
const CHARS_PER_TOKEN = 4;
const SYNTHETIC_PROMPT_TOKENS = 16;

/** Estimates a task's tokens: every step sends the prompt and may produce `maxOutputTokens`. */
export function estimateTokens(request: TaskRequest): TokenEstimate {
  const steps = request.steps ?? 1;
  const promptTokens = request.inputTokens ?? promptTokensOf(request);
  return { inputTokens: promptTokens * steps, outputTokens: request.maxOutputTokens * steps };
}

function promptTokensOf(request: TaskRequest): number {
  if (request.messages === undefined) return SYNTHETIC_PROMPT_TOKENS;
  const chars = request.messages.reduce((sum, message) => sum + message.content.length, 0);
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

/** Adapts an admission backend to the gateway: tokens and maximum cost come from the request. */
export class BackendAdmissionGate implements AdmissionGate {
  readonly #backend: AdmissionBackend;
  readonly #maxCost: MaxCostEstimator;

  constructor(backend: AdmissionBackend, maxCost: MaxCostEstimator) {
    this.#backend = backend;
    this.#maxCost = maxCost;
  }

  admit(tenant: Tenant, request: TaskRequest): Promise<AdmissionResult> {
    const tokens = estimateTokens(request);
    const maxCostUsd = this.#maxCost(request, tokens);
    return this.#backend.admit({
      tenant,
      tokens: tokens.inputTokens + tokens.outputTokens,
      maxCostUsd,
    });
  }

  async release(ticket: AdmissionTicket): Promise<void> {
    await this.#backend.release(ticket);
  }
}

/**
 * Applies the backpressure rule to queue gauges. Gauges are read at most once
 * per `maxGaugeAgeMs`, because reading BullMQ gauges costs several Redis
 * commands and the rule only needs a recent sample.
 */
export class QueueBackpressureGate implements BackpressureGate {
  readonly #rule: Backpressure;
  readonly #gauges: () => Promise<QueueGauges>;
  readonly #clock: Clock;
  readonly #maxGaugeAgeMs: number;
  #sample: { at: number; gauges: Promise<QueueGauges> } | undefined;

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
    const decision = this.#rule.decide(priority, await this.#currentGauges());
    return decision.admitted ? undefined : decision;
  }

  #currentGauges(): Promise<QueueGauges> {
    const now = this.#clock.monotonic();
    if (this.#sample === undefined || now - this.#sample.at > this.#maxGaugeAgeMs) {
      const gauges = this.#gauges();
      this.#sample = { at: now, gauges };
      gauges.catch(() => {
        if (this.#sample?.gauges === gauges) this.#sample = undefined;
      });
    }
    return this.#sample.gauges;
  }
}
