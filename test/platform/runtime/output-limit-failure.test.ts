import assert from 'node:assert/strict';

import { MemoryAdmissionBackend } from '../../../src/platform/admission/memory-backend.js';
import { systemClock } from '../../../src/platform/clock.js';
import { RouterError } from '../../../src/platform/router/router-errors.js';
import { createTaskHandler } from '../../../src/platform/runtime/task-consumer.js';
import { TaskFinisher } from '../../../src/platform/runtime/task-finisher.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';
import type { TaskRecord } from '../../../src/platform/task.js';

/**
 * Runs one delivery of a queued task whose router call fails with `error`, and returns
 * the stored task and the number of router calls.
 */
async function runFailingTask(
  error: RouterError,
  request: TaskRecord['request'],
): Promise<{ record: TaskRecord | undefined; calls: number }> {
  const store = new MemoryTaskStore();
  const admission = new MemoryAdmissionBackend();
  const finisher = new TaskFinisher({ store, admission, clock: systemClock });
  let calls = 0;
  const handler = createTaskHandler({
    store,
    router: {
      call: () => {
        calls += 1;
        return Promise.reject(error);
      },
    },
    finisher,
    clock: systemClock,
    maxAttempts: 3,
  });

  await store.create({
    id: 't1',
    tenantId: 'a',
    request,
    state: 'queued',
    createdAt: Date.now(),
    deliveries: 0,
  });
  const ticket = { id: 'k', tenantId: 'a', reservedUsd: 0, tokens: 0 };
  const job = { id: 't1', data: { ticket }, attempt: 1, deliveries: 1, enqueuedAt: Date.now() };

  await assert.rejects(handler(job), { name: 'NonRetryableError' });
  return { record: await store.getById('t1'), calls };
}

describe('queued task above every output limit', () => {
  it('fails at once without a retry', async () => {
    const message =
      'maxOutputTokens 20000 is above the output limit of every candidate of route "chat", ' +
      'the largest being 16384; send at most 16384';
    const request = {
      route: 'chat',
      maxOutputTokens: 20_000,
      mode: 'async',
      priority: 'standard',
    } as const;
    const { record, calls } = await runFailingTask(
      new RouterError('output_limit_exceeded', message),
      request,
    );
    assert.equal(record?.state, 'failed');
    assert.equal(record?.error?.code, 'output_limit_exceeded');
    assert.equal(record?.error?.message, message);
    assert.equal(calls, 1);
  });
});

describe('queued task above every context window', () => {
  it('fails at once without a retry', async () => {
    const message =
      'input of 300000 tokens plus maxOutputTokens 64 is above the context window of every ' +
      'candidate of route "chat" that accepts that maxOutputTokens, the largest being 200000; ' +
      'send at most 199936 input tokens, or lower maxOutputTokens';
    const request = {
      route: 'chat',
      inputTokens: 300_000,
      maxOutputTokens: 64,
      mode: 'async',
      priority: 'standard',
    } as const;
    const { record, calls } = await runFailingTask(
      new RouterError('context_length_exceeded', message),
      request,
    );
    assert.equal(record?.state, 'failed');
    assert.equal(record?.error?.code, 'context_length_exceeded');
    assert.equal(record?.error?.message, message);
    assert.equal(calls, 1);
  });
});
