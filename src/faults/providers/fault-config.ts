import { Ajv } from 'ajv';

import { MAX_RETRY_AFTER_SECONDS, MAX_TIMER_MS } from '../limits.js';
import { FaultConfigError } from './errors.js';
import { firstFieldProblem } from './schema-errors.js';

/** Faults that apply to one request; every field is optional and absent means "off". */
export interface FaultSettings {
  /** Fraction of requests, 0 to 1, that get `errorStatus` instead of a completion. The seeded PRNG picks them. */
  errorRate?: number;
  /** HTTP status of injected errors, 400 to 599 (500, 502, 503, 529, 401, ...). @defaultValue 500 */
  errorStatus?: number;
  /** Sets `Retry-After` on injected errors and 429 storms, in seconds, at most 86,400. */
  retryAfterSeconds?: number;
  /** Sends 429 in the provider's shape to every request. */
  rateLimitStorm?: boolean;
  /** Sends an in-stream error event after this many content tokens, then ends the stream. */
  streamErrorAfterTokens?: number;
  /** Closes the socket after this many content tokens, with no final chunk. */
  streamCutAfterTokens?: number;
  /** Sends the first content token, then nothing more while keeping the connection open. */
  stallAfterFirstToken?: boolean;
  /** Sends one line of invalid JSON after this many content tokens, then continues. */
  malformedSseAfterTokens?: number;
  /** Time to first token in ms, at most 2,147,483,647, replacing the profile's drawn value. */
  firstTokenDelayMs?: number;
  /** Accepts the request and never sends a byte. */
  hangBeforeHeaders?: boolean;
}

/** Fault configuration of a mock provider: defaults plus per-model overrides. */
export interface FaultConfig extends FaultSettings {
  /** Per-model settings, merged over the top-level ones for requests naming that model. */
  models?: Record<string, FaultSettings>;
}

const tokenCount = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

const settingsProperties = {
  errorRate: { type: 'number', minimum: 0, maximum: 1 },
  errorStatus: { type: 'integer', minimum: 400, maximum: 599 },
  retryAfterSeconds: { type: 'number', minimum: 0, maximum: MAX_RETRY_AFTER_SECONDS },
  rateLimitStorm: { type: 'boolean' },
  streamErrorAfterTokens: tokenCount,
  streamCutAfterTokens: tokenCount,
  stallAfterFirstToken: { type: 'boolean' },
  malformedSseAfterTokens: tokenCount,
  firstTokenDelayMs: { type: 'number', minimum: 0, maximum: MAX_TIMER_MS },
  hangBeforeHeaders: { type: 'boolean' },
} as const;

/** JSON Schema of {@link FaultConfig}; provider profiles embed it under `faults`. */
export const faultConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...settingsProperties,
    models: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: settingsProperties,
      },
    },
  },
} as const;

const validateFaultConfig = new Ajv({ allErrors: false, verbose: true }).compile(faultConfigSchema);

/**
 * Validates `value` as a {@link FaultConfig} and returns a deep copy. With `models`,
 * a per-model override must name one of them, so a misspelt model cannot leave its
 * faults off unnoticed.
 * @throws FaultConfigError naming the first invalid field.
 */
export function parseFaultConfig(value: unknown, models?: readonly string[]): FaultConfig {
  if (!validateFaultConfig(value)) {
    const problem = firstFieldProblem(validateFaultConfig.errors);
    throw new FaultConfigError(problem.field, problem.message);
  }
  const config = structuredClone(value) as FaultConfig;
  if (models !== undefined) {
    const unknown = Object.keys(config.models ?? {}).find((name) => !models.includes(name));
    if (unknown !== undefined) {
      throw new FaultConfigError(
        `models.${unknown}`,
        `names no model of this provider; use one of ${models.join(', ')}`,
      );
    }
  }
  return config;
}

/** Returns the settings that apply to `model`: its overrides merged over the defaults. */
export function resolveFaults(config: FaultConfig, model: string): FaultSettings {
  const { models, ...defaults } = config;
  const override = models?.[model];
  return override === undefined ? defaults : { ...defaults, ...override };
}
