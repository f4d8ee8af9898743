import assert from 'node:assert/strict';

import { type Proxy as ToxiproxyProxy, Toxiproxy } from 'toxiproxy-node-client';

import { type FaultProxyHandle, startFaultProxy } from '../../../src/faults/proxy/index.js';
import { defineToxiproxyConformance } from './conformance.js';
import {
  collect,
  echoRoundTrip,
  openSocket,
  portOf,
  startEchoServer,
  uniqueName,
} from './support.js';

describe('FaultProxy (embedded)', () => {
  let server: FaultProxyHandle;

  before(async () => {
    server = await startFaultProxy({ port: 0 });
  });

  after(async () => {
    await server.close();
  });

  defineToxiproxyConformance(() => server.url);

  /** Runs `test` with a proxy in front of a fresh echo server, and removes both after. */
  async function withEchoProxy(label: string, test: (proxy: ToxiproxyProxy) => Promise<void>) {
    const echo = await startEchoServer();
    const proxy = await new Toxiproxy(server.url).createProxy({
      name: uniqueName(label),
      listen: '127.0.0.1:0',
      upstream: echo.address,
    });
    try {
      await test(proxy);
    } finally {
      await proxy.remove();
      await echo.close();
    }
  }

  it('applies a raised toxicity to an open connection', async () => {
    await withEchoProxy('toxicity-raised', async (proxy) => {
      const latency = (toxicity: number) => ({
        name: 'slow',
        type: 'latency' as const,
        stream: 'downstream' as const,
        toxicity,
        attributes: { latency: 500, jitter: 0 },
      });
      const toxic = await proxy.addToxic(latency(0));
      const socket = await openSocket(portOf(proxy.listen));
      const before = await echoRoundTrip(socket, 'one;');
      await toxic.update(latency(1));
      const after = await echoRoundTrip(socket, 'two;');
      socket.destroy();
      assert.ok(before < 250, `round trip ${before.toFixed(0)} ms before the update`);
      assert.ok(after >= 450, `round trip ${after.toFixed(0)} ms after the update`);
    });
  });

  it('forwards what reset_peer held when the toxic is removed during its wait', async () => {
    await withEchoProxy('reset-removed', async (proxy) => {
      const toxic = await proxy.addToxic({
        name: 'reset-held',
        type: 'reset_peer',
        stream: 'upstream',
        toxicity: 1,
        attributes: { timeout: 1000 },
      });
      const socket = await openSocket(portOf(proxy.listen));
      const outcome = collect(socket, 3000, (data) => data.length >= 12);
      socket.write('hello;');
      await new Promise((resolve) => setTimeout(resolve, 200));
      await toxic.remove();
      socket.write('world;');
      const { data, closed, errorCode } = await outcome;
      socket.destroy();
      assert.equal(data.toString(), 'hello;world;');
      assert.equal(closed, false);
      assert.equal(errorCode, undefined);
    });
  });

  it('restarts the timeout timer on each chunk', async () => {
    await withEchoProxy('timeout-idle', async (proxy) => {
      await proxy.addToxic({
        name: 'idle-close',
        type: 'timeout',
        stream: 'upstream',
        toxicity: 1,
        attributes: { timeout: 600 },
      });
      const socket = await openSocket(portOf(proxy.listen));
      let closed = false;
      socket.on('close', () => {
        closed = true;
      });
      for (let write = 0; write < 6; write += 1) {
        socket.write('x');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const closedWhileWriting = closed;
      const idle = await collect(socket, 2000);
      socket.destroy();
      assert.equal(closedWhileWriting, false);
      assert.equal(idle.data.length, 0);
      assert.equal(idle.closed, true);
      assert.ok(idle.elapsedMs >= 250, `closed ${idle.elapsedMs.toFixed(0)} ms after idle`);
      assert.ok(idle.elapsedMs <= 1000, `closed ${idle.elapsedMs.toFixed(0)} ms after idle`);
    });
  });

  it('closes timeout-held connections on reset', async () => {
    await withEchoProxy('timeout-reset', async (proxy) => {
      await proxy.addToxic({
        name: 'hold',
        type: 'timeout',
        stream: 'downstream',
        toxicity: 1,
        attributes: { timeout: 0 },
      });
      const socket = await openSocket(portOf(proxy.listen));
      socket.write('held;');
      await new Promise((resolve) => setTimeout(resolve, 200));
      const outcome = collect(socket, 3000);
      await new Toxiproxy(server.url).reset();
      const { data, closed, elapsedMs } = await outcome;
      socket.destroy();
      assert.equal(data.length, 0);
      assert.equal(closed, true);
      assert.ok(elapsedMs < 2000, `closed ${elapsedMs.toFixed(0)} ms after the reset`);
    });
  });
});
