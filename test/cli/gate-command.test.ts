import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Command } from 'commander';

import { gateExitCode } from '../../src/cli/commands/gate.js';
import { registerCommands } from '../../src/cli/commands/index.js';
import { GATE_FOLDER_MARKER } from '../../src/harness/gate/folder.js';
import type { GateDrillOutcome, PolicyGateResult } from '../../src/harness/gate/run.js';
import type { Verdict } from '../../src/harness/report/types.js';
import { sampleReport } from '../harness/report/sample-report.js';
import { runInProcess } from '../support/run-command.js';

/** Returns fixtures/tenants.yaml without the entries of `ids`. */
async function tenantsWithout(...ids: string[]): Promise<string> {
  const text = await readFile('fixtures/tenants.yaml', 'utf8');
  const [head = '', ...entries] = text.split(/^ {2}- /m);
  const kept = entries.filter((entry) => !ids.some((id) => entry.startsWith(`id: ${id}\n`)));
  return [head, ...kept].join('  - ');
}

function ranWith(status: Verdict): GateDrillOutcome {
  const report = sampleReport();
  report.verdict = { status, reasons: [] };
  if (report.drill) report.drill.aborted = null;
  return {
    status: 'ran',
    policyPath: 'policies/default.yaml',
    reportPath: `gate/reports/${report.runId}/report.json`,
    run: {
      report,
      written: { runDir: `gate/reports/${report.runId}`, files: [] },
      runbook: { status: 'written', path: 'gate/scaling_runbook.md' },
      policyText: '',
    },
  };
}

const FAILED: GateDrillOutcome = {
  status: 'failed',
  policyPath: 'policies/default.yaml',
  error: new Error('failed'),
  message: 'failed',
};

function result(base: GateDrillOutcome | null, pr: GateDrillOutcome | null): PolicyGateResult {
  return { base, pr, comparison: null, commentPath: pr === null ? null : 'gate/comment.md' };
}

describe('gateExitCode', () => {
  it('exits 0 when the PR passed', () => {
    assert.equal(gateExitCode(result(ranWith('deviated'), ranWith('passed')), false), 0);
  });

  it('exits 1 when the PR deviated', () => {
    assert.equal(gateExitCode(result(ranWith('passed'), ranWith('deviated')), false), 1);
  });

  it('exits 4 when the PR is inconclusive', () => {
    assert.equal(gateExitCode(result(ranWith('passed'), ranWith('inconclusive')), false), 4);
  });

  it('ignores a failed base drill', () => {
    assert.equal(gateExitCode(result(FAILED, ranWith('passed')), false), 0);
  });

  it('exits 2 when the PR drill failed', () => {
    assert.equal(gateExitCode(result(ranWith('passed'), FAILED), false), 2);
  });

  it('exits 130 when interrupted', () => {
    assert.equal(gateExitCode(result(ranWith('passed'), FAILED), true), 130);
    assert.equal(gateExitCode(result(ranWith('aborted'), null), true), 130);
  });
});

describe('scalegate gate', () => {
  let dir = '';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-gate-command-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects a gate dir that is a file', async () => {
    const file = join(dir, 'gate');
    await writeFile(file, '');
    const run = await runInProcess(registerCommands, ['gate', '--gate-dir', file]);
    assert.equal(run.exitCode, 2);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      `error: --gate-dir ${file} is a file; pass a folder, which the gate creates when missing\n`,
    );
  });

  it('rejects a gate dir under a file', async () => {
    const file = join(dir, 'gate');
    await writeFile(file, '');
    const gateDir = join(file, 'pr-1');
    const run = await runInProcess(registerCommands, ['gate', '--gate-dir', gateDir]);
    assert.equal(run.exitCode, 2);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      `error: --gate-dir ${gateDir}: ${file} is a file, not a folder; pass a path inside a folder\n`,
    );
  });

  it('rejects an empty gate dir', async () => {
    const run = await runInProcess(registerCommands, ['gate', '--gate-dir', '']);
    assert.equal(run.exitCode, 2);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      'error: --gate-dir is empty; pass a folder, such as gate, which the gate creates when missing\n',
    );
  });

  it('rejects a policy given as argument', async () => {
    const gateDir = join(dir, 'gate');
    const run = await runInProcess(registerCommands, [
      'gate',
      'policies/default.yaml',
      '--gate-dir',
      gateDir,
    ]);
    assert.equal(run.exitCode, 2);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      'error: unexpected argument policies/default.yaml; scalegate gate takes its files as ' +
        'options, so pass the PR policy as --policy policies/default.yaml and the policy it ' +
        'changes as --base-policy FILE\n',
    );
    await assert.rejects(stat(gateDir), { code: 'ENOENT' });
  });

  it('finds the default policy elsewhere', async () => {
    // A price table without llama-70b, which route summarize of policies/default.yaml calls,
    // stops the PR drill at platform start, after it loaded the policy.
    const checkoutPrices = join(process.cwd(), 'fixtures/prices.yaml');
    const llama70b = '    llama-70b: { inputPerMillion: 0.88, outputPerMillion: 0.88 }\n';
    const pricesText = await readFile(checkoutPrices, 'utf8');
    assert.ok(pricesText.includes(llama70b), 'fixtures/prices.yaml prices llama-70b');
    const prices = join(dir, 'prices.yaml');
    await writeFile(prices, pricesText.replace(llama70b, ''));
    const checkout = process.cwd();
    process.chdir(dir);
    try {
      const run = await runInProcess(registerCommands, ['gate', '--prices', prices]);
      assert.equal(run.exitCode, 2);
      assert.doesNotMatch(run.stderr, /file not found/);
      assert.match(
        run.stderr,
        /models\.provider-c\.llama-70b: missing, but route summarize of \S+policies\/default\.yaml calls it/,
      );
    } finally {
      process.chdir(checkout);
    }
  });

  it('rejects an unreadable base before drilling', async () => {
    const base = join(dir, 'base.yaml');
    await writeFile(base, '- version: 1\n');
    const gateDir = join(dir, 'gate');
    const run = await runInProcess(registerCommands, [
      'gate',
      '--base-policy',
      base,
      '--gate-dir',
      gateDir,
    ]);
    assert.equal(run.exitCode, 2);
    assert.equal(
      run.stderr.replaceAll(base, 'BASE'),
      'error: --base-policy BASE cannot be read as a policy: BASE:1:1: the document is not a map of version and routes; pass the policy file the change starts from\n',
    );
    await assert.rejects(stat(gateDir), { code: 'ENOENT' });
  });

  it('rejects --tenants without a drill tenant before drilling', async () => {
    const tenants = join(dir, 'tenants.yaml');
    await writeFile(tenants, await tenantsWithout('tenant-noisy'));
    const gateDir = join(dir, 'gate');
    const run = await runInProcess(registerCommands, [
      'gate',
      '--base-policy',
      'policies/default.yaml',
      '--tenants',
      tenants,
      '--gate-dir',
      gateDir,
    ]);
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
    // Neither drill started, so the gate folder was not even created.
    await assert.rejects(stat(gateDir), { code: 'ENOENT' });
  });

  it('rejects an invalid --prices before drilling', async () => {
    const prices = join(dir, 'prices.yaml');
    await writeFile(prices, 'effectiveDate: 2025-01-15\n');
    const gateDir = join(dir, 'gate');
    const run = await runInProcess(registerCommands, [
      'gate',
      '--prices',
      prices,
      '--gate-dir',
      gateDir,
    ]);
    assert.equal(run.exitCode, 2);
    // The table has its date and nothing after it, so the loader stops at the missing source.
    assert.equal(
      run.stderr,
      `error: ${prices}: source: expected a non-empty string, received nothing; fix the file ` +
        'or pass another --prices\n',
    );
    await assert.rejects(stat(gateDir), { code: 'ENOENT' });
  });
});

describe('scalegate gate in a used gate folder', () => {
  let dir = '';
  let gateDir = '';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-gate-command-'));
    gateDir = join(dir, 'gate');
    await mkdir(gateDir);
    await writeFile(join(gateDir, GATE_FOLDER_MARKER), '');
    await writeFile(join(gateDir, 'comment.md'), '## Policy gate: passed\n');
    await writeFile(join(gateDir, 'comparison.json'), '{"groups": []}\n');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Asserts that the earlier run's comment and comparison are gone. */
  async function assertEarlierOutputDeleted(): Promise<void> {
    await assert.rejects(stat(join(gateDir, 'comment.md')), { code: 'ENOENT' });
    await assert.rejects(stat(join(gateDir, 'comparison.json')), { code: 'ENOENT' });
  }

  it('deletes old output at unreadable base', async () => {
    const base = join(dir, 'base.yaml');
    await writeFile(base, '- version: 1\n');
    const run = await runInProcess(registerCommands, [
      'gate',
      '--base-policy',
      base,
      '--gate-dir',
      gateDir,
    ]);
    assert.equal(run.exitCode, 2);
    assert.match(run.stderr, /cannot be read as a policy/);
    await assertEarlierOutputDeleted();
  });

  it('deletes old output at invalid --prices', async () => {
    const prices = join(dir, 'prices.yaml');
    await writeFile(prices, 'effectiveDate: 2025-01-15\n');
    const run = await runInProcess(registerCommands, [
      'gate',
      '--prices',
      prices,
      '--gate-dir',
      gateDir,
    ]);
    assert.equal(run.exitCode, 2);
    assert.match(run.stderr, /source: expected a non-empty string/);
    await assertEarlierOutputDeleted();
  });
});

describe('scalegate gate in a folder it did not create', () => {
  let dir = '';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-gate-command-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects the checkout as gate dir', async () => {
    // A copy of the checkout's committed reports: latest.json and the run folder it names.
    await cp('reports/latest.json', join(dir, 'reports', 'latest.json'));
    const pointer = JSON.parse(await readFile('reports/latest.json', 'utf8')) as { runId: string };
    await cp(join('reports', pointer.runId), join(dir, 'reports', pointer.runId), {
      recursive: true,
    });
    const latestBefore = await readFile(join(dir, 'reports', 'latest.json'));
    const runsBefore = await readdir(join(dir, 'reports'));
    const checkout = process.cwd();
    process.chdir(dir);
    let run: Awaited<ReturnType<typeof runInProcess>>;
    try {
      run = await runInProcess(registerCommands, ['gate', '--gate-dir', '.']);
    } finally {
      process.chdir(checkout);
    }

    assert.equal(run.exitCode, 2);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      'error: --gate-dir . contains reports/latest.json and has no .scalegate-gate file, so ' +
        'scalegate gate did not write it and would overwrite it. Pass a new or empty folder, ' +
        'or delete this folder if only an earlier gate run wrote to it.\n',
    );
    assert.deepEqual(await readFile(join(dir, 'reports', 'latest.json')), latestBefore);
    assert.deepEqual(await readdir(join(dir, 'reports')), runsBefore);
    assert.deepEqual((await readdir(dir)).sort(), ['reports']);
  });

  it('keeps unmarked earlier output', async () => {
    const gateDir = join(dir, 'gate');
    await mkdir(join(gateDir, 'reports'), { recursive: true });
    await writeFile(join(gateDir, 'comment.md'), '## Policy gate: passed\n');
    await writeFile(join(gateDir, 'scaling_runbook.md'), '# Runbook\n');
    const run = await runInProcess(registerCommands, ['gate', '--gate-dir', gateDir]);

    assert.equal(run.exitCode, 2);
    assert.equal(
      run.stderr,
      `error: --gate-dir ${gateDir} contains reports/, scaling_runbook.md and comment.md and has ` +
        'no .scalegate-gate file, so scalegate gate did not write them and would overwrite ' +
        'them. Pass a new or empty folder, or delete this folder if only an earlier gate run ' +
        'wrote to it.\n',
    );
    assert.equal(await readFile(join(gateDir, 'comment.md'), 'utf8'), '## Policy gate: passed\n');
    assert.equal(await readFile(join(gateDir, 'scaling_runbook.md'), 'utf8'), '# Runbook\n');
    assert.deepEqual((await readdir(gateDir)).sort(), [
      'comment.md',
      'reports',
      'scaling_runbook.md',
    ]);
  });
});

describe('gate --help', () => {
  it('says both drills share the files', () => {
    const program = new Command('scalegate');
    registerCommands(program);
    const gate = program.commands.find((command) => command.name() === 'gate');
    assert.ok(gate);
    const help = gate.helpInformation().replace(/\s+/g, ' ');
    assert.match(
      help,
      / --tenants <file> tenants file with hashed API keys and limits .*; both drills run on it /,
    );
    assert.match(
      help,
      / --prices <file> price table with the USD prices of each provider model .*; both drills run on it /,
    );
    assert.match(
      help,
      / --gate-dir <dir> .*; a folder that contains any of them without the \.scalegate-gate file that a gate run writes is rejected /,
    );
  });
});
