import assert from 'node:assert/strict';

import {
  compareSummaryLines,
  GATE_COMMENT_MARKER,
  type GateCommentInput,
  renderGateComment,
} from '../../../src/harness/gate/comment.js';
import { LOWER_BOUND_NOTE } from '../../../src/harness/compare/format.js';
import { compareGateRuns } from '../../../src/harness/gate/compare.js';
import type {
  BaseDrillOutcome,
  GateDrillOutcome,
  GateFiles,
} from '../../../src/harness/gate/run.js';
import type { PolicyChangeRecord, Report } from '../../../src/harness/report/types.js';
import { sampleReport } from '../report/sample-report.js';

const BASE_POLICY = 'base/default.yaml';
const PR_POLICY = 'policies/default.yaml';

/** Returns the base policy's report: sampleReport as it is, a deviated drill. */
function baseReport(): Report {
  const report = sampleReport();
  report.runId = '20261204T150000Z-provider-outage';
  report.environment.policyHash = 'b'.repeat(64);
  report.environment.policyPath = BASE_POLICY;
  return report;
}

/** Returns the PR policy's report: a passed drill with round changes from the base's figures. */
function prReport(): Report {
  const report = sampleReport();
  report.runId = '20261204T150400Z-provider-outage';
  report.createdAt = '2026-12-04T15:04:00.000Z';
  report.environment.policyHash = 'c'.repeat(64);
  report.environment.policyPath = PR_POLICY;
  report.verdict = { status: 'passed', reasons: ['every probe held in every window'] };
  const topology = report.topologies[0];
  assert.ok(topology);
  topology.throughputRpm = 1980;
  topology.successRate = 0.99;
  topology.latency = { ...topology.latency, p95S: 2.72 };
  topology.failovers = [
    { fromProvider: 'provider-a', toProvider: 'provider-b', activations: 20 },
    { fromProvider: 'provider-a', toProvider: 'provider-c', activations: 6 },
  ];
  const bill = topology.cost.providerBill;
  assert.ok(bill);
  topology.cost = {
    ...topology.cost,
    meanUsd: 0.0209,
    providerBill: { ...bill, chargedUsd: 47.75, differenceUsd: 0.25 },
  };
  // Three more requests a second, all succeeded, so the series matches the throughput.
  for (const point of topology.timeSeries) {
    point.requests += 3;
    point.successes += 3;
    point.throughputRpm += 180;
  }
  topology.requests = 2970;
  report.policyChange = policyChange();
  return report;
}

function policyChange(): PolicyChangeRecord {
  return {
    basePolicyPath: BASE_POLICY,
    basePolicySha256: 'b'.repeat(64),
    changes: [
      { route: 'chat', kind: 'changed', details: ['breaker.cooldownMs 15000 -> 5000'] },
      { route: 'summarize', kind: 'changed', details: ['deadlineMs 20000 -> 15000'] },
    ],
    unexercisedRoutes: ['summarize'],
  };
}

function ran(policyPath: string, report: Report, side: string): GateDrillOutcome {
  const runDir = `gate/${side}/${report.runId}`;
  return {
    status: 'ran',
    policyPath,
    reportPath: `${runDir}/report.json`,
    run: {
      report,
      written: { runDir, files: ['report.json', 'summary.md'] },
      runbook: { status: 'written', path: 'gate/scaling_runbook.md' },
      policyText: '',
    },
  };
}

/** The shipped price table and tenants file, with made-up digests. */
const SHIPPED_FILES: GateFiles = {
  pricesPath: 'fixtures/prices.yaml',
  pricesHash: 'a'.repeat(64),
  tenantsPath: 'fixtures/tenants.yaml',
  tenantsHash: 'd'.repeat(64),
};

function gateInput(
  base: BaseDrillOutcome | null,
  pr: GateDrillOutcome,
  files: GateFiles | null = SHIPPED_FILES,
): GateCommentInput {
  const comparison =
    base?.status === 'ran' && pr.status === 'ran'
      ? compareGateRuns(
          { report: base.run.report, reportPath: base.reportPath },
          { report: pr.run.report, reportPath: pr.reportPath },
        )
      : null;
  return {
    settings: {
      drill: 'provider-outage',
      seed: 42,
      timeScale: 10,
      topology: 'workers',
      files,
    },
    base,
    pr,
    comparison,
  };
}

function bothRan(): GateCommentInput {
  return gateInput(
    ran(BASE_POLICY, baseReport(), 'base-reports'),
    ran(PR_POLICY, prReport(), 'reports'),
  );
}

/** Records a price table of `effectiveDate` whose sha256 is `hashDigit` repeated. */
function withPrices(report: Report, effectiveDate: string, hashDigit: string): Report {
  report.environment = {
    ...report.environment,
    pricesPath: 'fixtures/prices.yaml',
    pricesHash: hashDigit.repeat(64),
    pricesEffectiveDate: effectiveDate,
    tenantsPath: 'fixtures/tenants.yaml',
    tenantsHash: 'd'.repeat(64),
  };
  return report;
}

/** Returns the lines of the comment's table that start with `| label |`. */
function tableRow(comment: string, label: string): string | undefined {
  return comment.split('\n').find((line) => line.startsWith(`| ${label} |`));
}

describe('renderGateComment', () => {
  it('starts with the marker and PR verdict', () => {
    const lines = renderGateComment(bothRan()).split('\n');
    assert.equal(lines[0], GATE_COMMENT_MARKER);
    assert.equal(lines[1], '## Policy gate: passed');
    assert.equal(
      lines[3],
      'The `provider-outage` drill of the PR policy `policies/default.yaml` (sha256 cccccccccccc) passed.',
    );
    assert.equal(lines[5], '- every probe held in every window');
    assert.ok(lines.indexOf('### Base vs PR') > 5);
  });

  it('says that the drill of an aborted PR policy was aborted', () => {
    const input = bothRan();
    assert.equal(input.pr.status, 'ran');
    if (input.pr.status !== 'ran') return;
    input.pr.run.report.verdict = { status: 'aborted', reasons: ['abort rule fired'] };
    const lines = renderGateComment(input).split('\n');
    assert.equal(
      lines[3],
      'The `provider-outage` drill of the PR policy `policies/default.yaml` (sha256 cccccccccccc) was aborted.',
    );
  });

  it('leaves out reasons of a passed verdict without any', () => {
    const report = prReport();
    report.verdict = { status: 'passed', reasons: [] };
    const input = gateInput(
      ran(BASE_POLICY, baseReport(), 'base-reports'),
      ran(PR_POLICY, report, 'reports'),
    );
    const lines = renderGateComment(input).split('\n');
    assert.equal(lines[4], '');
    assert.match(lines[5] ?? '', /^Drill `provider-outage`, seed 42/);
    assert.ok(!lines.includes('The verdict gives no reasons.'));
  });

  it('says a deviated verdict gave no reasons', () => {
    const report = prReport();
    report.verdict = { status: 'deviated', reasons: [] };
    const input = gateInput(
      ran(BASE_POLICY, baseReport(), 'base-reports'),
      ran(PR_POLICY, report, 'reports'),
    );
    const lines = renderGateComment(input).split('\n');
    assert.equal(lines[5], 'The verdict gives no reasons.');
  });

  it('names the shared drill settings', () => {
    const comment = renderGateComment(bothRan());
    assert.ok(
      comment.includes(
        '\nDrill `provider-outage`, seed 42, time scale 10, topology `workers`, price table ' +
          '`fixtures/prices.yaml` (sha256 aaaaaaaaaaaa), tenants file `fixtures/tenants.yaml` ' +
          '(sha256 dddddddddddd). The base policy was drilled first and the PR policy second, ' +
          'in the same job.\n',
      ),
      comment,
    );
  });

  it('names files given with --prices and --tenants', () => {
    const files: GateFiles = {
      pricesPath: '/srv/negotiated-prices.yaml',
      pricesHash: 'e'.repeat(64),
      tenantsPath: 'trial-tenants.yaml',
      tenantsHash: 'f'.repeat(64),
    };
    const input = gateInput(
      ran(BASE_POLICY, baseReport(), 'base-reports'),
      ran(PR_POLICY, prReport(), 'reports'),
      files,
    );
    const comment = renderGateComment(input);
    assert.ok(
      comment.includes(
        ', topology `workers`, price table `/srv/negotiated-prices.yaml` (sha256 ' +
          'eeeeeeeeeeee), tenants file `trial-tenants.yaml` (sha256 ffffffffffff). The base ' +
          'policy',
      ),
      comment,
    );
  });

  it('leaves out files the gate could not read', () => {
    const input = gateInput(
      ran(BASE_POLICY, baseReport(), 'base-reports'),
      ran(PR_POLICY, prReport(), 'reports'),
      null,
    );
    const comment = renderGateComment(input);
    assert.ok(
      comment.includes(
        '\nDrill `provider-outage`, seed 42, time scale 10, topology `workers`. The base policy ' +
          'was drilled first and the PR policy second, in the same job.\n',
      ),
      comment,
    );
  });

  it('tables base and PR figures with changes', () => {
    const comment = renderGateComment(bothRan());
    const rows = [
      '| policy | `base/default.yaml` bbbbbbbbbbbb | `policies/default.yaml` cccccccccccc |  |',
      '| verdict | deviated | passed |  |',
      '| completed throughput | 1800 rpm | 1980 rpm | +10.0% |',
      '| succeeded throughput | 1776 rpm | 1956 rpm | +10.1% |',
      '| success rate | 96.4% | 99.0% | +2.7% |',
      '| p95 latency | 3.40 s | 2.72 s | -20.0% |',
      '| failover activations | 900 | 26 | -97.1% |',
      '| mean cost per task | $0.01900 | $0.02090 | +10.0% |',
      '| provider bill minus charged | $0.1000 | $0.2500 | +150.0% |',
    ];
    const start = comment.indexOf('| --- | --- | --- | --- |\n');
    assert.ok(start > 0, comment);
    const table = comment
      .slice(start)
      .split('\n')
      .slice(1, rows.length + 1);
    assert.deepEqual(table, rows);
  });

  it("leaves out the providers' bill row when the base report has no bill", () => {
    const base = baseReport();
    base.schemaVersion = 5;
    delete base.topologies[0]?.cost.providerBill;
    const comment = renderGateComment(
      gateInput(ran(BASE_POLICY, base, 'base-reports'), ran(PR_POLICY, prReport(), 'reports')),
    );
    assert.ok(comment.includes('| mean cost per task |'), comment);
    assert.ok(!comment.includes('provider bill minus charged'), comment);
  });

  it('states that single runs give no noise band', () => {
    const comment = renderGateComment(bothRan());
    assert.ok(
      comment.includes(
        '\nEach side is a single drill, so no change can be told apart from drift between runs; ' +
          'compare marks none as within or beyond noise.\n',
      ),
      comment,
    );
  });

  it('carries an unmeasured figure with its reason', () => {
    const pr = prReport();
    // Throughput without matching series seconds leaves the succeeded throughput unknown.
    const topology = pr.topologies[0];
    assert.ok(topology);
    for (const point of topology.timeSeries) {
      point.requests -= 3;
      point.successes -= 3;
      point.throughputRpm -= 180;
    }
    const input = gateInput(
      ran(BASE_POLICY, baseReport(), 'base-reports'),
      ran(PR_POLICY, pr, 'reports'),
    );
    const comment = renderGateComment(input);
    assert.equal(
      tableRow(comment, 'succeeded throughput'),
      '| succeeded throughput | 1776 rpm | n/a | n/a |',
    );
    assert.match(
      comment,
      /\nSucceeded throughput is n\/a for gate\/reports\/20261204T150400Z-provider-outage\/report\.json: its series counts 2700 requests/,
    );
  });

  it('marks lower bounds of aborted requests', () => {
    const pr = prReport();
    const topology = pr.topologies[0];
    assert.ok(topology);
    // Requests in the series that did not complete were aborted at the drain timeout.
    for (const point of topology.timeSeries) point.throughputRpm -= 180;
    const input = gateInput(
      ran(BASE_POLICY, baseReport(), 'base-reports'),
      ran(PR_POLICY, pr, 'reports'),
    );
    const comment = renderGateComment(input);
    assert.equal(
      tableRow(comment, 'p95 latency'),
      '| p95 latency | 3.40 s | >= 2.72 s | >= -20.0% |',
    );
    assert.ok(comment.includes(`\n${LOWER_BOUND_NOTE}\n`), comment);
    assert.ok(
      comment.includes(
        '\n- gate/reports/20261204T150400Z-provider-outage/report.json: 270 of 2970 requests ' +
          'were aborted at the drain timeout',
      ),
      comment,
    );
  });

  it('leaves out the expected policy warning', () => {
    const input = bothRan();
    const all = input.comparison?.comparison.warnings ?? [];
    assert.equal(all.length, 1, all.join('\n'));
    assert.match(all[0] ?? '', /^policy hash differs:/);
    assert.deepEqual(input.comparison?.warnings, []);
    assert.ok(!renderGateComment(input).includes('Warnings from the comparison'));
  });

  it('notes one price table date', () => {
    const input = gateInput(
      ran(BASE_POLICY, withPrices(baseReport(), '2025-01-15', 'a'), 'base-reports'),
      ran(PR_POLICY, withPrices(prReport(), '2025-01-15', 'a'), 'reports'),
    );
    const comment = renderGateComment(input);
    assert.ok(
      comment.includes('\nCosts are priced with the price table effective 2025-01-15.\n'),
      comment,
    );
    assert.deepEqual(input.comparison?.warnings, []);
  });

  it('leaves the path of --prices out of the note', () => {
    const given = (report: Report) => {
      const priced = withPrices(report, '2025-01-15', 'a');
      priced.environment.pricesPath = '/srv/negotiated-prices.yaml';
      return priced;
    };
    const input = gateInput(
      ran(BASE_POLICY, given(baseReport()), 'base-reports'),
      ran(PR_POLICY, given(prReport()), 'reports'),
    );
    const comment = renderGateComment(input);
    assert.ok(
      comment.includes('\nCosts are priced with the price table effective 2025-01-15.\n'),
      comment,
    );
  });

  it("notes each side's price table date", () => {
    const input = gateInput(
      ran(BASE_POLICY, withPrices(baseReport(), '2025-01-15', 'a'), 'base-reports'),
      ran(PR_POLICY, withPrices(prReport(), '2026-02-01', 'e'), 'reports'),
    );
    const comment = renderGateComment(input);
    assert.ok(
      comment.includes(
        '\nCosts are priced with the price table effective 2025-01-15 on the base side and ' +
          '2026-02-01 on the PR side.\n',
      ),
      comment,
    );
    assert.ok(
      comment.includes(
        '\n- price table differs: fixtures/prices.yaml (sha256 aaaaaaaaaaaa, effective ' +
          '2025-01-15) (gate/base-reports/20261204T150000Z-provider-outage/report.json) vs ' +
          'fixtures/prices.yaml (sha256 eeeeeeeeeeee, effective 2026-02-01) ' +
          '(gate/reports/20261204T150400Z-provider-outage/report.json); cost per task and the ' +
          'worker pool bill come from its prices, so they do not compare like for like; run ' +
          'every side on one price table\n',
      ),
      comment,
    );
  });

  it('leaves out the date of an older report', () => {
    const input = gateInput(
      ran(BASE_POLICY, baseReport(), 'base-reports'),
      ran(PR_POLICY, withPrices(prReport(), '2025-01-15', 'a'), 'reports'),
    );
    const comment = renderGateComment(input);
    assert.ok(!comment.includes('Costs are priced with'), comment);
    assert.deepEqual(input.comparison?.warnings, [
      'gate/base-reports/20261204T150000Z-provider-outage/report.json predates the record of ' +
        'the price table and tenants file, so compare could not check them',
    ]);
  });

  it('flags an aborted base drill', () => {
    const base = baseReport();
    base.verdict = { status: 'aborted', reasons: ['abort rule fired'] };
    assert.ok(base.drill);
    base.drill.aborted = { reason: 'abort-rule', detail: 'success rate below 0.5', atS: 41.5 };
    const input = gateInput(
      ran(BASE_POLICY, base, 'base-reports'),
      ran(PR_POLICY, prReport(), 'reports'),
    );
    const comment = renderGateComment(input);
    assert.ok(
      comment.includes(
        '\n**The base drill was aborted** at 41.50 s (abort-rule: success rate below 0.5), so ' +
          'its figures cover the run up to then.\n',
      ),
      comment,
    );
    assert.equal(tableRow(comment, 'verdict'), '| verdict | aborted | passed |  |');
    assert.ok(
      comment.includes(
        '\n- gate/base-reports/20261204T150000Z-provider-outage/report.json: the drill was ' +
          'aborted at 41.50 s (abort-rule: success rate below 0.5)\n',
      ),
      comment,
    );
    // The PR verdict still leads the comment.
    assert.equal(comment.split('\n')[1], '## Policy gate: passed');
  });

  it('leaves out changes beside an aborted drill', () => {
    const pr = prReport();
    pr.verdict = { status: 'aborted', reasons: ['abort rule fired'] };
    assert.ok(pr.drill);
    pr.drill.aborted = { reason: 'abort-rule', detail: 'success rate below 0.5', atS: 31.01 };
    const input = gateInput(
      ran(BASE_POLICY, baseReport(), 'base-reports'),
      ran(PR_POLICY, pr, 'reports'),
    );

    const comment = renderGateComment(input);
    assert.equal(
      tableRow(comment, 'completed throughput'),
      '| completed throughput | 1800 rpm | 1980 rpm | n/a |',
    );
    assert.equal(tableRow(comment, 'p95 latency'), '| p95 latency | 3.40 s | 2.72 s | n/a |');
    assert.equal(
      tableRow(comment, 'failover activations'),
      '| failover activations | 900 | 26 | n/a |',
    );
    assert.equal(
      tableRow(comment, 'mean cost per task'),
      '| mean cost per task | $0.01900 | $0.02090 | n/a |',
    );
    assert.equal(
      tableRow(comment, 'provider bill minus charged'),
      '| provider bill minus charged | $0.1000 | $0.2500 | n/a |',
    );
    assert.ok(
      comment.includes(
        '\nThe change column is n/a, because the base drill ran its full 90 s and the PR drill ' +
          'was aborted at 31.01 s, so the figures of the two sides cover different parts of the ' +
          'drill.\n',
      ),
      comment,
    );
  });

  it('lists the policy changes', () => {
    const comment = renderGateComment(bothRan());
    assert.ok(
      comment.includes(
        '\n### Policy change\n\nSettings the PR policy changes from the base policy ' +
          '`base/default.yaml` (sha256 bbbbbbbbbbbb):\n\n' +
          '- route chat: breaker.cooldownMs 15000 -> 5000\n' +
          '- route summarize: deadlineMs 20000 -> 15000. **Not covered:** the drill did not ' +
          'exercise this route, so the verdict does not cover this change.\n',
      ),
      comment,
    );
  });

  it('lists changed routes not exercised', () => {
    const comment = renderGateComment(bothRan());
    assert.ok(
      comment.includes(
        "\n### Changed routes the drill did not exercise\n\nThe drill's load sent no request to " +
          'these routes and no failover reached their candidates, so its verdict does not ' +
          'cover their changes:\n\n- `summarize`\n',
      ),
      comment,
    );
  });

  it('covers a fallback route that served tasks', () => {
    const pr = prReport();
    const topology = pr.topologies[0];
    assert.ok(topology);
    topology.fallbackRouteAttempts = [
      { route: 'chat', fallbackRoute: 'summarize', attempts: 40, succeeded: 38 },
    ];
    pr.policyChange = { ...policyChange(), unexercisedRoutes: [] };
    const comment = renderGateComment(gateInput(null, ran(PR_POLICY, pr, 'reports')));
    assert.ok(
      comment.includes(
        '\n- route summarize: deadlineMs 20000 -> 15000. **Reached through fallback only:** ' +
          "the drill's load sent it no request, and tasks of `chat` called its candidates " +
          "through `fallbackRoute` under their own route's time limits, retry budget and " +
          "failoverOn, so the verdict covers changes of this route's candidates only.\n",
      ),
      comment,
    );
    assert.ok(
      comment.includes(
        '\n### Changed routes the drill did not exercise\n\nNone: the drill exercised every changed route.\n',
      ),
      comment,
    );
    assert.equal(comment.includes('**Not covered:**'), false, comment);
  });

  it('lists a fallback route no failover reached', () => {
    const pr = prReport();
    const topology = pr.topologies[0];
    assert.ok(topology);
    topology.fallbackRouteAttempts = [];
    const comment = renderGateComment(gateInput(null, ran(PR_POLICY, pr, 'reports')));
    assert.ok(comment.includes('covered:** the drill did not exercise this route'), comment);
    assert.ok(comment.includes('cover their changes:\n\n- `summarize`\n'), comment);
    assert.equal(comment.includes('through fallback only'), false, comment);
  });

  it('says when every changed route ran', () => {
    const pr = prReport();
    pr.policyChange = { ...policyChange(), unexercisedRoutes: [] };
    const comment = renderGateComment(gateInput(null, ran(PR_POLICY, pr, 'reports')));
    assert.ok(
      comment.includes(
        '\n### Changed routes the drill did not exercise\n\nNone: the drill exercised every changed route.\n',
      ),
      comment,
    );
  });

  it('reports a failed base drill', () => {
    const base: GateDrillOutcome = {
      status: 'failed',
      policyPath: BASE_POLICY,
      error: new Error('invalid'),
      message: 'invalid route policy base/default.yaml (1 problem):\n  /routes/chat: missing',
    };
    const comment = renderGateComment(gateInput(base, ran(PR_POLICY, prReport(), 'reports')));
    assert.equal(comment.split('\n')[1], '## Policy gate: passed');
    assert.ok(
      comment.includes(
        '\n### Base vs PR\n\nThe drill of the base policy `base/default.yaml` failed before it ' +
          'wrote a report, so there is no comparison. The PR verdict above stands on its own:\n\n' +
          '```\ninvalid route policy base/default.yaml (1 problem):\n  /routes/chat: missing\n```\n',
      ),
      comment,
    );
    assert.equal(tableRow(comment, 'verdict'), undefined);
  });

  it('reports a failed PR drill', () => {
    const pr: GateDrillOutcome = {
      status: 'failed',
      policyPath: PR_POLICY,
      error: new Error('listen EADDRINUSE'),
      message: 'listen EADDRINUSE',
    };
    const input = gateInput(ran(BASE_POLICY, baseReport(), 'base-reports'), pr);
    const comment = renderGateComment(input);
    const lines = comment.split('\n');
    assert.equal(lines[1], '## Policy gate: the PR drill failed');
    assert.ok(comment.includes('\n```\nlisten EADDRINUSE\n```\n'), comment);
    assert.ok(
      comment.includes(
        '\nThe base policy `base/default.yaml` got the verdict deviated. There is no ' +
          'comparison, because the PR drill failed.\n',
      ),
      comment,
    );
  });

  it('lists the PR drill warnings', () => {
    const input = { ...bothRan(), prWarnings: ['route chat has no provider-b candidate'] };
    const lines = renderGateComment(input).split('\n');
    assert.equal(lines[5], '- every probe held in every window');
    assert.equal(lines[6], '');
    assert.equal(lines[7], 'Warnings of the PR drill:');
    assert.equal(lines[8], '');
    assert.equal(lines[9], '- route chat has no provider-b candidate');
    assert.equal(lines[10], '');
    assert.match(lines[11] ?? '', /^Drill `provider-outage`, seed 42/);
  });

  it('lists warnings of a failed PR drill', () => {
    const pr: GateDrillOutcome = {
      status: 'failed',
      policyPath: PR_POLICY,
      error: new Error('listen EADDRINUSE'),
      message: 'listen EADDRINUSE',
    };
    const input = {
      ...gateInput(ran(BASE_POLICY, baseReport(), 'base-reports'), pr),
      prWarnings: ['route chat has no provider-b candidate'],
    };
    const comment = renderGateComment(input);
    assert.ok(
      comment.includes(
        '\n```\n\nWarnings of the PR drill:\n\n- route chat has no provider-b candidate\n\nDrill ',
      ),
      comment,
    );
  });

  it('reports both drills failed', () => {
    const failed = (policyPath: string): GateDrillOutcome => ({
      status: 'failed',
      policyPath,
      error: new Error('listen EADDRINUSE'),
      message: 'listen EADDRINUSE',
    });
    const comment = renderGateComment(gateInput(failed(BASE_POLICY), failed(PR_POLICY)));
    assert.equal(comment.split('\n')[1], '## Policy gate: the PR drill failed');
    // The PR drill has no verdict, so the base section claims none.
    assert.ok(!comment.includes('The PR verdict above'), comment);
    assert.ok(
      comment.includes(
        '\n### Base vs PR\n\nThe drill of the base policy `base/default.yaml` failed before it ' +
          'wrote a report too, so there is no comparison:\n\n```\nlisten EADDRINUSE\n```\n',
      ),
      comment,
    );
  });

  it('drills the PR policy alone without a base', () => {
    const pr = prReport();
    delete pr.policyChange;
    const comment = renderGateComment(gateInput(null, ran(PR_POLICY, pr, 'reports')));
    assert.ok(comment.includes('No base policy was given, so only the PR policy was drilled.'));
    assert.ok(!comment.includes('### Base vs PR'), comment);
    assert.ok(!comment.includes('### Policy change'), comment);
  });
});

describe('compareSummaryLines', () => {
  it('prints verdicts and each figure', () => {
    assert.deepEqual(compareSummaryLines(bothRan()), [
      '[compare] verdict base=deviated PR=passed',
      '[compare] completed throughput: 1800 rpm -> 1980 rpm (+10.0%)',
      '[compare] succeeded throughput: 1776 rpm -> 1956 rpm (+10.1%)',
      '[compare] success rate: 96.4% -> 99.0% (+2.7%)',
      '[compare] p95 latency: 3.40 s -> 2.72 s (-20.0%)',
      '[compare] failover activations: 900 -> 26 (-97.1%)',
      '[compare] mean cost per task: $0.01900 -> $0.02090 (+10.0%)',
      '[compare] provider bill minus charged: $0.1000 -> $0.2500 (+150.0%)',
      '[compare] single runs, so no change is marked as within or beyond noise',
    ]);
  });

  it('prints the price table date as a note', () => {
    const input = gateInput(
      ran(BASE_POLICY, withPrices(baseReport(), '2025-01-15', 'a'), 'base-reports'),
      ran(PR_POLICY, withPrices(prReport(), '2025-01-15', 'a'), 'reports'),
    );
    assert.ok(
      compareSummaryLines(input).includes(
        '[compare] note: Costs are priced with the price table effective 2025-01-15.',
      ),
    );
  });

  it('gives the reason of an n/a figure', () => {
    const pr = prReport();
    // Requests in the series that did not complete were aborted at the drain timeout, and the
    // completed rate no longer matches the series, so succeeded throughput is n/a too.
    const topology = pr.topologies[0];
    assert.ok(topology);
    for (const point of topology.timeSeries) point.throughputRpm -= 180;
    const lines = compareSummaryLines(
      gateInput(ran(BASE_POLICY, baseReport(), 'base-reports'), ran(PR_POLICY, pr, 'reports')),
    );
    assert.ok(
      lines.includes('[compare] succeeded throughput: 1776 rpm -> n/a (n/a)'),
      lines.join('\n'),
    );
    const reason = lines.find((line) => line.startsWith('[compare] note: Succeeded throughput'));
    assert.match(
      reason ?? lines.join('\n'),
      /^\[compare\] note: Succeeded throughput is n\/a for gate\/reports\/20261204T150400Z-provider-outage\/report\.json: its series counts /,
    );
    assert.ok(lines.includes(`[compare] note: ${LOWER_BOUND_NOTE}`), lines.join('\n'));
  });

  it('names a failed base drill', () => {
    const base: GateDrillOutcome = {
      status: 'failed',
      policyPath: BASE_POLICY,
      error: new Error('x'),
      message: 'invalid route policy base/default.yaml (1 problem):\n  /routes/chat: missing',
    };
    assert.deepEqual(compareSummaryLines(gateInput(base, ran(PR_POLICY, prReport(), 'reports'))), [
      '[compare] base drill of base/default.yaml failed, so there is no comparison: ' +
        'invalid route policy base/default.yaml (1 problem):',
    ]);
  });

  it('names a skipped base drill', () => {
    const base: BaseDrillOutcome = {
      status: 'skipped',
      policyPath: BASE_POLICY,
      reason: 'the PR policy is invalid',
    };
    const pr: GateDrillOutcome = {
      status: 'failed',
      policyPath: PR_POLICY,
      error: new Error('x'),
      message: 'invalid route policy policies/default.yaml (1 problem):',
    };
    assert.deepEqual(compareSummaryLines(gateInput(base, pr)), [
      '[compare] base policy base/default.yaml was not drilled, because the PR policy is invalid',
    ]);
  });

  it('names both aborts in the note', () => {
    const base = baseReport();
    assert.ok(base.drill);
    base.drill.aborted = { reason: 'abort-rule', detail: 'success rate below 0.5', atS: 56.03 };
    const pr = prReport();
    assert.ok(pr.drill);
    pr.drill.aborted = { reason: 'abort-rule', detail: 'success rate below 0.5', atS: 31.01 };
    const input = gateInput(ran(BASE_POLICY, base, 'base-reports'), ran(PR_POLICY, pr, 'reports'));
    const lines = compareSummaryLines(input);
    assert.ok(
      lines.includes(
        '[compare] note: The change column is n/a, because the base drill was aborted at ' +
          '56.03 s and the PR drill was aborted at 31.01 s, so the figures of the two sides ' +
          'cover different parts of the drill.',
      ),
      lines.join('\n'),
    );
    assert.ok(lines.includes('[compare] success rate: 96.4% -> 99.0% (n/a)'), lines.join('\n'));
  });

  it('prints nothing without a base', () => {
    assert.deepEqual(
      compareSummaryLines(gateInput(null, ran(PR_POLICY, prReport(), 'reports'))),
      [],
    );
  });
});
