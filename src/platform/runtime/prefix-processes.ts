import { Redis } from 'ioredis';

import type { ConfigFingerprint } from './config-fingerprint.js';

// KEYS: the hash of running processes. ARGV: this process's id, its entry JSON, the
// entry's lifetime in ms. Each field is a process id, and its value is the entry's expiry
// in ms on the Redis server's clock, a space, then the entry JSON. The script deletes
// expired entries, writes this process's entry and returns the others as a flat
// id/value list. The server's clock times every expiry, so the hosts' clocks may differ.
const REGISTER_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local others = {}
local entries = redis.call('HGETALL', KEYS[1])
for index = 1, #entries, 2 do
  local id, value = entries[index], entries[index + 1]
  local expires = tonumber(string.match(value, '^(%d+) '))
  if expires == nil or expires <= now then
    redis.call('HDEL', KEYS[1], id)
  elseif id ~= ARGV[1] then
    others[#others + 1] = id
    others[#others + 1] = value
  end
end
local lifetime = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], string.format('%d', now + lifetime) .. ' ' .. ARGV[2])
if redis.call('PTTL', KEYS[1]) < lifetime then redis.call('PEXPIRE', KEYS[1], lifetime) end
return others`;

interface RegisterCommand {
  scalegateRegisterProcess(
    key: string,
    processId: string,
    entry: string,
    lifetimeMs: string,
  ): Promise<unknown>;
}

export interface PrefixProcessesOptions {
  redisUrl: string;
  keyPrefix: string;
  /** Id of this process, such as its sync task owner id. */
  processId: string;
  fingerprint: ConfigFingerprint;
  /** Lifetime of this process's entry, renewed every third of it, in ms (at least 3). */
  leaseMs: number;
  /** Receives the other running processes after each renewal after the first. */
  onRenewed: (others: ReadonlyMap<string, ConfigFingerprint>) => void;
  /** Receives a failed renewal after the first. @defaultValue none */
  onError?: (error: unknown) => void;
}

/**
 * Records each running platform process on a key prefix in Redis, with the fingerprint of
 * its config, in the hash `<keyPrefix>:processes`. A process counts as running while its
 * entry, renewed every third of `leaseMs`, has not expired. A clean stop deletes the entry,
 * and a killed process still counts for up to `leaseMs`.
 */
export class PrefixProcesses {
  readonly #options: PrefixProcessesOptions;
  readonly #redis: Redis & RegisterCommand;
  readonly #key: string;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: PrefixProcessesOptions) {
    if (!Number.isInteger(options.leaseMs) || options.leaseMs < 3) {
      throw new RangeError(`leaseMs must be an integer >= 3, got ${String(options.leaseMs)}`);
    }
    this.#options = options;
    this.#key = `${options.keyPrefix}:processes`;
    const redis = new Redis(options.redisUrl, {
      maxRetriesPerRequest: 1,
      commandTimeout: Math.max(1000, Math.floor(options.leaseMs / 3)),
    });
    // Connection errors surface as failed commands, which onError receives.
    redis.on('error', () => undefined);
    redis.defineCommand('scalegateRegisterProcess', { numberOfKeys: 1, lua: REGISTER_SCRIPT });
    this.#redis = redis as Redis & RegisterCommand;
  }

  /**
   * Writes this process's entry, starts renewing it, and returns the other running
   * processes. Renewals go on when the first write fails, which the caller receives.
   */
  async start(): Promise<Map<string, ConfigFingerprint>> {
    const period = Math.floor(this.#options.leaseMs / 3);
    this.#timer = setInterval(() => void this.#renew(), period);
    this.#timer.unref();
    return this.#register();
  }

  /** Stops the renewals and deletes this process's entry. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      await this.#redis.hdel(this.#key, this.#options.processId);
    } catch (error) {
      // The entry then expires after its lease.
      this.#options.onError?.(error);
    }
    this.#redis.disconnect();
  }

  async #renew(): Promise<void> {
    try {
      this.#options.onRenewed(await this.#register());
    } catch (error) {
      this.#options.onError?.(error);
    }
  }

  async #register(): Promise<Map<string, ConfigFingerprint>> {
    const reply = await this.#redis.scalegateRegisterProcess(
      this.#key,
      this.#options.processId,
      JSON.stringify(this.#options.fingerprint),
      String(this.#options.leaseMs),
    );
    return othersOf(reply);
  }
}

/**
 * Reads the script's flat id/value reply. An entry that is no fingerprint, as one written
 * by another version, is left out.
 */
function othersOf(reply: unknown): Map<string, ConfigFingerprint> {
  if (!Array.isArray(reply)) {
    throw new TypeError(`unexpected reply from the process registration script: ${String(reply)}`);
  }
  const others = new Map<string, ConfigFingerprint>();
  for (let index = 0; index + 1 < reply.length; index += 2) {
    const value = String(reply[index + 1]);
    const fingerprint = parseFingerprint(value.slice(value.indexOf(' ') + 1));
    if (fingerprint !== undefined) others.set(String(reply[index]), fingerprint);
  }
  return others;
}

function parseFingerprint(text: string): ConfigFingerprint | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const fields = parsed as Record<string, unknown>;
  const { tenantsFile, tenantsSha256, policyFile, policySha256 } = fields;
  if (
    typeof tenantsFile !== 'string' ||
    typeof tenantsSha256 !== 'string' ||
    typeof policyFile !== 'string' ||
    typeof policySha256 !== 'string'
  ) {
    return undefined;
  }
  const fingerprint: ConfigFingerprint = { tenantsFile, tenantsSha256, policyFile, policySha256 };
  // Entries of earlier versions have no price table, settings or slots; they are compared without.
  const { pricesFile, pricesSha256, settings } = fields;
  if (typeof pricesFile === 'string' && typeof pricesSha256 === 'string') {
    fingerprint.pricesFile = pricesFile;
    fingerprint.pricesSha256 = pricesSha256;
  }
  const values = settingsOf(settings);
  if (values !== undefined) fingerprint.settings = values;
  const { workerSlots } = fields;
  if (typeof workerSlots === 'number' && Number.isSafeInteger(workerSlots) && workerSlots >= 0) {
    fingerprint.workerSlots = workerSlots;
  }
  return fingerprint;
}

/** Reads an entry's settings: an object of string values, or undefined. */
function settingsOf(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value);
  if (!entries.every(([, setting]) => typeof setting === 'string')) return undefined;
  return Object.fromEntries(entries) as Record<string, string>;
}
