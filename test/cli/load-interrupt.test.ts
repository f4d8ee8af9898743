import assert from 'node:assert/strict';
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { LoadCommandOutput } from '../../src/cli/commands/load.js';
import { type FakeGateway, startFakeGateway } from '../harness/load/fake-gateway.js';

/** Time a child has to exit after its signal; a run still going then fails its test. */
const EXIT_LIMIT_MS = 20_000;

interface LoadProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  stdout: () => string;
  stderr: () => string;
}

/**
 * Starts `scalegate load` in a child process without Redis, collecting its output. With
 * `detached`, the child leads a process group of its own, as a terminal's foreground job does.
 */
function startLoad(args: readonly string[], options: { detached?: boolean } = {}): LoadProcess {
  const env = { ...process.env };
  delete env.REDIS_URL;
  const child = spawn(process.execPath, ['bin/scalegate.js', 'load', ...args], {
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

/** Resolves once `ready` returns true, polling every 50 ms; rejects if the child exits first. */
async function waitFor(run: LoadProcess, ready: () => boolean, what: string): Promise<void> {
  while (!ready()) {
    if (run.child.exitCode !== null) {
      throw new Error(`load exited with ${run.child.exitCode} before ${what}: ${run.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Sends `signal` and resolves with the exit code, or the signal that killed the child. */
async function interrupt(run: LoadProcess, signal: NodeJS.Signals): Promise<number | string> {
  const exited = once(run.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  run.child.kill(signal);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), EXIT_LIMIT_MS);
  try {
    const [code, killedBy] = await exited;
    return code ?? String(killedBy);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sends `signal`, then sends it again every `everyMs` until the child exits, so later signals
 * reach it during the cleanup and while it exits. Resolves with the exit code, or the signal
 * that killed the child, and the number of signals sent.
 */
async function interruptRepeatedly(
  run: LoadProcess,
  signal: NodeJS.Signals,
  everyMs: number,
): Promise<{ exit: number | string; sent: number }> {
  const exited = once(run.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  run.child.kill(signal);
  let sent = 1;
  const repeat = setInterval(() => {
    if (run.child.exitCode !== null || run.child.signalCode !== null) return;
    if (run.child.kill(signal)) sent += 1;
  }, everyMs);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), EXIT_LIMIT_MS);
  try {
    const [code, killedBy] = await exited;
    return { exit: code ?? String(killedBy), sent };
  } finally {
    clearInterval(repeat);
    clearTimeout(timer);
  }
}

/** Returns the ids of the processes whose parent is `pid`, read from /proc. */
async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The parent id is the second field after the command name, which ends at the last ')'.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent === pid) children.push(Number(entry));
  }
  return children;
}

/** Returns the pid of the provider fleet process that `parent` forked, polling every 10 ms. */
async function fleetChildPid(parent: number): Promise<number> {
  const deadline = performance.now() + EXIT_LIMIT_MS;
  while (performance.now() < deadline) {
    for (const pid of await childrenOf(parent)) {
      const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (command.includes('fleet-process')) return pid;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no provider fleet process under pid ${parent}`);
}

/**
 * Starts `scalegate load --platform` in a process group of its own and sends `signal` to the
 * group once the provider fleet process exists, as a Ctrl-C at a terminal reaches every process
 * of the foreground group. Resolves with the exit code, or the signal that killed the load.
 */
async function interruptGroupDuringStart(
  args: readonly string[],
  signal: NodeJS.Signals,
): Promise<{ exit: number | string; stdout: string; stderr: string; fleet: number }> {
  const env = { ...process.env };
  delete env.REDIS_URL;
  delete env.TOXIPROXY_URL;
  const child = spawn(process.execPath, ['bin/scalegate.js', 'load', '--platform', ...args], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: EXIT_LIMIT_MS,
    killSignal: 'SIGKILL',
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  assert.ok(child.pid !== undefined);
  const fleet = await fleetChildPid(child.pid);
  process.kill(-child.pid, signal);
  const [code, killedBy] = await exited;
  return { exit: code ?? String(killedBy), stdout, stderr, fleet };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('scalegate load interrupted', function () {
  this.timeout(60_000);
  let gateway: FakeGateway | undefined;
  let dir: string;
  let run: LoadProcess | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-interrupt-'));
  });

  afterEach(async () => {
    if (run !== undefined && run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGKILL');
      await once(run.child, 'exit');
    }
    run = undefined;
    await gateway?.close();
    gateway = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('reports what ran on SIGINT and exits 130', async () => {
    // The gateway never responds, so every request sent is in flight at the signal.
    gateway = await startFakeGateway({ hang: true });
    const out = join(dir, 'result.json');
    const target = gateway;
    run = startLoad([
      '--scenario=steady-chat',
      `--target=${gateway.url}`,
      '--duration=20',
      '--seed=1',
      `--out=${out}`,
    ]);
    await waitFor(run, () => target.received.includes('POST /v1/tasks'), 'its first request');
    const started = performance.now();
    const exit = await interrupt(run, 'SIGINT');
    const elapsedMs = performance.now() - started;

    assert.equal(exit, 130, run.stderr());
    assert.ok(elapsedMs < 5000, `took ${elapsedMs} ms after the signal`);
    const stdout = run.stdout();
    assert.match(
      stdout,
      /^\[interrupted\] SIGINT stopped the run; the summary covers what ran until then, and the run is invalid$/m,
    );
    assert.match(
      stdout,
      /^\[harness\] INVALID: .*run stopped by its abort signal before the schedule ended: interrupted by SIGINT/m,
    );
    assert.match(
      stdout,
      /^\[drain\] \d+ requests? in flight when the run was stopped (was|were) aborted/m,
    );
    assert.match(stdout, new RegExp(`^\\[artifact\\] ${out}$`, 'm'));
    const output = JSON.parse(await readFile(out, 'utf8')) as LoadCommandOutput;
    assert.deepEqual(output.interrupted, { signal: 'SIGINT' });
    assert.equal(output.result.health.valid, false);
    assert.equal(output.result.drain?.endedBy, 'signal');
    assert.ok(output.result.requests.sent > 0, `sent ${output.result.requests.sent}`);
    assert.equal(output.result.requests.aborted, output.result.requests.sent);
    // Sends stopped at the signal, long before the 20 s schedule's ~100 requests.
    assert.ok(output.result.requests.sent < 50, `sent ${output.result.requests.sent}`);
  });

  it('exits 130 when the --out write fails', async () => {
    gateway = await startFakeGateway({ hang: true });
    const outDir = join(dir, 'runs');
    await mkdir(outDir);
    const out = join(outDir, 'result.json');
    const target = gateway;
    run = startLoad([
      '--scenario=steady-chat',
      `--target=${gateway.url}`,
      '--duration=20',
      '--seed=1',
      `--out=${out}`,
    ]);
    await waitFor(run, () => target.received.includes('POST /v1/tasks'), 'its first request');
    // The folder existed when the options were checked, so only the write after the run fails.
    await rm(outDir, { recursive: true });
    const exit = await interrupt(run, 'SIGINT');

    assert.equal(exit, 130, run.stderr());
    assert.match(run.stdout(), /^\[interrupted\] SIGINT stopped the run;/m);
    assert.match(
      run.stderr(),
      new RegExp(`^error: writing --out ${out} failed \\(ENOENT\\);`, 'm'),
    );
    await assert.rejects(readFile(out, 'utf8'), { code: 'ENOENT' });
  });

  it('stops the platform on SIGTERM and exits 143', async () => {
    const out = join(dir, 'result.json');
    run = startLoad([
      '--scenario=steady-chat',
      '--platform',
      '--topology=workers=2 serverless_burst=disabled',
      '--no-fault-proxy',
      '--duration=20',
      '--seed=1',
      `--out=${out}`,
    ]);
    const current = run;
    await waitFor(current, () => /^platform .* at http:/m.test(current.stderr()), 'the platform');
    // The mock providers run in a child process, which the platform's stop ends.
    const children = await childrenOf(current.child.pid ?? 0);
    assert.ok(children.length > 0, 'no provider process found');
    // Lets the load run for a moment, so the summary has requests in it.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const exit = await interrupt(current, 'SIGTERM');

    assert.equal(exit, 143, current.stderr());
    const stdout = current.stdout();
    assert.match(stdout, /^\[interrupted\] SIGTERM stopped the run;/m);
    assert.match(stdout, /^\[topology\] workers=2 serverless_burst=disabled$/m);
    assert.match(stdout, /^\[cost\] avg=\S+ total=\S+ tasks=\d+/m);
    assert.match(stdout, /^\[harness\] INVALID: .*interrupted by SIGTERM/m);
    const output = JSON.parse(await readFile(out, 'utf8')) as LoadCommandOutput;
    assert.deepEqual(output.interrupted, { signal: 'SIGTERM' });
    assert.equal(output.platform?.topology, 'workers=2 serverless_burst=disabled');
    assert.ok(output.result.requests.sent > 0, `sent ${output.result.requests.sent}`);
    for (const pid of children) assert.equal(isRunning(pid), false, `process ${pid} still runs`);
  });

  it('writes partial output on group SIGHUP and exits 129', async function () {
    if (process.platform !== 'linux') this.skip();
    const out = join(dir, 'result.json');
    const args = [
      '--scenario=steady-chat',
      '--platform',
      '--topology=workers=2 serverless_burst=disabled',
      '--no-fault-proxy',
      '--duration=20',
      '--seed=1',
      `--out=${out}`,
    ];
    run = startLoad(args, { detached: true });
    const current = run;
    const pid = current.child.pid ?? 0;
    await waitFor(current, () => /^platform .* at http:/m.test(current.stderr()), 'the platform');
    const fleet = await fleetChildPid(pid);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // A closed terminal sends SIGHUP to its whole foreground process group, so the provider
    // fleet process gets it too, and it keeps serving until the load's platform stops it.
    const exited = once(current.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    process.kill(-pid, 'SIGHUP');
    const timer = setTimeout(() => current.child.kill('SIGKILL'), EXIT_LIMIT_MS);
    const [code, killedBy] = await exited.finally(() => clearTimeout(timer));

    assert.equal(killedBy, null, current.stderr());
    assert.equal(code, 129, current.stderr());
    const stdout = current.stdout();
    assert.match(stdout, /^\[interrupted\] SIGHUP stopped the run;/m);
    assert.match(stdout, /^\[harness\] INVALID: .*interrupted by SIGHUP/m);
    const output = JSON.parse(await readFile(out, 'utf8')) as LoadCommandOutput;
    assert.deepEqual(output.interrupted, { signal: 'SIGHUP' });
    assert.equal(output.platform?.topology, 'workers=2 serverless_burst=disabled');
    assert.ok(output.result.requests.sent > 0, `sent ${output.result.requests.sent}`);
    assert.equal(isRunning(fleet), false, `provider fleet process ${fleet} still runs`);
  });

  it('exits 130 on repeated SIGINT', async () => {
    gateway = await startFakeGateway({ hang: true });
    const out = join(dir, 'result.json');
    const target = gateway;
    run = startLoad([
      '--scenario=steady-chat',
      `--target=${gateway.url}`,
      '--duration=20',
      '--seed=1',
      `--out=${out}`,
    ]);
    await waitFor(run, () => target.received.includes('POST /v1/tasks'), 'its first request');
    // Signals 2 ms apart also reach the process after the run's handlers are removed and
    // while Node tears down. Without a handler then, the process would end by SIGINT.
    const { exit, sent } = await interruptRepeatedly(run, 'SIGINT', 2);

    assert.equal(exit, 130, run.stderr());
    assert.ok(sent > 1, `sent ${sent} signals`);
    assert.match(run.stdout(), /^\[interrupted\] SIGINT stopped the run;/m);
    const output = JSON.parse(await readFile(out, 'utf8')) as LoadCommandOutput;
    assert.deepEqual(output.interrupted, { signal: 'SIGINT' });
  });

  it('exits 143 on repeated SIGTERM with --platform', async () => {
    const out = join(dir, 'result.json');
    run = startLoad([
      '--scenario=steady-chat',
      '--platform',
      '--topology=workers=2 serverless_burst=disabled',
      '--no-fault-proxy',
      '--duration=20',
      '--seed=1',
      `--out=${out}`,
    ]);
    const current = run;
    await waitFor(current, () => /^platform .* at http:/m.test(current.stderr()), 'the platform');
    const children = await childrenOf(current.child.pid ?? 0);
    assert.ok(children.length > 0, 'no provider process found');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // The platform's stop takes longer than 10 ms, so later signals also come during it.
    const { exit, sent } = await interruptRepeatedly(current, 'SIGTERM', 10);

    assert.equal(exit, 143, current.stderr());
    assert.ok(sent > 1, `sent ${sent} signals`);
    assert.match(current.stdout(), /^\[interrupted\] SIGTERM stopped the run;/m);
    assert.match(current.stdout(), /^\[cost\] avg=\S+ total=\S+ tasks=\d+/m);
    const output = JSON.parse(await readFile(out, 'utf8')) as LoadCommandOutput;
    assert.deepEqual(output.interrupted, { signal: 'SIGTERM' });
    for (const pid of children) assert.equal(isRunning(pid), false, `process ${pid} still runs`);
  });

  it('exits 130 on group SIGINT during start', async function () {
    if (process.platform !== 'linux') this.skip();
    const out = join(dir, 'result.json');
    const run = await interruptGroupDuringStart(
      ['--scenario=steady-chat', '--duration=5', `--out=${out}`],
      'SIGINT',
    );

    assert.equal(
      run.stderr,
      `error: load interrupted by SIGINT while the platform was starting; no request was sent, and ${out} was not written\n`,
    );
    assert.equal(run.stdout, '');
    assert.equal(run.exit, 130);
    await assert.rejects(readFile(out, 'utf8'), { code: 'ENOENT' });
    assert.equal(isRunning(run.fleet), false, `provider fleet process ${run.fleet} still runs`);
  });

  it('exits 130 on its own SIGINT during start', async () => {
    const out = join(dir, 'result.json');
    run = startLoad(['--scenario=steady-chat', '--platform', '--duration=5', `--out=${out}`]);
    const fleet = await fleetChildPid(run.child.pid ?? 0);
    // The fleet process gets no signal, so the platform starts; the load then sends nothing.
    const exit = await interrupt(run, 'SIGINT');

    assert.equal(
      run.stderr(),
      `error: load interrupted by SIGINT while the platform was starting; no request was sent, and ${out} was not written\n`,
    );
    assert.equal(run.stdout(), '');
    assert.equal(exit, 130);
    await assert.rejects(readFile(out, 'utf8'), { code: 'ENOENT' });
    assert.equal(isRunning(fleet), false, `provider fleet process ${fleet} still runs`);
  });

  it('exits 143 on group SIGTERM during start', async function () {
    if (process.platform !== 'linux') this.skip();
    const run = await interruptGroupDuringStart(
      ['--scenario=steady-chat', '--duration=5'],
      'SIGTERM',
    );

    assert.equal(
      run.stderr,
      'error: load interrupted by SIGTERM while the platform was starting; no request was sent\n',
    );
    assert.equal(run.stdout, '');
    assert.equal(run.exit, 143);
    assert.equal(isRunning(run.fleet), false, `provider fleet process ${run.fleet} still runs`);
  });
});
