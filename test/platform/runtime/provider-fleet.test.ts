import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import FakeTimers from '@sinonjs/fake-timers';

import { Toxiproxy } from 'toxiproxy-node-client';
import { request } from 'undici';

import { loadProviderCatalog } from '../../../src/faults/providers/index.js';
import { type FaultProxyHandle, startFaultProxy } from '../../../src/faults/proxy/index.js';
import { type Clock, systemClock } from '../../../src/platform/clock.js';
import {
  startProviderFleetProcess,
  stopFleetChild,
} from '../../../src/platform/runtime/fleet-child.js';
import { type ProviderFleet, startProviderFleet } from '../../../src/platform/runtime/providers.js';
import { isRunning } from '../../support/processes.js';

async function statusOf(url: string): Promise<number> {
  const response = await request(url, { headersTimeout: 5000, bodyTimeout: 5000 });
  await response.body.dump();
  return response.statusCode;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('startProviderFleet', () => {
  let external: FaultProxyHandle | undefined;
  let fleet: ProviderFleet | undefined;

  afterEach(async () => {
    await fleet?.close();
    await external?.close();
    fleet = undefined;
    external = undefined;
  });

  it('creates its proxies in the Toxiproxy given by URL', async () => {
    external = await startFaultProxy({ host: '127.0.0.1', port: 0 });
    const catalog = await loadProviderCatalog();
    fleet = await startProviderFleet(catalog, systemClock, 1, { toxiproxyUrl: external.url });

    assert.equal(fleet.proxyApiUrl, external.url);
    const names = Object.keys(await new Toxiproxy(external.url).getAll()).sort();
    assert.deepEqual(names, catalog.map((profile) => profile.name).sort());
    const first = fleet.providers[0];
    assert.ok(first !== undefined);
    assert.equal(await statusOf(`${first.proxyUrl}/healthz`), 200);
  });

  it('accepts a Toxiproxy URL with a bracketed IPv6 loopback host', async () => {
    external = await startFaultProxy({ host: '::1', port: 0 });
    const port = new URL(external.url).port;
    const catalog = await loadProviderCatalog();
    fleet = await startProviderFleet(catalog, systemClock, 1, {
      toxiproxyUrl: `http://[::1]:${port}`,
    });

    assert.equal(fleet.proxyApiUrl, `http://[::1]:${port}`);
    const names = Object.keys(await new Toxiproxy(external.url).getAll()).sort();
    assert.deepEqual(names, catalog.map((profile) => profile.name).sort());
  });

  it('deletes its proxies from that Toxiproxy on close', async () => {
    external = await startFaultProxy({ host: '127.0.0.1', port: 0 });
    const catalog = await loadProviderCatalog();
    fleet = await startProviderFleet(catalog, systemClock, 1, { toxiproxyUrl: external.url });
    await fleet.close();
    fleet = undefined;

    assert.deepEqual(Object.keys(await new Toxiproxy(external.url).getAll()), []);
  });

  it('points each endpoint at its mock provider when direct, with no proxy API', async () => {
    const catalog = await loadProviderCatalog();
    fleet = await startProviderFleet(catalog, systemClock, 1, { direct: true });

    assert.equal(fleet.proxyApiUrl, undefined);
    assert.equal(fleet.providers.length, catalog.length);
    for (const entry of fleet.providers) {
      assert.equal(entry.proxyUrl, entry.url);
      assert.equal(fleet.endpoints[entry.name]?.baseUrl, entry.url);
    }
    const first = fleet.providers[0];
    assert.ok(first !== undefined);
    assert.equal(await statusOf(`${first.proxyUrl}/healthz`), 200);
  });

  it('rejects a Toxiproxy proxy off loopback', async () => {
    // A Toxiproxy on loopback whose reply names a listen address on another machine.
    const requests: string[] = [];
    const server = createServer(async (req, res) => {
      requests.push(`${req.method} ${req.url}`);
      let body = '';
      for await (const chunk of req) body += String(chunk);
      const name =
        req.method === 'POST'
          ? (JSON.parse(body) as { name: string }).name
          : req.url?.split('/')[2];
      const proxy = { name, listen: '10.1.2.3:80', upstream: '127.0.0.1:1', enabled: true };
      res.writeHead(req.method === 'DELETE' ? 204 : 200, { 'content-type': 'application/json' });
      res.end(req.method === 'DELETE' ? '' : JSON.stringify({ ...proxy, toxics: [] }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const catalog = await loadProviderCatalog();
      const first = catalog[0]?.name;
      await assert.rejects(
        startProviderFleet(catalog, systemClock, 1, { toxiproxyUrl: url }),
        (error: unknown) => {
          assert.ok(error instanceof RangeError, String(error));
          assert.equal(
            error.message,
            `Toxiproxy at ${url} created proxy ${first} on "10.1.2.3:80", not on a loopback ` +
              'address (127.0.0.0/8, ::1 or localhost); point TOXIPROXY_URL at a Toxiproxy ' +
              'that listens on 127.0.0.1, or leave it empty to use the embedded fault proxy',
          );
          return true;
        },
      );
      assert.equal(requests[0], 'POST /proxies');
      assert.ok(requests.includes(`DELETE /proxies/${first}`), requests.join(', '));
    } finally {
      await closeServer(server);
    }
  });

  it('rejects a Toxiproxy URL off loopback', async () => {
    const catalog = await loadProviderCatalog();
    await assert.rejects(
      startProviderFleet(catalog, systemClock, 1, { toxiproxyUrl: 'http://10.1.2.3:8474' }),
      /invalid TOXIPROXY_URL "http:\/\/10\.1\.2\.3:8474": expected a Toxiproxy on a loopback address/,
    );
  });

  it('rejects a Toxiproxy URL with a bracketed IPv6 host off loopback', async () => {
    const catalog = await loadProviderCatalog();
    await assert.rejects(
      startProviderFleet(catalog, systemClock, 1, { toxiproxyUrl: 'http://[::2]:8474' }),
      /invalid TOXIPROXY_URL "http:\/\/\[::2\]:8474": expected a Toxiproxy on a loopback address/,
    );
  });
});

describe('startProviderFleetProcess', () => {
  it('serves the providers from a child process until closed', async function () {
    // Forking a process that loads TypeScript through tsx takes a few seconds on 2 cores.
    this.timeout(30_000);
    const catalog = await loadProviderCatalog();
    const fleet = await startProviderFleetProcess(catalog, 1, 1);
    const urls = fleet.providers.map((entry) => entry.url);
    try {
      assert.equal(fleet.providers.length, catalog.length);
      for (const url of urls) {
        assert.equal(await statusOf(`${url}/healthz`), 200);
      }
      assert.equal(await statusOf(`${fleet.proxyApiUrl}/version`), 200);
    } finally {
      await fleet.close();
    }
    await assert.rejects(statusOf(`${urls[0]}/healthz`), { code: 'ECONNREFUSED' });
  });

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`keeps serving after ${signal}`, async function () {
      this.timeout(30_000);
      const fleet = await startProviderFleetProcess(await loadProviderCatalog(), 1, 1);
      try {
        assert.ok(fleet.pid !== undefined);
        // A signal to the process group reaches every process in it, this child too.
        process.kill(fleet.pid, signal);
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(await statusOf(`${fleet.proxyApiUrl}/version`), 200);
      } finally {
        await fleet.close();
      }
      await assert.rejects(statusOf(`${fleet.proxyApiUrl}/version`), { code: 'ECONNREFUSED' });
    });
  }
});

/** Child scripts that stand in for the fleet process, each reporting `ready` over IPC. */
const CHILD_SCRIPTS = {
  /** Exits 0 on the stop request, as the fleet process does once its servers closed. */
  obeysStop: `
    process.on('message', (message) => { if (message.type === 'stop') process.exit(0); });
    process.send({ type: 'ready' });`,
  /** Reports each request it receives and stays up, through SIGTERM too. */
  ignoresStop: `
    process.on('message', (message) => process.send({ type: 'received', request: message.type }));
    process.on('SIGTERM', () => undefined);
    process.send({ type: 'ready' });`,
  /** Closes its IPC channel after `ready` and keeps running. */
  disconnects: `
    setInterval(() => undefined, 1000);
    process.send({ type: 'ready' }, () => process.disconnect());`,
};

type FakeClock = ReturnType<typeof FakeTimers.createClock>;

/** Builds a Clock over a fake-timers clock that only the test advances. */
function createFakeClock(): { clock: Clock; fake: FakeClock } {
  const fake = FakeTimers.createClock(0);
  const clock: Clock = {
    now: () => fake.now,
    monotonic: () => fake.now,
    sleep: (ms) => new Promise<void>((resolve) => fake.setTimeout(() => resolve(), ms)),
    setTimeout: (callback, ms) => fake.setTimeout(callback, ms) as unknown as NodeJS.Timeout,
    clearTimeout: (handle) => fake.clearTimeout(handle as unknown as FakeTimers.TimerId),
  };
  return { clock, fake };
}

describe('stopFleetChild', () => {
  const children: ChildProcess[] = [];
  let clock: Clock;
  let fake: FakeClock;

  beforeEach(() => {
    ({ clock, fake } = createFakeClock());
  });

  afterEach(() => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  /** Spawns Node on `script` with an IPC channel and resolves once it reported ready. */
  async function spawnChild(script: string): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['-e', script], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    const [message] = (await once(child, 'message')) as [unknown];
    assert.deepEqual(message, { type: 'ready' });
    return child;
  }

  it('resolves for a child that already exited', async () => {
    const child = spawn(process.execPath, ['-e', 'process.exit(0)'], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    await once(child, 'exit');

    assert.equal(await stopFleetChild(child, { clock, timeoutMs: 1000 }), 'already_exited');
    assert.equal(child.exitCode, 0);
    assert.equal(child.signalCode, null);
  });

  it('resolves for a child a signal already killed', async () => {
    const child = await spawnChild(CHILD_SCRIPTS.ignoresStop);
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;

    assert.equal(await stopFleetChild(child, { clock, timeoutMs: 1000 }), 'already_exited');
    assert.equal(child.exitCode, null);
    assert.equal(child.signalCode, 'SIGKILL');
  });

  it('waits for a child that obeys the stop', async () => {
    const child = await spawnChild(CHILD_SCRIPTS.obeysStop);

    assert.equal(await stopFleetChild(child, { clock, timeoutMs: 1000 }), 'exited');
    assert.equal(child.exitCode, 0);
    assert.equal(child.signalCode, null);
    assert.equal(fake.now, 0);
  });

  it('kills a child that ignores the stop after the timeout', async () => {
    const child = await spawnChild(CHILD_SCRIPTS.ignoresStop);
    const received = once(child, 'message');
    const stopping = stopFleetChild(child, { clock, timeoutMs: 1000 });
    const [request] = (await received) as [unknown];
    assert.deepEqual(request, { type: 'received', request: 'stop' });

    fake.tick(999);
    assert.ok(child.pid !== undefined);
    assert.equal(await isRunning(child.pid), true);
    assert.equal(child.signalCode, null);
    fake.tick(1);

    assert.equal(await stopping, 'killed');
    assert.equal(child.exitCode, null);
    assert.equal(child.signalCode, 'SIGKILL');
  });

  it('handles the send error of a disconnected child', async () => {
    const child = spawn(process.execPath, ['-e', CHILD_SCRIPTS.disconnects], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    await once(child, 'disconnect');
    const errors: Error[] = [];
    child.on('error', (error) => errors.push(error));
    const stopping = stopFleetChild(child, { clock, timeoutMs: 1000 });
    // Node reports the failed send on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    fake.tick(1000);

    assert.equal(await stopping, 'killed');
    assert.equal(child.connected, false);
    assert.equal(child.signalCode, 'SIGKILL');
    assert.deepEqual(errors, []);
  });

  it('rejects a negative timeout', async () => {
    const child = spawn(process.execPath, ['-e', 'process.exit(0)'], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    await once(child, 'exit');

    await assert.rejects(stopFleetChild(child, { timeoutMs: -1 }), {
      name: 'RangeError',
      message: 'invalid timeoutMs -1: expected a finite number of ms, 0 or more',
    });
  });
});
