import assert from 'node:assert/strict';

import type { MockProvider } from '../../../src/faults/providers/index.js';
import {
  chatBody,
  jsonData,
  OPENAI_AUTH,
  openAiContent,
  openAiFinishReasons,
  postJson,
  postStream,
  startInstant,
} from './support.js';

describe('MockProvider OpenAI format', () => {
  let provider: MockProvider;
  let endpoint: string;

  beforeEach(async () => {
    provider = await startInstant();
    endpoint = `${provider.url}/v1/chat/completions`;
  });

  afterEach(async () => {
    await provider.close();
  });

  it('returns a chat.completion JSON body', async () => {
    const response = await postJson(endpoint, chatBody(), OPENAI_AUTH);
    assert.equal(response.status, 200);
    assert.match(String(response.body.id), /^chatcmpl-/);
    assert.equal(response.body.object, 'chat.completion');
    assert.equal(typeof response.body.created, 'number');
    assert.equal(response.body.model, 'instant');
    const choices = response.body.choices as Array<Record<string, unknown>>;
    assert.equal(choices.length, 1);
    assert.equal(choices[0]?.index, 0);
    assert.deepEqual(choices[0]?.message, {
      role: 'assistant',
      content: 'The mock model writes one word per token. The mock model writes one word per',
      refusal: null,
    });
    assert.equal(choices[0]?.finish_reason, 'stop');
    assert.deepEqual(response.body.usage, {
      prompt_tokens: 3,
      completion_tokens: 16,
      total_tokens: 19,
    });
  });

  it('forces the completion length from the header', async () => {
    const headers = { ...OPENAI_AUTH, 'x-scalegate-output-tokens': '3' };
    const response = await postJson(endpoint, chatBody({ max_tokens: 100 }), headers);
    const usage = response.body.usage as Record<string, number>;
    assert.equal(usage.completion_tokens, 3);
    const choices = response.body.choices as Array<{ message: { content: string } }>;
    assert.equal(choices[0]?.message.content, 'The mock model');
  });

  it('stops a forced length at max_tokens', async () => {
    const headers = { ...OPENAI_AUTH, 'x-scalegate-output-tokens': '3' };
    const response = await postJson(endpoint, chatBody({ max_tokens: 1 }), headers);
    const usage = response.body.usage as Record<string, number>;
    assert.equal(usage.completion_tokens, 1);
    const choices = response.body.choices as Array<{ finish_reason: string }>;
    assert.equal(choices[0]?.finish_reason, 'length');
  });

  it('caps the drawn length at max_tokens with finish_reason length', async () => {
    const response = await postJson(endpoint, chatBody({ max_tokens: 5 }), OPENAI_AUTH);
    const usage = response.body.usage as Record<string, number>;
    assert.equal(usage.completion_tokens, 5);
    const choices = response.body.choices as Array<{ finish_reason: string }>;
    assert.equal(choices[0]?.finish_reason, 'length');
  });

  it('takes input tokens from the header', async () => {
    const headers = { ...OPENAI_AUTH, 'x-scalegate-input-tokens': '1234' };
    const response = await postJson(endpoint, chatBody(), headers);
    const usage = response.body.usage as Record<string, number>;
    assert.equal(usage.prompt_tokens, 1234);
  });

  it('estimates input tokens at four characters each', async () => {
    const body = chatBody({
      messages: [
        { role: 'system', content: 'a'.repeat(40) },
        { role: 'user', content: [{ type: 'text', text: 'b'.repeat(41) }] },
      ],
    });
    const response = await postJson(endpoint, body, OPENAI_AUTH);
    const usage = response.body.usage as Record<string, number>;
    assert.equal(usage.prompt_tokens, 21);
  });

  it('streams chunks with role, deltas, finish and usage', async () => {
    const headers = { ...OPENAI_AUTH, 'x-scalegate-output-tokens': '4' };
    const body = chatBody({ stream_options: { include_usage: true } });
    const result = await postStream(endpoint, body, headers);
    assert.equal(result.status, 200);
    assert.equal(result.headers['content-type'], 'text/event-stream; charset=utf-8');
    assert.equal(result.error, undefined);
    const chunks = jsonData(result.events);
    assert.equal(chunks.length, 7);
    for (const chunk of chunks) {
      assert.equal(chunk.object, 'chat.completion.chunk');
    }
    const first = chunks[0]?.choices as Array<{ delta: Record<string, unknown> }>;
    assert.deepEqual(first[0]?.delta, { role: 'assistant', content: '' });
    assert.deepEqual(openAiContent(result.events), ['The', ' mock', ' model', ' writes']);
    assert.deepEqual(openAiFinishReasons(result.events), ['stop']);
    assert.deepEqual(chunks[6]?.choices, []);
    assert.deepEqual(chunks[6]?.usage, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
    assert.equal(result.events.at(-1)?.data, '[DONE]');
  });

  it('sends usage null on every chunk before the usage chunk', async () => {
    const headers = { ...OPENAI_AUTH, 'x-scalegate-output-tokens': '4' };
    const body = chatBody({ stream_options: { include_usage: true } });
    const chunks = jsonData((await postStream(endpoint, body, headers)).events);
    assert.equal(chunks.length, 7);
    for (const chunk of chunks.slice(0, 6)) {
      assert.equal(chunk.usage, null);
    }
    assert.deepEqual(chunks[6]?.usage, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
  });

  it('separates repeated sentences with a space', async () => {
    const headers = { ...OPENAI_AUTH, 'x-scalegate-output-tokens': '11' };
    const response = await postJson(endpoint, chatBody(), headers);
    const choices = response.body.choices as Array<{ message: { content: string } }>;
    assert.equal(choices[0]?.message.content, 'The mock model writes one word per token. The mock');
  });

  it('omits the usage chunk unless include_usage is set', async () => {
    const headers = { ...OPENAI_AUTH, 'x-scalegate-output-tokens': '2' };
    const result = await postStream(endpoint, chatBody(), headers);
    const chunks = jsonData(result.events);
    assert.equal(chunks.length, 4);
    assert.equal(chunks.filter((chunk) => chunk.usage !== undefined).length, 0);
    assert.equal(result.events.at(-1)?.data, '[DONE]');
  });

  it('rejects a missing API key with 401', async () => {
    const response = await postJson(endpoint, chatBody());
    assert.equal(response.status, 401);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(typeof error.message, 'string');
    assert.ok('code' in error);
  });

  it('rejects an unknown model with 404 model_not_found', async () => {
    const response = await postJson(endpoint, chatBody({ model: 'gpt-9' }), OPENAI_AUTH);
    assert.equal(response.status, 404);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.code, 'model_not_found');
  });

  it('rejects missing messages with 400 naming the param', async () => {
    const response = await postJson(endpoint, { model: 'instant' }, OPENAI_AUTH);
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.param, 'messages');
  });

  it('rejects stream_options without stream', async () => {
    const body = chatBody({ stream_options: { include_usage: true } });
    const response = await postJson(endpoint, body, OPENAI_AUTH);
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.param, 'stream_options');
  });

  it('rejects an unknown message role with 400 naming it', async () => {
    const messages = [{ role: 'wizard', content: 'hi' }];
    const response = await postJson(endpoint, chatBody({ messages }), OPENAI_AUTH);
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.param, 'messages[0].role');
    assert.match(
      String(error.message),
      /^Invalid value: 'wizard'\. Supported values are: 'system'/,
    );
  });

  it('names max_completion_tokens when it is invalid', async () => {
    const body = chatBody({ max_completion_tokens: -1 });
    const response = await postJson(endpoint, body, OPENAI_AUTH);
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.param, 'max_completion_tokens');
  });

  it('rejects max_tokens above the model limit with 400', async () => {
    const response = await postJson(endpoint, chatBody({ max_tokens: 4097 }), OPENAI_AUTH);
    assert.equal(response.status, 400);
    assert.deepEqual(response.body, {
      error: {
        message:
          'max_tokens is too large: 4097. This model supports at most 4096 completion tokens, whereas you provided 4097.',
        type: 'invalid_request_error',
        param: 'max_tokens',
        code: 'invalid_value',
      },
    });
  });

  it('names max_completion_tokens above the model limit', async () => {
    const body = chatBody({ max_completion_tokens: 5000 });
    const response = await postJson(endpoint, body, OPENAI_AUTH);
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.param, 'max_completion_tokens');
    assert.equal(
      error.message,
      'max_completion_tokens is too large: 5000. This model supports at most 4096 completion tokens, whereas you provided 5000.',
    );
  });

  it('accepts max_tokens equal to the model limit', async () => {
    const response = await postJson(endpoint, chatBody({ max_tokens: 4096 }), OPENAI_AUTH);
    assert.equal(response.status, 200);
    const usage = response.body.usage as Record<string, number>;
    assert.equal(usage.completion_tokens, 16);
  });

  it('rejects max_tokens above the limit before injected faults', async () => {
    provider.setFaults({ errorRate: 1, errorStatus: 503 });
    const response = await postJson(endpoint, chatBody({ max_tokens: 4097 }), OPENAI_AUTH);
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.param, 'max_tokens');
  });

  it('rejects an invalid output-token header with 400', async () => {
    const headers = { ...OPENAI_AUTH, 'x-scalegate-output-tokens': 'many' };
    const response = await postJson(endpoint, chatBody(), headers);
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.match(String(error.message), /x-scalegate-output-tokens/);
  });
});
