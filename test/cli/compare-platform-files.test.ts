import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SCENARIOS } from '../../scenarios/index.js';
import { registerCompareCommand } from '../../src/cli/commands/compare.js';
import { readPlatformFiles } from '../../src/cli/load-platform-files.js';
import type { LoadCommandOutput } from '../../src/harness/load/output.js';
import { recordPlatformFiles } from '../../src/harness/report/platform-files.js';
import type { Environment, Report } from '../../src/harness/report/types.js';
import { sampleLoadOutput, writeJson } from '../harness/load/sample-output.js';
import { sampleReport } from '../harness/report/sample-report.js';
import { runInProcess } from '../support/run-command.js';

/** Runs `scalegate compare <args>` in process and returns its `warning:` lines. */
async function compareWarnings(files: string[]): Promise<string[]> {
  const run = await runInProcess(registerCompareCommand, ['compare', ...files]);
  assert.equal(run.stderr, '');
  assert.equal(run.exitCode, 0);
  return run.stdout.split('\n').filter((line) => line.startsWith('warning: '));
}

/** Returns the warnings about price tables and tenants files, leaving out the others. */
function fileWarnings(lines: readonly string[]): string[] {
  return lines.filter((line) =>
    /^warning: (price table differs|tenants file differs|.* predates? the record)/.test(line),
  );
}

/** Environment fields of a drill on the shipped files, with made-up digests. */
const RECORDED = {
  pricesPath: 'fixtures/prices.yaml',
  pricesHash: 'a'.repeat(64),
  pricesEffectiveDate: '2025-01-15',
  tenantsPath: 'fixtures/tenants.yaml',
  tenantsHash: 'b'.repeat(64),
} satisfies Partial<Environment>;

/** Builds a sample drill report of its own run id with `files` in its environment. */
function drillReport(runId: string, files: Partial<Environment>): Report {
  const report = sampleReport();
  report.runId = `${runId}-provider-outage`;
  report.environment = { ...report.environment, ...files };
  return report;
}

/** Builds a sample load output that records `files` as `load --platform` does. */
function loadOutput(files: {
  pricesPath: string;
  pricesHash: string;
  pricesEffectiveDate?: string;
  tenantsPath: string;
  tenantsHash: string;
}): LoadCommandOutput {
  const output = sampleLoadOutput();
  assert.ok(output.settings.platform !== null);
  Object.assign(output.settings.platform, files);
  return output;
}

const PRICES_FIX =
  'cost per task and the worker pool bill come from its prices, so they do not compare like ' +
  'for like; run every side on one price table';

const TENANTS_FIX =
  "each tenant's rate limits, in-flight and running caps and budget come from it, so " +
  'rejections, success rate and throughput do not compare like for like; give every side ' +
  'the same --tenants';

describe('scalegate compare on recorded platform files', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-compare-files-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('warns of two drills on other price tables', async () => {
    const a = await writeJson(dir, 'a.json', drillReport('20261204T150000Z', RECORDED));
    const b = await writeJson(
      dir,
      'b.json',
      drillReport('20261204T160000Z', { ...RECORDED, pricesHash: 'c'.repeat(64) }),
    );
    assert.deepEqual(await compareWarnings([a, b]), [
      'warning: price table differs: fixtures/prices.yaml (sha256 aaaaaaaaaaaa, effective ' +
        `2025-01-15) (${a}) vs fixtures/prices.yaml (sha256 cccccccccccc, effective ` +
        `2025-01-15) (${b}); ${PRICES_FIX}`,
    ]);
  });

  it('warns of two drills on other tenants files', async () => {
    const a = await writeJson(dir, 'a.json', drillReport('20261204T150000Z', RECORDED));
    const b = await writeJson(
      dir,
      'b.json',
      drillReport('20261204T160000Z', {
        ...RECORDED,
        tenantsPath: '/srv/trial-tenants.yaml',
        tenantsHash: 'd'.repeat(64),
      }),
    );
    assert.deepEqual(await compareWarnings([a, b]), [
      `warning: tenants file differs: fixtures/tenants.yaml (sha256 bbbbbbbbbbbb) (${a}) vs ` +
        `/srv/trial-tenants.yaml (sha256 dddddddddddd) (${b}); ${TENANTS_FIX}`,
    ]);
  });

  it('warns of a drill and a load on other price tables', async () => {
    const report = await writeJson(dir, 'report.json', drillReport('20261204T150000Z', RECORDED));
    const load = await writeJson(
      dir,
      'load.json',
      loadOutput({ ...RECORDED, pricesPath: 'trial-prices.yaml', pricesHash: 'e'.repeat(64) }),
    );
    assert.deepEqual(fileWarnings(await compareWarnings([report, load])), [
      'warning: price table differs: fixtures/prices.yaml (sha256 aaaaaaaaaaaa, effective ' +
        `2025-01-15) (${report}) vs trial-prices.yaml (sha256 eeeeeeeeeeee, effective ` +
        `2025-01-15) (${load}); ${PRICES_FIX}`,
    ]);
  });

  it('shows the dates of a drill and a load at one path', async () => {
    const report = await writeJson(dir, 'report.json', drillReport('20261204T150000Z', RECORDED));
    const load = await writeJson(
      dir,
      'load.json',
      loadOutput({ ...RECORDED, pricesHash: 'e'.repeat(64), pricesEffectiveDate: '2026-02-01' }),
    );
    assert.deepEqual(fileWarnings(await compareWarnings([report, load])), [
      'warning: price table differs: fixtures/prices.yaml (sha256 aaaaaaaaaaaa, effective ' +
        `2025-01-15) (${report}) vs fixtures/prices.yaml (sha256 eeeeeeeeeeee, effective ` +
        `2026-02-01) (${load}); ${PRICES_FIX}`,
    ]);
  });

  it('leaves out the dates for an older load', async () => {
    const report = await writeJson(dir, 'report.json', drillReport('20261204T150000Z', RECORDED));
    const { pricesEffectiveDate: _older, ...files } = RECORDED;
    const load = await writeJson(
      dir,
      'load.json',
      loadOutput({ ...files, pricesHash: 'e'.repeat(64) }),
    );
    assert.deepEqual(fileWarnings(await compareWarnings([report, load])), [
      `warning: price table differs: fixtures/prices.yaml (sha256 aaaaaaaaaaaa) (${report}) ` +
        `vs fixtures/prices.yaml (sha256 eeeeeeeeeeee) (${load}); ${PRICES_FIX}`,
    ]);
  });

  it('warns of a drill and a load on other tenants files', async () => {
    const report = await writeJson(dir, 'report.json', drillReport('20261204T150000Z', RECORDED));
    const load = await writeJson(
      dir,
      'load.json',
      loadOutput({ ...RECORDED, tenantsPath: 'trial-tenants.yaml', tenantsHash: 'f'.repeat(64) }),
    );
    assert.deepEqual(fileWarnings(await compareWarnings([load, report])), [
      `warning: tenants file differs: trial-tenants.yaml (sha256 ffffffffffff) (${load}) vs ` +
        `fixtures/tenants.yaml (sha256 bbbbbbbbbbbb) (${report}); ${TENANTS_FIX}`,
    ]);
  });

  it('accepts two drills on one set of files', async () => {
    const a = await writeJson(dir, 'a.json', drillReport('20261204T150000Z', RECORDED));
    const b = await writeJson(dir, 'b.json', drillReport('20261204T160000Z', RECORDED));
    assert.deepEqual(await compareWarnings([a, b]), []);
  });

  it('accepts a drill and a load on the shipped files', async () => {
    // Each records the files as it does in a run.
    const drilled = await recordPlatformFiles();
    const loaded = await readPlatformFiles(SCENARIOS['conv-replay'] ?? assert.fail(), {
      tenants: undefined,
      prices: undefined,
    });
    const report = await writeJson(dir, 'report.json', drillReport('20261204T150000Z', drilled));
    const load = await writeJson(
      dir,
      'load.json',
      loadOutput({
        pricesPath: loaded.prices.path,
        pricesHash: loaded.prices.sha256,
        pricesEffectiveDate: loaded.prices.effectiveDate,
        tenantsPath: loaded.tenants.path,
        tenantsHash: loaded.tenants.sha256,
      }),
    );
    const warnings = await compareWarnings([report, load]);
    assert.ok(warnings.length > 0, 'expected the other differences of a drill and a load');
    assert.deepEqual(fileWarnings(warnings), []);
  });

  it('hashes bytes outside UTF-8 as a drill does', async () => {
    // 0xff is never valid in UTF-8, so decoding it to text would change the hash.
    const invalid = Buffer.from('# \xff\n', 'latin1');
    const prices = join(dir, 'prices.yaml');
    const tenants = join(dir, 'tenants.yaml');
    const pricesBytes = Buffer.concat([await readFile('fixtures/prices.yaml'), invalid]);
    const tenantsBytes = Buffer.concat([await readFile('fixtures/tenants.yaml'), invalid]);
    await writeFile(prices, pricesBytes);
    await writeFile(tenants, tenantsBytes);
    const drilled = await recordPlatformFiles({ prices, tenants });
    const loaded = await readPlatformFiles(SCENARIOS['conv-replay'] ?? assert.fail(), {
      tenants,
      prices,
    });
    const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
    assert.equal(loaded.prices.sha256, sha256(pricesBytes));
    assert.equal(loaded.tenants.sha256, sha256(tenantsBytes));
    assert.equal(drilled.pricesHash, sha256(pricesBytes));
    assert.equal(drilled.tenantsHash, sha256(tenantsBytes));
    assert.equal(loaded.prices.effectiveDate, '2025-01-15');
  });

  it('names a drill older than the record', async () => {
    const old = await writeJson(dir, 'old.json', drillReport('20261204T150000Z', {}));
    const recorded = await writeJson(dir, 'new.json', drillReport('20261204T160000Z', RECORDED));
    assert.deepEqual(await compareWarnings([old, recorded]), [
      `warning: ${old} predates the record of the price table and tenants file, so compare ` +
        'could not check them',
    ]);
  });

  it('names an older drill beside a load', async () => {
    const old = await writeJson(dir, 'old.json', drillReport('20261204T150000Z', {}));
    const load = await writeJson(dir, 'load.json', loadOutput(RECORDED));
    assert.deepEqual(fileWarnings(await compareWarnings([load, old])), [
      `warning: ${old} predates the record of the price table and tenants file, so compare ` +
        'could not check them',
    ]);
  });

  it('says nothing of two drills older than the record', async () => {
    const a = await writeJson(dir, 'a.json', drillReport('20261204T150000Z', {}));
    const b = await writeJson(dir, 'b.json', drillReport('20261204T160000Z', {}));
    assert.deepEqual(await compareWarnings([a, b]), []);
  });
});
