import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { Redis } from 'ioredis';

import { isRunning } from '../support/processes.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

const CLI = resolve('bin/scalegate.js');
const TERMINAL_JOB = resolve('test/fixtures/terminal-job.ts');

/** Options of a platform on a free port with one worker and no serverless executor. */
const SMALL_PLATFORM = ['--port=0', '--topology=workers=1 serverless_burst=disabled'];

/** Time the platform has to start, and then to stop after the hang-up. */
const STEP_LIMIT_MS = 30_000;

/** Interval of the polls for the start line and the job's exit. */
const POLL_MS = 50;

/** Exit of the job that `terminal-job.ts` ran, as it writes it to its result file. */
interface JobResult {
  pid: number;
  code?: number | null;
  signal?: string | null;
}

/** Returns the result file's contents, or undefined before the job started. */
async function readResult(path: string): Promise<JobResult | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text === '' ? undefined : (JSON.parse(text) as JobResult);
}

/** Quotes `value` for `sh -c`. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Tells whether util-linux `script`, which runs a command on a pseudo-terminal, is installed. */
function hasScript(): boolean {
  return spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Resolves once `ready` returns true, polling every POLL_MS, and rejects after STEP_LIMIT_MS. */
async function waitUntil(ready: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = performance.now() + STEP_LIMIT_MS;
  while (!(await ready())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(POLL_MS);
  }
}

/**
 * Runs `sh -c "exec <jobCommand>"` as the foreground job of a pseudo-terminal, hangs the terminal up
 * once `started` returns true, and resolves with the job's exit. The job's process group gets
 * SIGKILL if it still runs at the end.
 */
async function hangUpDuring(
  dir: string,
  jobCommand: string,
  env: NodeJS.ProcessEnv,
  started: (screen: string) => Promise<boolean> | boolean,
): Promise<JobResult> {
  const resultPath = join(dir, 'result.json');
  const job = [process.execPath, '--import', 'tsx', TERMINAL_JOB, resultPath, '/bin/sh', '-c'];
  // The job runner's own stdio leaves the terminal, so only the job uses it.
  const runner = `exec ${[...job, `exec ${jobCommand}`].map(shellQuote).join(' ')}`;
  const redirects = `</dev/null >/dev/null 2>${shellQuote(join(dir, 'job.err'))}`;
  const terminal = spawn('script', ['-q', '-c', `${runner} ${redirects}`, '/dev/null'], {
    env: { ...env, SHELL: '/bin/sh' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let screen = '';
  terminal.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString('utf8');
  });
  let result: JobResult | undefined;
  try {
    await waitUntil(() => started(screen), `the job to start; the terminal shows: ${screen}`);
    // Killing `script` closes the terminal's master side, which hangs the terminal up.
    terminal.kill('SIGKILL');
    await once(terminal, 'exit');
    await waitUntil(async () => {
      result = await readResult(resultPath);
      return result?.code !== undefined;
    }, 'the job to exit after the hang-up');
    assert.ok(result !== undefined);
    return result;
  } finally {
    terminal.kill('SIGKILL');
    result ??= await readResult(resultPath);
    if (result !== undefined && (await isRunning(result.pid))) {
      process.kill(-result.pid, 'SIGKILL');
    }
  }
}

/** Returns the JSON log records in `output`. */
function logRecords(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('scalegate platform on a terminal that hangs up', function () {
  this.timeout(90_000);
  let dir: string;

  beforeEach(async function () {
    if (process.platform !== 'linux' || !hasScript()) this.skip();
    dir = await mkdtemp(join(tmpdir(), 'scalegate-hangup-'));
  });

  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('drains and exits 129', async () => {
    const env = { ...process.env };
    delete env.REDIS_URL;
    const command = [process.execPath, CLI, 'platform', ...SMALL_PLATFORM];
    const result = await hangUpDuring(dir, command.map(shellQuote).join(' '), env, (screen) =>
      screen.includes('"platform started"'),
    );

    assert.equal(result.signal, null, `the platform was killed by ${result.signal}`);
    assert.equal(result.code, 129);
  });

  it('stops its worker process on Redis', async () => {
    const keyPrefix = `test-hangup-${randomUUID()}`;
    const logPath = join(dir, 'platform.log');
    const redis = new Redis(REDIS_URL);
    try {
      const platform = [process.execPath, CLI, 'platform', ...SMALL_PLATFORM];
      const redisOptions = [`--redis-url=${REDIS_URL}`, `--key-prefix=${keyPrefix}`];
      // The log goes to a file, so it outlives the terminal. The worker process still writes
      // to the terminal, which it inherits as stderr.
      const command = `${[...platform, ...redisOptions].map(shellQuote).join(' ')} >${shellQuote(logPath)}`;
      const readLog = () => readFile(logPath, 'utf8').catch(() => '');
      const result = await hangUpDuring(dir, command, process.env, async () =>
        (await readLog()).includes('"platform started"'),
      );

      assert.equal(result.signal, null, `the platform was killed by ${result.signal}`);
      assert.equal(result.code, 129);
      const records = logRecords(await readLog());
      const stopping = records.find(
        (record) => record.msg === 'platform stopping; waiting for running tasks',
      );
      assert.equal(stopping?.signal, 'SIGHUP');
      const workerExit = records.find((record) => record.msg === 'worker process exited');
      assert.ok(workerExit !== undefined, JSON.stringify(records));
      assert.equal(workerExit.code, 0);
      assert.equal(workerExit.signal, null);
      assert.equal(workerExit.expected, true);
      assert.ok(records.some((record) => record.msg === 'platform stopped'));
    } finally {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });
});
