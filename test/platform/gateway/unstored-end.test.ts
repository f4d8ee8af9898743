/**
 * Sync tasks whose end the executor could not store because the store did not reply, as
 * during a Redis restart. The store here fails its completion writes with the error
 * ioredis raises for a command whose connection closed.
 */
import assert from 'node:assert/strict';

import { ServerlessExecutor } from '../../../src/platform/executors/serverless-executor.js';
import { systemClock } from '../../../src/platform/clock.js';
import type { MemoryTaskStore } from '../../../src/platform/store/memory.js';
import {
  ALPHA_KEY,
  bearer,
  completion,
  type FakePlatformOptions,
  fakePlatform,
  RecordingOwners,
  SYNC_TASK,
} from './fake-platform.js';

/** Builds the error ioredis 5 raises for a command whose reconnect attempts failed. */
function connectionClosedError(): Error {
  const error = new Error('Reached the max retries per request limit (which is 3).');
  error.name = 'MaxRetriesPerRequestError';
  return error;
}

/** Makes the store's next `failures` completion writes fail as on a lost connection. */
function failCompletions(store: MemoryTaskStore, failures: number): void {
  const completeAndRead = store.completeAndRead.bind(store);
  let left = failures;
  store.completeAndRead = async (id, completion) => {
    if (left > 0) {
      left -= 1;
      throw connectionClosedError();
    }
    return completeAndRead(id, completion);
  };
}

/**
 * Posts the sync task, checks that it gets 503 `store_unavailable`, and returns its id from
 * the task id header.
 */
async function postUnstoredTask(platform: ReturnType<typeof fakePlatform>): Promise<string> {
  const response = await platform.app.inject({
    method: 'POST',
    url: '/v1/tasks',
    headers: bearer(ALPHA_KEY),
    payload: SYNC_TASK,
  });
  assert.equal(response.statusCode, 503);
  assert.equal(response.json().error.code, 'store_unavailable');
  return String(response.headers['x-task-id']);
}

const EXECUTORS: [string, FakePlatformOptions['executor']][] = [
  ['direct', undefined],
  [
    'serverless',
    (router, finisher) => new ServerlessExecutor({ router, finisher, clock: systemClock }),
  ],
];

for (const [name, executor] of EXECUTORS) {
  describe(`gateway sync task whose end was not stored (${name} executor)`, () => {
    it('stores the failure with the run cost', async () => {
      const owners = new RecordingOwners();
      const platform = fakePlatform({ syncOwners: owners, executor });
      platform.router.behaviour = async () => completion('done', 0.25);
      failCompletions(platform.store, 1);
      const id = await postUnstoredTask(platform);
      const stored = await platform.store.getById(id);
      assert.equal(stored?.state, 'failed');
      assert.equal(stored?.error?.code, 'store_unavailable');
      assert.equal(stored?.costUsd, 0.25);
      assert.equal((await platform.admission.usage({ id: 'tenant-alpha' })).inFlight, 0);
      assert.deepEqual(owners.events, [`hold ${id}`, `drop ${id}`]);
    });

    it('keeps the owner record of a running task', async () => {
      const owners = new RecordingOwners();
      const platform = fakePlatform({ syncOwners: owners, executor });
      failCompletions(platform.store, Number.POSITIVE_INFINITY);
      const id = await postUnstoredTask(platform);
      assert.equal((await platform.store.getById(id))?.state, 'running');
      // The record stays in the store for the owner's next sweep, which ends the task.
      assert.deepEqual(owners.events, [`hold ${id}`, `forget ${id}`]);
    });
  });
}
