import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { isPriceTableError } from '../../../src/platform/cost/errors.js';
import { recordPlatformFiles } from '../../../src/harness/report/platform-files.js';
import type { Report } from '../../../src/harness/report/types.js';
import { writeReport } from '../../../src/harness/report/writer.js';
import { sampleReport } from './sample-report.js';

/** Returns the sha256 hex digest of a file's bytes. */
async function sha256Of(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

describe('recordPlatformFiles', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-platform-files-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records the shipped fixture files', async () => {
    assert.deepEqual(await recordPlatformFiles(), {
      pricesPath: 'fixtures/prices.yaml',
      pricesHash: await sha256Of('fixtures/prices.yaml'),
      // The effectiveDate of fixtures/prices.yaml.
      pricesEffectiveDate: '2025-01-15',
      tenantsPath: 'fixtures/tenants.yaml',
      tenantsHash: await sha256Of('fixtures/tenants.yaml'),
    });
  });

  it('records files outside the checkout by absolute path', async () => {
    const prices = join(dir, 'prices.yaml');
    const tenants = join(dir, 'tenants.yaml');
    const shipped = await readFile('fixtures/prices.yaml', 'utf8');
    const edited = shipped.replace("effectiveDate: '2025-01-15'", "effectiveDate: '2027-03-01'");
    assert.notEqual(edited, shipped);
    await writeFile(prices, edited);
    await writeFile(tenants, 'tenants: []\n');
    assert.deepEqual(await recordPlatformFiles({ prices, tenants }), {
      pricesPath: prices,
      pricesHash: createHash('sha256').update(edited).digest('hex'),
      pricesEffectiveDate: '2027-03-01',
      tenantsPath: tenants,
      // sha256sum of the 12 bytes `tenants: []\n`.
      tenantsHash: '5a35b36c9b4c898272ec39d0191fe1c9fbad36c29eeb4c38a5fa7a110ceebdfb',
    });
  });

  it('names a missing price table', async () => {
    const prices = join(dir, 'missing.yaml');
    await assert.rejects(recordPlatformFiles({ prices }), (error: unknown) => {
      assert.ok(isPriceTableError(error), String(error));
      assert.equal(error.file, prices);
      assert.equal(error.field, '(file)');
      return true;
    });
  });

  it('rejects a price table without an effective date', async () => {
    const prices = join(dir, 'prices.yaml');
    const shipped = await readFile('fixtures/prices.yaml', 'utf8');
    await writeFile(prices, shipped.replace("effectiveDate: '2025-01-15'\n", ''));
    await assert.rejects(recordPlatformFiles({ prices }), (error: unknown) => {
      assert.ok(isPriceTableError(error), String(error));
      assert.equal(error.field, 'effectiveDate');
      return true;
    });
  });
});

describe('drill report environment', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-platform-files-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('carries the fixture files into report.json', async () => {
    const report = sampleReport();
    report.environment = { ...report.environment, ...(await recordPlatformFiles()) };
    const written = await writeReport(report, dir);
    const saved = JSON.parse(await readFile(join(written.runDir, 'report.json'), 'utf8')) as Report;
    assert.equal(saved.environment.pricesPath, 'fixtures/prices.yaml');
    assert.equal(saved.environment.pricesHash, await sha256Of('fixtures/prices.yaml'));
    assert.equal(saved.environment.pricesEffectiveDate, '2025-01-15');
    assert.equal(saved.environment.tenantsPath, 'fixtures/tenants.yaml');
    assert.equal(saved.environment.tenantsHash, await sha256Of('fixtures/tenants.yaml'));
  });
});
