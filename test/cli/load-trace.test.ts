import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Maximum time of one CLI run; a run still going then is killed and its test fails. */
const RUN_TIMEOUT_MS = 45_000;

const CLI = resolve('bin/scalegate.js');

/** The trace file of the conv-replay scenario, a path relative to the working directory. */
const TRACE = 'fixtures/traces/azure-llm-2023-conv.csv';

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

describe('scalegate load trace checks', function () {
  this.timeout(60_000);
  let dir: string;

  before(async () => {
    // A folder without fixtures/, so the scenario's relative trace path is missing there.
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-trace-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function missingTraceError(): string {
    return (
      `error: scenario.arrival.file: trace ${TRACE} (resolved to ${join(dir, TRACE)}) not ` +
      'found; relative paths start at the working directory, so run from the repository ' +
      'root or set arrival.file to an existing CSV file\n'
    );
  }

  it('rejects a missing trace before the platform starts', async () => {
    const run = await runCliIn(dir, ['load', '--scenario', 'conv-replay', '--platform']);
    // The platform would print its address on stderr once started.
    assert.equal(run.stderr, missingTraceError());
    assert.equal(run.exitCode, 2);
  });

  it('rejects a missing trace before the target check', async () => {
    // Port 1 on loopback has no gateway, so a probe first would fail as unreachable.
    const args = ['load', '--scenario', 'conv-replay', '--target', 'http://127.0.0.1:1'];
    const run = await runCliIn(dir, args);
    assert.equal(run.stderr, missingTraceError());
    assert.equal(run.exitCode, 2);
  });
});
