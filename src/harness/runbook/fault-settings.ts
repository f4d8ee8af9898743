/**
 * Reads the settings a drill injected from a fault record's `description`, sorts a provider
 * fault or a toxic into its kind, and words the settings line of a runbook incident.
 */
import type { FaultConfig, FaultSettings } from '../../faults/providers/fault-config.js';
import type { ToxicType } from '../drill/spec.js';
import { TOXIC_TYPES } from '../drill/spec.js';
import type { FaultRecord } from '../report/types.js';
import { windowOf } from './evidence.js';

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 });

/** Formats a number with thousands separators, such as `3,000`. */
function amount(value: number): string {
  return NUMBER.format(value);
}

/** Formats a fault's applied window, such as `20.0 to 50.0 s`. */
function windowText(fault: FaultRecord): string {
  const [from, to] = windowOf(fault);
  return `${from.toFixed(1)} to ${to.toFixed(1)} s`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses a `key=value` list separated by spaces, such as `errorRate=1 errorStatus=503`, into
 * numbers and booleans. Returns undefined when a part is no such pair.
 */
function parsePairs(text: string): Record<string, unknown> | undefined {
  const parts = text.trim().split(/\s+/);
  const pairs: Record<string, unknown> = {};
  for (const part of parts) {
    const match = /^([A-Za-z]+)=(.+)$/.exec(part);
    if (match === null) return undefined;
    const [, key = '', raw = ''] = match;
    if (raw === 'true' || raw === 'false') {
      pairs[key] = raw === 'true';
    } else if (Number.isFinite(Number(raw))) {
      pairs[key] = Number(raw);
    } else {
      return undefined;
    }
  }
  return pairs;
}

/**
 * Reads the mock provider fault config of a `provider-fault` record. The drill records it as
 * JSON. A `key=value` list, the form of the tests' sample reports, is read too. Returns
 * undefined for a description in neither form.
 */
export function providerFaultConfig(description: string): FaultConfig | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(description);
  } catch {
    parsed = parsePairs(description);
  }
  return isRecord(parsed) ? (parsed as FaultConfig) : undefined;
}

/** The toxic a `toxic` record names: its type and its attributes. */
export interface ToxicSettings {
  type: ToxicType;
  attributes: Record<string, number>;
}

/**
 * Reads the toxic of a `toxic` record, whose description is the type and its attributes as
 * JSON, such as `latency {"latency":1500,"jitter":200}`. Returns undefined for another form.
 */
export function toxicSettings(description: string): ToxicSettings | undefined {
  const space = description.indexOf(' ');
  const type = space === -1 ? description : description.slice(0, space);
  if (!(TOXIC_TYPES as readonly string[]).includes(type)) return undefined;
  let attributes: unknown = {};
  if (space !== -1) {
    try {
      attributes = JSON.parse(description.slice(space + 1));
    } catch {
      return undefined;
    }
  }
  if (!isRecord(attributes)) return undefined;
  const numbers = Object.entries(attributes).filter(([, value]) => typeof value === 'number');
  return {
    type: type as ToxicType,
    attributes: Object.fromEntries(numbers) as Record<string, number>,
  };
}

/** Kinds of mock provider fault, each with its own runbook incident. */
export type ProviderFaultKind =
  | 'hang'
  | 'rate-limit'
  | 'outage'
  | 'errors'
  | 'stream-error'
  | 'stream-cut'
  | 'stream-stall'
  | 'malformed-stream'
  | 'slowdown'
  | 'unknown';

/**
 * Returns the kind of one set of settings, in the order the mock provider applies them. A
 * hang before any response comes first, then the 429 storm and injected errors. Then comes
 * the stream fault that fires after the fewest content tokens, and last the first-token delay.
 */
function settingsKind(settings: FaultSettings): ProviderFaultKind {
  if (settings.hangBeforeHeaders === true) return 'hang';
  if (settings.rateLimitStorm === true) return 'rate-limit';
  const errorRate = settings.errorRate ?? 0;
  if (errorRate > 0) {
    if ((settings.errorStatus ?? 500) === 429) return 'rate-limit';
    return errorRate >= 1 ? 'outage' : 'errors';
  }
  const streamFaults: [ProviderFaultKind, number | undefined][] = [
    ['stream-stall', settings.stallAfterFirstToken === true ? 1 : undefined],
    ['stream-error', settings.streamErrorAfterTokens],
    ['stream-cut', settings.streamCutAfterTokens],
    ['malformed-stream', settings.malformedSseAfterTokens],
  ];
  const firing = streamFaults
    .filter((entry): entry is [ProviderFaultKind, number] => entry[1] !== undefined)
    .sort((a, b) => a[1] - b[1]);
  if (firing[0] !== undefined) return firing[0][0];
  if (settings.firstTokenDelayMs !== undefined) return 'slowdown';
  return 'unknown';
}

/** Kinds from the most to the least severe; a config with several takes the first. */
const KIND_ORDER: readonly ProviderFaultKind[] = [
  'outage',
  'hang',
  'rate-limit',
  'errors',
  'stream-stall',
  'stream-cut',
  'stream-error',
  'malformed-stream',
  'slowdown',
  'unknown',
];

/**
 * Returns the kind of a provider fault config: the most severe kind of its top-level settings
 * and of each model's settings merged over them. Undefined config gives `unknown`.
 */
export function providerFaultKind(config: FaultConfig | undefined): ProviderFaultKind {
  if (config === undefined) return 'unknown';
  const { models, ...defaults } = config;
  const kinds = [
    defaults,
    ...Object.values(models ?? {}).map((own) => ({ ...defaults, ...own })),
  ].map(settingsKind);
  return KIND_ORDER.find((kind) => kinds.includes(kind)) ?? 'unknown';
}

/** Words the fields of one set of fault settings, such as `503 on 100% of requests`. */
function settingsParts(settings: FaultSettings): string[] {
  const parts: string[] = [];
  const retryAfter = settings.retryAfterSeconds;
  if (settings.hangBeforeHeaders === true) {
    parts.push('requests accepted and never answered');
  }
  if (settings.rateLimitStorm === true) {
    parts.push(`429 on every request with Retry-After ${amount(Math.max(1, retryAfter ?? 1))} s`);
  }
  const errorRate = settings.errorRate ?? 0;
  if (errorRate > 0) {
    const status = settings.errorStatus ?? 500;
    const share = `${amount(Number((errorRate * 100).toFixed(3)))}%`;
    const header =
      retryAfter === undefined || settings.rateLimitStorm === true
        ? ''
        : ` with Retry-After ${amount(retryAfter)} s`;
    parts.push(`${status} on ${share} of requests${header}`);
  }

  if (settings.stallAfterFirstToken === true) {
    parts.push('stream stalled after the first token');
  }
  if (settings.streamErrorAfterTokens !== undefined) {
    parts.push(`error event after ${amount(settings.streamErrorAfterTokens)} tokens`);
  }
  if (settings.streamCutAfterTokens !== undefined) {
    parts.push(`stream cut after ${amount(settings.streamCutAfterTokens)} tokens`);
  }
  if (settings.malformedSseAfterTokens !== undefined) {
    parts.push(`invalid JSON line after ${amount(settings.malformedSseAfterTokens)} tokens`);
  }

  if (settings.firstTokenDelayMs !== undefined) {
    parts.push(`first token delayed by ${amount(settings.firstTokenDelayMs)} ms`);
  }
  return parts;
}

/** Words a provider fault config, per-model overrides last, such as `for gpt-4o: ...`. */
function providerSettingsText(config: FaultConfig): string {
  const { models, ...defaults } = config;
  const top = settingsParts(defaults);
  const perModel = Object.entries(models ?? {})
    .map(([model, own]) => [model, settingsParts(own)] as const)
    .filter(([, parts]) => parts.length > 0)
    .map(([model, parts]) => `for model ${model}: ${parts.join(', ')}`);
  return [...top, ...perModel].join('; ');
}

/** Words the attributes of a toxic, such as `latency 1,500 ms, jitter 200 ms`. */
function toxicSettingsText({ type, attributes }: ToxicSettings): string {
  const value = (name: string): number => attributes[name] ?? 0;
  switch (type) {
    case 'latency':
      return `latency ${amount(value('latency'))} ms, jitter ${amount(value('jitter'))} ms`;
    case 'bandwidth':
      return `bandwidth limited to ${amount(value('rate'))} KB/s`;
    case 'timeout':
      return value('timeout') === 0
        ? 'data dropped, connections held open until the toxic is removed'
        : `data dropped, connections closed after ${amount(value('timeout'))} ms without data`;
    case 'reset_peer':
      return `connections reset ${amount(value('timeout'))} ms after their first data`;
    case 'slow_close':
      return `connection close delayed by ${amount(value('delay'))} ms`;
    case 'slicer':
      return (
        `data sliced into chunks of ${amount(value('average_size'))} bytes ` +
        `(± ${amount(value('size_variation'))} bytes), ${amount(value('delay'))} µs apart`
      );
    case 'limit_data':
      return `connections closed after ${amount(value('bytes'))} bytes`;
  }
}

/**
 * Words which bytes and connections a toxic applied to, such as
 * `on the provider's bytes to the platform, 50% of connections`.
 */
function toxicScopeText(scope: NonNullable<FaultRecord['toxic']>): string {
  const bytes =
    scope.stream === 'downstream'
      ? "on the provider's bytes to the platform"
      : "on the platform's bytes to the provider";
  const share =
    scope.toxicity >= 1 ? 'every connection' : `${sharePercent(scope.toxicity)}% of connections`;
  return `${bytes}, ${share}`;
}

/**
 * Formats a toxicity below 1 as a percentage with one decimal. A toxicity strictly between 0
 * and 1 stays between 0.1 and 99.9, so it never reads as none or as every connection.
 */
function sharePercent(toxicity: number): string {
  const rounded = Math.round(toxicity * 1000) / 10;
  return amount(toxicity > 0 ? Math.min(99.9, Math.max(0.1, rounded)) : 0);
}

/**
 * Words what a fault injected, on what and when, such as
 * `provider-a: first token delayed by 3,000 ms, 20.0 to 50.0 s`. A description in no form
 * this module reads is quoted as the drill recorded it.
 */
export function injectedSettingsText(fault: FaultRecord): string {
  const when = windowText(fault);
  const quoted = `\`${fault.description}\``;
  switch (fault.kind) {
    case 'provider-fault': {
      const config = providerFaultConfig(fault.description);
      const text = config === undefined ? '' : providerSettingsText(config);
      return `${fault.target}: ${text === '' ? quoted : text}, ${when}`;
    }
    case 'toxic': {
      const toxic = toxicSettings(fault.description);
      const settings = toxic === undefined ? quoted : toxicSettingsText(toxic);
      // Reports written before the stream and toxicity were recorded state neither.
      const scope = fault.toxic === undefined ? '' : `, ${toxicScopeText(fault.toxic)}`;
      return `${fault.target}: ${settings}${scope}, ${when}`;
    }
    case 'tenant-burst': {
      const multiple = /^(\d+(?:\.\d+)?)x\b/.exec(fault.description)?.[1];
      const load =
        multiple === undefined
          ? quoted
          : `extra load at ${amount(Number(multiple))} times its quota`;
      return `${fault.burst?.tenant ?? fault.target}: ${load}, ${when}`;
    }
    case 'worker-pause': {
      const slots = fault.workerPause?.slots;
      const paused =
        slots === undefined
          ? 'every async worker paused'
          : `every async worker paused (${amount(slots)} slots)`;
      return `${fault.target}: ${paused}, ${when}`;
    }
  }
}
