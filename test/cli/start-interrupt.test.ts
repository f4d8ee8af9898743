import assert from 'node:assert/strict';
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';

import { Redis } from 'ioredis';

import { childPids, isRunning } from '../support/processes.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Time from the spawn to the signal of a test that interrupts the module loading. Node starts
 * and `bin/scalegate.js` keeps a signal within about 100 ms on 2 shared cores, and loading
 * the CLI's modules through tsx takes about 3 s there, so the signal lands in between.
 */
const MODULE_LOADING_MS = 500;

/** Time a child has to exit after its signal; a run still going then is killed. */
const EXIT_LIMIT_MS = 30_000;

/** Interval of the polls for a worker process. */
const POLL_MS = 10;

interface CliProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  stdout: () => string;
  stderr: () => string;
}

/** Starts `scalegate <args>` in a child process, collecting its output. */
function startCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  options: { detached?: boolean } = {},
): CliProcess {
  return startNode(['bin/scalegate.js', ...args], env, options);
}

/** Starts `node <args>` in a child process, collecting its output. */
function startNode(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  options: { detached?: boolean } = {},
): CliProcess {
  const child = spawn(process.execPath, args, {
    env,
    detached: options.detached ?? false,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output.stderr += chunk.toString('utf8');
  });
  return { child, stdout: () => output.stdout, stderr: () => output.stderr };
}

/** Returns the environment without REDIS_URL, so a load or drill uses memory drivers. */
function withoutRedis(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.REDIS_URL;
  delete env.TOXIPROXY_URL;
  return env;
}

/**
 * Resolves with the exit code, or the name of the signal that ended the process. A process
 * still running after EXIT_LIMIT_MS gets SIGKILL.
 */
async function exitOf(run: CliProcess): Promise<number | string> {
  const exited = once(run.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const timer = setTimeout(() => run.child.kill('SIGKILL'), EXIT_LIMIT_MS);
  try {
    const [code, signal] = await exited;
    return code ?? String(signal);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends `signal` MODULE_LOADING_MS after the spawn and resolves with the exit. */
async function interruptLoading(run: CliProcess, signal: NodeJS.Signals): Promise<number | string> {
  await delay(MODULE_LOADING_MS);
  run.child.kill(signal);
  return exitOf(run);
}

/** Returns the pid of the first worker process that `parent` forks, polling every POLL_MS. */
async function workerPid(run: CliProcess): Promise<number> {
  const parent = run.child.pid ?? 0;
  const deadline = performance.now() + EXIT_LIMIT_MS;
  while (performance.now() < deadline) {
    if (run.child.exitCode !== null) {
      throw new Error(`platform exited with ${run.child.exitCode}: ${run.stdout()}`);
    }
    const [pid] = await childPids(parent, 'worker-process').catch(() => []);
    if (pid !== undefined) return pid;
    await delay(POLL_MS);
  }
  throw new Error(`no worker process under pid ${parent}`);
}

/** Returns the `msg` of each JSON log line in `output`. */
function logMessages(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { msg?: string }).msg ?? '');
}

describe('scalegate interrupted while starting', function () {
  this.timeout(60_000);
  let dir: string;
  let run: CliProcess | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-start-interrupt-'));
  });

  afterEach(async () => {
    if (run !== undefined && run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGKILL');
      await once(run.child, 'exit');
    }
    run = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the described line once', async () => {
    // Two signals while the process waits: the second one comes before the exit.
    const script = [
      "const start = await import('./src/cli/start-interrupt.ts');",
      'start.armStartInterrupt();',
      "start.describeStartInterrupt((signal) => 'load interrupted by ' + signal + ' before the run');",
      "process.kill(process.pid, 'SIGTERM');",
      "process.kill(process.pid, 'SIGINT');",
      'setTimeout(() => undefined, 20_000);',
    ].join('\n');
    const args = ['--import', 'tsx', '--input-type=module', '--eval', script];
    run = startNode(args, process.env);
    const exit = await exitOf(run);

    assert.equal(run.stderr(), 'error: load interrupted by SIGTERM before the run\n');
    assert.equal(exit, 143);
  });

  it('names load on SIGINT while loading', async () => {
    const out = join(dir, 'result.json');
    const args = ['load', '--scenario=conv-replay', '--platform', '--duration=5', `--out=${out}`];
    run = startCli(args, withoutRedis());
    const exit = await interruptLoading(run, 'SIGINT');

    assert.equal(
      run.stderr(),
      'error: load interrupted by SIGINT while starting; nothing was run or written\n',
    );
    assert.equal(run.stdout(), '');
    assert.equal(exit, 130);
    await assert.rejects(readFile(out, 'utf8'), { code: 'ENOENT' });
  });

  it('exits 143 on SIGTERM while loading', async () => {
    run = startCli(['load', '--scenario=steady-chat', '--platform'], withoutRedis());
    const exit = await interruptLoading(run, 'SIGTERM');

    assert.equal(
      run.stderr(),
      'error: load interrupted by SIGTERM while starting; nothing was run or written\n',
    );
    assert.equal(exit, 143);
  });

  it('exits 129 on SIGHUP while loading', async () => {
    run = startCli(['load', '--scenario=steady-chat', '--platform'], withoutRedis());
    const exit = await interruptLoading(run, 'SIGHUP');

    assert.equal(
      run.stderr(),
      'error: load interrupted by SIGHUP while starting; nothing was run or written\n',
    );
    assert.equal(exit, 129);
  });

  it('exits 130 on drill SIGTERM while loading', async () => {
    const reports = join(dir, 'reports');
    const args = ['drill', '--drill=provider-outage', `--reports=${reports}`];
    run = startCli(args, withoutRedis());
    const exit = await interruptLoading(run, 'SIGTERM');

    assert.equal(
      run.stderr(),
      'error: drill interrupted by SIGTERM while starting; nothing was run or written\n',
    );
    assert.equal(exit, 130);
    await assert.rejects(readFile(reports, 'utf8'), { code: 'ENOENT' });
  });

  it('names platform on SIGTERM while loading', async () => {
    run = startCli(['platform', '--port=0'], withoutRedis());
    const exit = await interruptLoading(run, 'SIGTERM');

    assert.equal(
      run.stderr(),
      'error: platform interrupted by SIGTERM while starting; nothing was run or written\n',
    );
    assert.equal(run.stdout(), '');
    assert.equal(exit, 143);
  });

  describe('platform on Redis', () => {
    let keyPrefix: string;
    let redis: Redis;

    beforeEach(() => {
      keyPrefix = `test-start-interrupt-${randomUUID()}`;
      redis = new Redis(REDIS_URL);
    });

    afterEach(async () => {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    });

    function platformArgs(): string[] {
      return [
        'platform',
        '--port=0',
        '--topology=workers=1 serverless_burst=disabled',
        `--redis-url=${REDIS_URL}`,
        `--key-prefix=${keyPrefix}`,
      ];
    }

    it('stops a started platform on SIGINT', async () => {
      run = startCli(platformArgs(), process.env);
      // The worker process is forked while the platform starts, and only the platform
      // process gets the signal, so the start ends and the platform then stops.
      const worker = await workerPid(run);
      run.child.kill('SIGINT');
      const exit = await exitOf(run);

      assert.equal(exit, 130, run.stdout());
      const messages = logMessages(run.stdout());
      assert.ok(
        messages.includes('signal while the platform starts; stopping it once the start ends'),
        run.stdout(),
      );
      assert.ok(!messages.includes('platform started'), run.stdout());
      assert.ok(messages.includes('platform stopped'), run.stdout());
      assert.equal(await isRunning(worker), false, `worker process ${worker} still runs`);
      assert.equal(await redis.hlen(`${keyPrefix}:processes`), 0);
    });

    it('exits 130 on group SIGINT during start', async function () {
      if (process.platform !== 'linux') this.skip();
      // A Ctrl-C at a terminal reaches the worker process too, which dies of it before it
      // installs its handlers, so the start fails.
      run = startCli(platformArgs(), process.env, { detached: true });
      const worker = await workerPid(run);
      process.kill(-(run.child.pid ?? 0), 'SIGINT');
      const exit = await exitOf(run);

      assert.equal(exit, 130, run.stdout());
      const messages = logMessages(run.stdout());
      assert.ok(!messages.includes('platform started'), run.stdout());
      assert.ok(
        messages.includes('platform start interrupted; the parts that had started are stopped'),
        run.stdout(),
      );
      assert.equal(await isRunning(worker), false, `worker process ${worker} still runs`);
      assert.equal(await redis.hlen(`${keyPrefix}:processes`), 0);
    });
  });
});
