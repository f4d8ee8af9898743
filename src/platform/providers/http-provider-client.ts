import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { type Dispatcher, Pool } from 'undici';
import { type Clock, systemClock } from '../clock.js';
import type { TokenUsage } from '../task.js';
import { CallWatchdog } from './call-watchdog.js';
import { ProviderError, redactSecret, statusErrorClass, isProviderError } from './errors.js';
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

/**
 * Keep-alive connections per provider origin. Every streamed call keeps one connection
 * until its last token, so this caps concurrent calls per provider: at 3,000 requests/min
 * with 3 s streams about 150 are open at once, and a smaller pool queues calls behind
 * each other until their first-token timeouts fire.
 */
const DEFAULT_CONNECTIONS = 512;

type ResponseBody = Dispatcher.ResponseData['body'];

interface OpenResponse {
  status: number;
  body: ResponseBody;
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
    this.#pool = new Pool(url.origin, {
      connections: options.connections ?? DEFAULT_CONNECTIONS,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  async *stream(call: ProviderCall, options: CallOptions = {}): AsyncGenerator<ProviderEvent> {
    const watchdog = new CallWatchdog(this.#clock, options);
    const progress: StreamProgress = { opened: false, textDeltas: 0, finished: false };
    let body: ResponseBody | undefined;
    try {
      const response = await this.#open(call, true, watchdog);
      body = response.body;
      progress.opened = true;
      yield { type: 'open', status: response.status, rateLimit: response.rateLimit };
      yield* this.#readStream(call, response.body, watchdog, progress);
    } catch (error) {
      throw this.#classify(error, call, watchdog, progress);
    } finally {
      watchdog.dispose();
      releaseBody(body, progress.finished, this.#clock);
    }
  }

  async complete(call: ProviderCall, options: CallOptions = {}): Promise<ProviderCompletion> {
    const watchdog = new CallWatchdog(this.#clock, { ...options, firstTokenTimeoutMs: undefined });
    let body: ResponseBody | undefined;
    try {
      const response = await this.#open(call, false, watchdog);
      body = response.body;
      const text = await readText(response.body, watchdog);
      const decoded = this.#wire.parseCompletion(parseJsonPayload(text, 'response body'));
      const usage = completeUsage(decoded.usage, call, 0);
      const elapsedMs = watchdog.elapsedMs();
      return { ...decoded, usage, rateLimit: response.rateLimit, elapsedMs };
    } catch (error) {
      const progress = { opened: body !== undefined, textDeltas: 0, finished: false };
      throw this.#classify(error, call, watchdog, progress);
    } finally {
      watchdog.dispose();
      releaseBody(body, false, this.#clock);
    }
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  async *#readStream(
    call: ProviderCall,
    body: ResponseBody,
    watchdog: CallWatchdog,
    progress: StreamProgress,
  ): AsyncGenerator<ProviderEvent> {
    const decoder = this.#wire.createStreamDecoder();
    const messages: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (message) => messages.push(message) });
    const text = new TextDecoder();
    watchdog.bytesArrived();
    // Leaving the loop early must not destroy the body: a finished stream is drained instead.
    for await (const chunk of body.iterator({ destroyOnReturn: false })) {
      // The consumer may take any time with the events of this chunk; the wait restarts below.
      watchdog.pauseStallTimer();
      parser.feed(text.decode(chunk as Uint8Array, STREAM_DECODE));
      for (const message of messages) {
        const item = decoder.decode(message);
        if (item === undefined) continue;
        if (item.kind === 'end') {
          progress.finished = true;
          yield this.#doneEvent(item, call, progress);
          return;
        }
        if (item.kind === 'error') throw this.#streamErrorEvent(item, call, progress);
        if (progress.textDeltas === 0) {
          watchdog.firstTokenArrived();
          yield { type: 'first_token', elapsedMs: watchdog.elapsedMs() };
        }
        progress.textDeltas += 1;
        yield { type: 'text', text: item.text };
      }
      messages.length = 0;
      watchdog.bytesArrived();
    }
    throw this.#error('stream_truncated', 'stream closed before its final event', call, progress);
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

  async #open(call: ProviderCall, stream: boolean, watchdog: CallWatchdog): Promise<OpenResponse> {
    const base = stream ? this.#headers.stream : this.#headers.json;
    const sized = call.inputTokens !== undefined || call.forcedOutputTokens !== undefined;
    const response = await this.#pool.request({
      method: 'POST',
      path: this.#path,
      headers: sized ? { ...base, ...sizingHeaders(call) } : base,
      body: JSON.stringify(this.#wire.requestBody(call, stream)),
      signal: watchdog.signal,
    });
    const rateLimit = this.#wire.parseRateLimit(response.headers, this.#clock.now());
    if (response.statusCode >= 300) {
      throw await this.#statusError(call, response, rateLimit, watchdog);
    }
    return { status: response.statusCode, body: response.body, rateLimit };
  }

  async #statusError(
    call: ProviderCall,
    response: Dispatcher.ResponseData,
    rateLimit: RateLimitInfo,
    watchdog: CallWatchdog,
  ): Promise<ProviderError> {
    const status = response.statusCode;
    const text = await readText(response.body, watchdog);
    const parsed = this.#wire.parseErrorBody(safeJson(text));
    const detail = this.#excerpt(parsed.message ?? text);
    const upstreamType =
      parsed.upstreamType === undefined ? undefined : this.#excerpt(parsed.upstreamType);
    const errorClass = status < 400 ? 'malformed_response' : statusErrorClass(status);
    const message = [`HTTP ${status}`, upstreamType, detail].filter(Boolean).join(' ');
    return new ProviderError(errorClass, message, {
      provider: this.provider,
      model: call.model,
      status,
      retryAfterMs: rateLimit.retryAfterMs,
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
      return this.#error(reason, describeLimit(reason), call, progress, undefined, error);
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
      cause,
    });
  }

  #excerpt(text: string): string {
    return redactSecret(text, this.#apiKey).slice(0, ERROR_EXCERPT_CHARS);
  }
}

function describeLimit(reason: NonNullable<CallWatchdog['reason']>): string {
  switch (reason) {
    case 'first_token_timeout':
      return 'no first token within the first-token timeout';
    case 'deadline_exceeded':
      return 'call exceeded its deadline';
    case 'stream_stalled':
      return 'no bytes within the stall timeout';
    case 'aborted':
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

async function readText(body: ResponseBody, watchdog: CallWatchdog): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of body) {
    watchdog.bytesArrived();
    text += decoder.decode(chunk as Uint8Array, { stream: true });
  }
  return text + decoder.decode();
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Frees a response body. An unfinished body is destroyed, so its socket is not left
 * half-read in the pool. A stream whose final event arrived is read to its end
 * instead, within DRAIN_LIMIT_MS.
 */
function releaseBody(body: ResponseBody | undefined, finished: boolean, clock: Clock): void {
  if (body === undefined || body.readableEnded || body.destroyed) {
    return;
  }
  // The body's own error (the abort below, or a reset while draining) has no reader left.
  body.on('error', ignoreError);
  if (!finished) {
    body.destroy();
    return;
  }
  const timer = clock.setTimeout(() => body.destroy(), DRAIN_LIMIT_MS);
  body.once('close', () => clock.clearTimeout(timer));
  body.resume();
}

function ignoreError(): void {}
