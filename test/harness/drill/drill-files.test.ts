import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { providerOutageDrill } from '../../../chaos/provider-outage.js';
import { SCENARIOS } from '../../../scenarios/index.js';
import { readDrillFiles } from '../../../src/harness/drill/drill-files.js';
import { changingFifo } from '../../support/fifo.js';

const scenario = SCENARIOS[providerOutageDrill.scenario];

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('readDrillFiles', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-drill-files-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records the shipped files', async () => {
    assert.ok(scenario !== undefined);
    const files = await readDrillFiles(providerOutageDrill, scenario, {});

    assert.equal(files.record.tenantsPath, 'fixtures/tenants.yaml');
    assert.equal(files.record.tenantsHash, sha256(await readFile('fixtures/tenants.yaml')));
    assert.equal(files.record.pricesPath, 'fixtures/prices.yaml');
    assert.equal(files.record.pricesHash, sha256(await readFile('fixtures/prices.yaml')));
    assert.ok(files.registry.tenants.some((tenant) => tenant.id === 'tenant-noisy'));
  });

  it('hashes the tenants bytes it parsed', async function () {
    if (process.platform !== 'linux') this.skip();
    assert.ok(scenario !== undefined);
    const tenants = join(dir, 'tenants.yaml');
    const parsed = await readFile('fixtures/tenants.yaml');
    const edited = Buffer.concat([parsed, Buffer.from('# edited after the first read\n')]);
    const fifo = await changingFifo(tenants, parsed, edited);
    const files = await readDrillFiles(providerOutageDrill, scenario, {
      tenantsPath: tenants,
    }).finally(() => fifo.stop());
    const served = await fifo.stop();

    assert.equal(served.first, true);
    assert.equal(served.second, false, 'the tenants file was read a second time');
    assert.equal(files.record.tenantsPath, tenants);
    assert.equal(files.record.tenantsHash, sha256(parsed));
  });
});
