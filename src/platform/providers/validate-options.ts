import { isLoopbackUrlHost, LOOPBACK_HOSTS } from '../../faults/loopback.js';
import type { ProviderClientOptions } from './types.js';

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function requirePositiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value <= 0)) {
    throw new RangeError(`${name} must be a positive integer, got ${describe(value)}`);
  }
}

/** Throws a TypeError or RangeError naming the first invalid client option. */
export function validateClientOptions(options: ProviderClientOptions): void {
  if (typeof options.provider !== 'string' || options.provider.length === 0) {
    throw new TypeError(`provider must be a non-empty string, got ${describe(options.provider)}`);
  }
  if (typeof options.endpoint?.apiKey !== 'string') {
    throw new TypeError('endpoint.apiKey must be a string');
  }
  const baseUrl = options.endpoint.baseUrl;
  if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) {
    throw new TypeError(`endpoint.baseUrl must be an http(s) URL, got ${describe(baseUrl)}`);
  }
  // The URL parser has already turned decimal and hex IPv4 forms into dotted quads.
  if (!isLoopbackUrlHost(new URL(baseUrl))) {
    throw new RangeError(
      `endpoint.baseUrl must be on a loopback host (${LOOPBACK_HOSTS}), got ${describe(baseUrl)}; ` +
        'the platform calls only the mock providers and fault proxies it starts on this machine',
    );
  }
  requirePositiveInteger('connections', options.connections);
  requirePositiveInteger('keepAliveTimeoutMs', options.keepAliveTimeoutMs);
}
