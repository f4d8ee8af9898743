import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Pool } from 'undici';
import { type Clock, systemClock } from '../clock.js';
import type { TokenUsage } from '../task.js';
import { CallWatchdog } from './call-watchdog.js';
import {
  ProviderError,
  type ProviderErrorClass,
  redactSecret,
  statusErrorClass,
  isProviderError,
} from './errors.js';
import type { RateLimitInfo } from './rate-limit-headers.js';
import type {
  CallOptions,
  ProviderCall,
  ProviderClient,
  ProviderClientOptions,
  ProviderCompletion,
  ProviderEvent,
  WireFormat,
} from './types.js';
import {
  type DecodedItem,
  isMalformedPayloadError,
  parseJsonPayload,
  sizingHeaders,
  type WireAdapter,
} from './wire-adapter.js';
import { validateClientOptions } from './validate-options.js';
import { DispatchGate, type ResponseHead, ResponseChannel } from './response-channel.js';

/**
 * Keep-alive connections per provider origin. Every streamed call keeps one connection
 * until its last token, so this caps concurrent calls per provider: at 3,000 requests/min
 * with 3 s streams about 150 are open at once, and a smaller pool queues calls behind
 * each other until their first-token timeouts fire.
 */
const DEFAULT_CONNECTIONS = 512;

interface OpenResponse {
  status: number;
  rateLimit: RateLimitInfo;
}

/** Progress of one streamed call, read when classifying its failure. */
interface StreamProgress {
  /** Whether response headers arrived, so a lost connection truncates a started stream. */
  opened: boolean;
  textDeltas: number;
  /** Whether the final event arrived, so the rest of the body can be read to its end. */
  finished: boolean;
}

const ERROR_EXCERPT_CHARS = 300;

/**
 * Time allowed to read the end of a body whose final event already arrived; a body
 * still open then is destroyed. Reading the end, not destroying the body, spares an
 * abort error per call and keeps the socket when the end is still in flight.
 */
const DRAIN_LIMIT_MS = 1000;

const STREAM_DECODE = { stream: true } as const;

/**
 * A provider client over an undici keep-alive pool. undici's own header and
 * body timeouts are off: the caller's `CallOptions` limits run on the injected
 * clock instead, so a call without limits can wait forever.
 */
export class HttpProviderClient implements ProviderClient {
  readonly provider: string;
  readonly format: WireFormat;
  readonly #wire: WireAdapter;
  readonly #pool: Pool;
  /** Keeps the requests in flight at the pool's connection count; see DispatchGate. */
  readonly #gate: DispatchGate;
  readonly #path: string;
  readonly #apiKey: string;
  readonly #clock: Clock;
  /** Request headers without the sizing ones, per `stream` flag; built once. */
  readonly #headers: { stream: Record<string, string>; json: Record<string, string> };

  constructor(wire: WireAdapter, options: ProviderClientOptions) {
    validateClientOptions(options);
    const url = new URL(options.endpoint.baseUrl);
    this.provider = options.provider;
    this.format = wire.format;
    this.#wire = wire;
    this.#apiKey = options.endpoint.apiKey;
    this.#clock = options.clock ?? systemClock;
    this.#path = `${url.pathname.replace(/\/+$/, '')}${wire.path}`;
    const auth = wire.authHeaders(this.#apiKey);
    const json = 'application/json';
    this.#headers = {
      stream: { 'content-type': json, accept: 'text/event-stream', ...auth },
      json: { 'content-type': json, accept: json, ...auth },
    };
    const connections = options.connections ?? DEFAULT_CONNECTIONS;
    this.#gate = new DispatchGate(connections);
    this.#pool = new Pool(url.origin, {
      connections,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  /**
   * Streams one call. The text deltas of one body chunk go out as one `text` event:
   * they arrived together, so splitting them would only add work per event. The
   * body is read in this generator itself, not a nested one, since every event
   * would pay for each generator level it passes.
   */
  async *stream(call: ProviderCall, options: CallOptions = {}): AsyncGenerator<ProviderEvent> {
    const watchdog = new CallWatchdog(this.#clock, options);
    const progress: StreamProgress = { opened: false, textDeltas: 0, finished: false };
    let channel: ResponseChannel | undefined;
    try {
      channel = this.#dispatch(call, true, watchdog);
      const response = await this.#open(call, channel, watchdog);
      progress.opened = true;
      yield { type: 'open', status: response.status, rateLimit: response.rateLimit };
      const decoder = this.#wire.createStreamDecoder();
      const messages: EventSourceMessage[] = [];
      const parser = createParser({ onEvent: (message) => messages.push(message) });
      const text = new TextDecoder();
      for (let chunk = await channel.next(); chunk !== undefined; chunk = await channel.next()) {
        // The consumer may take any time with the events of this chunk; the wait restarts below.
        watchdog.pauseStallTimer();
        parser.feed(text.decode(chunk, STREAM_DECODE));
        let pending = '';
        for (const message of messages) {
          const item = decoder.decode(message);
          if (item === undefined) continue;
          if (item.kind === 'text') {
            if (progress.textDeltas === 0) {
              watchdog.firstTokenArrived();
              yield { type: 'first_token', elapsedMs: watchdog.elapsedMs() };
            }
            progress.textDeltas += 1;
            pending += item.text;
            continue;
          }
          // Text that arrived before the end or the error event reaches the caller first.
          if (pending !== '') yield { type: 'text', text: pending };
          pending = '';
          if (item.kind === 'end') {
            progress.finished = true;
            yield this.#doneEvent(item, call, progress);
            return;
          }
          throw this.#streamErrorEvent(item, call, progress);
        }
        messages.length = 0;
        if (pending !== '') yield { type: 'text', text: pending };
        // Before the first text delta only the first-token limit applies,
        // so the stall wait starts after it.
        if (progress.textDeltas > 0) watchdog.bytesArrived();
      }
      throw this.#error('stream_truncated', 'stream closed before its final event', call, progress);
    } catch (error) {
      throw this.#classify(error, call, watchdog, progress);
    } finally {
      watchdog.dispose();
      channel?.release(progress.finished, this.#clock, DRAIN_LIMIT_MS);
    }
  }

  async complete(call: ProviderCall, options: CallOptions = {}): Promise<ProviderCompletion> {
    const watchdog = new CallWatchdog(this.#clock, { ...options, firstTokenTimeoutMs: undefined });
    let channel: ResponseChannel | undefined;
    let opened = false;
    try {
      channel = this.#dispatch(call, false, watchdog);
      const response = await this.#open(call, channel, watchdog);
      opened = true;
      const text = await readBody(channel, watchdog);
      const decoded = this.#wire.parseCompletion(parseJsonPayload(text, 'response body'));
      const usage = completeUsage(decoded.usage, call, 0);
      const elapsedMs = watchdog.elapsedMs();
      return { ...decoded, usage, rateLimit: response.rateLimit, elapsedMs };
    } catch (error) {
      const progress = { opened, textDeltas: 0, finished: false };
      throw this.#classify(error, call, watchdog, progress);
    } finally {
      watchdog.dispose();
      channel?.release(false, this.#clock, DRAIN_LIMIT_MS);
    }
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  #doneEvent(
    item: Extract<DecodedItem, { kind: 'end' }>,
    call: ProviderCall,
    progress: StreamProgress,
  ): ProviderEvent {
    const usage = completeUsage(item.usage, call, progress.textDeltas);
    return { type: 'done', usage, finishReason: item.finishReason };
  }

  #streamErrorEvent(
    item: Extract<DecodedItem, { kind: 'error' }>,
    call: ProviderCall,
    progress: StreamProgress,
  ): ProviderError {
    const upstreamType = this.#excerpt(item.upstreamType);
    const message = `stream error event ${upstreamType}: ${this.#excerpt(item.message)}`;
    return this.#error('stream_error_event', message, call, progress, upstreamType);
  }

  /** Sends the request, which the watchdog aborts when a limit fires. */
  #dispatch(call: ProviderCall, stream: boolean, watchdog: CallWatchdog): ResponseChannel {
    const base = stream ? this.#headers.stream : this.#headers.json;
    const sized = call.inputTokens !== undefined || call.forcedOutputTokens !== undefined;
    const request = {
      method: 'POST' as const,
      path: this.#path,
      headers: sized ? { ...base, ...sizingHeaders(call) } : base,
      body: JSON.stringify(this.#wire.requestBody(call, stream)),
    };
    const channel = ResponseChannel.open(this.#pool, request, this.#gate);
    watchdog.onFire(() => channel.abort(new Error(describeLimit(watchdog))));
    return channel;
  }

  /** Waits for the response head and turns a status of 300 or more into a `ProviderError`. */
  async #open(
    call: ProviderCall,
    channel: ResponseChannel,
    watchdog: CallWatchdog,
  ): Promise<OpenResponse> {
    const head = await channel.head();
    const rateLimit = this.#wire.parseRateLimit(head.headers, this.#clock.now());
    if (head.status >= 300) {
      throw await this.#statusError(call, head, channel, rateLimit, watchdog);
    }
    return { status: head.status, rateLimit };
  }

  async #statusError(
    call: ProviderCall,
    head: ResponseHead,
    channel: ResponseChannel,
    rateLimit: RateLimitInfo,
    watchdog: CallWatchdog,
  ): Promise<ProviderError> {
    const status = head.status;
    const text = await readBody(channel, watchdog);
    const parsed = this.#wire.parseErrorBody(safeJson(text));
    const detail = this.#excerpt(parsed.message ?? text);
    const upstreamType =
      parsed.upstreamType === undefined ? undefined : this.#excerpt(parsed.upstreamType);
    const errorClass = errorStatusClass(status, parsed.contextLengthExceeded === true);
    const message = [`HTTP ${status}`, upstreamType, detail].filter(Boolean).join(' ');
    return new ProviderError(errorClass, message, {
      provider: this.provider,
      model: call.model,
      status,
      retryAfterMs: rateLimit.retryAfterMs,
      rateLimit,
      upstreamType,
    });
  }

  #classify(
    error: unknown,
    call: ProviderCall,
    watchdog: CallWatchdog,
    progress: StreamProgress,
  ): ProviderError {
    const reason = watchdog.reason;
    if (reason !== undefined) {
      return this.#error(reason, describeLimit(watchdog), call, progress, undefined, error);
    }
    if (isProviderError(error)) {
      return error;
    }
    if (isMalformedPayloadError(error)) {
      return this.#error('malformed_response', error.message, call, progress, undefined, error);
    }
    const detail =
      error instanceof Error ? `${error.name} ${this.#excerpt(error.message)}` : 'unknown';
    if (progress.opened) {
      const message = `connection lost before the final event: ${detail}`;
      return this.#error('stream_truncated', message, call, progress, undefined, error);
    }
    return this.#error(
      'connection_error',
      `connection failed: ${detail}`,
      call,
      progress,
      undefined,
      error,
    );
  }

  #error(
    errorClass: ProviderError['errorClass'],
    message: string,
    call: ProviderCall,
    progress: StreamProgress,
    upstreamType?: string,
    cause?: unknown,
  ): ProviderError {
    return new ProviderError(errorClass, message, {
      provider: this.provider,
      model: call.model,
      upstreamType,
      afterFirstToken: progress.textDeltas > 0,
      accepted: progress.opened,
      outputTokens: progress.textDeltas,
      cause,
    });
  }

  #excerpt(text: string): string {
    return redactSecret(text, this.#apiKey).slice(0, ERROR_EXCERPT_CHARS);
  }
}

/**
 * Describes the limit that ended a call. A timeout names its value in ms and the route
 * policy field that sets it, so an operator can tell a slow provider from a tight limit. The
 * deadline has no value, because a call gets what is left of its task's deadline.
 */
function describeLimit(watchdog: CallWatchdog): string {
  const ms = watchdog.limitMs;
  switch (watchdog.reason) {
    case 'first_token_timeout':
      return `no first token within the first-token timeout of ${ms} ms (firstTokenTimeoutMs)`;
    case 'deadline_exceeded':
      return 'call exceeded its deadline';
    case 'stream_stalled':
      return `no bytes within the stall timeout of ${ms} ms (stallTimeoutMs)`;
    default:
      return 'call aborted by the caller';
  }
}

/** Fills usage a provider left out: the requested input size, or one token per text delta. */
function completeUsage(
  usage: Partial<TokenUsage>,
  call: ProviderCall,
  textDeltas: number,
): TokenUsage {
  return {
    inputTokens: usage.inputTokens ?? call.inputTokens ?? 0,
    outputTokens: usage.outputTokens ?? textDeltas,
  };
}

/** Reads the whole body. The stall limit also covers the wait for its first chunk. */
function readBody(channel: ResponseChannel, watchdog: CallWatchdog): Promise<string> {
  watchdog.bytesArrived();
  return channel.text(() => watchdog.bytesArrived());
}

/**
 * Returns the error class of an error response: `context_length_exceeded` for a 400 whose
 * body reports the context window, `malformed_response` below 400, else the status's class.
 */
function errorStatusClass(status: number, contextLengthExceeded: boolean): ProviderErrorClass {
  if (status < 400) return 'malformed_response';
  if (status === 400 && contextLengthExceeded) return 'context_length_exceeded';
  return statusErrorClass(status);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
