/** HTTP clients for OpenAI Chat Completions and Anthropic Messages, without SDKs. */
import { anthropicWire } from './anthropic-wire.js';
import { HttpProviderClient } from './http-provider-client.js';
import { openAiWire } from './openai-wire.js';
import type { ProviderClient, ProviderClientOptions, WireFormat } from './types.js';

export * from './errors.js';
export * from './rate-limit-headers.js';
export type * from './types.js';
export { HttpProviderClient } from './http-provider-client.js';

/** Creates a client for `format` over a keep-alive pool to `options.endpoint`. */
export function createProviderClient(
  format: WireFormat,
  options: ProviderClientOptions,
): ProviderClient {
  return new HttpProviderClient(format === 'anthropic' ? anthropicWire : openAiWire, options);
}
