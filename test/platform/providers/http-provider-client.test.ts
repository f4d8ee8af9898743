import assert from 'node:assert/strict';
import {
  createProviderClient,
  isProviderError,
  type ProviderClient,
  type ProviderEvent,
} from '../../../src/platform/providers/index.js';
import { createTestClock } from './test-clock.js';
import { type FakeProvider, type FakeReply, startFakeProvider } from './fake-provider.js';

const API_KEY = 'sk-test-secret-0123456789';
const CALL = {
  model: 'gpt-4o',
  messages: [{ role: 'user' as const, content: 'hi' }],
  maxOutputTokens: 64,
};

async function collect(events: AsyncIterable<ProviderEvent>): Promise<ProviderEvent[]> {
  const result: ProviderEvent[] = [];
  for await (const event of events) {
    result.push(event);
  }
  return result;
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('HttpProviderClient', () => {
  let server: FakeProvider | undefined;
  let client: ProviderClient | undefined;

  async function setup(
    format: 'openai' | 'anthropic',
    reply: FakeReply,
    clock = createTestClock(),
  ): Promise<ProviderClient> {
    server = await startFakeProvider(format, () => reply, clock);
    client = createProviderClient(format, {
      provider: 'p',
      endpoint: { baseUrl: server.url, apiKey: API_KEY },
      clock,
    });
    return client;
  }

  afterEach(async () => {
    await client?.close();
    await server?.close();
    client = undefined;
    server = undefined;
  });

  for (const format of ['openai', 'anthropic'] as const) {
    it(`streams ${format} deltas with usage`, async () => {
      const provider = await setup(format, { kind: 'stream', tokens: 5 });
      const events = await collect(provider.stream(CALL));
      const text = events.flatMap((event) => (event.type === 'text' ? [event.text] : [])).join('');
      assert.equal(text, 't0 t1 t2 t3 t4 ');
      assert.deepEqual(events.at(-1), {
        type: 'done',
        usage: { inputTokens: 12, outputTokens: 5 },
        finishReason: 'stop',
      });
      assert.equal(events.filter((event) => event.type === 'first_token').length, 1);
    });

    it(`parses ${format} JSON completions`, async () => {
      const provider = await setup(format, { kind: 'json', text: 'hello' });
      const completion = await provider.complete(CALL);
      assert.equal(completion.text, 'hello');
      assert.deepEqual(completion.usage, { inputTokens: 7, outputTokens: 3 });
    });

    it(`reports truncated ${format} streams`, async () => {
      const provider = await setup(format, { kind: 'stream', tokens: 60, cutAfter: 40 });
      const error = await failureOf(collect(provider.stream(CALL)));
      assert.ok(isProviderError(error));
      assert.equal(error.errorClass, 'stream_truncated');
      assert.equal(error.afterFirstToken, true);
      assert.equal(error.outputTokens, 40);
    });

    it(`reports ${format} error events`, async () => {
      const provider = await setup(format, { kind: 'stream', tokens: 5, errorAfter: 0 });
      const error = await failureOf(collect(provider.stream(CALL)));
      assert.ok(isProviderError(error));
      assert.equal(error.errorClass, 'stream_error_event');
      assert.equal(error.upstreamType, 'overloaded_error');
      assert.equal(error.afterFirstToken, false);
      assert.equal(error.outputTokens, 0);
    });
  }

  it('sends auth, sizing headers and the model', async () => {
    const provider = await setup('anthropic', { kind: 'stream', tokens: 1 });
    await collect(
      provider.stream({
        ...CALL,
        model: 'claude-sonnet',
        inputTokens: 900,
        forcedOutputTokens: 42,
      }),
    );
    const request = server?.requests[0];
    assert.equal(request?.path, '/v1/messages');
    assert.equal(request?.headers['x-api-key'], API_KEY);
    assert.equal(request?.headers['x-scalegate-input-tokens'], '900');
    assert.equal(request?.headers['x-scalegate-output-tokens'], '42');
    assert.equal(request?.body.model, 'claude-sonnet');
    assert.equal(request?.body.max_tokens, 64);
  });

  it('classifies 429 with Retry-After and quota headers', async () => {
    const headers = { 'retry-after': '47', 'x-ratelimit-remaining-requests': '0' };
    const provider = await setup('openai', { kind: 'status', status: 429, headers });
    const error = await failureOf(collect(provider.stream(CALL)));
    assert.ok(isProviderError(error));
    assert.equal(error.errorClass, 'status_429');
    assert.equal(error.retryAfterMs, 47_000);
    assert.equal(error.rateLimit?.remainingRequests, 0);
  });

  it('keeps the API key out of error messages', async () => {
    const body = {
      error: { type: 'invalid_request_error', message: `Incorrect API key provided: ${API_KEY}` },
    };
    const provider = await setup('openai', { kind: 'status', status: 401, body });
    const error = await failureOf(collect(provider.stream(CALL)));
    assert.ok(isProviderError(error));
    assert.equal(error.errorClass, 'status_401');
    assert.ok(!error.message.includes(API_KEY));
    assert.ok(error.message.includes('[redacted]'));
  });

  it('maps 529 to status_529', async () => {
    const provider = await setup('anthropic', { kind: 'status', status: 529 });
    const error = await failureOf(provider.complete(CALL));
    assert.ok(isProviderError(error));
    assert.equal(error.errorClass, 'status_529');
  });

  it('reports malformed stream chunks', async () => {
    const provider = await setup('openai', { kind: 'stream', tokens: 2, rawAfter: '{not json' });
    const error = await failureOf(collect(provider.stream(CALL)));
    assert.ok(isProviderError(error));
    assert.equal(error.errorClass, 'malformed_response');
  });

  it('times out waiting for the first token', async () => {
    const clock = createTestClock();
    const provider = await setup(
      'openai',
      { kind: 'stream', tokens: 3, firstChunkDelayMs: 10_000 },
      clock,
    );
    const started = clock.monotonic();
    const error = await clock.drive(
      failureOf(collect(provider.stream(CALL, { firstTokenTimeoutMs: 2000 }))),
    );
    assert.ok(isProviderError(error));
    assert.equal(error.errorClass, 'first_token_timeout');
    assert.ok(clock.monotonic() - started < 2500);
    assert.match(
      error.message,
      /no first token within the first-token timeout of 2000 ms \(firstTokenTimeoutMs\)$/,
    );
  });

  it('reports a stalled stream', async () => {
    const clock = createTestClock();
    const provider = await setup('anthropic', { kind: 'stream', tokens: 10, stallAfter: 3 }, clock);
    const error = await clock.drive(
      failureOf(collect(provider.stream(CALL, { stallTimeoutMs: 1000 }))),
    );
    assert.ok(isProviderError(error));
    assert.equal(error.errorClass, 'stream_stalled');
    assert.equal(error.afterFirstToken, true);
    assert.match(error.message, /no bytes within the stall timeout of 1000 ms \(stallTimeoutMs\)$/);
  });

  it('leaves a slow first token to the first-token limit', async () => {
    const clock = createTestClock();
    const reply = { kind: 'stream', tokens: 3, firstChunkDelayMs: 2000 } as const;
    const provider = await setup('anthropic', reply, clock);
    const options = { firstTokenTimeoutMs: 4000, stallTimeoutMs: 1000 };
    const events = await clock.drive(collect(provider.stream(CALL, options)));
    assert.equal(events.at(-1)?.type, 'done');
  });

  it('ignores a silent gap before the first text delta', async () => {
    const clock = createTestClock();
    const reply = { kind: 'stream', tokens: 3, stallAfter: 0 } as const;
    const provider = await setup('openai', reply, clock);
    const options = { firstTokenTimeoutMs: 4000, stallTimeoutMs: 1000 };
    const error = await clock.drive(failureOf(collect(provider.stream(CALL, options))));
    assert.ok(isProviderError(error));
    assert.equal(error.errorClass, 'first_token_timeout');
  });

  it('ignores consumer time when timing a stall', async () => {
    const clock = createTestClock();
    const reply = { kind: 'stream', tokens: 3, tokenIntervalMs: 200 } as const;
    const provider = await setup('openai', reply, clock);
    const consume = async (): Promise<string> => {
      let text = '';
      for await (const event of provider.stream(CALL, { stallTimeoutMs: 1000 })) {
        if (event.type === 'text') {
          text += event.text;
          await clock.sleep(3000);
        }
      }
      return text;
    };
    const text = await clock.drive(consume(), { stepMs: 100 });
    assert.equal(text, 't0 t1 t2 ');
  });

  it('fires a stall 1000 ms after the last chunk, across consumer pauses', async () => {
    const clock = createTestClock();
    const reply = { kind: 'stream', tokens: 10, tokenIntervalMs: 300, stallAfter: 4 } as const;
    const provider = await setup('openai', reply, clock);
    let lastTextAt = 0;
    const consume = async (): Promise<unknown> => {
      try {
        for await (const event of provider.stream(CALL, { stallTimeoutMs: 1000 })) {
          if (event.type === 'text') {
            lastTextAt = clock.monotonic();
            await clock.sleep(250);
          }
        }
      } catch (error) {
        return error;
      }
      assert.fail('expected a stall');
    };
    const error = await clock.drive(consume(), { stepMs: 10 });
    assert.ok(isProviderError(error));
    assert.equal(error.errorClass, 'stream_stalled');
    const stalledAfterMs = clock.monotonic() - (lastTextAt + 250);
    assert.ok(stalledAfterMs >= 1000, `stalled after ${stalledAfterMs}`);
    assert.ok(stalledAfterMs <= 1030, `stalled after ${stalledAfterMs}`);
  });

  it('reuses one keep-alive socket for streams read to their final event', async () => {
    const provider = await setup('openai', { kind: 'stream', tokens: 3 });
    for (let call = 0; call < 3; call += 1) {
      const events = await collect(provider.stream(CALL));
      assert.equal(events.at(-1)?.type, 'done');
      // The rest of the body is read after the final event; give that read a moment.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(server?.connections, 1);
  });

  it('keeps the API key out of error types', async () => {
    const body = { error: { type: `bad_key_${API_KEY}`, message: 'rejected' } };
    const provider = await setup('openai', { kind: 'status', status: 401, body });
    const error = await failureOf(collect(provider.stream(CALL)));
    assert.ok(isProviderError(error));
    assert.ok(!error.message.includes(API_KEY), error.message);
    assert.ok(!(error.upstreamType ?? '').includes(API_KEY));
    assert.equal(error.upstreamType, 'bad_key_[redacted]');
  });

  it('reports a refused connection', async () => {
    const provider = await setup('openai', { kind: 'hang' });
    await server?.close();
    const error = await failureOf(provider.complete(CALL, { deadlineMs: 5000 }));
    assert.ok(isProviderError(error));
    assert.equal(error.errorClass, 'connection_error');
  });

  it('rejects an invalid base URL', () => {
    assert.throws(
      () =>
        createProviderClient('openai', {
          provider: 'p',
          endpoint: { baseUrl: 'ftp://x', apiKey: 'k' },
        }),
      /endpoint.baseUrl must be an http\(s\) URL, got "ftp:\/\/x"/,
    );
  });

  it('rejects a base URL off loopback', () => {
    const offLoopback = [
      'http://0.0.0.0:8080',
      'http://[::]:8080',
      'http://10.1.2.3',
      'http://169.254.169.254',
      'http://0xa9fea9fe',
      'http://[::ffff:10.1.2.3]',
      'http://provider.example',
      'http://localhost.example',
    ];
    for (const baseUrl of offLoopback) {
      assert.throws(
        () => createProviderClient('openai', { provider: 'p', endpoint: { baseUrl, apiKey: 'k' } }),
        (error: unknown) => {
          assert.ok(error instanceof RangeError, `${baseUrl}: ${String(error)}`);
          assert.ok(
            error.message.startsWith(
              `endpoint.baseUrl must be on a loopback host (127.0.0.0/8, ::1 or localhost), got "${baseUrl}"`,
            ),
            error.message,
          );
          return true;
        },
        baseUrl,
      );
    }
  });

  it('accepts loopback base URLs', async () => {
    // Decimal and hex forms of 127.0.0.1 parse to the dotted quad.
    const loopback = [
      'http://127.0.0.1:1',
      'http://127.1.2.3',
      'http://[::1]:1',
      'http://localhost:1',
      'http://2130706433',
      'http://0x7f000001',
    ];
    for (const baseUrl of loopback) {
      const client = createProviderClient('openai', {
        provider: 'p',
        endpoint: { baseUrl, apiKey: 'k' },
      });
      assert.equal(client.provider, 'p', baseUrl);
      await client.close();
    }
  });
});
