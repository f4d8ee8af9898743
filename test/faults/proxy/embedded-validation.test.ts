import assert from 'node:assert/strict';
import { request } from 'node:http';

import { type Proxy as ToxiproxyProxy, Toxiproxy } from 'toxiproxy-node-client';

import { withoutTrailingSlashes } from '../../../src/faults/proxy/api.js';
import { type FaultProxyHandle, startFaultProxy } from '../../../src/faults/proxy/index.js';
import {
  echoRoundTrip,
  errorResponseOf,
  openSocket,
  portOf,
  startEchoServer,
  type TestServer,
  uniqueName,
} from './support.js';

type ToxicBody = Parameters<ToxiproxyProxy['addToxic']>[0];

/**
 * Sends a raw request and reads the whole reply, for input toxiproxy-node-client cannot
 * produce: it always sends valid JSON to well-formed paths.
 */
function sendRaw(
  url: string,
  method: 'GET' | 'POST',
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (part: string) => {
        text += part;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** Sends a raw POST of `body`. */
function postRaw(url: string, body: string): Promise<{ status: number; text: string }> {
  return sendRaw(url, 'POST', body);
}

describe('FaultProxy input validation', () => {
  let server: FaultProxyHandle;
  let client: Toxiproxy;
  let echo: TestServer;
  let proxy: ToxiproxyProxy;

  before(async () => {
    server = await startFaultProxy({ port: 0 });
    client = new Toxiproxy(server.url);
    echo = await startEchoServer();
  });

  beforeEach(async () => {
    proxy = await client.createProxy({
      name: uniqueName('validation'),
      listen: '127.0.0.1:0',
      upstream: echo.address,
    });
  });

  afterEach(async () => {
    await proxy.remove();
  });

  after(async () => {
    await echo.close();
    await server.close();
  });

  function latency(overrides: Partial<ToxicBody>): ToxicBody {
    const base: ToxicBody = {
      name: 'latency_downstream',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 10 },
    };
    return { ...base, ...overrides };
  }

  const toxicCases: ReadonlyArray<readonly [string, Partial<ToxicBody>, string]> = [
    ['unknown toxic type', { type: 'teleport' as ToxicBody['type'] }, '"type"'],
    ['unknown stream', { stream: 'sideways' as ToxicBody['stream'] }, '"stream"'],
    ['negative latency', { attributes: { latency: -5 } }, '"attributes.latency"'],
    ['negative jitter', { attributes: { latency: 5, jitter: -1 } }, '"attributes.jitter"'],
    ['toxicity above 1', { toxicity: 1.5 }, '"toxicity"'],
    ['toxicity below 0', { toxicity: -0.1 }, '"toxicity"'],
  ];

  for (const [label, overrides, field] of toxicCases) {
    it(`rejects ${label} with 400 naming ${field}`, async () => {
      const { status, body } = await errorResponseOf(() => proxy.addToxic(latency(overrides)));
      assert.equal(status, 400);
      assert.equal(body.status, 400);
      assert.ok(body.error.includes(field), body.error);
    });
  }

  it('rejects a negative attribute of any toxic type', async () => {
    const body = latency({ type: 'bandwidth', attributes: { rate: -1 } });
    const { status, body: error } = await errorResponseOf(() => proxy.addToxic(body));
    assert.equal(status, 400);
    assert.ok(error.error.includes('"attributes.rate"'), error.error);
  });

  it('rejects a misspelt attribute with 400 listing the valid ones', async () => {
    const body = latency({ attributes: { latncy: 1 } as unknown as ToxicBody['attributes'] });
    const { status, body: error } = await errorResponseOf(() => proxy.addToxic(body));
    assert.equal(status, 400);
    assert.equal(
      error.error,
      'unknown field "attributes.latncy" for toxic type latency: expected one of latency, jitter',
    );
  });

  it('rejects an unknown toxic field with 400 listing the valid ones', async () => {
    const body = { ...latency({}), upstream: 'x' } as unknown as ToxicBody;
    const { status, body: error } = await errorResponseOf(() => proxy.addToxic(body));
    assert.equal(status, 400);
    assert.equal(
      error.error,
      'unknown field "upstream" in toxic body: ' +
        'expected one of name, type, stream, toxicity, attributes',
    );
  });

  it('rejects a fractional latency with 400', async () => {
    const body = latency({ attributes: { latency: 1.5 } });
    const { status, body: error } = await errorResponseOf(() => proxy.addToxic(body));
    assert.equal(status, 400);
    assert.equal(
      error.error,
      'invalid field "attributes.latency": expected an integer from 0 to 2147483647 ' +
        '(milliseconds), got 1.5',
    );
  });

  it('rejects a latency above the timer maximum with 400', async () => {
    const body = latency({ attributes: { latency: 1e12 } });
    const { status, body: error } = await errorResponseOf(() => proxy.addToxic(body));
    assert.equal(status, 400);
    assert.equal(
      error.error,
      'invalid field "attributes.latency": expected an integer from 0 to 2147483647 ' +
        '(milliseconds), got 1000000000000',
    );
  });

  it('rejects a slicer delay above its maximum with 400', async () => {
    const attributes = { average_size: 1, size_variation: 0, delay: 2_147_483_648_000 };
    const body = latency({ type: 'slicer', attributes });
    const { status, body: error } = await errorResponseOf(() => proxy.addToxic(body));
    assert.equal(status, 400);
    assert.ok(error.error.includes('"attributes.delay"'), error.error);
    assert.ok(error.error.includes('2147483647000 (microseconds)'), error.error);
  });

  it('accepts the largest latency', async () => {
    const added = await proxy.addToxic(latency({ attributes: { latency: 2_147_483_647 } }));
    assert.deepEqual(added.attributes, { latency: 2_147_483_647, jitter: 0 });
  });

  it('rejects an unknown attribute on update with 400', async () => {
    const added = await proxy.addToxic(latency({}));
    const update = () => added.update(latency({ attributes: { rate: 5 } as never }));
    const { status, body: error } = await errorResponseOf(update);
    assert.equal(status, 400);
    assert.equal(
      error.error,
      'unknown field "attributes.rate" for toxic type latency: expected one of latency, jitter',
    );
    assert.deepEqual((await proxy.getToxic(added.name)).attributes, { latency: 10, jitter: 0 });
  });

  it('rejects malformed JSON with 400 naming the body', async () => {
    const { status, text } = await postRaw(`${server.url}/proxies`, '{"name": ');
    assert.equal(status, 400);
    const body = JSON.parse(text) as { error: string; status: number };
    assert.equal(body.status, 400);
    assert.ok(body.error.includes('"body"'), body.error);
  });

  it('rejects a missing name with 400 naming it', async () => {
    const create = () =>
      client.createProxy({ name: '', listen: '127.0.0.1:0', upstream: echo.address });
    const { status, body } = await errorResponseOf(create);
    assert.equal(status, 400);
    assert.ok(body.error.includes('"name"'), body.error);
  });

  it('rejects a missing upstream with 400 naming it', async () => {
    const create = () =>
      client.createProxy({ name: uniqueName('x'), listen: '127.0.0.1:0', upstream: '' });
    const { status, body } = await errorResponseOf(create);
    assert.equal(status, 400);
    assert.ok(body.error.includes('"upstream"'), body.error);
  });

  for (const listen of ['0.0.0.0:0', '[::]:0', '192.0.2.1:0']) {
    it(`rejects the non-loopback listen ${listen} with 400`, async () => {
      const name = uniqueName('listen');
      const create = () => client.createProxy({ name, listen, upstream: echo.address });
      const { status, body } = await errorResponseOf(create);
      assert.equal(status, 400);
      assert.ok(body.error.includes('"listen"'), body.error);
      assert.equal((await client.getAll())[name], undefined);
    });
  }

  // Rejected before any connection, so nothing is sent to these addresses.
  for (const upstream of ['192.0.2.1:80', 'example.invalid:80', '[2001:db8::1]:80']) {
    it(`rejects the non-loopback upstream ${upstream} with 400`, async () => {
      const name = uniqueName('upstream');
      const create = () => client.createProxy({ name, listen: '127.0.0.1:0', upstream });
      const { status, body } = await errorResponseOf(create);
      assert.equal(status, 400);
      assert.ok(body.error.includes('"upstream"'), body.error);
      assert.ok(body.error.includes('a loopback address'), body.error);
      assert.equal((await client.getAll())[name], undefined);
    });
  }

  it('accepts a localhost upstream', async () => {
    const name = uniqueName('upstream_localhost');
    const created = await client.createProxy({
      name,
      listen: '127.0.0.1:0',
      upstream: `localhost:${portOf(echo.address)}`,
    });
    try {
      const socket = await openSocket(portOf(created.listen));
      await echoRoundTrip(socket, 'through localhost');
      socket.destroy();
    } finally {
      await created.remove();
    }
  });

  it('rejects a non-loopback upstream on update', async () => {
    const update = () => proxy.update({ ...proxy.toJson(), upstream: '192.0.2.1:80' });
    const { status, body } = await errorResponseOf(update);
    assert.equal(status, 400);
    assert.ok(body.error.includes('"upstream"'), body.error);
    assert.equal((await client.get(proxy.name)).upstream, echo.address);
  });

  it('rejects a non-loopback populate upstream', async () => {
    const name = uniqueName('populate_upstream');
    const body = [{ name, listen: '127.0.0.1:0', upstream: '192.0.2.1:80' }];
    const { status, body: error } = await errorResponseOf(() => client.populate(body));
    assert.equal(status, 400);
    assert.ok(error.error.includes('"[0].upstream"'), error.error);
    assert.equal((await client.getAll())[name], undefined);
  });

  it('rejects a non-loopback listen on update', async () => {
    const update = () => proxy.update({ ...proxy.toJson(), listen: '0.0.0.0:0' });
    const { status, body } = await errorResponseOf(update);
    assert.equal(status, 400);
    assert.ok(body.error.includes('"listen"'), body.error);
  });

  it('names the address in use and creates nothing', async () => {
    const name = uniqueName('taken');
    const create = () => client.createProxy({ name, listen: proxy.listen, upstream: echo.address });
    const { status, body } = await errorResponseOf(create);
    assert.equal(status, 500);
    assert.ok(body.error.includes(proxy.listen), body.error);
    assert.ok(body.error.includes('address already in use'), body.error);
    assert.equal((await client.getAll())[name], undefined);
    const socket = await openSocket(portOf(proxy.listen));
    await echoRoundTrip(socket, 'still serving');
    socket.destroy();
  });

  it('treats null proxy fields as absent', async () => {
    const name = uniqueName('null_fields');
    const body = { name, upstream: echo.address, listen: null, enabled: null, toxics: null };
    const created = await postRaw(`${server.url}/proxies`, JSON.stringify(body));
    assert.equal(created.status, 201, created.text);
    const json = JSON.parse(created.text) as { enabled: boolean; listen: string };
    assert.equal(json.enabled, true);
    assert.match(json.listen, /^127\.0\.0\.1:[1-9]\d*$/);
    const updated = await postRaw(`${server.url}/proxies/${name}`, '{"enabled":null}');
    assert.equal(updated.status, 200, updated.text);
    assert.equal((JSON.parse(updated.text) as { enabled: boolean }).enabled, true);
    await client.get(name).then((created) => created.remove());
  });

  it('treats null toxic fields as absent', async () => {
    const toxics = `${server.url}/proxies/${proxy.name}/toxics`;
    const goClientBody =
      '{"name":"","type":"timeout","stream":null,"toxicity":1,"attributes":null}';
    const created = await postRaw(toxics, goClientBody);
    assert.equal(created.status, 200, created.text);
    assert.deepEqual(JSON.parse(created.text), {
      name: 'timeout_downstream',
      type: 'timeout',
      stream: 'downstream',
      toxicity: 1,
      attributes: { timeout: 0 },
    });
    const latencyBody = '{"type":"latency","toxicity":null,"attributes":{"latency":7}}';
    assert.equal((await postRaw(toxics, latencyBody)).status, 200);
    const update = '{"toxicity":null,"attributes":{"latency":null,"jitter":3}}';
    const updated = await postRaw(`${toxics}/latency_downstream`, update);
    assert.equal(updated.status, 200, updated.text);
    const json = JSON.parse(updated.text) as { toxicity: number; attributes: object };
    assert.equal(json.toxicity, 1);
    assert.deepEqual(json.attributes, { latency: 7, jitter: 3 });
    const cleared = await postRaw(`${toxics}/latency_downstream`, '{"attributes":null}');
    assert.equal(cleared.status, 200, cleared.text);
    assert.deepEqual((JSON.parse(cleared.text) as { attributes: object }).attributes, {
      latency: 7,
      jitter: 3,
    });
  });

  it('accepts a stream in any letter case', async () => {
    const body = '{"type":"latency","stream":"UpStream","attributes":{"latency":5}}';
    const created = await postRaw(`${server.url}/proxies/${proxy.name}/toxics`, body);
    assert.equal(created.status, 200, created.text);
    const json = JSON.parse(created.text) as { name: string; stream: string };
    assert.equal(json.stream, 'upstream');
    assert.equal(json.name, 'latency_upstream');
  });

  it('keeps an unchanged proxy on a repeated populate', async () => {
    const body = [{ name: proxy.name, listen: '127.0.0.1:0', upstream: echo.address }];
    const first = await client.populate(body);
    const second = await client.populate(body);
    assert.equal(first[proxy.name]?.listen, proxy.listen);
    assert.equal(second[proxy.name]?.listen, proxy.listen);
  });

  it('validates every populate entry before changing anything', async () => {
    const name = uniqueName('populate_ok');
    const body = [
      { name, listen: '127.0.0.1:0', upstream: echo.address },
      { name: uniqueName('populate_bad'), listen: '0.0.0.0:0', upstream: echo.address },
    ];
    const { status, body: error } = await errorResponseOf(() => client.populate(body));
    assert.equal(status, 400);
    assert.ok(error.error.includes('"[1].listen"'), error.error);
    assert.equal((await client.getAll())[name], undefined);
  });

  it('rejects a malformed path escape with 400', async () => {
    const response = await fetch(`${server.url}/proxies/%E0%A4%A`);
    const body = (await response.json()) as { error: string; status: number };
    assert.equal(response.status, 400);
    assert.equal(body.status, 400);
    assert.equal(
      body.error,
      'invalid path segment "%E0%A4%A": malformed percent-encoding or UTF-8',
    );
  });

  it('sends Allow with a 405', async () => {
    const response = await fetch(`${server.url}/proxies`, { method: 'DELETE' });
    const body = (await response.json()) as { error: string; status: number };
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET, POST');
    assert.equal(body.error, 'method DELETE not allowed on /proxies: use GET, POST');
  });

  it('rejects requests from browsers with 403', async () => {
    const response = await fetch(`${server.url}/proxies`, {
      headers: { 'user-agent': 'Mozilla/5.0' },
    });
    assert.equal(response.status, 403);
  });
});

describe('startFaultProxy', () => {
  it('rejects an invalid port', async () => {
    await assert.rejects(startFaultProxy({ port: 70_000 }), RangeError);
  });

  it('applies a populate body at start', async () => {
    const echo = await startEchoServer();
    const name = uniqueName('boot');
    const server = await startFaultProxy({
      port: 0,
      populate: [{ name, listen: '127.0.0.1:0', upstream: echo.address }],
    });
    const proxy = await new Toxiproxy(server.url).get(name);
    assert.equal(proxy.upstream, echo.address);
    await server.close();
    await echo.close();
  });

  it('closes every listener and connection on close()', async () => {
    const echo = await startEchoServer();
    const server = await startFaultProxy({ port: 0 });
    const proxy = await new Toxiproxy(server.url).createProxy({
      name: uniqueName('close'),
      listen: '127.0.0.1:0',
      upstream: echo.address,
    });
    const socket = await openSocket(portOf(proxy.listen));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await server.close();
    await closed;
    await assert.rejects(openSocket(portOf(proxy.listen)), { code: 'ECONNREFUSED' });
    await echo.close();
  });
});

describe('withoutTrailingSlashes', () => {
  it('drops every slash that ends a path', () => {
    assert.equal(withoutTrailingSlashes('/proxies///'), '/proxies');
  });

  it('keeps inner slashes and a path without a trailing one', () => {
    assert.equal(withoutTrailingSlashes('/proxies//a'), '/proxies//a');
  });

  it('turns a path of slashes only into the empty path', () => {
    assert.equal(withoutTrailingSlashes('////'), '');
  });
});

describe('FaultProxy API paths', () => {
  let server: FaultProxyHandle;

  before(async () => {
    server = await startFaultProxy({ port: 0 });
  });

  after(async () => {
    await server.close();
  });

  it('serves a route whose path ends in slashes', async () => {
    const reply = await sendRaw(`${server.url}/proxies//`, 'GET');
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.text), {});
  });

  it('answers 404 naming a path of many inner slashes', async () => {
    const path = `/${'/'.repeat(8000)}x`;
    const reply = await sendRaw(`${server.url}${path}`, 'GET');
    assert.equal(reply.status, 404);
    assert.match(reply.text, /route not found: GET \/\/+x/);
  });
});
