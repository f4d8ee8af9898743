import { connect } from 'node:net';

import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { request } from 'undici';

import type { Clock } from '../../../src/platform/clock.js';
import {
  type FaultConfig,
  type MockProvider,
  type ModelProfile,
  type ProviderProfile,
  parseProviderProfile,
  startMockProvider,
} from '../../../src/faults/providers/index.js';

/** A zero-latency model for tests that only check the wire format and faults. */
export const INSTANT_MODEL: ModelProfile = {
  name: 'instant',
  qualityTier: 1,
  maxOutputTokens: 4096,
  contextWindowTokens: 1_000_000,
  ttftMs: { median: 0, p95: 0 },
  outputTokensPerSecond: { mean: 1e9, stddev: 0 },
  outputTokens: { median: 16, p95: 16 },
};

/** Builds a validated profile with generous limits, overridden by `overrides`. */
export function testProfile(overrides: Partial<ProviderProfile> = {}): ProviderProfile {
  return parseProviderProfile(
    {
      name: 'test-provider',
      format: 'openai',
      rateLimits: { requestsPerMinute: 1e6, tokensPerMinute: 1e9 },
      models: [INSTANT_MODEL, { ...INSTANT_MODEL, name: 'instant-b' }],
      ...overrides,
    },
    'test-profile.yaml',
  );
}

/** Starts a zero-latency mock provider with optional faults. */
export function startInstant(
  faults?: FaultConfig,
  overrides: Partial<ProviderProfile> = {},
): Promise<MockProvider> {
  return startMockProvider({ profile: testProfile({ ...overrides, faults }), seed: 7 });
}

/** A clock whose sleeps resolve at once and advance its time, recording each duration. */
export class VirtualClock implements Clock {
  elapsedMs = 0;
  readonly sleeps: number[] = [];
  readonly epochMs = Date.UTC(2026, 0, 1);

  now(): number {
    return this.epochMs + this.elapsedMs;
  }

  monotonic(): number {
    return this.elapsedMs;
  }

  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.elapsedMs += ms;
    return Promise.resolve();
  }

  setTimeout(callback: () => void, ms: number): NodeJS.Timeout {
    return globalThis.setTimeout(callback, ms);
  }

  clearTimeout(handle: NodeJS.Timeout): void {
    globalThis.clearTimeout(handle);
  }
}

export interface JsonResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

const TEST_TIMEOUT_MS = 5_000;

/** POSTs a JSON body and parses the JSON response. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    headersTimeout: TEST_TIMEOUT_MS,
    bodyTimeout: TEST_TIMEOUT_MS,
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

export interface StreamResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  events: EventSourceMessage[];
  /** Set when the connection failed before the body ended. */
  error: Error | undefined;
  /** True when reading stopped because no data arrived for `idleMs`. */
  idle: boolean;
}

/**
 * POSTs a streaming request and parses the SSE body with eventsource-parser until the body
 * ends, the connection fails, or no bytes arrive for `idleMs`.
 */
export async function postStream(
  url: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
  idleMs = 1_000,
): Promise<StreamResult> {
  const controller = new AbortController();
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ ...body, stream: true }),
    signal: controller.signal,
    headersTimeout: TEST_TIMEOUT_MS,
  });
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event) });
  const result: StreamResult = {
    status: response.statusCode,
    headers: response.headers,
    events,
    error: undefined,
    idle: false,
  };
  let idleTimer = setTimeout(() => undefined, 0);
  const armIdle = (): void => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      result.idle = true;
      controller.abort();
    }, idleMs);
  };
  armIdle();
  try {
    for await (const chunk of response.body) {
      parser.feed(String(chunk));
      armIdle();
    }
  } catch (error) {
    if (!result.idle) {
      result.error = error instanceof Error ? error : new Error(String(error));
    }
  } finally {
    clearTimeout(idleTimer);
  }
  return result;
}

/** Parses the JSON data of SSE events, skipping `[DONE]` and lines that are not JSON. */
export function jsonData(events: EventSourceMessage[]): Array<Record<string, unknown>> {
  const parsed: Array<Record<string, unknown>> = [];
  for (const event of events) {
    try {
      parsed.push(JSON.parse(event.data) as Record<string, unknown>);
    } catch {
      // `[DONE]` and malformed lines are checked by the tests that expect them.
    }
  }
  return parsed;
}

/** Content deltas of OpenAI chunks, in order. */
export function openAiContent(events: EventSourceMessage[]): string[] {
  const deltas: string[] = [];
  for (const chunk of jsonData(events)) {
    const choices = chunk.choices as Array<{ delta?: { content?: string } }> | undefined;
    const content = choices?.[0]?.delta?.content;
    if (content !== undefined && content !== '') {
      deltas.push(content);
    }
  }
  return deltas;
}

/** Finish reasons of OpenAI chunks that carry one. */
export function openAiFinishReasons(events: EventSourceMessage[]): string[] {
  const reasons: string[] = [];
  for (const chunk of jsonData(events)) {
    const choices = chunk.choices as Array<{ finish_reason?: string | null }> | undefined;
    const reason = choices?.[0]?.finish_reason;
    if (typeof reason === 'string') {
      reasons.push(reason);
    }
  }
  return reasons;
}

/** Sends a raw HTTP request and returns the bytes received within `waitMs`. */
export function rawBytesWithin(url: string, body: string, waitMs: number): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let received = 0;
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
          'Authorization: Bearer test-key\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    socket.on('data', (data: Buffer) => {
      received += data.length;
    });
    socket.once('error', reject);
    setTimeout(() => {
      socket.destroy();
      resolve(received);
    }, waitMs);
  });
}

/** Headers that authenticate an OpenAI-format request. */
export const OPENAI_AUTH = { authorization: 'Bearer test-key' };
/** Headers that authenticate an Anthropic-format request. */
export const ANTHROPIC_AUTH = { 'x-api-key': 'test-key', 'anthropic-version': '2023-06-01' };

/** Builds a one-message OpenAI chat request body. */
export function chatBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'instant', messages: [{ role: 'user', content: 'Say hello.' }], ...extra };
}

/** Builds a one-message Anthropic messages request body. */
export function messagesBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: 'instant',
    max_tokens: 1024,
    messages: [{ role: 'user', content: 'Say hello.' }],
    ...extra,
  };
}
