import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';

import { ProviderProfileError } from './errors.js';
import { type FaultConfig, faultConfigSchema } from './fault-config.js';
import { firstFieldProblem } from './schema-errors.js';

/** Wire format a provider speaks. */
export type ProviderFormat = 'openai' | 'anthropic';

/** Median and 95th percentile of a lognormal distribution. */
export interface LognormalSpec {
  median: number;
  p95: number;
}

/** One model a provider serves, with its latency profile. */
export interface ModelProfile {
  /** Model id as the client sends it. */
  name: string;
  /** Quality rank; higher is better. */
  qualityTier: number;
  /**
   * Largest `max_tokens` the model accepts, in tokens. The mock provider rejects a larger
   * request with the API's 400, and the router skips the model for a task that requests more.
   */
  maxOutputTokens: number;
  /**
   * Context window in tokens: the most that the input plus `max_tokens` of one request may
   * total. The mock provider rejects a larger request with the API's 400, and the router
   * skips the model for a task that needs more.
   */
  contextWindowTokens: number;
  /** Time to first token in milliseconds, lognormal. */
  ttftMs: LognormalSpec;
  /** Output speed in tokens per second, normal and clipped to at least 1. */
  outputTokensPerSecond: { mean: number; stddev: number };
  /**
   * Completion length in tokens when the request does not force one, lognormal.
   * @defaultValue `{ median: 200, p95: 800 }`
   */
  outputTokens?: LognormalSpec;
}

/** A mock provider: its wire format, per-key rate limits, models and optional faults. */
export interface ProviderProfile {
  name: string;
  format: ProviderFormat;
  /** Limits per API key, per minute. */
  rateLimits: { requestsPerMinute: number; tokensPerMinute: number };
  models: ModelProfile[];
  /** Faults active from the start; the control endpoint can replace them. */
  faults?: FaultConfig;
}

/** Folder of the provider profiles shipped with scalegate. */
export const DEFAULT_PROVIDER_DIR = fileURLToPath(
  new URL('../../../fixtures/providers/', import.meta.url),
);

const lognormal = {
  type: 'object',
  additionalProperties: false,
  required: ['median', 'p95'],
  properties: { median: { type: 'number', minimum: 0 }, p95: { type: 'number', minimum: 0 } },
} as const;

const profileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'format', 'rateLimits', 'models'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$' },
    format: { enum: ['openai', 'anthropic'] },
    rateLimits: {
      type: 'object',
      additionalProperties: false,
      required: ['requestsPerMinute', 'tokensPerMinute'],
      properties: {
        requestsPerMinute: { type: 'number', exclusiveMinimum: 0 },
        tokensPerMinute: { type: 'number', exclusiveMinimum: 0 },
      },
    },
    models: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'qualityTier', 'ttftMs', 'outputTokensPerSecond'],
        properties: {
          name: { type: 'string', minLength: 1 },
          qualityTier: { type: 'integer', minimum: 0 },
          // Checked by checkOutputLimit and checkContextWindow, so that their errors name the
          // value and the fix.
          maxOutputTokens: {},
          contextWindowTokens: {},
          ttftMs: lognormal,
          outputTokensPerSecond: {
            type: 'object',
            additionalProperties: false,
            required: ['mean', 'stddev'],
            properties: {
              mean: { type: 'number', exclusiveMinimum: 0 },
              stddev: { type: 'number', minimum: 0 },
            },
          },
          outputTokens: lognormal,
        },
      },
    },
    faults: faultConfigSchema,
  },
} as const;

const validateProfile = new Ajv({ allErrors: false }).compile(profileSchema);

/**
 * Validates a parsed profile document and returns it typed.
 * @throws ProviderProfileError naming `file` and the first invalid field.
 */
export function parseProviderProfile(document: unknown, file: string): ProviderProfile {
  if (!validateProfile(document)) {
    const problem = firstFieldProblem(validateProfile.errors);
    throw new ProviderProfileError(file, problem.field, problem.message);
  }
  const profile = document as ProviderProfile;
  checkModels(profile.models, file);
  return profile;
}

function checkModels(models: ModelProfile[], file: string): void {
  const seen = new Set<string>();
  models.forEach((model, index) => {
    if (seen.has(model.name)) {
      throw new ProviderProfileError(
        file,
        `models.${index}.name`,
        `repeats the model name ${model.name}`,
      );
    }
    seen.add(model.name);
    checkOutputLimit(model, `models.${index}.maxOutputTokens`, file);
    checkContextWindow(model, `models.${index}.contextWindowTokens`, file);
    checkPercentiles(model.ttftMs, `models.${index}.ttftMs`, file);
    if (model.outputTokens !== undefined) {
      checkPercentiles(model.outputTokens, `models.${index}.outputTokens`, file);
    }
  });
}

/** Requires `maxOutputTokens` to be a positive safe integer. */
function checkOutputLimit(model: ModelProfile, field: string, file: string): void {
  const value: unknown = model.maxOutputTokens;
  if (Number.isSafeInteger(value) && (value as number) >= 1) return;
  const fix = `set it to the largest max_tokens the provider accepts for ${model.name}, such as 8192`;
  const received =
    typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  const message =
    value === undefined
      ? `is required; ${fix}`
      : `must be a positive integer of tokens, got ${received}; ${fix}`;
  throw new ProviderProfileError(file, field, message);
}

/**
 * Requires `contextWindowTokens` to be a positive safe integer of at least
 * `maxOutputTokens`, because the window counts the output as well as the input.
 */
function checkContextWindow(model: ModelProfile, field: string, file: string): void {
  const value: unknown = model.contextWindowTokens;
  const fix = `set it to the context window of ${model.name} in tokens, such as 128000`;
  if (value === undefined) {
    throw new ProviderProfileError(file, field, `is required; ${fix}`);
  }
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    const received =
      typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
    const message = `must be a positive integer of tokens, got ${received}; ${fix}`;
    throw new ProviderProfileError(file, field, message);
  }
  if ((value as number) < model.maxOutputTokens) {
    const message =
      `must be at least maxOutputTokens (${model.maxOutputTokens}), got ${String(value)}, ` +
      'because the window counts the output as well as the input; raise contextWindowTokens ' +
      'or lower maxOutputTokens';
    throw new ProviderProfileError(file, field, message);
  }
}

function checkPercentiles(spec: LognormalSpec, field: string, file: string): void {
  if (spec.p95 < spec.median) {
    const message = `must be at least the median ${spec.median}, got ${spec.p95}`;
    throw new ProviderProfileError(file, `${field}.p95`, message);
  }
  if (spec.median === 0 && spec.p95 !== 0) {
    throw new ProviderProfileError(file, `${field}.p95`, 'must be 0 when the median is 0');
  }
}

/**
 * Loads one profile: a bare name resolves to `<DEFAULT_PROVIDER_DIR>/<name>.yaml`, anything
 * with a slash or a `.yaml`/`.yml` suffix is a path.
 * @throws ProviderProfileError when the file is missing, is not YAML or is invalid.
 */
export async function loadProviderProfile(nameOrPath: string): Promise<ProviderProfile> {
  const file = isPath(nameOrPath)
    ? resolve(nameOrPath)
    : join(DEFAULT_PROVIDER_DIR, `${nameOrPath}.yaml`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ProviderProfileError(file, '', 'cannot be read', { cause: error });
  }
  return parseProviderProfile(parseYamlDocument(text, file), file);
}

function isPath(nameOrPath: string): boolean {
  return nameOrPath.includes('/') || ['.yaml', '.yml'].includes(extname(nameOrPath));
}

function parseYamlDocument(text: string, file: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    throw new ProviderProfileError(file, '', 'is not valid YAML', { cause: error });
  }
}

/**
 * Loads every `*.yaml` profile in `dir`, sorted by provider name.
 * @throws ProviderProfileError on the first invalid file, or when two files share a name.
 */
export async function loadProviderCatalog(
  dir: string = DEFAULT_PROVIDER_DIR,
): Promise<ProviderProfile[]> {
  const entries = await readdir(dir);
  const files = entries.filter((entry) => ['.yaml', '.yml'].includes(extname(entry))).sort();
  const profiles = await Promise.all(files.map((entry) => loadProviderProfile(join(dir, entry))));
  const names = new Map<string, string>();
  for (const [index, profile] of profiles.entries()) {
    const file = join(dir, files[index] ?? '');
    const earlier = names.get(profile.name);
    if (earlier !== undefined) {
      throw new ProviderProfileError(
        file,
        'name',
        `repeats the provider name of ${basename(earlier)}`,
      );
    }
    names.set(profile.name, file);
  }
  return profiles.sort((a, b) => a.name.localeCompare(b.name));
}
