import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Command } from 'commander';

import {
  checkOutputPaths,
  drillExitCode,
  keepRunbookReason,
} from '../../src/cli/commands/drill.js';
import { registerCommands } from '../../src/cli/commands/index.js';
import type { Verdict } from '../../src/harness/report/types.js';
import { sampleReport } from '../harness/report/sample-report.js';
import { runInProcess } from '../support/run-command.js';

function reportWith(status: Verdict) {
  const report = sampleReport();
  report.verdict = { status, reasons: [] };
  if (report.drill) report.drill.aborted = null;
  return report;
}

// Called directly, because a spawned drill with a path that passes would run the whole drill.
describe('checkOutputPaths', () => {
  for (const empty of ['', ' ']) {
    it(`rejects --runbook ${JSON.stringify(empty)}`, () => {
      assert.throws(() => checkOutputPaths({ reports: 'reports', runbook: empty }), {
        message:
          '--runbook is empty; pass the path of the runbook file, or leave --runbook out for runbooks/scaling_runbook.md',
      });
    });

    it(`rejects --reports ${JSON.stringify(empty)}`, () => {
      assert.throws(
        () => checkOutputPaths({ reports: empty, runbook: 'runbooks/scaling_runbook.md' }),
        {
          message: '--reports is empty; pass a folder, or leave --reports out for reports',
        },
      );
    });
  }

  it('accepts the default paths', () => {
    checkOutputPaths({ reports: 'reports', runbook: 'runbooks/scaling_runbook.md' });
  });
});

describe('drillExitCode', () => {
  const cases: ReadonlyArray<readonly [Verdict, number]> = [
    ['passed', 0],
    ['deviated', 1],
    ['inconclusive', 4],
  ];
  for (const [status, code] of cases) {
    it(`exits ${code} when ${status}`, () => {
      assert.equal(drillExitCode(reportWith(status)), code);
    });
  }

  it('exits 3 when an abort rule stopped it', () => {
    const report = reportWith('aborted');
    assert.ok(report.drill);
    report.drill.aborted = { atS: 12, detail: 'error-rate fired', reason: 'abort-rule' };
    assert.equal(drillExitCode(report), 3);
  });
});

describe('keepRunbookReason', () => {
  it('keeps the default runbook for a --policy run', () => {
    assert.match(keepRunbookReason('trial.yaml', 'default') ?? '', /pass --runbook FILE/);
  });

  it('writes a runbook --runbook names', () => {
    assert.equal(keepRunbookReason('trial.yaml', 'cli'), undefined);
  });

  it('writes the runbook without --policy', () => {
    assert.equal(keepRunbookReason(undefined, 'default'), undefined);
  });
});

describe('drill --help', () => {
  it('names when --runbook writes', () => {
    const program = new Command('scalegate');
    registerCommands(program);
    const drill = program.commands.find((command) => command.name() === 'drill');
    assert.ok(drill);
    const help = drill.helpInformation().replace(/\s+/g, ' ');
    assert.match(
      help,
      / --runbook <file> runbook file to regenerate from the report; a drill with --policy writes a runbook only to a path given here \(default: runbooks\/scaling_runbook\.md, but none with --policy\)/,
    );
  });
});

describe('drill --base-policy', () => {
  let dir = '';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-base-policy-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs a drill with `text` as the base policy; each case fails before the platform starts. */
  async function drillWithBase(text: string) {
    const base = join(dir, 'base.yaml');
    await writeFile(base, text);
    const args = ['drill', '--base-policy', base, '--reports', join(dir, 'reports')];
    const run = await runInProcess(registerCommands, [...args, '--runbook', join(dir, 'rb.md')]);
    return { ...run, stderr: run.stderr.replaceAll(base, 'BASE') };
  }

  it('rejects invalid YAML before the drill', async () => {
    const run = await drillWithBase('version: 1\nroutes: [\n');
    assert.equal(run.exitCode, 2);
    assert.equal(run.stdout, '');
    assert.match(
      run.stderr,
      /^error: --base-policy BASE cannot be read as a policy: BASE:3:1: invalid YAML: .+; pass the policy file the change starts from\n$/,
    );
  });

  it('rejects a document that is not a map', async () => {
    const run = await drillWithBase('- version: 1\n');
    assert.equal(run.exitCode, 2);
    assert.equal(
      run.stderr,
      'error: --base-policy BASE cannot be read as a policy: BASE:1:1: the document is not a map of version and routes; pass the policy file the change starts from\n',
    );
  });
});

describe('drill --tenants and --prices', () => {
  let dir = '';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-drill-files-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs a drill with `args`; each case fails before the platform starts. */
  function drill(args: string[]) {
    const outputs = ['--reports', join(dir, 'reports'), '--runbook', join(dir, 'rb.md')];
    return runInProcess(registerCommands, ['drill', ...args, ...outputs]);
  }

  it('rejects --tenants without the burst tenant', async () => {
    const tenants = join(dir, 'tenants.yaml');
    const text = await readFile('fixtures/tenants.yaml', 'utf8');
    // Keeps tenant-alpha and tenant-beta, the main load's, and drops tenant-noisy's burst.
    await writeFile(tenants, text.slice(0, text.indexOf('  - id: tenant-noisy')));
    const run = await drill(['--tenants', tenants]);
    assert.equal(run.exitCode, 2);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      `error: tenants file ${tenants} admits no API key of tenant tenant-noisy, which drill ` +
        'provider-outage sends as with the keys in fixtures/demo-keys.yaml, so those requests ' +
        `would get 401; copy its entry from fixtures/tenants.yaml into ${tenants}, keeping ` +
        'keySha256, the sha256 of the key, or pick a drill that sends only as tenants of the ' +
        'file\n',
    );
  });

  it('accepts a --tenants without a tenant the drill does not use', async () => {
    const tenants = join(dir, 'tenants.yaml');
    const text = await readFile('fixtures/tenants.yaml', 'utf8');
    // worker-loss sends as tenant-alpha, tenant-beta and tenant-batch only, so a file without
    // tenant-noisy passes the check, and the invalid price table stops the drill after it.
    const noisy = text.indexOf('  - id: tenant-noisy');
    const batch = text.indexOf('  - id: tenant-batch');
    await writeFile(tenants, text.slice(0, noisy) + text.slice(batch));
    const prices = join(dir, 'prices.yaml');
    await writeFile(prices, 'effectiveDate: [\n');
    const run = await drill(['--drill', 'worker-loss', '--tenants', tenants, '--prices', prices]);
    assert.equal(run.exitCode, 2);
    assert.match(run.stderr, new RegExp(`^error: ${prices}: \\(file\\): invalid YAML: `));
    assert.match(run.stderr, /; fix the file or pass another --prices\n$/);
  });

  it('rejects an invalid --prices', async () => {
    const prices = join(dir, 'prices.yaml');
    const shipped = await readFile('fixtures/prices.yaml', 'utf8');
    await writeFile(
      prices,
      shipped.replace('perMillionRequests: 0.2', 'perMillionRequests: "0.2"'),
    );
    const run = await drill(['--prices', prices]);
    assert.equal(run.exitCode, 2);
    assert.equal(
      run.stderr,
      `error: ${prices}: executors.serverless.perMillionRequests: expected a number >= 0, ` +
        'received "0.2"; write 0.2 without quotes; fix the file or pass another --prices\n',
    );
  });

  it('names both options in the help', () => {
    const program = new Command('scalegate');
    registerCommands(program);
    const drillCommand = program.commands.find((command) => command.name() === 'drill');
    assert.ok(drillCommand);
    const help = drillCommand.helpInformation().replace(/\s+/g, ' ');
    assert.match(
      help,
      / --tenants <file> tenants file with hashed API keys and limits \(default: fixtures\/tenants\.yaml of the scalegate checkout\); it must admit the key in fixtures\/demo-keys\.yaml of each tenant the drill sends as, its bursting tenant included /,
    );
    assert.match(
      help,
      / --prices <file> price table with the USD prices of each provider model per million tokens and of the executors, which the cost per task and the worker pool bill come from \(default: fixtures\/prices\.yaml of the scalegate checkout\) /,
    );
  });
});
