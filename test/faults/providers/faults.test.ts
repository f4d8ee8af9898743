import assert from 'node:assert/strict';

import type { FaultConfig, MockProvider } from '../../../src/faults/providers/index.js';
import { createPrng, deriveSeed, mixSeed } from '../../../src/faults/providers/prng.js';
import {
  ANTHROPIC_AUTH,
  chatBody,
  jsonData,
  messagesBody,
  OPENAI_AUTH,
  openAiContent,
  openAiFinishReasons,
  postJson,
  postStream,
  rawBytesWithin,
  startInstant,
} from './support.js';

describe('MockProvider faults', () => {
  let provider: MockProvider | undefined;

  afterEach(async () => {
    await provider?.close();
    provider = undefined;
  });

  async function openAi(faults: FaultConfig): Promise<string> {
    provider = await startInstant(faults);
    return `${provider.url}/v1/chat/completions`;
  }

  async function anthropic(faults: FaultConfig): Promise<string> {
    provider = await startInstant(faults, { format: 'anthropic' });
    return `${provider.url}/v1/messages`;
  }

  const forced = (tokens: number) => ({ ...OPENAI_AUTH, 'x-scalegate-output-tokens': `${tokens}` });

  it('injects 503 with Retry-After in OpenAI shape', async () => {
    const url = await openAi({ errorRate: 1, errorStatus: 503, retryAfterSeconds: 7 });
    const response = await postJson(url, chatBody(), OPENAI_AUTH);
    assert.equal(response.status, 503);
    assert.equal(response.headers['retry-after'], '7');
    assert.match(String(response.headers['x-request-id']), /^req_[a-z0-9]{24}$/);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.type, 'server_error');
    assert.ok('code' in error);
  });

  it('injects 529 overloaded_error in Anthropic shape', async () => {
    const url = await anthropic({ errorRate: 1, errorStatus: 529 });
    const response = await postJson(url, messagesBody(), ANTHROPIC_AUTH);
    assert.equal(response.status, 529);
    assert.match(String(response.headers['request-id']), /^req_[a-z0-9]{24}$/);
    assert.deepEqual(response.body, {
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
      request_id: response.headers['request-id'],
    });
  });

  it('names injected statuses in the status line', async () => {
    const cases: [number, string][] = [
      [529, 'Overloaded'],
      [499, 'Client Closed Request'],
      [460, 'Client Error'],
      [503, 'Service Unavailable'],
    ];
    for (const [status, reason] of cases) {
      const url = await anthropic({ errorRate: 1, errorStatus: status });
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...ANTHROPIC_AUTH },
        body: JSON.stringify(messagesBody()),
      });
      await response.arrayBuffer();
      await provider?.close();
      provider = undefined;
      assert.equal(response.status, status);
      assert.equal(response.statusText, reason, `reason phrase of ${status}`);
    }
  });

  it('injects 401 as authentication_error', async () => {
    const url = await anthropic({ errorRate: 1, errorStatus: 401 });
    const response = await postJson(url, messagesBody(), ANTHROPIC_AUTH);
    assert.equal(response.status, 401);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.type, 'authentication_error');
  });

  it('picks errored requests from the seeded PRNG', async () => {
    const url = await openAi({ errorRate: 0.5, errorStatus: 502 });
    const statuses: number[] = [];
    for (let index = 0; index < 20; index += 1) {
      statuses.push((await postJson(url, chatBody(), OPENAI_AUTH)).status);
    }
    const seed = deriveSeed(7, 'test-provider');
    const expected = statuses.map((_, index) =>
      createPrng(mixSeed(seed, index))() < 0.5 ? 502 : 200,
    );
    assert.deepEqual(statuses, expected);
    assert.ok(statuses.includes(502));
    assert.ok(statuses.includes(200));
  });

  it('answers a 429 storm with Retry-After and no remaining requests', async () => {
    const url = await openAi({ rateLimitStorm: true, retryAfterSeconds: 3 });
    const response = await postJson(url, chatBody(), OPENAI_AUTH);
    assert.equal(response.status, 429);
    assert.equal(response.headers['retry-after'], '3');
    assert.equal(response.headers['x-ratelimit-remaining-requests'], '0');
    assert.match(String(response.headers['x-request-id']), /^req_[a-z0-9]{24}$/);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.code, 'rate_limit_exceeded');
  });

  it('reports the profile limits with none remaining in a 429 storm', async () => {
    const url = await anthropic({ rateLimitStorm: true });
    const response = await postJson(url, messagesBody(), ANTHROPIC_AUTH);
    assert.equal(response.status, 429);
    assert.equal(response.headers['anthropic-ratelimit-requests-limit'], '1000000');
    assert.equal(response.headers['anthropic-ratelimit-requests-remaining'], '0');
    assert.equal(response.headers['anthropic-ratelimit-tokens-limit'], '1000000000');
    assert.equal(response.headers['anthropic-ratelimit-tokens-remaining'], '0');
    assert.equal(response.headers['retry-after'], '1');
  });

  it('sends rate-limit headers with an injected 429', async () => {
    const url = await openAi({ errorRate: 1, errorStatus: 429, retryAfterSeconds: 5 });
    const response = await postJson(url, chatBody(), OPENAI_AUTH);
    assert.equal(response.status, 429);
    assert.equal(response.headers['x-ratelimit-limit-requests'], '1000000');
    assert.equal(response.headers['x-ratelimit-remaining-requests'], '0');
    assert.equal(response.headers['x-ratelimit-remaining-tokens'], '0');
    assert.equal(response.headers['x-ratelimit-reset-requests'], '5s');
    assert.equal(response.headers['retry-after'], '5');
  });

  it('sends an OpenAI error chunk after N tokens', async () => {
    const url = await openAi({ streamErrorAfterTokens: 5 });
    const result = await postStream(url, chatBody(), forced(20));
    assert.equal(result.error, undefined);
    assert.equal(openAiContent(result.events).length, 5);
    const last = jsonData(result.events).at(-1);
    const error = last?.error as Record<string, unknown> | undefined;
    assert.equal(error?.type, 'server_error');
    assert.equal(result.events.filter((event) => event.data === '[DONE]').length, 0);
    assert.deepEqual(openAiFinishReasons(result.events), []);
  });

  it('sends an Anthropic overloaded error event after N tokens', async () => {
    const url = await anthropic({ streamErrorAfterTokens: 2 });
    const headers = { ...ANTHROPIC_AUTH, 'x-scalegate-output-tokens': '10' };
    const result = await postStream(url, messagesBody(), headers);
    const names = result.events.map((event) => event.event);
    assert.equal(names.filter((name) => name === 'content_block_delta').length, 2);
    assert.equal(names.at(-1), 'error');
    assert.deepEqual(JSON.parse(result.events.at(-1)?.data ?? '{}'), {
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    assert.equal(names.includes('message_stop'), false);
  });

  it('cuts the stream after exactly 40 tokens', async () => {
    const url = await openAi({ streamCutAfterTokens: 40 });
    const result = await postStream(url, chatBody(), forced(100));
    assert.equal(result.status, 200);
    assert.ok(result.error instanceof Error);
    assert.equal(openAiContent(result.events).length, 40);
    assert.deepEqual(openAiFinishReasons(result.events), []);
    assert.equal(result.events.filter((event) => event.data === '[DONE]').length, 0);
  });

  it('closes a non-streaming request at the cut with no response', async () => {
    const url = await openAi({ streamCutAfterTokens: 3 });
    await assert.rejects(postJson(url, chatBody(), forced(10)), (error: Error) => {
      return /other side closed|socket/i.test(`${error.message} ${String(error.cause)}`);
    });
  });

  it('stalls after the first token with the stream open', async () => {
    const url = await openAi({ stallAfterFirstToken: true });
    const result = await postStream(url, chatBody(), forced(10), 300);
    assert.equal(result.idle, true);
    assert.equal(result.error, undefined);
    assert.deepEqual(openAiContent(result.events), ['The']);
    assert.deepEqual(openAiFinishReasons(result.events), []);
  });

  it('sends one malformed SSE line after N tokens', async () => {
    const url = await openAi({ malformedSseAfterTokens: 3 });
    const result = await postStream(url, chatBody(), forced(6));
    const invalid = result.events.flatMap((event, index) => {
      try {
        if (event.data !== '[DONE]') JSON.parse(event.data);
        return [];
      } catch {
        return [index];
      }
    });
    // Events: the role chunk, three tokens, then the malformed line at index 4.
    assert.deepEqual(invalid, [4]);
    assert.equal(openAiContent(result.events).length, 6);
    assert.equal(result.events.at(-1)?.data, '[DONE]');
  });

  it('never sends a byte when hanging before headers', async () => {
    const url = await openAi({ hangBeforeHeaders: true });
    const body = JSON.stringify(chatBody());
    const received = await rawBytesWithin(url, body, 300);
    assert.equal(received, 0);
  });

  it('applies per-model overrides only to that model', async () => {
    const url = await openAi({ models: { 'instant-b': { errorRate: 1, errorStatus: 500 } } });
    const healthy = await postJson(url, chatBody(), OPENAI_AUTH);
    const faulty = await postJson(url, chatBody({ model: 'instant-b' }), OPENAI_AUTH);
    assert.equal(healthy.status, 200);
    assert.equal(faulty.status, 500);
  });

  it('takes faults from the profile at start', async () => {
    provider = await startInstant({ errorRate: 1, errorStatus: 502 });
    assert.deepEqual(provider.faults(), { errorRate: 1, errorStatus: 502 });
    const response = await postJson(`${provider.url}/v1/chat/completions`, chatBody(), OPENAI_AUTH);
    assert.equal(response.status, 502);
  });
});
