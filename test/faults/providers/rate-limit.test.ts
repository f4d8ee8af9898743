import assert from 'node:assert/strict';

import { type MockProvider, startMockProvider } from '../../../src/faults/providers/index.js';
import {
  ANTHROPIC_AUTH,
  chatBody,
  messagesBody,
  OPENAI_AUTH,
  postJson,
  testProfile,
  VirtualClock,
} from './support.js';

describe('MockProvider rate limits', () => {
  let provider: MockProvider | undefined;
  let clock: VirtualClock;

  afterEach(async () => {
    await provider?.close();
    provider = undefined;
  });

  async function start(requestsPerMinute: number, tokensPerMinute: number): Promise<string> {
    clock = new VirtualClock();
    const profile = testProfile({ rateLimits: { requestsPerMinute, tokensPerMinute } });
    provider = await startMockProvider({ profile, clock });
    return provider.url;
  }

  it('answers 429 with Retry-After past the request limit', async () => {
    const url = `${await start(2, 1e9)}/v1/chat/completions`;
    const first = await postJson(url, chatBody(), OPENAI_AUTH);
    assert.equal(first.status, 200);
    assert.equal(first.headers['x-ratelimit-limit-requests'], '2');
    assert.equal(first.headers['x-ratelimit-remaining-requests'], '1');
    assert.equal(first.headers['x-ratelimit-reset-requests'], '30s');
    const second = await postJson(url, chatBody(), OPENAI_AUTH);
    assert.equal(second.headers['x-ratelimit-remaining-requests'], '0');
    assert.equal(second.headers['x-ratelimit-reset-requests'], '1m0s');
    const third = await postJson(url, chatBody(), OPENAI_AUTH);
    assert.equal(third.status, 429);
    assert.equal(third.headers['retry-after'], '30');
    const error = third.body.error as Record<string, unknown>;
    assert.equal(error.type, 'requests');
    assert.equal(error.code, 'rate_limit_exceeded');
  });

  it('refills the bucket as the clock advances', async () => {
    const url = `${await start(1, 1e9)}/v1/chat/completions`;
    assert.equal((await postJson(url, chatBody(), OPENAI_AUTH)).status, 200);
    assert.equal((await postJson(url, chatBody(), OPENAI_AUTH)).status, 429);
    clock.elapsedMs += 60_000;
    assert.equal((await postJson(url, chatBody(), OPENAI_AUTH)).status, 200);
  });

  it('limits each API key separately', async () => {
    const url = `${await start(1, 1e9)}/v1/chat/completions`;
    assert.equal((await postJson(url, chatBody(), OPENAI_AUTH)).status, 200);
    const other = { authorization: 'Bearer other-key' };
    assert.equal((await postJson(url, chatBody(), other)).status, 200);
  });

  it('answers 429 of type tokens past the token limit', async () => {
    const url = `${await start(1000, 100)}/v1/chat/completions`;
    const headers = {
      ...OPENAI_AUTH,
      'x-scalegate-input-tokens': '40',
      'x-scalegate-output-tokens': '20',
    };
    const first = await postJson(url, chatBody(), headers);
    assert.equal(first.status, 200);
    assert.equal(first.headers['x-ratelimit-limit-tokens'], '100');
    assert.equal(first.headers['x-ratelimit-remaining-tokens'], '40');
    assert.equal(first.headers['x-ratelimit-reset-tokens'], '36s');
    const second = await postJson(url, chatBody(), headers);
    assert.equal(second.status, 429);
    // 20 more tokens at 100 per minute take 12 s.
    assert.equal(second.headers['retry-after'], '12');
    const error = second.body.error as Record<string, unknown>;
    assert.equal(error.type, 'tokens');
  });

  it('answers a request above the token limit without Retry-After', async () => {
    const url = `${await start(1000, 100)}/v1/chat/completions`;
    const headers = { ...OPENAI_AUTH, 'x-scalegate-input-tokens': '500' };
    const response = await postJson(url, chatBody(), headers);
    assert.equal(response.status, 429);
    assert.equal(response.headers['retry-after'], undefined);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.type, 'tokens');
    assert.match(
      String(error.message),
      /^Request too large for tokens per min: Limit 100, Requested \d+\. The input or output tokens must be reduced/,
    );
  });

  it('sends Anthropic rate-limit headers with RFC 3339 resets', async () => {
    const url = `${await start(1, 1e9)}/v1/messages`;
    const first = await postJson(url, messagesBody(), ANTHROPIC_AUTH);
    assert.equal(first.status, 200);
    assert.equal(first.headers['anthropic-ratelimit-requests-limit'], '1');
    assert.equal(first.headers['anthropic-ratelimit-requests-remaining'], '0');
    assert.equal(first.headers['anthropic-ratelimit-requests-reset'], '2026-01-01T00:01:00Z');
    assert.equal(first.headers['anthropic-ratelimit-tokens-limit'], '1000000000');
    const second = await postJson(url, messagesBody(), ANTHROPIC_AUTH);
    assert.equal(second.status, 429);
    assert.equal(second.headers['retry-after'], '60');
    const error = second.body.error as Record<string, unknown>;
    assert.equal(error.type, 'rate_limit_error');
  });
});
