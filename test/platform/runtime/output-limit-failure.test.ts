import assert from 'node:assert/strict';

import { MemoryAdmissionBackend } from '../../../src/platform/admission/memory-backend.js';
import { systemClock } from '../../../src/platform/clock.js';
import { RouterError } from '../../../src/platform/router/router-errors.js';
import { createTaskHandler } from '../../../src/platform/runtime/task-consumer.js';
import { TaskFinisher } from '../../../src/platform/runtime/task-finisher.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';

describe('queued task above every output limit', () => {
  it('fails at once without a retry', async () => {
    const store = new MemoryTaskStore();
    const admission = new MemoryAdmissionBackend();
    const finisher = new TaskFinisher({ store, admission, clock: systemClock });
    let calls = 0;
    const message =
      'maxOutputTokens 20000 is above the output limit of every candidate of route "chat", ' +
      'the largest being 16384; send at most 16384';
    const handler = createTaskHandler({
      store,
      router: {
        call: () => {
          calls += 1;
          return Promise.reject(new RouterError('output_limit_exceeded', message));
        },
      },
      finisher,
      clock: systemClock,
      maxAttempts: 3,
    });

    const request = {
      route: 'chat',
      maxOutputTokens: 20_000,
      mode: 'async',
      priority: 'standard',
    } as const;
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
    const record = await store.getById('t1');
    assert.equal(record?.state, 'failed');
    assert.equal(record?.error?.code, 'output_limit_exceeded');
    assert.equal(record?.error?.message, message);
    assert.equal(calls, 1);
  });
});
