import assert from 'node:assert/strict';

import { ProviderError } from '../../../src/platform/providers/errors.js';
import { ALPHA_KEY, bearer, completion, fakePlatform, SYNC_TASK } from './fake-platform.js';

const STREAM_TASK = { ...SYNC_TASK, stream: true };

function events(body: string): { event: string; data: Record<string, unknown> }[] {
  return body
    .split('\n\n')
    .filter((block) => block.trim().length > 0)
    .map((block) => {
      const [eventLine = '', dataLine = ''] = block.split('\n');
      return {
        event: eventLine.replace('event: ', ''),
        data: JSON.parse(dataLine.replace('data: ', '')),
      };
    });
}

describe('gateway streaming', () => {
  it('streams tokens then done', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: STREAM_TASK,
    });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/event-stream/);
    const received = events(response.body);
    assert.deepEqual(
      received.map((item) => item.event),
      ['token', 'token', 'done'],
    );
    assert.equal(received[0]?.data.text, 'hello ');
    assert.equal(received[0]?.data.step, 1);
    assert.equal(received[2]?.data.state, 'succeeded');
    assert.equal(response.headers['x-task-id'], received[2]?.data.id);
  });

  it('answers a failure before the first token as JSON', async () => {
    const { app, router } = fakePlatform();
    router.behaviour = async () => {
      throw new ProviderError('status_529', 'overloaded', {
        provider: 'provider-b',
        model: 'claude-sonnet',
      });
    };
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: STREAM_TASK,
    });
    assert.equal(response.statusCode, 502);
    assert.equal(response.json().error.code, 'provider_status_529');
    assert.equal(response.headers['x-task-id'], response.json().id);
  });

  it('sends an error event after the first token and records the failure', async () => {
    const { app, router, store } = fakePlatform();
    router.behaviour = async (input) => {
      input.onToken?.('partial ');
      throw new ProviderError('stream_truncated', 'stream cut', {
        provider: 'provider-a',
        model: 'gpt-4o',
        afterFirstToken: true,
      });
    };
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: STREAM_TASK,
    });
    const received = events(response.body);
    assert.deepEqual(
      received.map((item) => item.event),
      ['token', 'error'],
    );
    const last = received[1]?.data;
    assert.equal(last?.code, 'provider_stream_truncated');
    const record = await store.get('tenant-alpha', String(last?.id));
    assert.equal(record?.state, 'failed');
    assert.equal(record?.error?.code, 'provider_stream_truncated');
  });

  it('marks each token with its step', async () => {
    const { app, router } = fakePlatform();
    router.behaviour = async (input) => {
      const step = router.calls.length;
      input.onToken?.(`step ${step} `);
      input.onToken?.('text');
      return completion(`step ${step} text`);
    };
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...STREAM_TASK, steps: 2 },
    });
    const tokens = events(response.body).filter((item) => item.event === 'token');
    assert.deepEqual(
      tokens.map((item) => [item.data.step, item.data.text]),
      [
        [1, 'step 1 '],
        [1, 'text'],
        [2, 'step 2 '],
        [2, 'text'],
      ],
    );
    const read = await app.inject({
      method: 'GET',
      url: `/v1/tasks/${response.headers['x-task-id']}`,
      headers: bearer(ALPHA_KEY),
    });
    const lastStepText = tokens
      .filter((item) => item.data.step === 2)
      .map((item) => item.data.text)
      .join('');
    assert.equal(read.json().result.text, lastStepText);
  });
});
