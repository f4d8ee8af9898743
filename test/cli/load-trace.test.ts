import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Maximum time of one CLI run; a run still going then is killed and its test fails. */
const RUN_TIMEOUT_MS = 45_000;

const CLI = resolve('bin/scalegate.js');

interface CliRun {
  exitCode: number | null;
  stderr: string;
}

/** Runs `node bin/scalegate.js <args>` in `cwd` without Redis. */
function runCliIn(cwd: string, args: readonly string[]): Promise<CliRun> {
  const env = { ...process.env };
  delete env.REDIS_URL;
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd, env, timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL' },
      (error, _stdout, stderr) => {
        if (error === null) {
          done({ exitCode: 0, stderr });
          return;
        }
        done({ exitCode: typeof error.code === 'number' ? error.code : null, stderr });
      },
    );
  });
}

describe('scalegate load from another folder', function () {
  this.timeout(60_000);
  let dir: string;

  before(async () => {
    // A folder without fixtures/, so only a path from the package root finds the trace.
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-trace-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the shipped trace from the package', async () => {
    // Port 1 on loopback has no gateway, so the run ends at the target check, which
    // comes after the trace is read.
    const args = ['load', '--scenario', 'conv-replay', '--target', 'http://127.0.0.1:1'];
    const run = await runCliIn(dir, args);
    assert.match(run.stderr, /^error: load target http:\/\/127\.0\.0\.1:1\/healthz is unreachable/);
    assert.doesNotMatch(run.stderr, /arrival\.file/);
    assert.equal(run.exitCode, 2);
  });

  it('names the fix for a long --duration', async () => {
    const trace = resolve('fixtures/traces/azure-llm-2023-conv.csv');
    const args = ['load', '--scenario', 'conv-replay', '--duration', '438'];
    const run = await runCliIn(dir, args);
    assert.equal(
      run.stderr,
      'error: --duration 438 is longer than the trace of scenario conv-replay, which ends ' +
        `437.7 s into the run at speedUp 8 (${trace}), so the last 0.3 s would send nothing ` +
        'and lower the per-minute rates; pass --duration 437 or less, or pass a --scenario ' +
        'that replays no trace: steady-chat, agent-mix, ramp, noisy-flood, noisy-hold, ' +
        'async-chat\n',
    );
    assert.equal(run.exitCode, 2);
  });
});
