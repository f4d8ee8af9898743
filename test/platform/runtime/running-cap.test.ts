import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import type { TaskRecord } from '../../../src/platform/task.js';
import { hashApiKey } from '../../../src/platform/tenants/api-key.js';
import { postTask, sample, scrape, waitFor } from './platform-support.js';

const CAPPED_KEY = `sk-test-capped-${randomUUID()}`;
const FREE_KEY = `sk-test-free-${randomUUID()}`;

/** An async task of two steps with a tool wait between them, so runs overlap unless held apart. */
const SLOW_TASK = {
  route: 'chat',
  maxOutputTokens: 8,
  forcedOutputTokens: 4,
  mode: 'async',
  steps: 2,
  toolWaitMs: 300,
};

function tenantLines(id: string, key: string, extra: string[] = []): string[] {
  return [
    `  - id: ${id}`,
    `    keySha256: ${hashApiKey(key)}`,
    '    tier: standard',
    '    requestsPerMinute: 1000',
    '    tokensPerMinute: 10000000',
    '    maxInFlight: 20',
    '    budgetUsd: 100',
    ...extra,
  ];
}

/** Writes a tenants file with `tenant-capped` (maxRunning 1) and `tenant-free` (no cap). */
async function writeTenants(dir: string): Promise<string> {
  const path = join(dir, 'tenants.yaml');
  const lines = [
    'tenants:',
    ...tenantLines('tenant-capped', CAPPED_KEY, ['    maxRunning: 1']),
    ...tenantLines('tenant-free', FREE_KEY),
    '',
  ];
  await writeFile(path, lines.join('\n'));
  return path;
}

async function submit(platform: Platform, key: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const reply = await postTask(platform.urls.gateway, key, SLOW_TASK);
    assert.equal(reply.status, 202);
    ids.push(String(reply.json.id));
  }
  return ids;
}

async function finishedRecords(platform: Platform, ids: string[]): Promise<TaskRecord[]> {
  await waitFor(async () => {
    const records = await Promise.all(ids.map((id) => platform.store.getById(id)));
    return records.every((record) => record?.finishedAt !== undefined);
  }, 30_000);
  const records = await Promise.all(ids.map((id) => platform.store.getById(id)));
  return records.filter((record): record is TaskRecord => record !== undefined);
}

/** Highest number of records whose start-to-finish spans overlap at one time. */
function maxOverlap(records: TaskRecord[]): number {
  const edges = records.flatMap((record) => [
    { at: record.startedAt ?? 0, change: 1 },
    { at: record.finishedAt ?? 0, change: -1 },
  ]);
  // At equal times a finish comes before a start, so back-to-back runs do not overlap.
  edges.sort((a, b) => a.at - b.at || a.change - b.change);
  let running = 0;
  let max = 0;
  for (const edge of edges) {
    running += edge.change;
    max = Math.max(max, running);
  }
  return max;
}

function describeRunningCap(name: string, options: { redis: boolean }): void {
  describe(`tenant running cap, ${name}`, () => {
    let platform: Platform;
    let dir: string;

    before(async function () {
      this.timeout(30_000);
      dir = await mkdtemp(join(tmpdir(), 'scalegate-running-cap-'));
      platform = await startPlatform({
        topology: 'workers=6 serverless_burst=disabled',
        tenantsPath: await writeTenants(dir),
        ...(options.redis
          ? {
              redisUrl: 'redis://127.0.0.1:6379',
              keyPrefix: `test-running-cap-${randomUUID()}`,
              workerProcesses: 2,
            }
          : { redisUrl: '' }),
      });
    });

    after(async function () {
      this.timeout(20_000);
      await platform.stop({ drainTimeoutMs: 500, purge: true });
      await rm(dir, { recursive: true, force: true });
    });

    it('runs one capped task at a time', async function () {
      this.timeout(40_000);
      const records = await finishedRecords(platform, await submit(platform, CAPPED_KEY, 4));
      assert.equal(records.length, 4);
      assert.deepEqual(
        records.map((record) => record.state),
        ['succeeded', 'succeeded', 'succeeded', 'succeeded'],
      );
      assert.equal(maxOverlap(records), 1);
      // The store counts a delivery only when a task starts, so deferrals add none.
      assert.deepEqual(
        records.map((record) => record.deliveries),
        [1, 1, 1, 1],
      );
      // Worker processes send their metrics in batches, so the count may arrive later.
      const deferrals = async () =>
        sample(
          await scrape(platform.urls.gateway),
          'scalegate_running_cap_deferrals_total',
          'tenant="tenant-capped"',
        ) ?? 0;
      await waitFor(async () => (await deferrals()) > 0, 5_000);
      assert.equal(
        sample(
          await scrape(platform.urls.gateway),
          'scalegate_running_cap_deferrals_total',
          'tenant="tenant-free"',
        ),
        undefined,
      );
    });

    it('leaves other tenants free', async function () {
      this.timeout(40_000);
      const capped = await submit(platform, CAPPED_KEY, 4);
      const free = await submit(platform, FREE_KEY, 3);
      const cappedRecords = await finishedRecords(platform, capped);
      const freeRecords = await finishedRecords(platform, free);
      assert.equal(maxOverlap(cappedRecords), 1);
      assert.equal(maxOverlap(freeRecords), 3);
      const lastCappedStart = Math.max(...cappedRecords.map((record) => record.startedAt ?? 0));
      const lastFreeStart = Math.max(...freeRecords.map((record) => record.startedAt ?? 0));
      assert.ok(lastFreeStart < lastCappedStart, 'free tasks waited for the capped tenant');
    });
  });
}

describeRunningCap('in memory', { redis: false });
describeRunningCap('on Redis with worker processes', { redis: true });
