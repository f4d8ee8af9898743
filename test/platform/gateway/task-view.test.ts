import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { toTaskView } from '../../../src/platform/gateway/task-view.js';
import type { TaskRecord } from '../../../src/platform/task.js';
import { ALPHA_KEY, ASYNC_TASK, bearer, completion, fakePlatform } from './fake-platform.js';

/** Builds a failed task record with every field that the task view can show. */
function finishedRecord(): TaskRecord {
  return {
    id: 'task-1',
    tenantId: 'tenant-alpha',
    request: { route: 'default', maxOutputTokens: 32, mode: 'async', priority: 'standard' },
    state: 'failed',
    createdAt: 1_000,
    startedAt: 1_100,
    finishedAt: 2_000,
    deliveries: 2,
    result: completion('partial').result,
    error: { code: 'upstream_error', message: 'provider-a failed' },
    costUsd: 0.002,
    deliveryCosts: [{ delivery: 1, costUsd: 0.001 }],
  };
}

/** Returns the text of README.md from its `## Task API` heading to the next `## ` heading. */
function taskApiSection(): string {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n## Task API\n');
  assert.ok(start >= 0, 'README.md has no "## Task API" section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('toTaskView', () => {
  it('shows the deliveries of a redelivered task', () => {
    assert.equal(toTaskView(finishedRecord()).deliveries, 2);
  });

  it('keeps internal fields out', () => {
    const view = toTaskView(finishedRecord()) as unknown as Record<string, unknown>;
    assert.equal(view.tenantId, undefined);
    assert.equal(view.request, undefined);
    assert.equal(view.deliveryCosts, undefined);
  });

  it('shows 0 deliveries for a queued task', async () => {
    const { app } = fakePlatform();
    const created = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: ASYNC_TASK,
    });
    assert.equal(created.statusCode, 202);
    const read = await app.inject({
      method: 'GET',
      url: `/v1/tasks/${created.json().id}`,
      headers: bearer(ALPHA_KEY),
    });
    assert.equal(read.json().state, 'queued');
    assert.equal(read.json().deliveries, 0);
  });
});

describe('README task fields', () => {
  it('documents every field of GET /v1/tasks/:id', () => {
    const section = taskApiSection();
    const fields = Object.keys(toTaskView(finishedRecord()));
    const missing = fields.filter((field) => !section.includes(`\`${field}\``));
    assert.deepEqual(missing, [], "fields missing from README.md's Task API section");
  });
});
