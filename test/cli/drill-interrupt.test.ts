import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
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

/** Interval of the polls for the provider fleet's child process. */
const POLL_MS = 10;

/** Returns the pid of the provider fleet process that `parent` forked, once it exists. */
async function fleetChildPid(parent: number): Promise<number> {
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const children = await readFile(`/proc/${parent}/task/${parent}/children`, 'utf8').catch(
      () => '',
    );
    for (const pid of children.split(' ').filter((entry) => entry !== '')) {
      const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (command.includes('fleet-process')) return Number(pid);
    }
    await delay(POLL_MS);
  }
  throw new Error(`no provider fleet process under pid ${parent}`);
}

/**
 * Sends SIGINT to `child`, then again every `everyMs` until it exits, and resolves with its
 * exit code, or the signal that killed it, and the number of signals sent.
 */
async function interruptRepeatedly(
  child: ChildProcess,
  everyMs: number,
): Promise<{ exit: number | string; sent: number }> {
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? String(signal)));
  });
  child.kill('SIGINT');
  let sent = 1;
  const repeat = setInterval(() => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.kill('SIGINT')) sent += 1;
  }, everyMs);
  try {
    return { exit: await exited, sent };
  } finally {
    clearInterval(repeat);
  }
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

  it('exits 130 on repeated SIGINT', async function () {
    if (process.platform !== 'linux') this.skip();
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.REDIS_URL;
    delete env.TOXIPROXY_URL;
    const reports = join(dir, 'reports');
    const child = spawn(
      process.execPath,
      ['bin/scalegate.js', 'drill', '--reports', reports, '--runbook', join(dir, 'runbook.md')],
      { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL' },
    );
    const exited = exitOf(child);
    assert.ok(child.pid !== undefined);
    await fleetChildPid(child.pid);
    // Signals 2 ms apart also reach the process after the drill's handlers are removed and
    // while Node tears down. Without a handler then, the process would end by SIGINT.
    const { exit, sent } = await interruptRepeatedly(child, 2);
    const { stderr } = await exited;

    assert.equal(exit, 130, stderr);
    assert.ok(sent > 1, `sent ${sent} signals`);
    assert.equal(
      stderr,
      'error: drill interrupted by SIGINT before the load started; no fault was applied and ' +
        'no report was written\n',
    );
    await assert.rejects(readdir(reports), { code: 'ENOENT' });
  });

  it('gate exits 130 on repeated SIGINT', async function () {
    if (process.platform !== 'linux') this.skip();
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.REDIS_URL;
    delete env.TOXIPROXY_URL;
    const gateDir = join(dir, 'gate');
    const child = spawn(process.execPath, ['bin/scalegate.js', 'gate', '--gate-dir', gateDir], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: RUN_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    const exited = exitOf(child);
    assert.ok(child.pid !== undefined);
    await fleetChildPid(child.pid);
    const { exit, sent } = await interruptRepeatedly(child, 2);
    const { stderr } = await exited;

    assert.equal(exit, 130, stderr);
    assert.ok(sent > 1, `sent ${sent} signals`);
  });

  it('exits 130 on a group SIGINT while the fleet loads', async function () {
    if (process.platform !== 'linux') this.skip();
    // A Ctrl-C at a terminal reaches the whole process group, so it also kills the fleet process
    // while tsx still loads it, before it installs its own SIGINT handler.
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.REDIS_URL;
    delete env.TOXIPROXY_URL;
    const reports = join(dir, 'reports');
    const child = spawn(
      process.execPath,
      ['bin/scalegate.js', 'drill', '--reports', reports, '--runbook', join(dir, 'runbook.md')],
      {
        env,
        detached: true,
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: RUN_TIMEOUT_MS,
        killSignal: 'SIGKILL',
      },
    );
    const exited = exitOf(child);
    assert.ok(child.pid !== undefined);
    await fleetChildPid(child.pid);
    process.kill(-child.pid, 'SIGINT');
    const exit = await exited;

    assert.equal(
      exit.stderr,
      'error: drill interrupted by SIGINT before the load started; no fault was applied and ' +
        'no report was written\n',
    );
    assert.equal(exit.code, 130);
    await assert.rejects(readdir(reports), { code: 'ENOENT' });
  });
});
