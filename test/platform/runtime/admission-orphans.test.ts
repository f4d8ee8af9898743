import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Redis } from 'ioredis';

import { RedisAdmissionBackend } from '../../../src/platform/admission/redis-backend.js';
import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { isTerminal } from '../../../src/platform/store/task-store.js';
import type { TaskRecord } from '../../../src/platform/task.js';
import { hashApiKey } from '../../../src/platform/tenants/api-key.js';
import { postTask, waitFor } from './platform-support.js';

const CHILD = fileURLToPath(new URL('./admitting-gateway-child.ts', import.meta.url));
const REDIS_URL = 'redis://127.0.0.1:6379';
const LEASE_MS = 1000;
const TENANT_ID = 'tenant-one';
const ASYNC_TASK = { route: 'chat', maxOutputTokens: 8, mode: 'async' } as const;

type HangPoint = 'create' | 'enqueue' | 'queued';

interface StartedChild {
  child: ChildProcess;
  url: string;
  ownerId: string;
}

/** Forks the admitting gateway and resolves once it listens. */
function startChild(env: Record<string, string>): Promise<StartedChild> {
  const child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('gateway child did not start in 20 s')),
      20_000,
    );
    child.once('message', (message) => {
      clearTimeout(timer);
      const { url, ownerId } = message as { url: string; ownerId: string };
      resolve({ child, url, ownerId });
    });
    child.once('exit', (code) => reject(new Error(`gateway child exited with ${code}`)));
  });
}

/** Resolves with the id of the task whose admission reached the child's hang point. */
function nextHang(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no admission hung within 10 s')), 10_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve((message as { taskId: string }).taskId);
    });
  });
}

describe('orphaned async admissions', function () {
  this.timeout(60_000);
  let keyPrefix: string;
  let tenantKey: string;
  let dir: string;
  let tenantsPath: string;
  let redis: Redis;
  let admission: RedisAdmissionBackend;
  let child: ChildProcess | undefined;
  let survivor: Platform | undefined;

  beforeEach(async () => {
    keyPrefix = `test-admission-orphans-${randomUUID()}`;
    tenantKey = `sk-orphan-${randomUUID()}`;
    dir = await mkdtemp(join(tmpdir(), 'scalegate-admission-orphans-'));
    tenantsPath = join(dir, 'tenants.yaml');
    // One task in flight at most, so a ticket the killed process kept rejects the next task.
    const tenant = `  - { id: ${TENANT_ID}, keySha256: ${hashApiKey(tenantKey)}, tier: standard, requestsPerMinute: 1000, tokensPerMinute: 10000000, maxInFlight: 1, budgetUsd: 100 }`;
    await writeFile(tenantsPath, `tenants:\n${tenant}\n`);
    redis = new Redis(REDIS_URL);
    admission = new RedisAdmissionBackend({ redis, keyPrefix: `${keyPrefix}:admission:` });
  });

  afterEach(async () => {
    child?.kill('SIGKILL');
    child = undefined;
    await survivor?.purge();
    await survivor?.stop();
    survivor = undefined;
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Sends an async task to a child gateway whose admission stops at `hangAt`, checks that
   * the child owns the task there, kills the child with SIGKILL, and returns the task id.
   */
  async function killDuringAdmission(hangAt: HangPoint, body: object): Promise<string> {
    const started = await startChild({
      HANG_AT: hangAt,
      KEY_PREFIX: keyPrefix,
      TENANTS_PATH: tenantsPath,
      LEASE_MS: String(LEASE_MS),
    });
    child = started.child;
    const hung = nextHang(started.child);
    // The request never gets a reply: the child dies while admitting it.
    const request = postTask(started.url, tenantKey, body).catch(() => undefined);
    const taskId = await hung;
    const owner = await redis.hget(`${keyPrefix}:sync-owners`, taskId);
    assert.equal(owner, `${started.ownerId} ${TENANT_ID}`, 'owner entry during the admission');
    started.child.kill('SIGKILL');
    await once(started.child, 'exit');
    await request;
    return taskId;
  }

  /** Starts a platform on the same prefix, whose sweeps end the killed child's tasks. */
  async function startSurvivor(): Promise<Platform> {
    survivor = await startPlatform({
      port: 0,
      topology: 'workers=1 serverless_burst=disabled',
      redisUrl: REDIS_URL,
      keyPrefix,
      tenantsPath,
      syncTaskLeaseMs: LEASE_MS,
    });
    return survivor;
  }

  /** Waits until a sweep has deleted the task's owner entry. */
  async function waitForSweep(taskId: string): Promise<void> {
    await waitFor(
      async () => (await redis.hexists(`${keyPrefix}:sync-owners`, taskId)) === 0,
      15_000,
    );
  }

  async function waitForTerminal(platform: Platform, taskId: string): Promise<TaskRecord> {
    let record: TaskRecord | undefined;
    await waitFor(async () => {
      record = await platform.store.getById(taskId);
      return record !== undefined && isTerminal(record.state);
    }, 20_000);
    assert.ok(record !== undefined);
    return record;
  }

  /** Checks that the tenant has no in-flight slot or reservation left, and admits a task. */
  async function assertTicketFreed(platform: Platform): Promise<void> {
    const usage = await admission.usage({ id: TENANT_ID });
    assert.equal(usage.inFlight, 0, 'in-flight slots');
    assert.equal(usage.reservedUsd, 0, 'reserved US dollars');
    const next = await postTask(platform.urls.gateway, tenantKey, ASYNC_TASK);
    assert.equal(next.status, 202, JSON.stringify(next.json));
  }

  it('fails a stored task without a job', async () => {
    const taskId = await killDuringAdmission('enqueue', ASYNC_TASK);
    const platform = await startSurvivor();

    const record = await waitForTerminal(platform, taskId);
    assert.equal(record.state, 'failed');
    assert.equal(record.error?.code, 'gateway_lost');
    assert.match(record.error?.message ?? '', /stopped while admitting this async task/);
    await waitForSweep(taskId);
    await assertTicketFreed(platform);
  });

  it('frees the ticket of an unstored task', async () => {
    const taskId = await killDuringAdmission('create', ASYNC_TASK);
    const platform = await startSurvivor();

    await waitForSweep(taskId);
    assert.equal(await platform.store.getById(taskId), undefined);
    await assertTicketFreed(platform);
  });

  it('runs a task whose job is queued', async () => {
    // The tool wait of 8 s after the model call keeps the task running through the sweep.
    const body = { ...ASYNC_TASK, toolWaitMs: 8000 };
    const taskId = await killDuringAdmission('queued', body);
    const platform = await startSurvivor();

    await waitForSweep(taskId);
    const swept = await platform.store.getById(taskId);
    assert.equal(swept?.state, 'running', 'state when the sweep ended the owner entry');
    const record = await waitForTerminal(platform, taskId);
    assert.equal(record.state, 'succeeded');
    await assertTicketFreed(platform);
  });
});
