import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { ToxiproxyError } from 'toxiproxy-node-client';

import { type FaultProxyHandle, startFaultProxy } from '../../../src/faults/proxy/index.js';
import { createToxiproxyClient } from '../../../src/platform/runtime/toxiproxy-client.js';

async function listen(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('createToxiproxyClient', () => {
  const servers: Server[] = [];
  let proxy: FaultProxyHandle | undefined;

  afterEach(async () => {
    await Promise.all(servers.splice(0).map(closeServer));
    await proxy?.close();
    proxy = undefined;
  });

  it('rejects a redirect', async () => {
    // The second listener plays the part of another machine, so nothing leaves loopback.
    const reached: string[] = [];
    const target = await listen((req, res) => {
      reached.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    const redirecting = await listen((req, res) => {
      req.resume();
      res.writeHead(307, { location: `${target.url}${req.url}` }).end();
    });
    servers.push(target.server, redirecting.server);
    const toxiproxy = createToxiproxyClient(redirecting.url);

    const calls: [string, () => Promise<unknown>][] = [
      ['create', () => toxiproxy.createProxy({ name: 'p', listen: '127.0.0.1:0', upstream: 'x' })],
      ['get', () => toxiproxy.get('p')],
      ['list', () => toxiproxy.getAll()],
      ['version', () => toxiproxy.getVersion()],
    ];
    for (const [name, call] of calls) {
      await assert.rejects(call(), (error: unknown) => {
        assert.ok(error instanceof ToxiproxyError, `${name}: ${String(error)}`);
        assert.match(error.message, /failed: fetch failed: unexpected redirect/, name);
        return true;
      });
    }
    assert.deepEqual(reached, []);
  });

  it('drives the embedded fault proxy', async () => {
    proxy = await startFaultProxy({ host: '127.0.0.1', port: 0 });
    const toxiproxy = createToxiproxyClient(proxy.url);

    const created = await toxiproxy.createProxy({
      name: 'p',
      listen: '127.0.0.1:0',
      upstream: '127.0.0.1:1',
    });
    await created.addToxic({
      name: 'slow',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 10, jitter: 0 },
    });

    assert.match(created.listen, /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(Object.keys(await toxiproxy.getAll()), ['p']);
    const toxic = await (await toxiproxy.get('p')).getToxic('slow');
    assert.deepEqual(toxic.attributes, { latency: 10, jitter: 0 });
    await created.remove();
    assert.deepEqual(Object.keys(await toxiproxy.getAll()), []);
  });

  it('names the status of a failed call', async () => {
    proxy = await startFaultProxy({ host: '127.0.0.1', port: 0 });
    const toxiproxy = createToxiproxyClient(proxy.url);

    await assert.rejects(toxiproxy.get('missing'), (error: unknown) => {
      assert.ok(error instanceof ToxiproxyError, String(error));
      assert.equal(
        error.message,
        `GET ${proxy?.url}/proxies/missing failed: Request failed with status code 404`,
      );
      return true;
    });
  });
});
