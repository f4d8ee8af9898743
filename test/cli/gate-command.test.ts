import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { gateExitCode } from '../../src/cli/commands/gate.js';
import { registerCommands } from '../../src/cli/commands/index.js';
import type { GateDrillOutcome, PolicyGateResult } from '../../src/harness/gate/run.js';
import type { Verdict } from '../../src/harness/report/types.js';
import { sampleReport } from '../harness/report/sample-report.js';
import { runInProcess } from '../support/run-command.js';

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

  it('rejects an empty gate dir', async () => {
    const run = await runInProcess(registerCommands, ['gate', '--gate-dir', '']);
    assert.equal(run.exitCode, 2);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      'error: --gate-dir is empty; pass a folder, such as gate, which the gate creates when missing\n',
    );
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
});
