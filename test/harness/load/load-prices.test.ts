import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { registerCompareCommand } from '../../../src/cli/commands/compare.js';
import { registerLoadCommand } from '../../../src/cli/commands/load.js';
import type { LoadCommandOutput } from '../../../src/harness/load/output.js';
import { validateLoadOutput } from '../../../src/harness/load/validate-output.js';
import { type CommandRun, runInProcess } from '../../support/run-command.js';

function sha256(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Runs `scalegate load` in process with its output captured. */
function runLoadCommand(args: string[]): Promise<CommandRun> {
  return runInProcess(registerLoadCommand, ['load', ...args]);
}

/**
 * Returns the shipped price table with every model at `input` and `output` USD per million
 * tokens and every executor price at 0. One price for every model makes a task's token cost independent
 * of the candidate the router draws at random, and without executor prices a run's cost is its
 * token cost alone, whatever the worker pool's wall time.
 */
async function uniformPrices(input: number, output: number): Promise<string> {
  const shipped = await readFile('fixtures/prices.yaml', 'utf8');
  const priced = shipped.replace(
    /\{ inputPerMillion: [\d.]+, outputPerMillion: [\d.]+ \}/g,
    `{ inputPerMillion: ${input}, outputPerMillion: ${output} }`,
  );
  return priced
    .replace(/perVcpuHour: [\d.]+/, 'perVcpuHour: 0')
    .replace(/perGbHour: [\d.]+/, 'perGbHour: 0')
    .replace(/perGbSecond: [\d.]+/, 'perGbSecond: 0')
    .replace(/perMillionRequests: [\d.]+/, 'perMillionRequests: 0');
}

/**
 * Arguments of a short, bounded `load --platform` run on loopback with `extra` added. The trace
 * replay forces each request's input and output tokens, so every run spends the same tokens.
 */
function platformRun(out: string, extra: string[]): string[] {
  return [
    '--scenario=conv-replay',
    '--platform',
    '--topology=workers=2 serverless_burst=disabled',
    '--no-fault-proxy',
    '--duration=2',
    '--seed=1',
    `--out=${out}`,
    ...extra,
  ];
}

describe('scalegate load --prices', function () {
  this.timeout(120_000);
  let dir = '';
  const text = { single: '', doubled: '' };
  const paths = { single: '', doubled: '', shipped: '' };
  const runs: Record<keyof typeof paths, CommandRun | undefined> = {
    single: undefined,
    doubled: undefined,
    shipped: undefined,
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-prices-'));
    text.single = await uniformPrices(1, 2);
    // Another effective date, so compare's warning shows the two tables' dates.
    text.doubled = (await uniformPrices(2, 4)).replace(
      "effectiveDate: '2025-01-15'",
      "effectiveDate: '2026-02-01'",
    );
    assert.match(text.doubled, /^effectiveDate: '2026-02-01'$/m);
    const single = join(dir, 'single.yaml');
    const doubled = join(dir, 'doubled.yaml');
    await writeFile(single, text.single);
    await writeFile(doubled, text.doubled);
    paths.single = join(dir, 'single.json');
    paths.doubled = join(dir, 'doubled.json');
    paths.shipped = join(dir, 'shipped.json');
    // One run after the other, because two platforms at once would share the 2 cores.
    runs.single = await runLoadCommand(platformRun(paths.single, [`--prices=${single}`]));
    runs.doubled = await runLoadCommand(platformRun(paths.doubled, [`--prices=${doubled}`]));
    runs.shipped = await runLoadCommand(platformRun(paths.shipped, []));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function output(run: keyof typeof paths): Promise<LoadCommandOutput> {
    return validateLoadOutput(JSON.parse(await readFile(paths[run], 'utf8')));
  }

  it('runs the same tasks on each table', async () => {
    const single = await output('single');
    const doubled = await output('doubled');
    assert.equal(single.result.requests.failed, 0);
    assert.equal(doubled.result.requests.failed, 0);
    assert.ok((single.platform?.cost.tasks ?? 0) > 0, JSON.stringify(single.platform));
    assert.equal(doubled.platform?.cost.tasks, single.platform?.cost.tasks);
  });

  it('doubles the cost with doubled prices', async () => {
    const single = (await output('single')).platform?.cost;
    const doubled = (await output('doubled')).platform?.cost;
    assert.ok(single !== undefined);
    assert.ok(doubled !== undefined);
    assert.ok(single.totalUsd > 0, `total ${single.totalUsd}`);
    assert.equal(doubled.totalUsd, 2 * single.totalUsd);
    assert.equal(doubled.meanUsdPerTask, 2 * (single.meanUsdPerTask ?? Number.NaN));
    assert.equal(single.workerPoolUsd, 0);
    assert.equal(doubled.workerPoolUsd, 0);
  });

  it('records the path, hash and date of --prices', async () => {
    const settings = (await output('doubled')).settings.platform;
    assert.equal(settings?.pricesPath, join(dir, 'doubled.yaml'));
    assert.equal(settings?.pricesHash, sha256(text.doubled));
    assert.equal(settings?.pricesEffectiveDate, '2026-02-01');
    assert.equal(settings?.tenantsPath, 'fixtures/tenants.yaml');
    assert.ok(
      runs.doubled?.stderr.includes(`with prices ${join(dir, 'doubled.yaml')} at http://`),
      runs.doubled?.stderr,
    );
  });

  it('records the shipped table without --prices', async () => {
    const settings = (await output('shipped')).settings.platform;
    assert.equal(settings?.pricesPath, 'fixtures/prices.yaml');
    assert.equal(settings?.pricesHash, sha256(await readFile('fixtures/prices.yaml')));
    assert.equal(settings?.pricesEffectiveDate, '2025-01-15');
    assert.doesNotMatch(runs.shipped?.stderr ?? '', / with prices /);
  });

  it('makes compare warn against the shipped table', async () => {
    const run = await runInProcess(registerCompareCommand, [
      'compare',
      paths.shipped,
      paths.doubled,
    ]);
    assert.equal(run.exitCode, 0);
    const shippedHash = sha256(await readFile('fixtures/prices.yaml')).slice(0, 12);
    const warnings = run.stdout.split('\n').filter((line) => line.startsWith('warning: price'));
    assert.deepEqual(warnings, [
      `warning: price table differs: fixtures/prices.yaml (sha256 ${shippedHash}, effective ` +
        `2025-01-15) (${paths.shipped}) vs ${join(dir, 'doubled.yaml')} (sha256 ` +
        `${sha256(text.doubled).slice(0, 12)}, effective 2026-02-01) (${paths.doubled}); ` +
        'cost per task and the ' +
        'worker pool bill come from its prices, so they do not compare like for like; run ' +
        'every side on one price table',
    ]);
  });
});
