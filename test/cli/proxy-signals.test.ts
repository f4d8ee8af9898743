import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const CLI = 'bin/scalegate.js';

/**
 * Starts `scalegate <args>` and resolves once its output contains `startedText`. Kills the
 * process and rejects when it exits first or has not started within 20 s.
 */
async function startServer(args: readonly string[], startedText: string) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stderr.on('data', collect);
  const started = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      collect(chunk);
      if (output.includes(startedText)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before start: ${output}`)));
    setTimeout(() => reject(new Error(`not started within 20 s: ${output}`)), 20_000).unref();
  });
  try {
    await started;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { child, output: () => output };
}

/** Returns how many log records of `output` carry `message`. */
function recordsWith(output: string, message: string): number {
  return output.split('\n').filter((line) => line.includes(`"msg":"${message}"`)).length;
}

describe('scalegate proxy on a second signal', function () {
  this.timeout(60_000);

  it('stops once on SIGINT then SIGHUP', async () => {
    const server = await startServer(['proxy', '--port', '0'], '"msg":"fault proxy started"');
    try {
      const exited = once(server.child, 'exit');
      server.child.kill('SIGINT');
      server.child.kill('SIGHUP');
      await exited;
      assert.equal(recordsWith(server.output(), 'fault proxy stopping'), 1, server.output());
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
