import assert from 'node:assert/strict';

import { type Proxy as ToxiproxyProxy, Toxiproxy } from 'toxiproxy-node-client';

import { type FaultProxyHandle, startFaultProxy } from '../../../src/faults/proxy/index.js';
import {
  echoRoundTrip,
  openSocket,
  portOf,
  startEchoServer,
  type TestServer,
  uniqueName,
} from './support.js';

const RECEIVED = 'toxiproxy_proxy_received_bytes_total';
const SENT = 'toxiproxy_proxy_sent_bytes_total';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Parses the samples of a Prometheus text exposition, skipping comment lines. */
function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
    if (match === null) {
      continue;
    }
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] ?? ''] = pair[2] ?? '';
    }
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

describe('FaultProxy GET /metrics', () => {
  let server: FaultProxyHandle;
  let echo: TestServer;
  let proxy: ToxiproxyProxy;

  beforeEach(async () => {
    server = await startFaultProxy({ port: 0 });
    echo = await startEchoServer();
    proxy = await new Toxiproxy(server.url).createProxy({
      name: uniqueName('metrics'),
      listen: '127.0.0.1:0',
      upstream: echo.address,
    });
  });

  afterEach(async () => {
    await server.close();
    await echo.close();
  });

  async function scrape(): Promise<Sample[]> {
    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    return parseSamples(await response.text());
  }

  /** Returns the value of `name` for `direction`, or undefined when no sample has it. */
  function sampleValue(samples: Sample[], name: string, direction: string): number | undefined {
    const matching = samples.filter(
      (sample) => sample.name === name && sample.labels.direction === direction,
    );
    assert.ok(matching.length <= 1, `${matching.length} samples of ${name} ${direction}`);
    return matching[0]?.value;
  }

  it('serves the Prometheus text format', async () => {
    const response = await fetch(`${server.url}/metrics`);
    const text = await response.text();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(text, /^# TYPE toxiproxy_proxy_received_bytes_total counter$/m);
    assert.match(text, /^# TYPE toxiproxy_proxy_sent_bytes_total counter$/m);
  });

  it('labels samples with direction, listener, proxy and upstream', async () => {
    const socket = await openSocket(portOf(proxy.listen));
    await echoRoundTrip(socket, 'hello;');
    socket.destroy();
    const samples = await scrape();
    const received = samples.find(
      (sample) => sample.name === RECEIVED && sample.labels.direction === 'upstream',
    );
    assert.deepEqual(received?.labels, {
      direction: 'upstream',
      listener: proxy.listen,
      proxy: proxy.name,
      upstream: echo.address,
    });
  });

  it('counts bytes received and sent in each direction', async () => {
    const socket = await openSocket(portOf(proxy.listen));
    await echoRoundTrip(socket, 'hello;');
    socket.destroy();
    const samples = await scrape();
    assert.equal(sampleValue(samples, RECEIVED, 'upstream'), 6);
    assert.equal(sampleValue(samples, SENT, 'upstream'), 6);
    assert.equal(sampleValue(samples, RECEIVED, 'downstream'), 6);
    assert.equal(sampleValue(samples, SENT, 'downstream'), 6);
  });

  it('adds up the bytes of every connection', async () => {
    const first = await openSocket(portOf(proxy.listen));
    await echoRoundTrip(first, 'one;');
    const second = await openSocket(portOf(proxy.listen));
    await echoRoundTrip(second, 'second;');
    first.destroy();
    second.destroy();
    const samples = await scrape();
    assert.equal(sampleValue(samples, RECEIVED, 'upstream'), 11);
    assert.equal(sampleValue(samples, SENT, 'downstream'), 11);
  });

  it('counts bytes a timeout toxic drops as received but not sent', async () => {
    await proxy.addToxic({
      name: 'drop',
      type: 'timeout',
      stream: 'upstream',
      toxicity: 1,
      attributes: { timeout: 0 },
    });
    const socket = await openSocket(portOf(proxy.listen));
    socket.write('0123456789');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const samples = await scrape();
    socket.destroy();
    assert.equal(sampleValue(samples, RECEIVED, 'upstream'), 10);
    assert.equal(sampleValue(samples, SENT, 'upstream'), 0);
    assert.equal(sampleValue(samples, RECEIVED, 'downstream'), 0);
    assert.equal(sampleValue(samples, SENT, 'downstream'), 0);
  });

  it('drops the series of a deleted proxy', async () => {
    const other = await new Toxiproxy(server.url).createProxy({
      name: uniqueName('metrics-kept'),
      listen: '127.0.0.1:0',
      upstream: echo.address,
    });
    for (const listen of [proxy.listen, other.listen]) {
      const socket = await openSocket(portOf(listen));
      await echoRoundTrip(socket, 'hello;');
      socket.destroy();
    }
    await proxy.remove();
    const samples = await scrape();
    const proxies = new Set(samples.map((sample) => sample.labels.proxy));
    assert.deepEqual([...proxies], [other.name]);
    assert.equal(samples.length, 4);
  });

  it('starts a proxy created again from no series', async () => {
    const socket = await openSocket(portOf(proxy.listen));
    await echoRoundTrip(socket, 'hello;');
    socket.destroy();
    await proxy.remove();
    const again = await new Toxiproxy(server.url).createProxy({
      name: proxy.name,
      listen: '127.0.0.1:0',
      upstream: echo.address,
    });
    assert.deepEqual(await scrape(), []);
    const next = await openSocket(portOf(again.listen));
    await echoRoundTrip(next, 'hi;');
    next.destroy();
    const samples = await scrape();
    assert.equal(sampleValue(samples, RECEIVED, 'upstream'), 3);
    assert.equal(sampleValue(samples, SENT, 'downstream'), 3);
  });

  it('lists no samples before the first connection', async () => {
    const samples = await scrape();
    assert.deepEqual(samples, []);
  });
});
