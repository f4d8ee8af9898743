import assert from 'node:assert/strict';

import { drillExitCode, keepRunbookReason } from '../../src/cli/commands/drill.js';
import type { Verdict } from '../../src/harness/report/types.js';
import { sampleReport } from '../harness/report/sample-report.js';

function reportWith(status: Verdict) {
  const report = sampleReport();
  report.verdict = { status, reasons: [] };
  if (report.drill) report.drill.aborted = null;
  return report;
}

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
