import assert from 'node:assert/strict';
import type { Socket } from 'node:net';

import { type Proxy as ToxiproxyProxy, Toxiproxy } from 'toxiproxy-node-client';

import {
  collect,
  echoRoundTrip,
  openSocket,
  portOf,
  startEchoServer,
  startHttpServer,
  startSendServer,
  statusOf,
  type TestServer,
  timeHttpGet,
  uniqueName,
} from './support.js';

type ToxicBody = Parameters<ToxiproxyProxy['addToxic']>[0];

/** Builds a toxic create body with Toxiproxy's defaults spelled out. */
function toxic(
  type: ToxicBody['type'],
  attributes: Record<string, number>,
  extra: Partial<ToxicBody> = {},
): ToxicBody {
  return { name: `${type}_test`, type, stream: 'downstream', toxicity: 1, attributes, ...extra };
}

/**
 * Registers the Toxiproxy 2.x conformance tests. `baseUrl` is read in `before` hooks, so
 * the server may start in the caller's own `before`. Tests drive the server only through
 * toxiproxy-node-client and use upstream servers they start on 127.0.0.1.
 */
export function defineToxiproxyConformance(baseUrl: () => string): void {
  let client: Toxiproxy;
  let echo: TestServer;
  const created: string[] = [];

  before(async () => {
    client = new Toxiproxy(baseUrl());
    echo = await startEchoServer();
  });

  after(async () => {
    await echo.close();
  });

  afterEach(async () => {
    for (const name of created.splice(0)) {
      await client.get(name).then(
        (proxy) => proxy.remove(),
        () => undefined,
      );
    }
  });

  async function createProxy(label: string, upstream = echo.address): Promise<ToxiproxyProxy> {
    const name = uniqueName(label);
    created.push(name);
    return client.createProxy({ name, listen: '127.0.0.1:0', upstream });
  }

  describe('API', () => {
    it('reports a 2.x version', async () => {
      const text = await client.getVersion();
      assert.match(text, /"?version"?\s*:\s*"2\.|^2\./);
    });

    it('creates a proxy on a free loopback port', async () => {
      const proxy = await createProxy('create');
      assert.equal(proxy.enabled, true);
      assert.equal(proxy.upstream, echo.address);
      assert.match(proxy.listen, /^127\.0\.0\.1:\d+$/);
      assert.notEqual(portOf(proxy.listen), 0);
      const listed = await client.getAll();
      assert.equal(listed[proxy.name]?.listen, proxy.listen);
    });

    it('forwards bytes without toxics', async () => {
      const proxy = await createProxy('forward');
      const socket = await openSocket(portOf(proxy.listen));
      await echoRoundTrip(socket, 'hello through the proxy');
      socket.destroy();
    });

    it('rejects a duplicate proxy name with 409', async () => {
      const proxy = await createProxy('duplicate');
      const duplicate = { name: proxy.name, listen: '127.0.0.1:0', upstream: echo.address };
      assert.equal(await statusOf(client.createProxy(duplicate)), 409);
    });

    it('returns 404 for a missing toxic', async () => {
      const proxy = await createProxy('missing_toxic');
      assert.equal(await statusOf(proxy.getToxic('no_such_toxic')), 404);
    });

    it('returns 404 for a missing proxy', async () => {
      assert.equal(await statusOf(client.get(uniqueName('absent'))), 404);
    });

    it('rejects a duplicate toxic name with 409', async () => {
      const proxy = await createProxy('duplicate_toxic');
      await proxy.addToxic(toxic('latency', { latency: 1 }));
      assert.equal(await statusOf(proxy.addToxic(toxic('latency', { latency: 2 }))), 409);
    });

    it('names a toxic <type>_<stream> by default', async () => {
      const proxy = await createProxy('default_name');
      const api = client.getApi();
      const body = { type: 'latency', stream: 'upstream', attributes: { latency: 5 } };
      const created = await api.post<{ name: string; toxicity: number }>(
        `${proxy.getPath()}/toxics`,
        body,
      );
      assert.equal(created.data.name, 'latency_upstream');
      assert.equal(created.data.toxicity, 1);
      const fetched = await proxy.getToxic('latency_upstream');
      assert.equal(fetched.stream, 'upstream');
      assert.deepEqual(fetched.attributes, { latency: 5, jitter: 0 });
    });

    it('updates toxic attributes', async () => {
      const proxy = await createProxy('update_toxic');
      const added = await proxy.addToxic(toxic('latency', { latency: 10, jitter: 0 }));
      const updated = await added.update(toxic('latency', { latency: 20, jitter: 0 }));
      assert.equal((updated.attributes as { latency: number }).latency, 20);
    });

    it('deletes a toxic and then returns 404 for it', async () => {
      const proxy = await createProxy('delete_toxic');
      const added = await proxy.addToxic(toxic('latency', { latency: 10 }));
      await added.remove();
      assert.equal(await statusOf(proxy.getToxic(added.name)), 404);
    });

    it('rejects an unknown toxic type with 400', async () => {
      const proxy = await createProxy('bad_type');
      const body = { ...toxic('latency', {}), type: 'teleport' } as unknown as ToxicBody;
      assert.equal(await statusOf(proxy.addToxic(body)), 400);
    });

    it('rejects an unknown stream with 400', async () => {
      const proxy = await createProxy('bad_stream');
      const body = toxic('latency', {}, { stream: 'sideways' as ToxicBody['stream'] });
      assert.equal(await statusOf(proxy.addToxic(body)), 400);
    });

    it('rejects a proxy without name or upstream with 400', async () => {
      const noName = { name: '', listen: '127.0.0.1:0', upstream: echo.address };
      assert.equal(await statusOf(client.createProxy(noName)), 400);
      const noUpstream = { name: uniqueName('no_upstream'), listen: '127.0.0.1:0', upstream: '' };
      assert.equal(await statusOf(client.createProxy(noUpstream)), 400);
    });

    it('returns 500 for a listen port in use and keeps serving', async () => {
      const first = await createProxy('port_owner');
      const name = uniqueName('port_taken');
      const body = { name, listen: first.listen, upstream: echo.address };
      assert.equal(await statusOf(client.createProxy(body)), 500);
      assert.equal(await statusOf(client.get(name)), 404);
      assert.equal((await client.get(first.name)).listen, first.listen);
    });

    it('populates a list of proxies', async () => {
      const names = [uniqueName('populate_a'), uniqueName('populate_b')];
      created.push(...names);
      const proxies = await client.populate(
        names.map((name) => ({ name, listen: '127.0.0.1:0', upstream: echo.address })),
      );
      assert.deepEqual(Object.keys(proxies).sort(), [...names].sort());
      for (const proxy of Object.values(proxies)) {
        const socket = await openSocket(portOf(proxy.listen));
        await echoRoundTrip(socket, proxy.name);
        socket.destroy();
      }
    });
  });

  describe('enable and reset', () => {
    it('drops open connections when a proxy is disabled', async () => {
      const proxy = await createProxy('disable');
      const socket = await openSocket(portOf(proxy.listen));
      await echoRoundTrip(socket, 'before');
      const closing = collect(socket, 3000);
      const disabled = await proxy.update({ ...proxy.toJson(), enabled: false });
      const outcome = await closing;
      assert.equal(disabled.enabled, false);
      assert.equal(outcome.closed, true);
      await assert.rejects(openSocket(portOf(proxy.listen)), { code: 'ECONNREFUSED' });
    });

    it('re-enables on the same port', async () => {
      const proxy = await createProxy('reenable');
      await proxy.update({ ...proxy.toJson(), enabled: false });
      const enabled = await proxy.update({ ...proxy.toJson(), enabled: true });
      assert.equal(enabled.listen, proxy.listen);
      const socket = await openSocket(portOf(enabled.listen));
      await echoRoundTrip(socket, 'again');
      socket.destroy();
    });

    it('resets: enables every proxy and removes every toxic', async () => {
      const first = await createProxy('reset_a');
      const second = await createProxy('reset_b');
      await first.addToxic(toxic('latency', { latency: 1000 }));
      await second.update({ ...second.toJson(), enabled: false });
      await client.reset();
      assert.equal((await client.get(second.name)).enabled, true);
      assert.equal(await statusOf(first.getToxic('latency_test')), 404);
      const socket = await openSocket(portOf(second.listen));
      await echoRoundTrip(socket, 'after reset');
      socket.destroy();
      const fast = await openSocket(portOf(first.listen));
      assert.ok((await echoRoundTrip(fast, 'no latency')) < 500);
      fast.destroy();
    });

    it('reset keeps connections without a timeout toxic', async () => {
      const proxy = await createProxy('reset_keep');
      await proxy.addToxic(toxic('latency', { latency: 1000, jitter: 0 }));
      const socket = await openSocket(portOf(proxy.listen));
      // The echo of this text is still queued in the latency toxic when the reset removes it.
      const delayed = collect(socket, 3000, (data) => data.length >= 'held;'.length);
      socket.write('held;');
      await new Promise((resolve) => setTimeout(resolve, 200));
      await client.reset();
      const flushed = await delayed;
      const after = await probeEcho(socket, 'after reset;');
      socket.destroy();
      assert.equal(flushed.data.toString(), 'held;');
      assert.equal(flushed.closed, false);
      assert.ok(flushed.elapsedMs < 900, `held data came after ${flushed.elapsedMs.toFixed(0)} ms`);
      assert.equal(after, true);
    });
  });

  describe('toxics', () => {
    let http: TestServer;
    let slowHttp: TestServer;

    before(async () => {
      http = await startHttpServer();
      slowHttp = await startHttpServer(50);
    });

    after(async () => {
      await http.close();
      await slowHttp.close();
    });

    it('latency 1000 ms downstream adds about 1 s per round trip', async () => {
      const proxy = await createProxy('latency', http.address);
      const baseline = await timeHttpGet(portOf(proxy.listen));
      await proxy.addToxic(toxic('latency', { latency: 1000, jitter: 0 }));
      const delayed = await timeHttpGet(portOf(proxy.listen));
      const added = delayed - baseline;
      assert.ok(added >= 900, `added ${added.toFixed(0)} ms`);
      assert.ok(added <= 1500, `added ${added.toFixed(0)} ms`);
    });

    it('latency passes 4 MiB in one period', async () => {
      const payload = Buffer.alloc(4 * 1024 * 1024, 9);
      const source = await startSendServer(payload);
      const proxy = await createProxy('latency_bulk', source.address);
      await proxy.addToxic(toxic('latency', { latency: 500, jitter: 0 }));
      const socket = await openSocket(portOf(proxy.listen));
      // Toxiproxy queues up to 1024 chunks of at most 32 KiB in front of a latency toxic, so
      // 4 MiB from a fast sender waits one period, not one period per MiB.
      const outcome = await collect(socket, 10_000);
      await source.close();
      assert.equal(outcome.data.length, payload.length);
      assert.equal(outcome.closed, true);
      assert.ok(outcome.elapsedMs >= 450, `4 MiB took ${outcome.elapsedMs.toFixed(0)} ms`);
      assert.ok(outcome.elapsedMs < 1200, `4 MiB took ${outcome.elapsedMs.toFixed(0)} ms`);
    });

    it('latency on the upstream stream delays requests', async () => {
      const proxy = await createProxy('latency_up');
      await proxy.addToxic(toxic('latency', { latency: 500, jitter: 0 }, { stream: 'upstream' }));
      const socket = await openSocket(portOf(proxy.listen));
      const elapsed = await echoRoundTrip(socket, 'up');
      socket.destroy();
      assert.ok(elapsed >= 450, `round trip ${elapsed.toFixed(0)} ms`);
      assert.ok(elapsed <= 900, `round trip ${elapsed.toFixed(0)} ms`);
    });

    it('timeout 10000 ms sends nothing and closes after about 10 s', async function () {
      this.timeout(15_000);
      const proxy = await createProxy('timeout', slowHttp.address);
      await proxy.addToxic(toxic('timeout', { timeout: 10_000 }));
      const socket = await openSocket(portOf(proxy.listen));
      const outcome = collect(socket, 12_000);
      socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      const { data, closed, elapsedMs } = await outcome;
      assert.equal(data.length, 0);
      assert.equal(closed, true);
      assert.ok(elapsedMs >= 9500, `closed after ${elapsedMs.toFixed(0)} ms`);
      assert.ok(elapsedMs <= 11_000, `closed after ${elapsedMs.toFixed(0)} ms`);
    });

    it('timeout 0 holds data until removal closes', async () => {
      const proxy = await createProxy('timeout_zero');
      const socket = await openSocket(portOf(proxy.listen));
      const added = await proxy.addToxic(toxic('timeout', { timeout: 0 }));
      const heldOutcome = collect(socket, 500);
      socket.write('ping');
      const during = await heldOutcome;
      assert.equal(during.data.length, 0);
      assert.equal(during.closed, false);
      const afterOutcome = collect(socket, 3000);
      await added.remove();
      const after = await afterOutcome;
      socket.destroy();
      assert.equal(after.data.length, 0);
      assert.equal(after.closed, true);
      assert.ok(after.elapsedMs < 2000, `closed after ${after.elapsedMs.toFixed(0)} ms`);
    });

    for (const stream of ['upstream', 'downstream'] as const) {
      it(`timeout removal closes skipped ${stream} connection`, async () => {
        const proxy = await createProxy(`timeout_skipped_${stream}`);
        const attributes = { timeout: 0 };
        const added = await proxy.addToxic(toxic('timeout', attributes, { stream, toxicity: 0 }));
        const socket = await openSocket(portOf(proxy.listen));
        await echoRoundTrip(socket, 'passes;');
        const outcome = collect(socket, 3000);
        await added.remove();
        const { data, closed, elapsedMs } = await outcome;
        socket.destroy();
        assert.equal(data.length, 0);
        assert.equal(closed, true);
        assert.ok(elapsedMs < 2000, `closed after ${elapsedMs.toFixed(0)} ms`);
      });

      it(`timeout removal closes held ${stream} connection`, async () => {
        const proxy = await createProxy(`timeout_held_${stream}`);
        const attributes = { timeout: 0 };
        const added = await proxy.addToxic(toxic('timeout', attributes, { stream, toxicity: 1 }));
        const socket = await openSocket(portOf(proxy.listen));
        const echoed = await probeEcho(socket, 'dropped;');
        const outcome = collect(socket, 3000);
        await added.remove();
        const { data, closed, elapsedMs } = await outcome;
        socket.destroy();
        assert.equal(echoed, false);
        assert.equal(data.length, 0);
        assert.equal(closed, true);
        assert.ok(elapsedMs < 2000, `closed after ${elapsedMs.toFixed(0)} ms`);
      });

      it(`timeout removal at toxicity 0.5 closes every ${stream} connection`, async () => {
        const proxy = await createProxy(`timeout_half_${stream}`);
        const attributes = { timeout: 0 };
        const added = await proxy.addToxic(toxic('timeout', attributes, { stream, toxicity: 0.5 }));
        // 24 draws at 0.5 are all alike with probability 2 * 0.5^24, about 1 in 8 million.
        const sockets = await Promise.all(
          Array.from({ length: 24 }, () => openSocket(portOf(proxy.listen))),
        );
        const echoed = await Promise.all(sockets.map((socket) => probeEcho(socket, 'probe;')));
        const outcomes = Promise.all(sockets.map((socket) => collect(socket, 3000)));
        await added.remove();
        const closed = (await outcomes).filter((outcome) => outcome.closed);
        for (const socket of sockets) socket.destroy();
        const skipped = echoed.filter(Boolean).length;
        assert.ok(skipped >= 1, `${skipped} of 24 connections skipped by the draw`);
        assert.ok(skipped <= 23, `${skipped} of 24 connections skipped by the draw`);
        assert.equal(closed.length, 24);
      });

      it(`timeout removal closes a bare ${stream} connection at once`, async () => {
        const proxy = await createProxy(`timeout_bare_${stream}`);
        const attributes = { timeout: 0 };
        const added = await proxy.addToxic(toxic('timeout', attributes, { stream }));
        const socket = await openSocket(portOf(proxy.listen));
        const outcome = collect(socket, 3000);
        await added.remove();
        const { closed, elapsedMs } = await outcome;
        socket.destroy();
        assert.equal(closed, true);
        assert.ok(elapsedMs < 200, `closed after ${elapsedMs.toFixed(0)} ms`);
      });

      it(`timeout removal honours a later ${stream} slow_close`, async () => {
        const proxy = await createProxy(`timeout_slow_close_${stream}`);
        const added = await proxy.addToxic(toxic('timeout', { timeout: 0 }, { stream }));
        await proxy.addToxic(toxic('slow_close', { delay: 800 }, { stream }));
        const socket = await openSocket(portOf(proxy.listen));
        const outcome = collect(socket, 3000);
        await added.remove();
        const { data, closed, elapsedMs } = await outcome;
        socket.destroy();
        assert.equal(data.length, 0);
        assert.equal(closed, true);
        assert.ok(elapsedMs >= 800, `closed after ${elapsedMs.toFixed(0)} ms`);
        assert.ok(elapsedMs < 1500, `closed after ${elapsedMs.toFixed(0)} ms`);
      });

      it(`timeout deadline closes a bare ${stream} connection`, async () => {
        const proxy = await createProxy(`timeout_idle_bare_${stream}`);
        await proxy.addToxic(toxic('timeout', { timeout: 200 }, { stream }));
        const socket = await openSocket(portOf(proxy.listen));
        const { data, closed, elapsedMs } = await collect(socket, 3000);
        socket.destroy();
        assert.equal(data.length, 0);
        assert.equal(closed, true);
        assert.ok(elapsedMs >= 150, `closed after ${elapsedMs.toFixed(0)} ms`);
        assert.ok(elapsedMs < 700, `closed after ${elapsedMs.toFixed(0)} ms`);
      });

      it(`timeout deadline honours a later ${stream} slow_close`, async () => {
        const proxy = await createProxy(`timeout_idle_slow_close_${stream}`);
        await proxy.addToxic(toxic('timeout', { timeout: 200 }, { stream }));
        await proxy.addToxic(toxic('slow_close', { delay: 800 }, { stream }));
        const socket = await openSocket(portOf(proxy.listen));
        // The idle deadline ends the stream after 200 ms, and the slow_close delays that end 800 ms.
        const { data, closed, elapsedMs } = await collect(socket, 3000);
        socket.destroy();
        assert.equal(data.length, 0);
        assert.equal(closed, true);
        assert.ok(elapsedMs >= 950, `closed after ${elapsedMs.toFixed(0)} ms`);
        assert.ok(elapsedMs < 1700, `closed after ${elapsedMs.toFixed(0)} ms`);
      });

      it(`timeout removal lets new ${stream} connections pass`, async () => {
        const proxy = await createProxy(`timeout_after_${stream}`);
        const attributes = { timeout: 0 };
        const added = await proxy.addToxic(toxic('timeout', attributes, { stream, toxicity: 1 }));
        const heldSocket = await openSocket(portOf(proxy.listen));
        const heldClosing = collect(heldSocket, 3000);
        await added.remove();
        const heldOutcome = await heldClosing;
        heldSocket.destroy();
        assert.equal(heldOutcome.closed, true);
        const socket = await openSocket(portOf(proxy.listen));
        await echoRoundTrip(socket, 'after removal;');
        const { data, closed } = await collect(socket, 300);
        socket.destroy();
        assert.equal(data.length, 0);
        assert.equal(closed, false);
      });
    }

    it('timeout removal delivers data a later latency holds', async () => {
      const proxy = await createProxy('timeout_latency');
      const added = await proxy.addToxic(toxic('timeout', { timeout: 0 }, { toxicity: 0 }));
      await proxy.addToxic(toxic('latency', { latency: 500, jitter: 0 }));
      const socket = await openSocket(portOf(proxy.listen));
      const outcome = collect(socket, 3000);
      socket.write('held;');
      // The echo passes the skipped timeout toxic within this wait and waits in the latency toxic.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await added.remove();
      const { data, closed, elapsedMs } = await outcome;
      socket.destroy();
      assert.equal(data.toString(), 'held;');
      assert.equal(closed, true);
      assert.ok(elapsedMs >= 450, `closed after ${elapsedMs.toFixed(0)} ms`);
      assert.ok(elapsedMs < 1500, `closed after ${elapsedMs.toFixed(0)} ms`);
    });

    it('timeout deadline delivers data a later latency holds', async () => {
      let echoed: () => void = () => undefined;
      const echoWritten = new Promise<void>((resolve) => {
        echoed = resolve;
      });
      const upstream = await startEchoServer(() => echoed());
      const proxy = await createProxy('timeout_idle_latency', upstream.address);
      const skipped = toxic('timeout', { timeout: 200 }, { toxicity: 0 });
      const added = await proxy.addToxic(skipped);
      await proxy.addToxic(toxic('latency', { latency: 600, jitter: 0 }));
      const socket = await openSocket(portOf(proxy.listen));
      const outcome = collect(socket, 3000);
      socket.write('held;');
      // Once the echo is written, it passes the skipped timeout toxic within this wait, because
      // that hop is one loopback write, and then waits in the latency toxic.
      await echoWritten;
      await new Promise((resolve) => setTimeout(resolve, 100));
      // The update draws the toxicity again, so the timeout toxic acts and its deadline comes
      // about 300 ms after the write, while the latency toxic delays the echo to about 600 ms.
      await added.update({ ...skipped, toxicity: 1 });
      const { data, closed, elapsedMs } = await outcome;
      socket.destroy();
      await upstream.close();
      assert.equal(data.toString(), 'held;');
      assert.equal(closed, true);
      assert.ok(elapsedMs >= 550, `closed after ${elapsedMs.toFixed(0)} ms`);
      assert.ok(elapsedMs < 1500, `closed after ${elapsedMs.toFixed(0)} ms`);
    });

    it('bandwidth rate 0 is unlimited', async () => {
      const payload = Buffer.alloc(1024 * 1024, 7);
      const source = await startSendServer(payload);
      const proxy = await createProxy('bandwidth_zero', source.address);
      await proxy.addToxic(toxic('bandwidth', { rate: 0 }));
      const socket = await openSocket(portOf(proxy.listen));
      const outcome = await collect(socket, 5000);
      await source.close();
      assert.equal(outcome.data.length, payload.length);
      assert.equal(outcome.closed, true);
      assert.ok(outcome.elapsedMs < 2000, `1 MB took ${outcome.elapsedMs.toFixed(0)} ms`);
    });

    it('bandwidth throttles to the rate in KB/s', async () => {
      const source = await startSendServer(Buffer.alloc(50_000, 1));
      const proxy = await createProxy('bandwidth', source.address);
      await proxy.addToxic(toxic('bandwidth', { rate: 100 }));
      const socket = await openSocket(portOf(proxy.listen));
      const outcome = await collect(socket, 5000);
      await source.close();
      assert.equal(outcome.data.length, 50_000);
      const ms = outcome.elapsedMs;
      assert.ok(ms >= 400, `50 KB at 100 KB/s took ${ms.toFixed(0)} ms`);
      assert.ok(ms <= 1200, `50 KB at 100 KB/s took ${ms.toFixed(0)} ms`);
    });

    it('toxicity 0.5 affects about half of 200 connections', async function () {
      this.timeout(20_000);
      const proxy = await createProxy('toxicity');
      await proxy.addToxic(toxic('timeout', { timeout: 20 }, { toxicity: 0.5 }));
      let affected = 0;
      for (let batch = 0; batch < 10; batch += 1) {
        const results = await Promise.all(
          Array.from({ length: 20 }, () => probeTimeout(portOf(proxy.listen))),
        );
        affected += results.filter(Boolean).length;
      }
      assert.ok(affected >= 70, `${affected} of 200 affected`);
      assert.ok(affected <= 130, `${affected} of 200 affected`);
    });

    it('slicer splits data into small pieces', async () => {
      const proxy = await createProxy('slicer');
      const attributes = { average_size: 10, size_variation: 0, delay: 5000 };
      await proxy.addToxic(toxic('slicer', attributes));
      const socket = await openSocket(portOf(proxy.listen));
      const outcome = collect(socket, 3000, (data) => data.length >= 100);
      socket.write(Buffer.alloc(100, 65));
      const { data, maxChunk, chunks } = await outcome;
      socket.destroy();
      assert.equal(data.length, 100);
      assert.ok(maxChunk <= 20, `largest read ${maxChunk} bytes`);
      assert.ok(chunks >= 5, `${chunks} reads`);
    });

    it('limit_data closes after the byte limit', async () => {
      const proxy = await createProxy('limit_data');
      await proxy.addToxic(toxic('limit_data', { bytes: 10 }));
      const socket = await openSocket(portOf(proxy.listen));
      const outcome = collect(socket, 3000);
      socket.write(Buffer.alloc(100, 66));
      const { data, closed } = await outcome;
      assert.equal(data.length, 10);
      assert.equal(closed, true);
    });

    it('reset_peer resets the connection after its timeout', async () => {
      const proxy = await createProxy('reset_peer');
      await proxy.addToxic(toxic('reset_peer', { timeout: 100 }));
      const socket = await openSocket(portOf(proxy.listen));
      const outcome = collect(socket, 3000);
      socket.write('will be reset');
      const { data, closed, errorCode, elapsedMs } = await outcome;
      assert.equal(data.length, 0);
      assert.equal(closed, true);
      assert.equal(errorCode, 'ECONNRESET');
      assert.ok(elapsedMs >= 90, `reset after ${elapsedMs.toFixed(0)} ms`);
    });

    it('slow_close delays the close by its delay', async () => {
      const source = await startSendServer(Buffer.from('bye'));
      const proxy = await createProxy('slow_close', source.address);
      await proxy.addToxic(toxic('slow_close', { delay: 500 }));
      const socket = await openSocket(portOf(proxy.listen));
      const { data, closed, elapsedMs } = await collect(socket, 3000);
      await source.close();
      assert.equal(data.toString(), 'bye');
      assert.equal(closed, true);
      assert.ok(elapsedMs >= 450, `closed after ${elapsedMs.toFixed(0)} ms`);
      assert.ok(elapsedMs <= 1200, `closed after ${elapsedMs.toFixed(0)} ms`);
    });
  });
}

/** True when a fresh connection got no echo and was closed by a timeout toxic. */
async function probeTimeout(port: number): Promise<boolean> {
  const socket = await openSocket(port);
  const outcome = collect(socket, 2000, (data) => data.length >= 1);
  socket.write('x');
  const { data, closed } = await outcome;
  socket.destroy();
  return data.length === 0 && closed;
}

/**
 * Sends `text` and returns whether it came back within 300 ms. A timeout toxic acting on the
 * connection drops it, and where its toxicity draw skipped the connection, the echo is immediate.
 */
async function probeEcho(socket: Socket, text: string): Promise<boolean> {
  const outcome = collect(socket, 300, (data) => data.length >= text.length);
  socket.write(text);
  const { data } = await outcome;
  return data.toString() === text;
}
