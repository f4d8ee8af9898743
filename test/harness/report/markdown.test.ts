import assert from 'node:assert/strict';

import { renderMarkdown } from '../../../src/harness/report/markdown.js';
import type { PolicyChangeRecord } from '../../../src/harness/report/types.js';
import { sampleReport, sampleReportV1 } from './sample-report.js';
import { sampleWorkerLossReport } from './sample-worker-loss.js';

const BASE_SHA256 = `0123456789ab${'c'.repeat(52)}`;

/** A change to chat, which sampleReport exercises, to summarize, which it does not, and more. */
function policyChange(): PolicyChangeRecord {
  return {
    basePolicyPath: 'base/default.yaml',
    basePolicySha256: BASE_SHA256,
    changes: [
      { route: null, kind: 'changed', details: ['minRemainingRequests 0 -> 5'] },
      { route: 'chat', kind: 'changed', details: ['deadlineMs 25000 -> 30000'] },
      {
        route: 'summarize',
        kind: 'changed',
        details: ['firstTokenTimeoutMs 2500 -> 3000', 'deadlineMs 50000 -> 60000'],
      },
      { route: 'extra', kind: 'added', details: [] },
      { route: 'bench', kind: 'removed', details: [] },
    ],
    unexercisedRoutes: ['summarize', 'extra'],
  };
}

describe('renderMarkdown', () => {
  it('titles the summary with the verdict', () => {
    const markdown = renderMarkdown(sampleReport());
    assert.match(markdown, /^# provider-outage: deviated\n/);
  });

  it('names the price table and tenants file', () => {
    const report = sampleReport();
    report.environment = {
      ...report.environment,
      pricesPath: '/srv/negotiated-prices.yaml',
      pricesHash: `aaaaaaaaaaaa${'0'.repeat(52)}`,
      pricesEffectiveDate: '2027-03-01',
      tenantsPath: 'fixtures/tenants.yaml',
      tenantsHash: `bbbbbbbbbbbb${'0'.repeat(52)}`,
    };
    const markdown = renderMarkdown(report);
    assert.ok(
      markdown.includes(
        '\n\nCosts are priced with the price table /srv/negotiated-prices.yaml (sha256 ' +
          'aaaaaaaaaaaa, effective 2027-03-01). Tenant limits come from fixtures/tenants.yaml ' +
          '(sha256 bbbbbbbbbbbb).\n',
      ),
      markdown,
    );
  });

  it('names no files for a report without their record', () => {
    const markdown = renderMarkdown(sampleReport());
    assert.ok(!markdown.includes('Costs are priced with'), markdown);
  });

  it('prints topology numbers in a table row', () => {
    const markdown = renderMarkdown(sampleReport());
    assert.match(
      markdown,
      /\| workers \| 1800 \| 2700 \| 96\.4% \| 1\.10 s \| 3\.40 s \| 5\.20 s \|/,
    );
  });

  it('names unsettled tasks under the table', () => {
    const report = sampleReport();
    const topology = report.topologies[0];
    assert.ok(topology !== undefined);
    topology.cost = { ...topology.cost, unsettledTasks: 4 };
    const markdown = renderMarkdown(report);
    assert.match(
      markdown,
      /\nTasks still queued or running when the cost was read: 4 on workers\. The cost columns lack theirs\.\n/,
    );
  });

  it('omits the unsettled note when every task settled', () => {
    const markdown = renderMarkdown(sampleReport());
    assert.doesNotMatch(markdown, /still queued or running/);
  });

  it('lists the responses by status', () => {
    const markdown = renderMarkdown(sampleReport());
    assert.ok(markdown.includes('\nResponses: 200 x 2603, 429 x 61, 502 x 36.\n'), markdown);
    assert.doesNotMatch(markdown, /cut by the drill's abort/);
  });

  it('counts requests the abort cut', () => {
    const report = sampleReport();
    const topology = report.topologies[0];
    assert.ok(topology !== undefined);
    topology.requests = 892;
    topology.statusCounts = { '200': 700, '503': 29 };
    topology.cutByStop = 163;
    const markdown = renderMarkdown(report);
    assert.ok(
      markdown.includes(
        "\nResponses: 200 x 700, 503 x 29; 163 requests cut by the drill's abort before a response.\n",
      ),
      markdown,
    );
    assert.ok(
      markdown.includes(
        "\nRequests in flight that the drill's abort cut: 163 on workers. Requests counts " +
          'them, but success and the p50, p95 and p99 columns cover only the requests that ' +
          'ended on their own, here and per tenant and route.\n',
      ),
      markdown,
    );
  });

  it('counts async tasks the abort cut', () => {
    const report = sampleReport();
    const topology = report.topologies[0];
    assert.ok(topology !== undefined);
    topology.requests = 1658;
    topology.statusCounts = { '200': 1276, '202': 162 };
    topology.cutByStop = 239;
    topology.cutAfterAccepted = 19;
    const markdown = renderMarkdown(report);
    assert.ok(
      markdown.includes(
        "\nResponses: 200 x 1276, 202 x 162; 220 requests cut by the drill's abort before a " +
          'response, and 19 async tasks cut after their 202.\n',
      ),
      markdown,
    );
    assert.ok(
      markdown.includes("\nRequests in flight that the drill's abort cut: 239 on workers."),
    );
  });

  it('explains completed rpm per simulated minute', () => {
    const report = sampleReport();
    report.environment.timeScale = 4;
    const markdown = renderMarkdown(report);
    assert.match(markdown, /\| topology \| completed rpm \|/);
    assert.match(markdown, /per simulated minute \(the drill ran at 4x\)\./);
  });

  it('names routes the run did not exercise', () => {
    const report = sampleReport();
    report.scenario.unexercisedRoutes = ['summarize'];
    assert.match(
      renderMarkdown(report),
      /\nRoutes of the policy that this run did not exercise: summarize\. The verdict does not cover them\.\n/,
    );
  });

  it('names the worker pool bill', () => {
    const report = sampleReport();
    const topology = report.topologies[0];
    assert.ok(topology !== undefined);
    topology.cost = { ...topology.cost, workerPoolUsd: 0.02468 };
    const markdown = renderMarkdown(report);
    assert.match(markdown, /\nWorker pool bill over the run: \$0\.02468 on workers\. /);
  });

  it("tables the providers' bill and compares it with the charged token cost", () => {
    const markdown = renderMarkdown(sampleReport());
    assert.match(markdown, /\n\| provider-a \| gpt-4o \| 4000000 \| 2000000 \| \$30\.00 \|\n/);
    assert.ok(
      markdown.includes(
        "\nProviders' bill: the mock providers served tokens worth $48.00 at the price table's " +
          'prices, to every tenant, and the platform charged its finished tasks $47.90 for ' +
          'tokens, $0.1000 (0.21% of the bill) less. The providers served tokens',
      ),
      markdown,
    );
  });

  it("says when the platform charged more than the providers' bill", () => {
    const report = sampleReport();
    const bill = report.topologies[0]?.cost.providerBill;
    assert.ok(bill);
    Object.assign(bill, { chargedUsd: 48.5, differenceUsd: -0.5, unreadProviders: ['provider-c'] });
    const markdown = renderMarkdown(report);
    assert.ok(
      markdown.includes(
        'for tokens, $0.5000 (1.04% of the bill) more. The counters of provider-c could not be ' +
          'read, so the bill lacks their tokens.\n',
      ),
      markdown,
    );
  });

  it("has no providers' bill for a report without one", () => {
    const report = sampleReport();
    delete report.topologies[0]?.cost.providerBill;
    assert.ok(!renderMarkdown(report).includes("Providers' bill"));
  });

  it('prints costs with four significant digits', () => {
    const report = sampleReport();
    const topology = report.topologies[0];
    assert.ok(topology !== undefined);
    topology.cost = { ...topology.cost, meanUsd: 0.005078, p95Usd: 0.010705 };
    const markdown = renderMarkdown(report);
    assert.match(markdown, /\| \$0\.005078 \| \$0\.01071 \|/);
  });

  it('prints failover timings of the drill', () => {
    const markdown = renderMarkdown(sampleReport());
    assert.match(
      markdown,
      /\| primary-outage \| provider-a -> provider-b \| 3\.99 s \| 3\.98 s \|/,
    );
  });

  it('prints no empty failover timings table', () => {
    const markdown = renderMarkdown(sampleWorkerLossReport());
    assert.ok(!markdown.includes('| fault | failover | detection | recovery |'), markdown);
    assert.ok(
      markdown.includes(
        'No provider fault of this drill names a fallback, so it timed no failover.',
      ),
      markdown,
    );
  });

  it('prints each breaker target', () => {
    const markdown = renderMarkdown(sampleReport());
    assert.ok(markdown.includes('| provider-a/gpt-4o | closed | 5 | 30.00 s | closed |'));
    assert.ok(markdown.includes('| provider-b/claude-sonnet | closed | 0 | 0.00 s | closed |'));
  });

  it('prints each breaker transition', () => {
    const markdown = renderMarkdown(sampleReport());
    assert.ok(
      markdown.includes(
        '| provider-a/gpt-4o | 52.30 s | half-open -> closed | half-open probe succeeded |',
      ),
    );
  });

  it('names breakers a version 1 report lacks', () => {
    const markdown = renderMarkdown(sampleReportV1());
    assert.ok(markdown.includes('Breakers: not recorded, as schema version 1 reports predate'));
  });

  it('prints the queue peaks of the series', () => {
    const markdown = renderMarkdown(sampleWorkerLossReport());
    assert.ok(
      markdown.includes(
        'Queue: peak depth 120 tasks read at 50.00 s, peak oldest age 35.50 s read at 56.00 s, ' +
          "from reads at the end of 90 of the series' 90 seconds.",
      ),
      markdown,
    );
  });

  it('says no task waited in an empty queue', () => {
    const report = sampleReport();
    for (const point of report.topologies[0]?.timeSeries ?? []) {
      point.queueDepth = 0;
      point.queueOldestAgeS = 0;
    }
    const markdown = renderMarkdown(report);
    assert.ok(
      markdown.includes(
        "Queue: no task waited. Depth and oldest age were 0 in all reads at the end of 90 of the series' 90 seconds.",
      ),
      markdown,
    );
    assert.equal(markdown.includes('peak oldest age'), false);
  });

  it('names an oldest age of 0 with a queue', () => {
    const report = sampleReport();
    for (const point of report.topologies[0]?.timeSeries ?? []) {
      point.queueOldestAgeS = 0;
    }
    const markdown = renderMarkdown(report);
    assert.ok(
      markdown.includes(
        'Queue: peak depth 2 tasks read at 1.00 s, oldest age 0.00 s in every read, from reads at ' +
          "the end of 90 of the series' 90 seconds.",
      ),
      markdown,
    );
  });

  it('names queue gauges a version 1 report lacks', () => {
    const markdown = renderMarkdown(sampleReportV1());
    assert.ok(markdown.includes('Queue: not recorded; reports before schema version 3'));
  });

  it('states a toxic stream and toxicity', () => {
    const report = sampleReport();
    const fault = report.drill?.faults.find((entry) => entry.id === 'fallback-latency');
    assert.ok(fault);
    fault.description = 'slicer {"average_size":64,"size_variation":32,"delay":50000}';
    fault.toxic = { stream: 'upstream', toxicity: 0.5 };
    const row = renderMarkdown(report)
      .split('\n')
      .find((line) => line.startsWith('| fallback-latency | toxic |'));
    assert.ok(row);
    assert.ok(
      row.includes(
        '| slicer {"average_size":64,"size_variation":32,"delay":50000} (upstream, toxicity 0.5) |',
      ),
      row,
    );
  });

  it('keeps a toxic without a recorded stream', () => {
    const report = sampleReport();
    const fault = report.drill?.faults.find((entry) => entry.id === 'fallback-latency');
    assert.ok(fault);
    delete fault.toxic;
    const row = renderMarkdown(report)
      .split('\n')
      .find((line) => line.startsWith('| fallback-latency | toxic |'));
    assert.ok(row);
    assert.ok(row.includes(`| ${fault.description} |`), row);
  });

  it('prints what backpressure shed in a worker pause', () => {
    const markdown = renderMarkdown(sampleWorkerLossReport());
    assert.match(markdown, /\| workers-lost \| 24 \| tenant-batch \| batch \| 429 \| 34 \|/);
  });

  it('says the workers ran after rollback', () => {
    const markdown = renderMarkdown(sampleWorkerLossReport());
    assert.ok(markdown.includes('reported no fault. The async workers ran again.'), markdown);
    assert.ok(!renderMarkdown(sampleReport()).includes('The async workers ran again.'));
  });

  it('prints a worker pause that shed nothing', () => {
    const report = sampleWorkerLossReport();
    const pause = report.drill?.faults[0]?.workerPause;
    assert.ok(pause);
    pause.shed = [];
    assert.ok(renderMarkdown(report).includes('| workers-lost | 24 | none shed |  |  | 0 |'));
  });

  it('prints the tenant burst outcome', () => {
    const markdown = renderMarkdown(sampleReport());
    assert.match(markdown, /\| noisy-burst \| tenant-noisy \| 1500 \| 240 \| 1260 \|/);
  });

  it('marks a probe that could not fail', () => {
    const report = sampleReport();
    const during = report.drill?.steadyState.find((check) => check.phase === 'during');
    const probe = during?.probes.find((entry) => entry.name === 'p95-latency');
    assert.ok(probe);
    probe.passed = null;
    probe.notChecked = 'the drill spec leaves it out of the during windows (checkDuring: false)';
    assert.match(
      renderMarkdown(report),
      /\| during \| 20-75 s \| p95-latency \| max 4 \(tolerance 0\.5\) \| 3\.1 \| not checked: the drill spec leaves it out of the during windows \(checkDuring: false\) \|/,
    );
  });

  it('links the chart files', () => {
    const markdown = renderMarkdown(sampleReport(), ['timeline.svg']);
    assert.match(markdown, /!\[timeline\.svg\]\(timeline\.svg\)\n$/);
  });

  describe('policy change', () => {
    const notCovered =
      '. **Not covered:** the drill did not exercise this route, so the verdict does not cover this change.';

    it('lists the changes after the verdict', () => {
      const report = sampleReport();
      report.policyChange = policyChange();
      const markdown = renderMarkdown(report);
      const expected = [
        '- during: success-rate 0.964 below 0.97',
        '',
        '## Policy change',
        '',
        'Settings the drilled policy changes from the base policy base/default.yaml (sha256 0123456789ab):',
        '',
        '- throttle, used by every route: minRemainingRequests 0 -> 5',
        '- route chat: deadlineMs 25000 -> 30000',
        `- route summarize: firstTokenTimeoutMs 2500 -> 3000, deadlineMs 50000 -> 60000${notCovered}`,
        `- route extra: added${notCovered}`,
        '- route bench: removed',
        '',
        '## Environment',
      ].join('\n');
      assert.ok(markdown.includes(expected), markdown);
    });

    it('marks a route reached through fallback', () => {
      const report = sampleReport();
      const topology = report.topologies[0];
      assert.ok(topology);
      topology.fallbackRouteAttempts = [
        { route: 'chat', fallbackRoute: 'summarize', attempts: 5, succeeded: 5 },
      ];
      report.policyChange = { ...policyChange(), unexercisedRoutes: ['extra'] };
      const markdown = renderMarkdown(report);
      assert.ok(
        markdown.includes(
          '\n- route summarize: firstTokenTimeoutMs 2500 -> 3000, deadlineMs 50000 -> 60000. ' +
            "**Reached through fallback only:** the drill's load sent it no request, and " +
            'tasks of `chat` called its candidates through `fallbackRoute` under their own ' +
            "route's time limits, retry budget and failoverOn, so the verdict covers changes " +
            "of this route's candidates only.\n",
        ),
        markdown,
      );
      assert.ok(markdown.includes('\n- route extra: added. **Not covered:**'), markdown);
    });

    it('states the same settings', () => {
      const report = sampleReport();
      report.policyChange = { ...policyChange(), changes: [], unexercisedRoutes: [] };
      const markdown = renderMarkdown(report);
      assert.ok(
        markdown.includes(
          '\n## Policy change\n\nThe drilled policy has the same settings as the base policy ' +
            'base/default.yaml (sha256 0123456789ab).\n\n## Environment\n',
        ),
        markdown,
      );
      assert.ok(!markdown.includes('Not covered'), markdown);
    });

    it('omits the section without a base policy', () => {
      const markdown = renderMarkdown(sampleReport());
      assert.ok(!markdown.includes('## Policy change'), markdown);
      assert.ok(!markdown.includes('Not covered'), markdown);
    });
  });
});
