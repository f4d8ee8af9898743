import { createHash } from 'node:crypto';

import { Counter, Registry } from 'prom-client';

/** Label used for requests without an API key. */
export const NO_KEY_LABEL = 'none';
/** Label used for model names the profile does not list, which keeps label cardinality bounded. */
export const UNKNOWN_MODEL_LABEL = 'unknown';

const MAX_CACHED_FINGERPRINTS = 10_000;

/** Prometheus counters of one mock provider, in a registry of its own. */
export class ProviderMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'model' | 'key' | 'status'>;
  readonly #tokens: Counter<'model' | 'key' | 'direction'>;
  readonly #faults: Counter<'model' | 'fault'>;
  readonly #fingerprints = new Map<string, string>();

  constructor(provider: string) {
    this.registry.setDefaultLabels({ provider });
    const registers = [this.registry];
    this.#requests = new Counter({
      name: 'mock_provider_requests_total',
      help: 'Completion requests by model, API key fingerprint and HTTP status.',
      labelNames: ['model', 'key', 'status'],
      registers,
    });
    this.#tokens = new Counter({
      name: 'mock_provider_tokens_total',
      help: 'Tokens served: input tokens of accepted requests and output tokens sent.',
      labelNames: ['model', 'key', 'direction'],
      registers,
    });
    this.#faults = new Counter({
      name: 'mock_provider_faults_total',
      help: 'Injected faults by model and fault mode.',
      labelNames: ['model', 'fault'],
      registers,
    });
  }

  /** Short sha256 fingerprint of an API key; the key itself never reaches a label. */
  fingerprint(apiKey: string | undefined): string {
    if (apiKey === undefined) {
      return NO_KEY_LABEL;
    }
    let fingerprint = this.#fingerprints.get(apiKey);
    if (fingerprint === undefined) {
      fingerprint = createHash('sha256').update(apiKey).digest('hex').slice(0, 12);
      if (this.#fingerprints.size >= MAX_CACHED_FINGERPRINTS) {
        this.#fingerprints.clear();
      }
      this.#fingerprints.set(apiKey, fingerprint);
    }
    return fingerprint;
  }

  /** Counts one request; `status` is the HTTP status sent, or `none` when no headers were sent. */
  countRequest(model: string, key: string, status: number | 'none'): void {
    this.#requests.inc({ model, key, status: String(status) });
  }

  countTokens(model: string, key: string, direction: 'input' | 'output', tokens: number): void {
    if (tokens > 0) {
      this.#tokens.inc({ model, key, direction }, tokens);
    }
  }

  countFault(model: string, fault: string): void {
    this.#faults.inc({ model, fault });
  }
}
