import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { Redis } from 'ioredis';

import { type Platform, startPlatform } from '../../src/platform/runtime.js';
import { isTerminal } from '../../src/platform/store/task-store.js';
import { hashApiKey } from '../../src/platform/tenants/api-key.js';
import { loadDemoKeys } from '../../src/platform/tenants/index.js';
import type { TaskRecord } from '../../src/platform/task.js';
import { getJson, waitFor } from '../platform/runtime/platform-support.js';
import { childPids, isRunning } from '../support/processes.js';
import { OwnRedisServer } from '../support/redis-server.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

const CLI = resolve('bin/scalegate.js');

/** Options of a platform on a free port with one worker and no serverless executor. */
const SMALL_PLATFORM = ['--port', '0', '--topology', 'workers=1 serverless_burst=disabled'];

/** In-process platform options matching SMALL_PLATFORM. */
const SURVIVOR_OPTIONS = { port: 0, topology: 'workers=1 serverless_burst=disabled' };

/** Polls the store until the task is terminal and returns it, failing after `timeoutMs`. */
async function waitForTerminal(platform: Platform, taskId: string, timeoutMs: number) {
  let record: TaskRecord | undefined;
  await waitFor(async () => {
    record = await platform.store.getById(taskId);
    return record !== undefined && isTerminal(record.state);
  }, timeoutMs);
  assert.ok(record !== undefined);
  return record;
}

/**
 * Deletes the keys left under `keyPrefix`, such as a queue completion that landed after the
 * platform's purge.
 */
async function deleteKeys(keyPrefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    await redis.quit();
  }
}

/** Returns the first 12 hex digits of the sha256 of `bytes`, as compare prints them. */
function shortSha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 12);
}

/** Starts `scalegate platform` in `cwd` and resolves with its `platform started` log record. */
async function startCli(args: readonly string[], cwd = process.cwd(), env = process.env) {
  const child = spawn(process.execPath, [CLI, 'platform', ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => {
    errors += chunk.toString('utf8');
  });
  const started = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      for (const line of output.split('\n')) {
        if (!line.includes('"platform started"')) continue;
        resolve(JSON.parse(line) as Record<string, unknown>);
      }
    });
    child.once('exit', (code) => reject(new Error(`platform exited with ${code}: ${output}`)));
  });
  return { child, started, output: () => output, errors: () => errors };
}

describe('scalegate platform', function () {
  this.timeout(60_000);

  it('shows the stable default key prefix', async () => {
    const child = spawn(process.execPath, ['bin/scalegate.js', 'platform', '--help'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let help = '';
    child.stdout.on('data', (chunk: Buffer) => {
      help += chunk.toString('utf8');
    });
    await once(child, 'exit');
    assert.match(help.replace(/\s+/g, ' '), /--key-prefix <prefix> .* \(default: "scalegate"\)/);
  });

  it('keeps its Redis keys under --key-prefix and logs it', async () => {
    const keyPrefix = `test-cli-${randomUUID()}`;
    const redis = new Redis(REDIS_URL);
    const run = await startCli([
      '--redis-url',
      REDIS_URL,
      '--key-prefix',
      keyPrefix,
      '--port',
      '0',
      '--topology',
      'workers=1 serverless_burst=disabled',
    ]);
    try {
      const record = await run.started;
      assert.equal(record.redisKeyPrefix, keyPrefix);
      assert.deepEqual(record.drivers, {
        store: 'redis',
        admission: 'redis',
        queue: 'redis',
        ledger: 'redis',
      });
      assert.equal(record.redisUrl, REDIS_URL);
      const keys = await redis.keys(`${keyPrefix}*`);
      assert.ok(keys.length > 0, 'no key under the prefix');
      run.child.kill('SIGTERM');
      const [code] = await once(run.child, 'exit');
      assert.equal(code, 0, run.output());
    } finally {
      run.child.kill('SIGKILL');
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });

  it('names memory drivers without REDIS_URL', async () => {
    const { REDIS_URL: _unset, ...env } = process.env;
    const run = await startCli(SMALL_PLATFORM, process.cwd(), env);
    try {
      const record = await run.started;
      assert.deepEqual(record.drivers, {
        store: 'memory',
        admission: 'memory',
        queue: 'memory',
        ledger: 'memory',
      });
      assert.equal(record.redisUrl, undefined);
      assert.equal(record.redisKeyPrefix, undefined);
      run.child.kill('SIGTERM');
      const [code] = await once(run.child, 'exit');
      assert.equal(code, 0, run.output());
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('names the shipped tenants file and price table', async () => {
    const run = await startCli(SMALL_PLATFORM);
    try {
      const record = await run.started;
      const tenants = await readFile('fixtures/tenants.yaml');
      const prices = await readFile('fixtures/prices.yaml');
      assert.deepEqual(record.tenantsFile, {
        path: 'fixtures/tenants.yaml',
        sha256: shortSha256(tenants),
      });
      assert.deepEqual(record.priceTable, {
        path: 'fixtures/prices.yaml',
        sha256: shortSha256(prices),
      });
      run.child.kill('SIGTERM');
      const [code] = await once(run.child, 'exit');
      assert.equal(code, 0, run.output());
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('names --tenants and --prices without key hashes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scalegate-platform-files-'));
    const tenantsPath = join(dir, 'tenants.yaml');
    const pricesPath = join(dir, 'prices.yaml');
    const tenants = Buffer.from(`${await readFile('fixtures/tenants.yaml', 'utf8')}# copy\n`);
    const prices = Buffer.from(`${await readFile('fixtures/prices.yaml', 'utf8')}# copy\n`);
    await writeFile(tenantsPath, tenants);
    await writeFile(pricesPath, prices);
    const args = [...SMALL_PLATFORM, '--tenants', tenantsPath, '--prices', pricesPath];
    const run = await startCli(args);
    try {
      const record = await run.started;
      assert.deepEqual(record.tenantsFile, { path: tenantsPath, sha256: shortSha256(tenants) });
      assert.deepEqual(record.priceTable, { path: pricesPath, sha256: shortSha256(prices) });
      const keyHashes = tenants.toString('utf8').match(/[0-9a-f]{64}/g) ?? [];
      assert.ok(keyHashes.length > 0, 'the tenants file holds no key hash');
      const line = JSON.stringify(record);
      for (const keyHash of keyHashes) {
        assert.ok(!line.includes(keyHash.slice(0, 12)), `the record shows ${keyHash}`);
      }
      run.child.kill('SIGTERM');
      const [code] = await once(run.child, 'exit');
      assert.equal(code, 0, run.output());
    } finally {
      run.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('starts from a folder outside the checkout', async () => {
    // The folder has no policies/ or fixtures/, so the default policy, tenants,
    // prices and provider profiles must come from the package.
    const dir = await mkdtemp(join(tmpdir(), 'scalegate-platform-cwd-'));
    const args = SMALL_PLATFORM;
    const run = await startCli(args, dir);
    try {
      const record = await run.started;
      const urls = record.urls as { gateway: string };
      const response = await fetch(`${urls.gateway}/healthz`);
      assert.equal(response.status, 200);
      run.child.kill('SIGTERM');
      const [code] = await once(run.child, 'exit');
      assert.equal(code, 0, run.output());
    } finally {
      run.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes a long start error whole to a slow pipe', async () => {
    // README.md as a policy gives hundreds of problems, about 110 KiB, more than a pipe holds.
    // The reader waits a second, so the pipe fills first. An exit straight after the write
    // cut the message at 64 KiB in most runs through a shell pipe, and in none through
    // spawn's own stdio, so the test uses the shell's.
    const command = `"${process.execPath}" "${CLI}" platform --policy README.md 2>&1 | (sleep 1; cat)`;
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    await once(child, 'close');
    assert.ok(output.length > 65_536, `output has ${output.length} characters`);
    assert.ok(output.startsWith('error: starting the platform failed: '), output.slice(0, 200));
    assert.ok(output.endsWith('Fix the file or pass another --policy.\n'), output.slice(-200));
  });

  it('rejects an invalid --log-level', async () => {
    const child = spawn(process.execPath, [CLI, 'platform', '--log-level', 'loud'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const [code] = await once(child, 'exit');
    assert.notEqual(code, 0);
    assert.match(stderr, /'loud'/);
    assert.match(stderr, /use one of trace, debug, info, warn, error, fatal, silent/);
  });

  for (const [level, logged] of [
    ['info', false],
    ['debug', true],
  ] as const) {
    it(`logs requests ${logged ? 'at' : 'not at'} --log-level ${level}`, async () => {
      const args = SMALL_PLATFORM;
      const run = await startCli([...args, '--log-level', level]);
      try {
        const record = await run.started;
        const urls = record.urls as { gateway: string };
        const response = await fetch(`${urls.gateway}/healthz`);
        assert.equal(response.status, 200);
        run.child.kill('SIGTERM');
        const [code] = await once(run.child, 'exit');
        assert.equal(code, 0, run.output());
        assert.equal(run.output().includes('"request completed"'), logged, run.output());
        assert.equal(run.output().includes('"incoming request"'), logged, run.output());
      } finally {
        run.child.kill('SIGKILL');
      }
    });
  }

  for (const [level, logged] of [
    ['info', true],
    ['warn', false],
  ] as const) {
    it(`logs worker processes ${logged ? 'at' : 'not at'} --log-level ${level}`, async () => {
      const keyPrefix = `test-cli-log-${randomUUID()}`;
      const shared = ['--redis-url', REDIS_URL, '--key-prefix', keyPrefix];
      const run = await startCli([...SMALL_PLATFORM, ...shared, '--log-level', level]);
      try {
        await run.started;
        run.child.kill('SIGTERM');
        const [code] = await once(run.child, 'exit');
        assert.equal(code, 0, run.errors());
        // Worker processes log `worker ready` at info to stderr once they consume the queue.
        assert.equal(run.errors().includes('"worker ready"'), logged, run.errors());
      } finally {
        run.child.kill('SIGKILL');
        await deleteKeys(keyPrefix);
      }
    });
  }

  it('logs start line at info under ERROR', async () => {
    const args = SMALL_PLATFORM;
    const run = await startCli([...args, '--log-level', 'ERROR']);
    try {
      const record = await run.started;
      assert.equal(record.level, 30);
      const urls = record.urls as { gateway: string };
      assert.equal((await fetch(`${urls.gateway}/healthz`)).status, 200);
      run.child.kill('SIGTERM');
      const [code] = await once(run.child, 'exit');
      assert.equal(code, 0, run.output());
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('sheds at the --max-queue-depth it was given', async () => {
    const run = await startCli([...SMALL_PLATFORM, '--max-queue-depth', '1']);
    try {
      const record = await run.started;
      assert.deepEqual(record.backpressure, {
        maxQueueDepth: 1,
        maxOldestAgeMs: 60_000,
        watermarks: { batch: 0.5, standard: 0.8 },
      });
      const urls = record.urls as { gateway: string };
      const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
      const post = (body: unknown) =>
        fetch(`${urls.gateway}/v1/tasks`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      // The one worker runs the first task for 3 s, so the second one waits in the queue.
      const task = { route: 'chat', maxOutputTokens: 8, mode: 'async', steps: 2, toolWaitMs: 3000 };
      const first = await post(task);
      assert.equal(first.status, 202);
      const firstUrl = `${urls.gateway}/v1/tasks/${String(((await first.json()) as { id: string }).id)}`;
      await waitFor(async () => (await getJson(firstUrl, key)).state === 'running', 10_000);
      // The gateway reuses a queue gauge sample for up to 100 ms, and adds the tasks it
      // enqueued since, so the second task waits for a sample that no longer contains the first.
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal((await post(task)).status, 202);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const shed = await post(task);
      const body = (await shed.json()) as { error: { code: string; limit: string } };
      assert.equal(shed.status, 503);
      assert.equal(body.error.code, 'overloaded');
      assert.equal(body.error.limit, 'queue_depth');
      run.child.kill('SIGTERM');
      await once(run.child, 'exit');
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('prices tasks with --prices', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scalegate-platform-prices-'));
    const prices = join(dir, 'prices.yaml');
    // Every model at $3 per million input and $5 per million output tokens.
    const shipped = await readFile('fixtures/prices.yaml', 'utf8');
    const uniform = shipped.replace(
      /\{ inputPerMillion: [\d.]+, outputPerMillion: [\d.]+ \}/g,
      '{ inputPerMillion: 3, outputPerMillion: 5 }',
    );
    await writeFile(prices, uniform);
    const run = await startCli([...SMALL_PLATFORM, '--prices', prices]);
    try {
      const record = await run.started;
      const urls = record.urls as { gateway: string };
      const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
      const response = await fetch(`${urls.gateway}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          route: 'chat',
          mode: 'sync',
          inputTokens: 1000,
          maxOutputTokens: 100,
          forcedOutputTokens: 100,
        }),
      });
      assert.equal(response.status, 200);
      const id = response.headers.get('x-task-id') ?? '';
      const task = await getJson(`${urls.gateway}/v1/tasks/${id}`, key);
      // 1,000 tokens at $3 and 100 at $5 per million; sync tasks in the gateway process cost
      // their tokens alone.
      assert.equal(task.costUsd, 0.0035);
      run.child.kill('SIGTERM');
      await once(run.child, 'exit');
    } finally {
      run.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects an invalid --prices before start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scalegate-platform-prices-'));
    const prices = join(dir, 'prices.yaml');
    const shipped = await readFile('fixtures/prices.yaml', 'utf8');
    await writeFile(
      prices,
      shipped.replace('memoryMbPerFunction: 1024', 'memoryMbPerFunction: 1.5'),
    );
    try {
      const child = spawn(process.execPath, [CLI, 'platform', '--port', '0', '--prices', prices], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      const [code] = await once(child, 'exit');
      assert.equal(code, 2);
      assert.equal(
        stderr,
        `error: starting the platform failed: ${prices}: executors.serverless.memoryMbPerFunction: ` +
          'expected a positive integer, received 1.5; fix the file or pass another --prices\n',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('warns of a maxRunning at the worker slots', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scalegate-platform-cap-'));
    const tenants = join(dir, 'tenants.yaml');
    const lines = [
      'tenants:',
      '  - id: tenant-wide',
      `    keySha256: ${hashApiKey(`sk-test-${randomUUID()}`)}`,
      '    tier: standard',
      '    requestsPerMinute: 100',
      '    tokensPerMinute: 100000',
      '    maxInFlight: 10',
      '    budgetUsd: 10',
      '    maxRunning: 2',
      '',
    ];
    await writeFile(tenants, lines.join('\n'));
    const topology = ['--topology', 'workers=2 serverless_burst=disabled'];
    const run = await startCli(['--port', '0', ...topology, '--tenants', tenants]);
    try {
      await run.started;
      const warnings = run
        .output()
        .split('\n')
        .filter((line) => line.includes('"level":40'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.equal(warnings.length, 1, run.output());
      assert.equal(warnings[0]?.tenant, 'tenant-wide');
      assert.equal(warnings[0]?.maxRunning, 2);
      assert.equal(warnings[0]?.workerSlots, 2);
      assert.equal(
        warnings[0]?.msg,
        "tenant tenant-wide has maxRunning 2, at or above the platform's 2 worker slots, so " +
          `the cap never holds back a task; set it below 2 in ${tenants}, or remove it`,
      );
      run.child.kill('SIGTERM');
      await once(run.child, 'exit');
    } finally {
      run.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 143 on a second SIGTERM', async () => {
    const args = SMALL_PLATFORM;
    const run = await startCli([...args, '--shutdown-timeout-ms', '20000']);
    try {
      const record = await run.started;
      const urls = record.urls as { gateway: string };
      const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
      // A sync task with a 20 s tool wait keeps the drain running.
      const task = { route: 'chat', maxOutputTokens: 8, mode: 'sync', toolWaitMs: 20_000 };
      const reply = fetch(`${urls.gateway}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(task),
      }).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      run.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 500));
      run.child.kill('SIGTERM');
      const [code] = await once(run.child, 'exit');
      assert.equal(code, 143, run.output());
      await reply;
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('stops on SIGTERM while Redis does not reply', async () => {
    const redis = await OwnRedisServer.start();
    const args = SMALL_PLATFORM;
    const run = await startCli([
      ...args,
      '--redis-url',
      redis.url,
      '--key-prefix',
      `test-cli-${randomUUID()}`,
      '--shutdown-timeout-ms',
      '500',
    ]);
    try {
      await run.started;
      redis.pause();
      run.child.kill('SIGTERM');
      // The stop line comes after the task count read, which must give up within 1 s.
      const stopLine = '"platform stopping; waiting for running tasks"';
      for (let waited = 0; waited < 5_000 && !run.output().includes(stopLine); waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(run.output().includes(stopLine), run.output());
    } finally {
      run.child.kill('SIGKILL');
      redis.resume();
      await redis.kill();
    }
  });

  it('fails sync task of killed process', async () => {
    const keyPrefix = `test-cli-orphan-${randomUUID()}`;
    const tenantKey = `sk-orphan-${randomUUID()}`;
    const dir = await mkdtemp(join(tmpdir(), 'scalegate-orphan-'));
    const tenantsPath = join(dir, 'tenants.yaml');
    // One task in flight at most, so a slot the killed process kept would reject the next task.
    const tenant = `  - { id: tenant-one, keySha256: ${hashApiKey(tenantKey)}, tier: standard, requestsPerMinute: 1000, tokensPerMinute: 10000000, maxInFlight: 1, budgetUsd: 100 }`;
    await writeFile(tenantsPath, `tenants:\n${tenant}\n`);
    const shared = ['--redis-url', REDIS_URL, '--key-prefix', keyPrefix, '--tenants', tenantsPath];
    const killed = await startCli([...SMALL_PLATFORM, ...shared, '--sync-task-lease-ms', '1000']);
    let survivor: Platform | undefined;
    try {
      const killedUrls = (await killed.started).urls as { gateway: string };
      // Two steps with a 20 s tool wait between them: the first step's tokens show the
      // task running, and the wait keeps it running until the kill.
      const body = {
        route: 'chat',
        maxOutputTokens: 8,
        mode: 'sync',
        stream: true,
        steps: 2,
        toolWaitMs: 20_000,
      };
      const headers = { authorization: `Bearer ${tenantKey}`, 'content-type': 'application/json' };
      const stream = await fetch(`${killedUrls.gateway}/v1/tasks`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
      assert.equal(stream.status, 200);
      const taskId = stream.headers.get('x-task-id') ?? '';
      const reader = stream.body?.getReader();
      const first = await reader?.read();
      assert.match(new TextDecoder().decode(first?.value), /event: token/);
      killed.child.kill('SIGKILL');
      await once(killed.child, 'exit');
      await reader?.cancel().catch(() => undefined);

      survivor = await startPlatform({
        ...SURVIVOR_OPTIONS,
        redisUrl: REDIS_URL,
        keyPrefix,
        tenantsPath,
        syncTaskLeaseMs: 1000,
      });
      const record = await waitForTerminal(survivor, taskId, 15_000);
      assert.equal(record.state, 'failed');
      assert.equal(record.error?.code, 'gateway_lost');
      const next = await fetch(`${survivor.urls.gateway}/v1/tasks`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ route: 'chat', maxOutputTokens: 8, mode: 'sync' }),
      });
      assert.equal(next.status, 200, await next.text());
    } finally {
      killed.child.kill('SIGKILL');
      await survivor?.purge();
      await survivor?.stop();
      await deleteKeys(keyPrefix);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('redelivers async task of killed process', async () => {
    const keyPrefix = `test-cli-orphan-async-${randomUUID()}`;
    const shared = ['--redis-url', REDIS_URL, '--key-prefix', keyPrefix];
    const killed = await startCli([...SMALL_PLATFORM, ...shared, '--stall-interval-ms', '1000']);
    let survivor: Platform | undefined;
    try {
      const killedUrls = (await killed.started).urls as { gateway: string };
      const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      // A 3 s tool wait between two steps keeps the task running until the kill.
      const body = { route: 'chat', maxOutputTokens: 8, mode: 'async', steps: 2, toolWaitMs: 3000 };
      const accepted = await fetch(`${killedUrls.gateway}/v1/tasks`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
      assert.equal(accepted.status, 202);
      const taskId = String(((await accepted.json()) as { id: string }).id);
      const url = `${killedUrls.gateway}/v1/tasks/${taskId}`;
      await waitFor(async () => (await getJson(url, key)).state === 'running', 10_000);
      const workers = await childPids(killed.child.pid ?? 0);
      assert.equal(workers.length, 1, 'expected one worker process');
      killed.child.kill('SIGKILL');
      await once(killed.child, 'exit');
      // The orphaned worker process exits on its own instead of failing the task.
      await waitFor(async () => !(await isRunning(workers[0] ?? 0)), 10_000);

      survivor = await startPlatform({
        ...SURVIVOR_OPTIONS,
        redisUrl: REDIS_URL,
        keyPrefix,
        queue: { stallIntervalMs: 1000 },
      });
      const record = await waitForTerminal(survivor, taskId, 20_000);
      assert.equal(record.state, 'succeeded');
      assert.equal(record.deliveries, 2);
    } finally {
      killed.child.kill('SIGKILL');
      await survivor?.purge();
      await survivor?.stop();
      await deleteKeys(keyPrefix);
    }
  });

  it('requeues async task on SIGTERM', async () => {
    const keyPrefix = `test-cli-sigterm-async-${randomUUID()}`;
    const shared = ['--redis-url', REDIS_URL, '--key-prefix', keyPrefix];
    const stopping = await startCli([...SMALL_PLATFORM, ...shared, '--shutdown-timeout-ms', '500']);
    let survivor: Platform | undefined;
    try {
      const stoppingUrls = (await stopping.started).urls as { gateway: string };
      const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      // Two steps with a 5 s tool wait after each keep the task running past the drain.
      const body = { route: 'chat', maxOutputTokens: 8, mode: 'async', steps: 2, toolWaitMs: 5000 };
      const accepted = await fetch(`${stoppingUrls.gateway}/v1/tasks`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
      assert.equal(accepted.status, 202);
      const taskId = String(((await accepted.json()) as { id: string }).id);
      const url = `${stoppingUrls.gateway}/v1/tasks/${taskId}`;
      await waitFor(async () => (await getJson(url, key)).state === 'running', 10_000);
      // Started only now, so that the stopping process's worker takes the task.
      survivor = await startPlatform({ ...SURVIVOR_OPTIONS, redisUrl: REDIS_URL, keyPrefix });

      stopping.child.kill('SIGTERM');
      const [code] = await once(stopping.child, 'exit');
      assert.equal(code, 0);
      const record = await waitForTerminal(survivor, taskId, 30_000);
      assert.equal(record.state, 'succeeded', JSON.stringify(record.error));
      assert.equal(record.deliveries, 2);
      assert.match(
        stopping.output(),
        /drain time ran out; returning running async tasks to the queue and failing running sync tasks with platform_shutdown/,
      );
    } finally {
      stopping.child.kill('SIGKILL');
      await survivor?.purge();
      await survivor?.stop();
      await deleteKeys(keyPrefix);
    }
  });

  it('logs task counts when stopped', async () => {
    const run = await startCli([...SMALL_PLATFORM, '--shutdown-timeout-ms', '500']);
    try {
      const urls = (await run.started).urls as { gateway: string };
      const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      // One worker runs the first task for 20 s, so the other two wait in the queue.
      const body = { route: 'chat', maxOutputTokens: 8, mode: 'async', toolWaitMs: 20_000 };
      for (let sent = 0; sent < 3; sent += 1) {
        const accepted = await fetch(`${urls.gateway}/v1/tasks`, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
        });
        assert.equal(accepted.status, 202);
      }
      run.child.kill('SIGTERM');
      const [code] = await once(run.child, 'exit');
      assert.equal(code, 0, run.output());
      const line = run
        .output()
        .split('\n')
        .find((item) => item.includes('"platform stopped"'));
      assert.ok(line !== undefined, run.output());
      const stopped = JSON.parse(line) as Record<string, unknown>;
      assert.equal(stopped.countsOf, 'platform');
      assert.equal(stopped.accepted, 3);
      assert.equal(stopped.queued, 0);
      assert.equal(stopped.running, 0);
      assert.equal(stopped.succeeded, 0);
      assert.equal(stopped.failed, 3);
      assert.equal(stopped.dead_lettered, 0);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('drains on SIGHUP and exits 129', async () => {
    const { REDIS_URL: _unset, ...env } = process.env;
    const args = [...SMALL_PLATFORM, '--shutdown-timeout-ms', '500'];
    const run = await startCli(args, process.cwd(), env);
    try {
      const urls = (await run.started).urls as { gateway: string };
      const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
      // A 20 s tool wait keeps the task running until the drain time cuts it.
      const body = { route: 'chat', maxOutputTokens: 8, mode: 'async', toolWaitMs: 20_000 };
      const accepted = await fetch(`${urls.gateway}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(accepted.status, 202);
      const taskId = String(((await accepted.json()) as { id: string }).id);
      const url = `${urls.gateway}/v1/tasks/${taskId}`;
      await waitFor(async () => (await getJson(url, key)).state === 'running', 10_000);
      run.child.kill('SIGHUP');
      const [code, signal] = await once(run.child, 'exit');
      assert.equal(signal, null, run.output());
      assert.equal(code, 129, run.output());
      const records = run
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const stopping = records.find(
        (record) => record.msg === 'platform stopping; waiting for running tasks',
      );
      assert.equal(stopping?.signal, 'SIGHUP', run.output());
      assert.ok(
        records.some(
          (record) =>
            record.msg === 'drain time ran out; failing running tasks with platform_shutdown',
        ),
        run.output(),
      );
      const stopped = records.find((record) => record.msg === 'platform stopped');
      assert.ok(stopped !== undefined, run.output());
      assert.equal(stopped.accepted, 1);
      assert.equal(stopped.running, 0);
      assert.equal(stopped.failed, 1);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('stops on SIGTERM after its log reader left', async () => {
    const args = SMALL_PLATFORM;
    const run = await startCli(args);
    try {
      await run.started;
      // Closing the read end makes every later log write fail with EPIPE.
      run.child.stdout.destroy();
      run.child.kill('SIGTERM');
      const exited = once(run.child, 'exit');
      const limit = new Promise((resolve) => setTimeout(resolve, 20_000, ['still running']));
      const [code] = (await Promise.race([exited, limit])) as unknown[];
      assert.equal(code, 0);
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});
