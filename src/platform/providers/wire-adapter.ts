import type { EventSourceMessage } from 'eventsource-parser';
import type { TokenUsage } from '../task.js';
import type { RateLimitInfo, ResponseHeaders } from './rate-limit-headers.js';
import type { FinishReason, ProviderCall, WireFormat } from './types.js';

/** One meaningful item decoded from an SSE message. */
export type DecodedItem =
  | { kind: 'text'; text: string }
  | { kind: 'end'; usage: Partial<TokenUsage>; finishReason: FinishReason }
  | { kind: 'error'; upstreamType: string; message: string };

/**
 * Stateful decoder of one response stream; throws `MalformedPayloadError` on bad payloads.
 * Each SSE message carries at most one item; messages with none return undefined.
 */
export interface StreamDecoder {
  decode(message: EventSourceMessage): DecodedItem | undefined;
}

/** A full non-streamed completion as decoded from JSON. */
export interface DecodedCompletion {
  text: string;
  usage: Partial<TokenUsage>;
  finishReason: FinishReason;
}

/** Everything that differs between the OpenAI and Anthropic wire formats. */
export interface WireAdapter {
  readonly format: WireFormat;
  readonly path: string;
  authHeaders(apiKey: string): Record<string, string>;
  requestBody(call: ProviderCall, stream: boolean): unknown;
  parseRateLimit(headers: ResponseHeaders, nowMs: number): RateLimitInfo;
  /**
   * Returns the provider's error type and message from an error body, when present, and
   * whether the body reports a request above the model's context window.
   */
  parseErrorBody(body: unknown): {
    upstreamType?: string;
    message?: string;
    contextLengthExceeded?: boolean;
  };
  /** Throws `MalformedPayloadError` when `body` is not a completion. */
  parseCompletion(body: unknown): DecodedCompletion;
  createStreamDecoder(): StreamDecoder;
}

/** A payload that does not match the wire format. */
export class MalformedPayloadError extends Error {
  readonly code = 'malformed_payload';

  constructor(message: string) {
    super(message);
    this.name = 'MalformedPayloadError';
  }
}

/** Type guard for {@link MalformedPayloadError}. */
export function isMalformedPayloadError(value: unknown): value is MalformedPayloadError {
  return value instanceof MalformedPayloadError;
}

/** Parses JSON or throws `MalformedPayloadError` naming `what`. */
export function parseJsonPayload(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new MalformedPayloadError(`${what} is not valid JSON`);
  }
}

/** Narrows to a plain object, or returns undefined. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Returns a non-negative integer field, or undefined. */
export function countField(
  record: Record<string, unknown> | undefined,
  key: string,
): number | undefined {
  const value = record?.[key];
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/** Returns a string field, or undefined. */
export function stringField(
  record: Record<string, unknown> | undefined,
  key: string,
): string | undefined {
  const value = record?.[key];
  return typeof value === 'string' ? value : undefined;
}

/** Builds the `x-scalegate-*` headers that size prompts and completions on the mock provider. */
export function sizingHeaders(call: ProviderCall): Record<string, string> {
  const headers: Record<string, string> = {};
  if (call.inputTokens !== undefined) {
    headers['x-scalegate-input-tokens'] = String(call.inputTokens);
  }
  if (call.forcedOutputTokens !== undefined) {
    headers['x-scalegate-output-tokens'] = String(call.forcedOutputTokens);
  }
  return headers;
}
