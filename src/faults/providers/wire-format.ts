import type { IncomingHttpHeaders } from 'node:http';

import type { LimitState } from './rate-limiter.js';

/** Provider-neutral error classes; each wire format maps them to its own `type` strings. */
export type ErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'request_too_large'
  | 'rate_limit'
  | 'overloaded'
  | 'server';

/** An error response before it is rendered in a provider's shape. */
export interface ProviderError {
  status: number;
  kind: ErrorKind;
  message: string;
  /** Request field at fault (OpenAI `param`). */
  param?: string;
  /** OpenAI `code`, such as `rate_limit_exceeded`. */
  code?: string;
  /** Per-minute limit that a 429 hit. OpenAI reports it as the error `type`. */
  limitedBy?: 'requests' | 'tokens';
}

/** The fields of a completion request that the mock acts on. */
export interface CompletionRequest {
  model: string;
  stream: boolean;
  /** OpenAI `stream_options.include_usage`. */
  includeUsage: boolean;
  maxTokens: number | undefined;
  /** Request field that carried `maxTokens`: OpenAI takes `max_completion_tokens` too. */
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
  /** Characters of prompt text, for the input-token estimate. */
  promptChars: number;
}

/** Identity and token counts of one response, shared by its JSON body or its SSE events. */
export interface ResponseMeta {
  id: string;
  model: string;
  /** Unix time in seconds. */
  created: number;
  inputTokens: number;
  outputTokens: number;
  finishReason: 'stop' | 'length';
  /** OpenAI `stream_options.include_usage`: chunks carry `usage`, null until the last one. */
  includeUsage: boolean;
}

/** Request and token limits reported in rate-limit headers. */
export interface RateLimitHeaderState {
  requests: LimitState;
  tokens: LimitState;
}

/** One provider API's request parsing and response rendering. */
export interface WireFormat {
  readonly name: 'openai' | 'anthropic';
  /** Header that carries the request id. */
  readonly requestIdHeader: string;
  readApiKey(headers: IncomingHttpHeaders): string | undefined;
  /** Returns the 400 sent for a missing required header; runs after the API key check. */
  checkHeaders(headers: IncomingHttpHeaders): ProviderError | undefined;
  /** Parses a decoded JSON body, or returns the 400 the provider would send. */
  parseRequest(body: unknown): CompletionRequest | ProviderError;
  missingApiKey(): ProviderError;
  unknownModel(model: string): ProviderError;
  /** Returns the 400 sent for a `max_tokens` above the model's `limit`. */
  maxTokensAboveLimit(request: CompletionRequest, limit: number): ProviderError;
  /**
   * Returns the 400 sent when `inputTokens` plus the request's `max_tokens` exceed the
   * model's context window of `window` tokens.
   */
  contextWindowExceeded(
    request: CompletionRequest,
    inputTokens: number,
    window: number,
  ): ProviderError;
  invalidJson(): ProviderError;
  newId(random: () => number): string;
  /** Renders an error body. `requestId` is the value sent in {@link requestIdHeader}. */
  errorBody(error: ProviderError, requestId: string): string;
  rateLimitHeaders(state: RateLimitHeaderState, nowMs: number): Record<string, string>;
  completionBody(meta: ResponseMeta, text: string): string;
  /** Events sent with the headers, before the first content token. */
  streamHead(meta: ResponseMeta): string;
  streamToken(meta: ResponseMeta, text: string): string;
  /** Events after the last content token, ending the stream. */
  streamTail(meta: ResponseMeta): string;
  streamError(): string;
  /** An SSE event whose data is not valid JSON. */
  malformedEvent(meta: ResponseMeta): string;
}

const KIND_BY_STATUS: Record<number, ErrorKind> = {
  400: 'invalid_request',
  401: 'authentication',
  403: 'permission',
  404: 'not_found',
  413: 'request_too_large',
  429: 'rate_limit',
  503: 'overloaded',
  529: 'overloaded',
};

/** Maps an HTTP status to its error class: unknown 4xx are invalid requests, unknown 5xx server errors. */
export function errorKindForStatus(status: number): ErrorKind {
  return KIND_BY_STATUS[status] ?? (status < 500 ? 'invalid_request' : 'server');
}

/** Returns a random lowercase alphanumeric id of `length` characters. */
export function randomId(random: () => number, length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  for (let index = 0; index < length; index += 1) {
    id += alphabet[Math.floor(random() * alphabet.length)] ?? 'a';
  }
  return id;
}

/** Sums the characters of every text string in a message `content` (string or content parts). */
export function contentChars(content: unknown): number {
  if (typeof content === 'string') {
    return content.length;
  }
  if (!Array.isArray(content)) {
    return 0;
  }
  let chars = 0;
  for (const part of content) {
    if (isRecord(part) && typeof part.text === 'string') {
      chars += part.text.length;
    }
  }
  return chars;
}

/** Sums {@link contentChars} over an array of `{ role, content }` messages. */
export function messagesChars(messages: unknown[]): number {
  let chars = 0;
  for (const message of messages) {
    if (isRecord(message)) {
      chars += contentChars(message.content);
    }
  }
  return chars;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns whether `value` is absent or a positive integer, as `max_tokens` must be. */
export function isOptionalPositiveInteger(value: unknown): boolean {
  return value === undefined || (Number.isInteger(value) && (value as number) >= 1);
}
