import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
