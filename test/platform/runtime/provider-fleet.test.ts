import assert from 'node:assert/strict';

import { Toxiproxy } from 'toxiproxy-node-client';
import { request } from 'undici';

import { loadProviderCatalog } from '../../../src/faults/providers/index.js';
import { type FaultProxyHandle, startFaultProxy } from '../../../src/faults/proxy/index.js';
import { systemClock } from '../../../src/platform/clock.js';
import { startProviderFleetProcess } from '../../../src/platform/runtime/fleet-child.js';
import { type ProviderFleet, startProviderFleet } from '../../../src/platform/runtime/providers.js';

async function statusOf(url: string): Promise<number> {
  const response = await request(url, { headersTimeout: 5000, bodyTimeout: 5000 });
  await response.body.dump();
  return response.statusCode;
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

  it('rejects a Toxiproxy URL off loopback', async () => {
    const catalog = await loadProviderCatalog();
    await assert.rejects(
      startProviderFleet(catalog, systemClock, 1, { toxiproxyUrl: 'http://10.1.2.3:8474' }),
      /invalid TOXIPROXY_URL "http:\/\/10\.1\.2\.3:8474": expected a Toxiproxy on a loopback address/,
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

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
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
