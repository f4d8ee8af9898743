import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeGateway, startFakeGateway } from '../harness/load/fake-gateway.js';

interface LoadExit {
  exit: number | string;
  stderr: string;
}

/**
 * Runs a 1 s `scalegate load` against `gatewayUrl`, writing `out`. With `closeStdout`, the
 * test closes the read end of the child's stdout at once, as `| head -c 0` would.
 */
async function runLoad(gatewayUrl: string, out: string, closeStdout: boolean): Promise<LoadExit> {
  const env = { ...process.env };
  delete env.REDIS_URL;
  const child = spawn(
    process.execPath,
    [
      'bin/scalegate.js',
      'load',
      '--scenario=steady-chat',
      `--target=${gatewayUrl}`,
      '--duration=1',
      '--seed=1',
      `--out=${out}`,
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000, killSignal: 'SIGKILL' },
  );
  if (closeStdout) child.stdout.destroy();
  else child.stdout.resume();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { exit: code ?? String(signal), stderr };
}

describe('scalegate load with a closed stdout', function () {
  this.timeout(60_000);
  let gateway: FakeGateway;
  let dir: string;

  beforeEach(async () => {
    gateway = await startFakeGateway({ asyncCompleteAfterMs: 10 });
    dir = await mkdtemp(join(tmpdir(), 'scalegate-closed-stdout-'));
  });

  afterEach(async () => {
    await gateway.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps its exit code and output file', async () => {
    const read = await runLoad(gateway.url, join(dir, 'read.json'), false);
    const closedOut = join(dir, 'closed.json');
    const closed = await runLoad(gateway.url, closedOut, true);

    assert.equal(read.exit, 0, read.stderr);
    assert.equal(closed.exit, read.exit, closed.stderr);
    assert.doesNotMatch(closed.stderr, /EPIPE/);
    const output = JSON.parse(await readFile(closedOut, 'utf8')) as {
      settings: { scenario: string };
    };
    assert.equal(output.settings.scenario, 'steady-chat');
  });
});
