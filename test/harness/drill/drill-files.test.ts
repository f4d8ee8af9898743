import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { providerOutageDrill } from '../../../chaos/provider-outage.js';
import { SCENARIOS } from '../../../scenarios/index.js';
import { readDrillFiles } from '../../../src/harness/drill/drill-files.js';

const scenario = SCENARIOS[providerOutageDrill.scenario];

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Writes `bytes` to the FIFO at `path` once a reader has opened it, polling every 5 ms until
 * `stopped` returns true. Returns whether a reader took the bytes.
 */
async function serveOnce(path: string, bytes: Buffer, stopped: () => boolean): Promise<boolean> {
  while (!stopped()) {
    try {
      // A non-blocking open for writing fails with ENXIO until a reader has the FIFO open.
      const handle = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
      try {
        await handle.write(bytes);
      } finally {
        await handle.close();
      }
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return false;
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
    // A FIFO gives each open the bytes its writer sends then, so a second read of the path
    // gets other content, as from a file edited between two reads.
    const tenants = join(dir, 'tenants.yaml');
    await promisify(execFile)('mkfifo', [tenants]);
    const parsed = await readFile('fixtures/tenants.yaml');
    const edited = Buffer.concat([parsed, Buffer.from('# edited after the first read\n')]);
    let done = false;
    const served = (async () => {
      const first = await serveOnce(tenants, parsed, () => done);
      // The first reader has reached the end of its bytes and closed the FIFO by then.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const second = await serveOnce(tenants, edited, () => done);
      return { first, second };
    })();
    let files: Awaited<ReturnType<typeof readDrillFiles>>;
    try {
      files = await readDrillFiles(providerOutageDrill, scenario, { tenantsPath: tenants });
    } finally {
      done = true;
    }
    const { first, second } = await served;

    assert.equal(first, true);
    assert.equal(second, false, 'the tenants file was read a second time');
    assert.equal(files.record.tenantsPath, tenants);
    assert.equal(files.record.tenantsHash, sha256(parsed));
  });
});
