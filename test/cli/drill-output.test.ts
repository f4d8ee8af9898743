import assert from 'node:assert/strict';

import {
  DrillProgress,
  type PolicyComparison,
  summaryLines,
  taskCountsLine,
} from '../../src/cli/drill-output.js';
import type { SeriesPoint } from '../../src/harness/report/types.js';
import type { RunbookOutcome } from '../../src/harness/runbook/write.js';
import { sampleReport } from '../harness/report/sample-report.js';
import { sampleWorkerLossReport } from '../harness/report/sample-worker-loss.js';

function capture(isTTY: boolean): { isTTY: boolean; text: string; write(s: string): void } {
  return {
    isTTY,
    text: '',
    write(s: string) {
      this.text += s;
    },
  };
}

/** Returns the outcome of a drill that wrote its runbook at `path`. */
function written(path = 'runbooks/scaling_runbook.md'): RunbookOutcome {
  return { status: 'written', path };
}

function point(t: number): SeriesPoint {
  return {
    t,
    requests: 30,
    successes: 30,
    throughputRpm: 1800,
    successRate: 1,
    p95S: 3.25,
    failovers: 0,
    servedBy: {},
  };
}

describe('taskCountsLine', () => {
  it('states the ended tasks', () => {
    const counts = {
      accepted: 4777,
      queued: 0,
      running: 0,
      succeeded: 4770,
      failed: 5,
      dead_lettered: 2,
    };
    assert.equal(
      taskCountsLine(counts),
      '[tasks] accepted=4777 succeeded=4770 failed=5 dead_lettered=2',
    );
  });

  it('adds tasks still queued or running', () => {
    const counts = {
      accepted: 1325,
      queued: 1,
      running: 0,
      succeeded: 1118,
      failed: 206,
      dead_lettered: 0,
    };
    assert.equal(
      taskCountsLine(counts),
      '[tasks] accepted=1325 succeeded=1118 failed=206 dead_lettered=0 queued=1 running=0',
    );
  });
});

describe('summaryLines', () => {
  it('adds the task counts after the cost', () => {
    const counts = {
      accepted: 3,
      queued: 0,
      running: 0,
      succeeded: 3,
      failed: 0,
      dead_lettered: 0,
    };
    const lines = summaryLines(sampleReport(), written(), 'reports/r', undefined, counts);
    const index = lines.indexOf('[tasks] accepted=3 succeeded=3 failed=0 dead_lettered=0');
    assert.notEqual(index, -1, lines.join('\n'));
    assert.ok(index > lines.findIndex((line) => line.startsWith('[cost]')), lines.join('\n'));
  });

  it('has no task line without counts', () => {
    const lines = summaryLines(sampleReport(), written(), 'reports/r');
    assert.equal(lines.filter((line) => line.startsWith('[tasks]')).length, 0);
  });

  it('sums failovers per target provider', () => {
    const report = sampleReport();
    const topology = report.topologies[0];
    assert.ok(topology !== undefined);
    topology.failovers = [
      { fromProvider: 'provider-a', toProvider: 'provider-b', activations: 30 },
      { fromProvider: 'provider-c', toProvider: 'provider-b', activations: 9 },
      { fromProvider: 'provider-b', toProvider: 'provider-b', activations: 8 },
      { fromProvider: 'provider-b', toProvider: 'provider-a', activations: 2 },
    ];
    const failoverLines = summaryLines(report, written('runbooks/x.md'), 'reports/r').filter(
      (line) => line.startsWith('[failover]'),
    );
    assert.deepEqual(failoverLines, [
      '[failover] provider_a_activations=2',
      '[failover] provider_b_activations=39',
    ]);
  });

  it('says a kept runbook is unchanged', () => {
    const runbook = {
      status: 'unchanged' as const,
      path: 'runbooks/scaling_runbook.md',
      reason: 'an aborted drill does not write the runbook',
    };
    const lines = summaryLines(sampleReport(), runbook, 'reports/r');
    assert.ok(
      lines.includes(
        '[artifact] runbook unchanged at runbooks/scaling_runbook.md: an aborted drill does ' +
          'not write the runbook',
      ),
      lines.join('\n'),
    );
  });

  it('says no runbook was written', () => {
    const runbook = {
      status: 'not-written' as const,
      path: 'gate/scaling_runbook.md',
      reason: 'an aborted drill does not write the runbook',
    };
    const artifact = summaryLines(sampleReport(), runbook, 'reports/r').find((line) =>
      line.startsWith('[artifact]'),
    );
    assert.equal(
      artifact,
      '[artifact] runbook not written, no file at gate/scaling_runbook.md: an aborted drill ' +
        'does not write the runbook',
    );
  });

  it('prints the cost per task to four significant digits', () => {
    const report = sampleReport();
    const topology = report.topologies[0];
    assert.ok(topology !== undefined);
    topology.cost = { ...topology.cost, meanUsd: 0.0060743 };
    const lines = summaryLines(report, written(), 'reports/r');
    assert.ok(lines.includes('[cost] avg=$0.006074/task'), lines.join('\n'));
  });

  it('counts unsettled tasks on the cost line', () => {
    const report = sampleReport();
    const topology = report.topologies[0];
    assert.ok(topology !== undefined);
    topology.cost = { ...topology.cost, meanUsd: 0.0060743, unsettledTasks: 3 };
    const lines = summaryLines(report, written(), 'reports/r');
    assert.ok(lines.includes('[cost] avg=$0.006074/task unsettled=3'), lines.join('\n'));
  });

  it("prints the providers' bill after the cost line", () => {
    const lines = summaryLines(sampleReport(), written(), 'reports/r');
    const cost = lines.findIndex((line) => line.startsWith('[cost] '));
    assert.equal(
      lines[cost + 1],
      '[provider_bill] total=$48.00 charged=$47.90 difference=+$0.1000 (+0.21%)',
    );
  });

  it('signs a negative difference and its share', () => {
    const report = sampleReport();
    const bill = report.topologies[0]?.cost.providerBill;
    assert.ok(bill);
    Object.assign(bill, { chargedUsd: 48.5, differenceUsd: -0.5 });
    const lines = summaryLines(report, written(), 'reports/r');
    assert.ok(
      lines.includes('[provider_bill] total=$48.00 charged=$48.50 difference=-$0.5000 (-1.04%)'),
      lines.join('\n'),
    );
  });

  it('signs a tiny positive difference', () => {
    const report = sampleReport();
    const bill = report.topologies[0]?.cost.providerBill;
    assert.ok(bill);
    Object.assign(bill, { chargedUsd: 47.998695, differenceUsd: 0.001305 });
    const lines = summaryLines(report, written(), 'reports/r');
    assert.ok(
      lines.includes('[provider_bill] total=$48.00 charged=$48.00 difference=+$0.001305 (+<0.01%)'),
      lines.join('\n'),
    );
  });

  it('signs a tiny negative difference', () => {
    const report = sampleReport();
    const bill = report.topologies[0]?.cost.providerBill;
    assert.ok(bill);
    Object.assign(bill, { chargedUsd: 48.001305, differenceUsd: -0.001305 });
    const lines = summaryLines(report, written(), 'reports/r');
    assert.ok(
      lines.includes('[provider_bill] total=$48.00 charged=$48.00 difference=-$0.001305 (-<0.01%)'),
      lines.join('\n'),
    );
  });

  it('prints a zero difference unsigned', () => {
    const report = sampleReport();
    const bill = report.topologies[0]?.cost.providerBill;
    assert.ok(bill);
    Object.assign(bill, { chargedUsd: 48, differenceUsd: 0 });
    const lines = summaryLines(report, written(), 'reports/r');
    assert.ok(
      lines.includes('[provider_bill] total=$48.00 charged=$48.00 difference=$0.000 (0.00%)'),
      lines.join('\n'),
    );
  });

  it('prints n/a share without a bill', () => {
    const report = sampleReport();
    const bill = report.topologies[0]?.cost.providerBill;
    assert.ok(bill);
    Object.assign(bill, { totalUsd: 0, chargedUsd: 0.5, differenceUsd: -0.5 });
    const lines = summaryLines(report, written(), 'reports/r');
    assert.ok(
      lines.includes('[provider_bill] total=$0.000 charged=$0.5000 difference=-$0.5000 (n/a)'),
      lines.join('\n'),
    );
  });

  it('names the policy and unexercised routes', () => {
    const report = sampleReport();
    report.environment.policyPath = 'policies/candidate.yaml';
    report.scenario.routes = ['chat'];
    report.scenario.unexercisedRoutes = ['summarize', 'bench'];
    const lines = summaryLines(report, written(), 'reports/r');
    const hash = report.environment.policyHash.slice(0, 12);
    assert.ok(lines.includes(`[policy] policies/candidate.yaml sha256=${hash}`), lines.join('\n'));
    assert.ok(lines.includes('[routes] exercised=chat not_exercised=summarize,bench'));
  });

  it('lists policy changes and uncovered routes', () => {
    const report = sampleReport();
    report.scenario.routes = ['chat'];
    const comparison: PolicyComparison = {
      basePath: 'base.yaml',
      changes: [
        { route: null, kind: 'changed', details: ['minRemainingRequests default -> 5'] },
        { route: 'chat', kind: 'changed', details: ['firstTokenTimeoutMs 4000 -> 3000'] },
        {
          route: 'chat-fast',
          kind: 'changed',
          details: ['breaker.cooldownMs 15000 -> 5000', 'deadlineMs 20000 -> 15000'],
        },
        { route: 'extra', kind: 'added', details: [] },
        { route: 'bench', kind: 'removed', details: [] },
      ],
    };
    const lines = summaryLines(report, written(), 'reports/r', comparison);
    const uncovered =
      '; the drill did not exercise this route, so its verdict does not cover this change';
    assert.deepEqual(
      lines.filter((line) => line.startsWith('[change]')),
      [
        '[change] base=base.yaml routes=chat,chat-fast,extra,bench not_covered=chat-fast,extra',
        '[change] throttle, used by every route: minRemainingRequests default -> 5',
        '[change] route chat: firstTokenTimeoutMs 4000 -> 3000',
        `[change] route chat-fast: breaker.cooldownMs 15000 -> 5000, deadlineMs 20000 -> 15000${uncovered}`,
        `[change] route extra: added${uncovered}`,
        '[change] route bench: removed',
      ],
    );
  });

  it('covers a fallback route that failovers reached', () => {
    const report = sampleReport();
    report.scenario.routes = ['chat'];
    report.scenario.unexercisedRoutes = ['bench'];
    const topology = report.topologies[0];
    assert.ok(topology);
    topology.fallbackRouteAttempts = [
      { route: 'chat', fallbackRoute: 'chat-fast', attempts: 9, succeeded: 8 },
    ];
    const comparison: PolicyComparison = {
      basePath: 'base.yaml',
      changes: [
        { route: 'chat-fast', kind: 'changed', details: ['deadlineMs 20000 -> 15000'] },
        { route: 'extra', kind: 'added', details: [] },
      ],
    };
    const lines = summaryLines(report, written(), 'reports/r', comparison);
    assert.ok(
      lines.includes('[routes] exercised=chat through_fallback=chat-fast not_exercised=bench'),
      lines.join('\n'),
    );
    assert.deepEqual(
      lines.filter((line) => line.startsWith('[change]')),
      [
        '[change] base=base.yaml routes=chat-fast,extra not_covered=extra',
        "[change] route chat-fast: deadlineMs 20000 -> 15000; the drill's load sent it no " +
          'request, and tasks of chat called its candidates through fallbackRoute under their ' +
          "own route's time limits, retry budget and failoverOn, so its verdict covers changes " +
          "of this route's candidates only",
        '[change] route extra: added; the drill did not exercise this route, so its verdict ' +
          'does not cover this change',
      ],
    );
  });

  it('places the change lines after the routes line', () => {
    const comparison: PolicyComparison = { basePath: 'base.yaml', changes: [] };
    const lines = summaryLines(sampleReport(), written(), 'reports/r', comparison);
    const routes = lines.findIndex((line) => line.startsWith('[routes]'));
    assert.equal(
      lines[routes + 1],
      '[change] base=base.yaml none: the drilled policy has the same settings',
    );
  });

  it('prints no change lines without a base', () => {
    const lines = summaryLines(sampleReport(), written(), 'reports/r');
    assert.deepEqual(
      lines.filter((line) => line.startsWith('[change]')),
      [],
    );
  });

  it('names the worker pool bill on the cost line', () => {
    const report = sampleReport();
    const topology = report.topologies[0];
    assert.ok(topology !== undefined);
    topology.cost = { ...topology.cost, meanUsd: 0.0060743, workerPoolUsd: 0.03124 };
    const lines = summaryLines(report, written(), 'reports/r');
    assert.ok(lines.includes('[cost] avg=$0.006074/task worker_pool=$0.03124'), lines.join('\n'));
  });

  it('lists probes that were not checked', () => {
    const report = sampleReport();
    const drill = report.drill;
    assert.ok(drill);
    const during = drill.steadyState[1];
    assert.ok(during);
    const later = structuredClone({ ...during, fromS: 80, toS: 85.5 });
    drill.steadyState.push(later);
    for (const check of [during, later]) {
      const probe = check.probes[0];
      assert.ok(probe);
      probe.passed = null;
      probe.notChecked = 'the drill spec leaves it out of the during windows (checkDuring: false)';
    }
    const lines = summaryLines(report, written(), 'reports/run');
    assert.deepEqual(
      lines.filter((line) => line.startsWith('[not_checked]')),
      [
        '[not_checked] success-rate in during 20-75 s, during 80-85.5 s: the drill spec ' +
          'leaves it out of the during windows (checkDuring: false)',
      ],
    );
  });

  it('prints the backlog of a worker pause', () => {
    const lines = summaryLines(sampleWorkerLossReport(), written('runbook.md'), 'reports/run');
    assert.ok(
      lines.includes(
        '[backlog] workers-lost peak_depth=120 peak_oldest_age=35.5s shed_batch=34 shed_standard=0 shed_critical=0',
      ),
      lines.join('\n'),
    );
  });

  it('prints no backlog line without a worker pause', () => {
    const lines = summaryLines(sampleReport(), written('runbook.md'), 'reports/run');
    assert.equal(lines.filter((line) => line.startsWith('[backlog]')).length, 0);
  });

  it('ends with the runbook artifact line', () => {
    const lines = summaryLines(sampleReport(), written(), 'reports/r');
    assert.ok(lines.includes('[artifact] runbooks/scaling_runbook.md'));
    assert.match(
      lines.find((line) => line.startsWith('[throughput]')) ?? '',
      /^\[throughput\] rpm=\d+ success=\d+\.\d% p95=\d+\.\ds$/,
    );
  });

  it('counts requests the abort cut', () => {
    const report = sampleReport();
    const topology = report.topologies[0];
    assert.ok(topology !== undefined);
    topology.cutByStop = 163;
    topology.latency = { p50S: 3.9, p95S: 4.4, p99S: 4.9 };
    const lines = summaryLines(report, written(), 'reports/r');
    assert.match(
      lines.find((line) => line.startsWith('[throughput]')) ?? '',
      /^\[throughput\] rpm=\d+ success=\d+\.\d% p95=4\.4s cut_by_abort=163$/,
    );
  });
});

describe('DrillProgress', () => {
  it('rewrites one live line on a terminal', () => {
    const out = capture(true);
    const progress = new DrillProgress(out);
    progress.onEvent({ type: 'tick', atS: 1, point: point(1) });
    progress.onEvent({ type: 'fault-applied', stepId: 'primary-outage', atS: 1.5 });
    progress.onEvent({ type: 'tick', atS: 2, point: point(2) });
    progress.finish();
    assert.equal(
      out.text,
      '\r\u001b[2K[t=1.0s] rps=30.0 success=100.0% p95=3.3s faults=none\n' +
        '[t=1.5s] fault applied: primary-outage\n' +
        '\r\u001b[2K[t=2.0s] rps=30.0 success=100.0% p95=3.3s faults=primary-outage\n',
    );
  });

  it('prints a warning on its own line', () => {
    const out = capture(true);
    const progress = new DrillProgress(out);
    progress.onEvent({ type: 'tick', atS: 1, point: point(1) });
    progress.onEvent({ type: 'warning', detail: 'route chat has no provider-b candidate' });
    assert.ok(out.text.endsWith('\n[warning] route chat has no provider-b candidate\n'), out.text);
  });

  it('shows the queue gauges of a second', () => {
    const out = capture(false);
    const progress = new DrillProgress(out);
    progress.onEvent({
      type: 'tick',
      atS: 40,
      point: { ...point(40), queueDepth: 84, queueOldestAgeS: 20.46 },
    });
    assert.equal(
      out.text,
      '[t=40.0s] rps=30.0 success=100.0% p95=3.3s queue=84 oldest=20.5s faults=none\n',
    );
  });

  it('shows n/a for a second without requests', () => {
    const out = capture(false);
    const progress = new DrillProgress(out);
    const idle = { ...point(0), requests: 0, successes: 0, throughputRpm: 0, successRate: 0 };
    progress.onEvent({ type: 'tick', atS: 0, point: idle });
    assert.match(out.text, /^\[t=0\.0s\] rps=0\.0 success=n\/a p95=/);
  });

  it('shows n/a p95 for a second without successes', () => {
    // Two shed requests and no success, as a worker-loss second while the workers are paused.
    const out = capture(false);
    const progress = new DrillProgress(out);
    const shed = { ...point(62), requests: 2, successes: 0, successRate: 0, p95S: 0 };
    progress.onEvent({ type: 'tick', atS: 62, point: shed });
    assert.match(out.text, / success=0\.0% p95=n\/a faults=none\n$/);
  });

  it('rounds a success rate with failures below 100.0%', () => {
    const out = capture(false);
    const progress = new DrillProgress(out);
    const nearly = { ...point(0), requests: 2630, successes: 2629, successRate: 2629 / 2630 };
    progress.onEvent({ type: 'tick', atS: 0, point: nearly });
    assert.match(out.text, / success=99\.9% /);
  });

  it('prints a plain line every 5 s otherwise', () => {
    const out = capture(false);
    const progress = new DrillProgress(out);
    for (let t = 0; t <= 10; t += 1) {
      progress.onEvent({ type: 'tick', atS: t, point: point(t) });
    }
    const lines = out.text.trim().split('\n');
    assert.deepEqual(
      lines.map((line) => line.slice(0, line.indexOf(']') + 1)),
      ['[t=0.0s]', '[t=5.0s]', '[t=10.0s]'],
    );
  });

  it('prints one line per second at fault boundaries', () => {
    const out = capture(true);
    const progress = new DrillProgress(out);
    progress.onEvent({ type: 'tick', atS: 20, point: point(20) });
    progress.onEvent({ type: 'tick', atS: 20, point: point(20) });
    assert.equal(out.text.split('[t=20.0s]').length - 1, 1);
  });
});
