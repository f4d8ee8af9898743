import type { Clock } from '../clock.js';
import type { ChatMessage, TokenUsage } from '../task.js';
import type { RateLimitInfo } from './rate-limit-headers.js';

/** Wire formats the clients speak. */
export type WireFormat = 'openai' | 'anthropic';

/** Normalised reason a completion stopped. */
export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_use' | 'other';

/** Provider address and API key. The client sends the key only in auth headers. */
export interface ProviderEndpoint {
  /** Origin plus optional path prefix, such as `http://127.0.0.1:4010`. */
  baseUrl: string;
  apiKey: string;
}

/** One model call, independent of the wire format. */
export interface ProviderCall {
  model: string;
  messages: ChatMessage[];
  maxOutputTokens: number;
  /** Sent as `x-scalegate-input-tokens`; sizes the prompt on the mock provider. */
  inputTokens?: number;
  /** Sent as `x-scalegate-output-tokens`; forces the completion length on the mock provider. */
  forcedOutputTokens?: number;
}

/** Time limits and cancellation for one call; each limit is off when absent. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Maximum wait from the call's start to the first text delta. */
  firstTokenTimeoutMs?: number;
  /**
   * Maximum gap between two body chunks after the first text delta. In `complete`, which
   * has no first-token limit, it also covers the wait for the first body chunk.
   */
  stallTimeoutMs?: number;
  /** Maximum duration of the whole call. */
  deadlineMs?: number;
}

/**
 * Events of one streamed call, in order: `open`, `first_token`, `text`..., `done`.
 * A `text` event carries every delta of one received body chunk.
 */
export type ProviderEvent =
  | { type: 'open'; status: number; rateLimit: RateLimitInfo }
  | { type: 'first_token'; elapsedMs: number }
  | { type: 'text'; text: string }
  | { type: 'done'; usage: TokenUsage; finishReason: FinishReason };

/** Result of a non-streamed call. */
export interface ProviderCompletion {
  text: string;
  usage: TokenUsage;
  finishReason: FinishReason;
  rateLimit: RateLimitInfo;
  elapsedMs: number;
}

/** A client for one provider; it throws only `ProviderError`. */
export interface ProviderClient {
  readonly provider: string;
  readonly format: WireFormat;
  /** Streams a completion over SSE. */
  stream(call: ProviderCall, options?: CallOptions): AsyncGenerator<ProviderEvent, void, void>;
  /** Requests a completion as one JSON response. */
  complete(call: ProviderCall, options?: CallOptions): Promise<ProviderCompletion>;
  /** Closes the connection pool. */
  close(): Promise<void>;
}

/** Construction options shared by both clients. */
export interface ProviderClientOptions {
  provider: string;
  endpoint: ProviderEndpoint;
  /** @defaultValue systemClock */
  clock?: Clock;
  /** Keep-alive connections per origin. @defaultValue 512 */
  connections?: number;
  /** Idle keep-alive time before a pooled socket closes. @defaultValue 30000 */
  keepAliveTimeoutMs?: number;
}
