import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { type FaultProxyHandle, startFaultProxy } from '../../src/faults/proxy/index.js';

/** Time the CLI gets to handle SIGINT before the platform start goes on. */
const SIGNAL_GRACE_MS = 1000;

/** Maximum time of the CLI run; the platform starts and stops but no load runs. */
const RUN_TIMEOUT_MS = 60_000;

interface CliExit {
  code: number | null;
  stderr: string;
}

function exitOf(child: ChildProcess): Promise<CliExit> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => {
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Starts a relay to the fault proxy's API that calls `onFirstRequest` when the platform
 * creates its first provider proxy, and delays that request by SIGNAL_GRACE_MS.
 */
function startRelay(proxy: FaultProxyHandle, onFirstRequest: () => void): Promise<Server> {
  let seen = false;
  const relay = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!seen) {
      seen = true;
      onFirstRequest();
      await delay(SIGNAL_GRACE_MS);
    }
    const body = await readBody(req);
    const response = await fetch(`${proxy.url}${req.url ?? '/'}`, {
      method: req.method ?? 'GET',
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
      ...(body.length === 0 ? {} : { body }),
    });
    res.writeHead(response.status, { 'content-type': 'application/json' });
    res.end(Buffer.from(await response.arrayBuffer()));
  };
  const server = createServer((req, res) => {
    relay(req, res).catch((error: unknown) => {
      res.writeHead(502).end(String(error));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('scalegate drill interrupt', function () {
  this.timeout(RUN_TIMEOUT_MS + 10_000);
  let dir: string;
  let proxy: FaultProxyHandle;
  let relay: Server | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-drill-interrupt-'));
    proxy = await startFaultProxy({ host: '127.0.0.1', port: 0 });
  });

  afterEach(async () => {
    await new Promise((resolve) =>
      relay === undefined ? resolve(undefined) : relay.close(resolve),
    );
    await proxy.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 130 on SIGINT during the platform start', async () => {
    let child: ChildProcess | undefined;
    relay = await startRelay(proxy, () => child?.kill('SIGINT'));
    const address = relay.address();
    assert.ok(address !== null);
    assert.ok(typeof address === 'object');

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TOXIPROXY_URL: `http://127.0.0.1:${address.port}`,
    };
    delete env.REDIS_URL;

    const reports = join(dir, 'reports');
    child = spawn(
      process.execPath,
      [
        'bin/scalegate.js',
        'drill',
        '--time-scale',
        '20',
        '--reports',
        reports,
        '--runbook',
        join(dir, 'runbook.md'),
      ],
      { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL' },
    );
    const exit = await exitOf(child);

    assert.equal(
      exit.stderr,
      'error: drill interrupted by SIGINT before the load started; no fault was applied and ' +
        'no report was written\n',
    );
    assert.equal(exit.code, 130);
    await assert.rejects(readdir(reports), { code: 'ENOENT' });
  });
});
