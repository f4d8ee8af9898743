import assert from 'node:assert/strict';

import type { MockProvider } from '../../../src/faults/providers/index.js';
import {
  ANTHROPIC_AUTH,
  chatBody,
  INSTANT_MODEL,
  messagesBody,
  OPENAI_AUTH,
  postJson,
  startInstant,
} from './support.js';

/** The instant model with a 10,000-token window and its 4,096-token output limit. */
const SMALL_WINDOW = [{ ...INSTANT_MODEL, contextWindowTokens: 10_000 }];

/** Headers that set the request's input tokens on the mock. */
function sized(auth: Record<string, string>, inputTokens: number): Record<string, string> {
  return { ...auth, 'x-scalegate-input-tokens': String(inputTokens) };
}

describe('MockProvider context window, OpenAI format', () => {
  let provider: MockProvider;
  let endpoint: string;

  beforeEach(async () => {
    provider = await startInstant(undefined, { models: SMALL_WINDOW });
    endpoint = `${provider.url}/v1/chat/completions`;
  });

  afterEach(async () => {
    await provider.close();
  });

  it('rejects input plus max_tokens above the window', async () => {
    const body = chatBody({ max_tokens: 1000 });
    const response = await postJson(endpoint, body, sized(OPENAI_AUTH, 9001));
    assert.equal(response.status, 400);
    assert.deepEqual(response.body, {
      error: {
        message:
          "This model's maximum context length is 10000 tokens. However, you requested 10001 tokens (9001 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    });
  });

  it('rejects input above the window without max_tokens', async () => {
    const response = await postJson(endpoint, chatBody(), sized(OPENAI_AUTH, 10_001));
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.code, 'context_length_exceeded');
    assert.equal(
      error.message,
      "This model's maximum context length is 10000 tokens. However, your messages resulted in 10001 tokens. Please reduce the length of the messages.",
    );
  });

  it('accepts input plus max_tokens equal to the window', async () => {
    const body = chatBody({ max_tokens: 1000 });
    const response = await postJson(endpoint, body, sized(OPENAI_AUTH, 9000));
    assert.equal(response.status, 200);
    const usage = response.body.usage as Record<string, number>;
    assert.equal(usage.prompt_tokens, 9000);
  });

  it('counts estimated input tokens against the window', async () => {
    // 40,004 characters are 10,001 tokens at four characters each.
    const body = chatBody({ messages: [{ role: 'user', content: 'x'.repeat(40_004) }] });
    const response = await postJson(endpoint, body, OPENAI_AUTH);
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.match(String(error.message), /your messages resulted in 10001 tokens/);
  });

  it('rejects before injected faults and bills no tokens', async () => {
    provider.setFaults({ errorRate: 1, errorStatus: 503 });
    const body = chatBody({ max_tokens: 1000 });
    const response = await postJson(endpoint, body, sized(OPENAI_AUTH, 9500));
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.code, 'context_length_exceeded');
    const metrics = await provider.metricsText();
    assert.doesNotMatch(metrics, /mock_provider_tokens_total\{[^}]*direction="input"/);
  });
});

describe('MockProvider context window, Anthropic format', () => {
  let provider: MockProvider;
  let endpoint: string;

  beforeEach(async () => {
    provider = await startInstant(undefined, { format: 'anthropic', models: SMALL_WINDOW });
    endpoint = `${provider.url}/v1/messages`;
  });

  afterEach(async () => {
    await provider.close();
  });

  it('rejects input plus max_tokens above the window', async () => {
    const body = messagesBody({ max_tokens: 1000 });
    const response = await postJson(endpoint, body, sized(ANTHROPIC_AUTH, 9001));
    assert.equal(response.status, 400);
    assert.deepEqual(response.body, {
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message:
          'input length and `max_tokens` exceed context limit: 9001 + 1000 > 10000, decrease input length or `max_tokens` and try again',
      },
      request_id: response.headers['request-id'],
    });
  });

  it('rejects a prompt above the window as too long', async () => {
    const body = messagesBody({ max_tokens: 1000 });
    const response = await postJson(endpoint, body, sized(ANTHROPIC_AUTH, 10_001));
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.message, 'prompt is too long: 10001 tokens > 10000 maximum');
  });

  it('accepts input plus max_tokens equal to the window', async () => {
    const body = messagesBody({ max_tokens: 1000 });
    const response = await postJson(endpoint, body, sized(ANTHROPIC_AUTH, 9000));
    assert.equal(response.status, 200);
    assert.deepEqual(response.body.usage, { input_tokens: 9000, output_tokens: 16 });
  });
});
