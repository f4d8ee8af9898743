import assert from 'node:assert/strict';

import { request } from 'undici';

import type { MockProvider } from '../../../src/faults/providers/index.js';
import { ANTHROPIC_AUTH, messagesBody, postJson, postStream, startInstant } from './support.js';

describe('MockProvider Anthropic format', () => {
  let provider: MockProvider;
  let endpoint: string;

  beforeEach(async () => {
    provider = await startInstant(undefined, { format: 'anthropic' });
    endpoint = `${provider.url}/v1/messages`;
  });

  afterEach(async () => {
    await provider.close();
  });

  it('returns a message JSON body', async () => {
    const headers = { ...ANTHROPIC_AUTH, 'x-scalegate-output-tokens': '3' };
    const response = await postJson(endpoint, messagesBody(), headers);
    assert.equal(response.status, 200);
    assert.match(String(response.body.id), /^msg_/);
    assert.equal(response.body.type, 'message');
    assert.equal(response.body.role, 'assistant');
    assert.equal(response.body.model, 'instant');
    assert.deepEqual(response.body.content, [{ type: 'text', text: 'The mock model' }]);
    assert.equal(response.body.stop_reason, 'end_turn');
    assert.deepEqual(response.body.usage, { input_tokens: 3, output_tokens: 3 });
  });

  it('reports stop_reason max_tokens when max_tokens cuts the text', async () => {
    const response = await postJson(endpoint, messagesBody({ max_tokens: 4 }), ANTHROPIC_AUTH);
    assert.equal(response.body.stop_reason, 'max_tokens');
    assert.deepEqual(response.body.usage, { input_tokens: 3, output_tokens: 4 });
  });

  it('counts system text in the input estimate', async () => {
    const body = messagesBody({ system: [{ type: 'text', text: 's'.repeat(20) }] });
    const response = await postJson(endpoint, body, ANTHROPIC_AUTH);
    const usage = response.body.usage as Record<string, number>;
    assert.equal(usage.input_tokens, 8);
  });

  it('streams the Messages event sequence', async () => {
    const headers = { ...ANTHROPIC_AUTH, 'x-scalegate-output-tokens': '3' };
    const result = await postStream(endpoint, messagesBody(), headers);
    assert.equal(result.status, 200);
    assert.equal(result.error, undefined);
    assert.deepEqual(
      result.events.map((event) => event.event),
      [
        'message_start',
        'content_block_start',
        'ping',
        'content_block_delta',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ],
    );
    const data = result.events.map((event) => JSON.parse(event.data) as Record<string, unknown>);
    for (const [index, event] of result.events.entries()) {
      assert.equal(data[index]?.type, event.event);
    }
    const start = data[0]?.message as Record<string, unknown>;
    assert.equal(start.type, 'message');
    assert.deepEqual(start.content, []);
    assert.deepEqual(data[3]?.delta, { type: 'text_delta', text: 'The' });
    assert.deepEqual(data[7]?.delta, { stop_reason: 'end_turn', stop_sequence: null });
    assert.deepEqual(data[7]?.usage, { output_tokens: 3 });
  });

  it('rejects a missing API key with 401 authentication_error', async () => {
    const response = await postJson(endpoint, messagesBody());
    assert.equal(response.status, 401);
    assert.equal(response.body.type, 'error');
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.type, 'authentication_error');
  });

  it('rejects a request without max_tokens with 400', async () => {
    const body = { model: 'instant', messages: [{ role: 'user', content: 'hi' }] };
    const response = await postJson(endpoint, body, ANTHROPIC_AUTH);
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.message, 'max_tokens: Field required');
  });

  it('rejects an empty messages list with 400', async () => {
    const response = await postJson(endpoint, messagesBody({ messages: [] }), ANTHROPIC_AUTH);
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.message, 'messages: at least one message is required');
  });

  it('rejects a system role inside messages with 400', async () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ];
    const response = await postJson(endpoint, messagesBody({ messages }), ANTHROPIC_AUTH);
    assert.equal(response.status, 400);
    assert.deepEqual(response.body, {
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message:
          'messages: Unexpected role "system". The Messages API accepts a top-level `system` ' +
          'parameter, not "system" as an input message role.',
      },
      request_id: response.headers['request-id'],
    });
  });

  it('accepts a top-level system string', async () => {
    const body = messagesBody({ system: 'Be brief.' });
    const response = await postJson(endpoint, body, ANTHROPIC_AUTH);
    assert.equal(response.status, 200);
    assert.deepEqual(response.body.usage, { input_tokens: 5, output_tokens: 16 });
  });

  it('rejects a request without anthropic-version with 400', async () => {
    const response = await postJson(endpoint, messagesBody(), { 'x-api-key': 'test-key' });
    assert.equal(response.status, 400);
    assert.deepEqual(response.body, {
      type: 'error',
      error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' },
      request_id: response.headers['request-id'],
    });
  });

  for (const version of ['2023-01-01', '2023-06-01', '2026-10-21']) {
    it(`accepts anthropic-version ${version}`, async () => {
      const headers = { 'x-api-key': 'test-key', 'anthropic-version': version };
      const response = await postJson(endpoint, messagesBody(), headers);
      assert.equal(response.status, 200);
      assert.equal(response.body.type, 'message');
    });
  }

  it('rejects an unknown anthropic-version with 400', async () => {
    const headers = { 'x-api-key': 'test-key', 'anthropic-version': '2023-10-01' };
    const response = await postJson(endpoint, messagesBody(), headers);
    assert.equal(response.status, 400);
    assert.deepEqual(response.body, {
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: 'anthropic-version: "2023-10-01" is not a valid version',
      },
      request_id: response.headers['request-id'],
    });
  });

  it('rejects a repeated anthropic-version header with 400', async () => {
    const response = await request(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': 'test-key',
        'anthropic-version': ['2023-06-01', '2023-06-01'],
      },
      body: JSON.stringify(messagesBody()),
    });
    const body = (await response.body.json()) as Record<string, unknown>;
    assert.equal(response.statusCode, 400);
    assert.deepEqual(body.error, {
      type: 'invalid_request_error',
      message: 'anthropic-version: "2023-06-01, 2023-06-01" is not a valid version',
    });
  });

  it('rejects max_tokens above the model limit with 400', async () => {
    const body = messagesBody({ max_tokens: 4097 });
    const response = await postJson(endpoint, body, ANTHROPIC_AUTH);
    assert.equal(response.status, 400);
    assert.deepEqual(response.body, {
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message:
          'max_tokens: 4097 > 4096, which is the maximum allowed number of output tokens for instant',
      },
      request_id: response.headers['request-id'],
    });
    assert.match(String(response.body.request_id), /^req_/);
  });

  it('accepts max_tokens equal to the model limit', async () => {
    const body = messagesBody({ max_tokens: 4096 });
    const response = await postJson(endpoint, body, ANTHROPIC_AUTH);
    assert.equal(response.status, 200);
    assert.deepEqual(response.body.usage, { input_tokens: 3, output_tokens: 16 });
  });

  it('rejects an unknown model with 404 not_found_error', async () => {
    const response = await postJson(endpoint, messagesBody({ model: 'claude-9' }), ANTHROPIC_AUTH);
    assert.equal(response.status, 404);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.type, 'not_found_error');
  });
});
