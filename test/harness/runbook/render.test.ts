import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Counter, Gauge, Histogram, Registry } from 'prom-client';

import { percent, seconds } from '../../../src/harness/report/format.js';
import type { Report } from '../../../src/harness/report/types.js';
import { isReportValidationError } from '../../../src/harness/report/errors.js';
import { renderRunbook } from '../../../src/harness/runbook/render.js';
import {
  keptRunbook,
  runbookUnchangedReason,
  writeRunbook,
} from '../../../src/harness/runbook/write.js';
import { GatewayMetrics } from '../../../src/platform/gateway/metrics.js';
import { defineMetrics } from '../../../src/platform/metrics/definitions.js';
import {
  sampleReport,
  sampleReportV1,
  sampleReportV3,
  sampleReportV4,
  sampleReportV6,
} from '../report/sample-report.js';
import { sampleWorkerLossReport } from '../report/sample-worker-loss.js';

function sectionOf(markdown: string, title: string): string {
  const start = markdown.indexOf(`## ${title}`);
  assert.notEqual(start, -1, `missing section ${title}`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

/** Returns the detection table row of provider-a's breaker gauge. */
function breakerRow(markdown: string): string {
  const outage = sectionOf(markdown, 'Provider outage: provider-a');
  const row = outage.split('\n').find((line) => line.startsWith('| `scalegate_breaker_state'));
  assert.ok(row, outage);
  return row;
}

/** Returns operator step `number` of a runbook section, the line that starts with `N. `. */
function operatorStep(section: string, number: number): string {
  const step = section.split('\n').find((line) => line.startsWith(`${number}. `));
  assert.ok(step, section);
  return step;
}

function drillOf(report: Report): NonNullable<Report['drill']> {
  assert.ok(report.drill);
  return report.drill;
}

/** Returns the sample report in which provider-a/gpt-4o's breaker never opened. */
function sampleWithoutOpenings(): Report {
  const report = sampleReport();
  const gpt = drillOf(report).breakers?.targets[0];
  assert.ok(gpt);
  gpt.transitions = [];
  gpt.openS = 0;
  return report;
}

/**
 * Returns the /metrics exposition of the platform's metrics with two samples of each: one
 * for provider-a and tenant-noisy, one for provider-b and tenant-alpha.
 */
async function populatedExposition(): Promise<string> {
  const registry = new Registry();
  defineMetrics(registry);
  new GatewayMetrics(registry);
  const labelSets: Record<string, string>[] = [
    { provider: 'provider-a', from_provider: 'provider-a', tenant: 'tenant-noisy' },
    { provider: 'provider-b', from_provider: 'provider-b', tenant: 'tenant-alpha' },
  ];
  const common: Record<string, string> = {
    to_provider: 'provider-c',
    model: 'gpt-4o',
    outcome: 'success',
    error_class: 'status_429',
    limit: 'queue_depth',
    status: '429',
    reason: 'signal',
    queue: 'tasks',
    priority: 'batch',
    period: 'total',
    state: 'queued',
    route: 'chat',
    method: 'POST',
  };
  for (const metric of registry.getMetricsAsArray()) {
    const { labelNames } = metric as unknown as { labelNames: string[] };
    for (const set of labelSets) {
      const values = { ...common, ...set };
      const labels = Object.fromEntries(labelNames.map((name) => [name, values[name] ?? 'x']));
      if (metric instanceof Histogram) {
        metric.observe(labels, 1);
      } else if (metric instanceof Counter) {
        metric.inc(labels);
      } else if (metric instanceof Gauge) {
        metric.set(labels, 1);
      }
    }
  }
  return registry.metrics();
}

describe('renderRunbook', () => {
  it('cites only metrics and labels the platform exports', async () => {
    const markdown = renderRunbook([sampleReport()]);
    // The platform registers both sets on the registry its /metrics serves.
    const registry = new Registry();
    defineMetrics(registry);
    new GatewayMetrics(registry);
    const known = new Map<string, readonly string[]>();
    for (const metric of registry.getMetricsAsArray()) {
      // prom-client keeps the label names a metric was defined with on the metric.
      const { name, labelNames } = metric as unknown as { name: string; labelNames: string[] };
      known.set(name, labelNames);
      // A histogram is exposed as its _bucket (with the le label), _sum and _count series.
      if (metric instanceof Histogram) {
        known.set(`${name}_bucket`, [...labelNames, 'le']);
        known.set(`${name}_sum`, labelNames);
        known.set(`${name}_count`, labelNames);
      }
    }
    const cited = [...markdown.matchAll(/(scalegate_[a-z_]+)(\{([a-z_]+)=)?/g)];
    assert.ok(cited.length > 0);
    for (const [, name = '', , label] of cited) {
      assert.ok(known.has(name), `the runbook cites ${name}, which the platform does not export`);
      if (label !== undefined) {
        assert.ok(known.get(name)?.includes(label), `${name} has no label ${label}`);
      }
    }
    // A grep pattern with an alternation would hide a metric name from the check above.
    assert.doesNotMatch(markdown, /scalegate_\(/);
  });

  it('greps only sample lines of /metrics', async () => {
    const markdown = renderRunbook([sampleReport(), sampleWorkerLossReport()]);
    const exposition = await populatedExposition();
    const commands = [...markdown.matchAll(/\| grep (-E )?'([^']+)'/g)];
    // A runbook of both drills quotes more than ten grep commands, so a broken match shows.
    assert.ok(commands.length >= 10, `found ${commands.length} grep commands`);
    for (const [command, extended, pattern = ''] of commands) {
      const args = extended === undefined ? [pattern] : ['-E', pattern];
      const grep = spawnSync('grep', args, { input: exposition, encoding: 'utf8' });
      assert.equal(grep.status, 0, `${command} printed no line of ${exposition}`);
      const lines = grep.stdout.trimEnd().split('\n');
      for (const line of lines) {
        assert.match(line, /^scalegate_[a-z_]+\{/, `${command} printed a line that is no sample`);
      }
    }
  });

  it('uses the report numbers for a provider outage', () => {
    const report = sampleReport();
    const outage = sectionOf(renderRunbook([report]), 'Provider outage: provider-a');
    const timing = drillOf(report).timings[0];
    const pair = report.topologies[0]?.failovers[0];
    assert.ok(timing);
    assert.ok(pair);
    assert.ok(
      outage.includes(`failed over from provider-a to provider-b ${pair.activations} times`),
    );
    assert.ok(
      outage.includes('While the breaker was open, requests went to provider-b directly'),
      outage,
    );
    assert.ok(outage.includes(`${seconds(timing.detectionS)} after the outage started`));
    assert.ok(outage.includes(`${seconds(timing.recoveryS)} after the fault ended`));
    assert.ok(outage.includes('| min 0.97 | 96.4% (fail) |'));
  });

  it('takes an unnamed fallback from failovers', () => {
    const report = sampleReport();
    drillOf(report).timings = [];
    const outage = sectionOf(renderRunbook([report]), 'Provider outage: provider-a');
    assert.ok(!outage.includes('the fallback provider'), outage);
    // provider-b received 810 of the 840 failovers from provider-a, provider-c the other 30.
    assert.ok(
      outage.includes('scalegate_provider_attempts_total{provider="provider-b",outcome="success"}'),
      outage,
    );
    assert.ok(outage.includes('failed over from provider-a to provider-b'), outage);
    assert.ok(
      outage.includes(
        'The drill did not measure the detection time, because the fault step names no ' +
          '`failover.fallback`.',
      ),
      outage,
    );
    assert.ok(!outage.includes('detection time not measured'), outage);
  });

  it('names the seconds of fault success rates', () => {
    const markdown = renderRunbook([sampleReport()]);
    const outage = sectionOf(markdown, 'Provider outage: provider-a');
    assert.ok(
      outage.includes(
        '- Success rate over the 31 seconds from 20 s to 51 s that cover the fault window ' +
          '(20.01-50.02 s): ',
      ),
      outage,
    );
    const spike = sectionOf(markdown, 'Latency spike on provider-b');
    assert.ok(
      spike.includes(
        '- Success rate over the 15 seconds from 30 s to 45 s that cover the fault window: ',
      ),
      spike,
    );
  });

  it('detects an outage by breaker and fallback share', () => {
    const outage = sectionOf(renderRunbook([sampleReport()]), 'Provider outage: provider-a');
    const detection = outage.slice(0, outage.indexOf('### What the system did'));
    assert.ok(detection.includes('| `scalegate_breaker_state{provider="provider-a"}` | above 0'));
    assert.ok(
      detection.includes(
        "provider-b's share of the successful provider calls: " +
          '`sum(rate(scalegate_provider_attempts_total{provider="provider-b",outcome="success"}[1m]))' +
          ' / sum(rate(scalegate_provider_attempts_total{outcome="success"}[1m]))`',
      ),
      detection,
    );
    // 840 of the 894 requests served from 20 s to 51 s went to provider-b.
    assert.ok(
      detection.includes(
        '| 93.9% over the 31 seconds from 20 s to 51 s that cover the fault window; ' +
          'above half in 28 of the 31 of them with served requests',
      ),
      detection,
    );
    assert.ok(detection.includes('above half; 0.0% before the faults'));
    // The counter stops once the breaker opens, so it is no detection signal.
    assert.ok(!detection.includes('scalegate_failover_activations_total'), detection);
  });

  it('describes breaker openings and probes', () => {
    const row = breakerRow(renderRunbook([sampleReport()]));
    assert.ok(
      row.includes(
        '`gpt-4o`: opened at 21.40 s, 1.39 s after the outage started (failure threshold ' +
          'reached, last error status_5xx; half-open in 15000 ms). Open 2 times, 30.00 s in ' +
          'total. Half-open probes: 1 failed, 1 closed it at 52.30 s. Closed at the drill end ' +
          '(90.00 s).',
      ),
      row,
    );
  });

  it('describes a breaker without transitions', () => {
    const row = breakerRow(renderRunbook([sampleReport()]));
    assert.ok(
      row.endsWith(
        '`gpt-4o-mini`: no transition, closed from the load start to the drill end at 90.00 s. |',
      ),
      row,
    );
  });

  it('lists only breakers of the failed provider', () => {
    const row = breakerRow(renderRunbook([sampleReport()]));
    assert.ok(!row.includes('claude-sonnet'), row);
  });

  it('describes a breaker still open at the end', () => {
    const report = sampleReport();
    const gpt = drillOf(report).breakers?.targets[0];
    assert.ok(gpt);
    gpt.transitions = gpt.transitions.slice(0, 3);
    gpt.endState = 'open';
    gpt.openS = 68.1;
    const row = breakerRow(renderRunbook([report]));
    assert.ok(
      row.includes(
        'Open 2 times, 68.10 s in total. Half-open probes: 1 failed, none closed it. Open at ' +
          'the drill end (90.00 s).',
      ),
      row,
    );
  });

  it('names a breaker that did not open in the outage', () => {
    const report = sampleReport();
    const gpt = drillOf(report).breakers?.targets[0];
    assert.ok(gpt);
    gpt.transitions = [
      { atS: 10, from: 'closed', to: 'open' },
      { atS: 15, from: 'open', to: 'half-open' },
    ];
    gpt.endState = 'half-open';
    gpt.openS = 5;
    const row = breakerRow(renderRunbook([report]));
    assert.ok(
      row.includes(
        '`gpt-4o`: did not open during the outage. Open 1 time, 5.00 s in total. Half-open ' +
          'probes: 0 failed, none closed it. Half-open at the drill end (90.00 s).',
      ),
      row,
    );
  });

  it('counts failovers until the breaker opened', () => {
    const outage = sectionOf(renderRunbook([sampleReport()]), 'Provider outage: provider-a');
    assert.ok(
      outage.includes(
        'The count covers requests whose provider-a attempt failed: before the breaker opened ' +
          '(`gpt-4o` at 21.40 s) and at each failed half-open probe (1 in the drill). While the ' +
          'breaker was open, requests went to provider-b directly and are not counted, so ' +
          '`scalegate_failover_activations_total` rises only at failed probes while the outage ' +
          'lasts and is no detection signal.',
      ),
      outage,
    );
  });

  it('counts failovers of a breaker that never opened', () => {
    const report = sampleWithoutOpenings();
    const outage = sectionOf(renderRunbook([report]), 'Provider outage: provider-a');
    assert.ok(
      outage.includes(
        'No breaker of provider-a opened during the outage, so requests kept calling ' +
          'provider-a first, and each failover is a request whose provider-a attempt failed: ' +
          '`scalegate_failover_activations_total` kept rising while the outage lasted.',
      ),
      outage,
    );
    assert.doesNotMatch(outage, /directly/);
  });

  it('counts failovers without breaker records', () => {
    const outage = sectionOf(renderRunbook([sampleReportV1()]), 'Provider outage: provider-a');
    assert.ok(
      outage.includes(
        'The report records no breakers, so it does not show whether the breaker of ' +
          'provider-a opened: while a breaker is open, requests go to provider-b directly',
      ),
      outage,
    );
  });

  it('reads the breaker gauge in step 1 when it opened', () => {
    const outage = sectionOf(renderRunbook([sampleReport()]), 'Provider outage: provider-a');
    assert.equal(
      operatorStep(outage, 1),
      '1. Confirm the breaker of provider-a is open (2) or half-open (1): ' +
        '`curl -s "$GATEWAY_URL/metrics" | grep \'scalegate_breaker_state{provider="provider-a"\'`. ' +
        'In the drill, the outage started at 20.01 s and the breaker opened for `gpt-4o` at 21.40 s.',
    );
  });

  it('counts the failovers of the outage alone', () => {
    const report = sampleWithoutOpenings();
    const outage = sectionOf(renderRunbook([report]), 'Provider outage: provider-a');
    // 27 a second to provider-b from 23 s to 53 s: 756 in the seconds from 20 s to 51 s that
    // the fault window (20.01-50.02 s) touches, and 54 in the 2 seconds after it.
    assert.ok(
      outage.includes(
        'The router failed over from provider-a to provider-b 756 times. No breaker of ' +
          'provider-a opened during the outage',
      ),
      outage,
    );
    assert.ok(
      outage.includes(
        'The drill also counted 54 failovers from provider-a to provider-b outside the outage ' +
          "and the breaker's recovery, in the seconds 51-52 s, 52-53 s, which this count " +
          'leaves out.',
      ),
      outage,
    );
  });

  it('counts a single failover as one time', () => {
    const report = sampleWithoutOpenings();
    for (const point of report.topologies[0]?.timeSeries ?? []) {
      point.failovers = point.t === 30 ? 1 : 0;
      point.failoversByPair = point.t === 30 ? { 'provider-a': { 'provider-b': 1 } } : {};
    }
    const outage = sectionOf(renderRunbook([report]), 'Provider outage: provider-a');
    assert.ok(
      outage.includes('The router failed over from provider-a to provider-b 1 time. No breaker'),
      outage,
    );
    assert.ok(
      outage.includes('the router failed over from provider-a to provider-b 1 time.'),
      outage,
    );
    assert.doesNotMatch(outage, /1 times/);
  });

  it('counts failovers until the breaker closed', () => {
    // The breaker of gpt-4o closed at 52.3 s, so the seconds up to 53 s are the outage's.
    const outage = sectionOf(renderRunbook([sampleReport()]), 'Provider outage: provider-a');
    assert.ok(outage.includes('failed over from provider-a to provider-b 810 times'), outage);
    assert.doesNotMatch(outage, /outside the outage/);
  });

  it('reads failovers from the failed provider in step 1', () => {
    const report = sampleWithoutOpenings();
    const outage = sectionOf(renderRunbook([report]), 'Provider outage: provider-a');
    // The series fails over 28 times a second from provider-a from 23 s to 53 s, 27 of them
    // to provider-b. That is 784 in the 31 seconds from 20 s to 51 s, 25.3 a second, and 56
    // from 51 s to the end at 90 s. The 2 a second from provider-b are left out.
    assert.equal(
      operatorStep(outage, 1),
      '1. Confirm that requests fail over from provider-a: a `to_provider="provider-b"` line ' +
        'that changes between the two reads of `(curl -s "$GATEWAY_URL/metrics"; sleep 10; ' +
        'curl -s "$GATEWAY_URL/metrics") | grep -E ' +
        '\'^scalegate_failover_activations_total\\{from_provider="provider-a"\'` is the outage ' +
        'in progress. In the drill, no breaker of provider-a opened during the outage, so ' +
        '`scalegate_breaker_state{provider="provider-a"}` stayed 0 (closed). Each request ' +
        'called provider-a first and failed over after that call failed: the router failed ' +
        'over from provider-a to provider-b 756 times. Over the 31 seconds from 20 s to 51 s ' +
        'that cover the fault window (20.01-50.02 s), ' +
        '`scalegate_failover_activations_total{from_provider="provider-a"}` rose by 784 ' +
        '(756 to provider-b, 28 to provider-c), 25.3 per second.',
    );

    const verify = outage.slice(outage.indexOf('### Verify recovery'));
    assert.ok(
      verify.includes(
        '- Step 1\'s two reads print the same `to_provider="provider-b"` line: calls to ' +
          'provider-a succeed again, so none fails over. In the drill, ' +
          '`scalegate_failover_activations_total{from_provider="provider-a"}` rose by 56 ' +
          '(54 to provider-b, 2 to provider-c) over the 39 seconds from 51 s to the ' +
          "drill's last reading at 90 s.\n",
      ),
      verify,
    );
  });

  it('counts seconds without a failover pair read', () => {
    const report = sampleWithoutOpenings();
    for (const point of report.topologies[0]?.timeSeries ?? []) {
      if (point.t === 30 || point.t === 31 || point.t === 60) delete point.failoversByPair;
    }
    const outage = sectionOf(renderRunbook([report]), 'Provider outage: provider-a');
    // 26 of the 29 read seconds have 28 failovers from provider-a each.
    assert.ok(
      operatorStep(outage, 1).endsWith(
        'Over the 31 seconds from 20 s to 51 s (2 of them without a read) that cover the ' +
          'fault window (20.01-50.02 s), ' +
          '`scalegate_failover_activations_total{from_provider="provider-a"}` rose by 728 ' +
          '(702 to provider-b, 26 to provider-c), 25.1 per second.',
      ),
      operatorStep(outage, 1),
    );
    const verify = outage.slice(outage.indexOf('### Verify recovery'));
    assert.ok(
      verify.includes(
        "over the 39 seconds from 51 s to the drill's last reading at 90 s (1 of them without a read).\n",
      ),
      verify,
    );
  });

  it('reads failovers of every pair in a version 4 report', () => {
    const report = sampleReportV4();
    const gpt = drillOf(report).breakers?.targets[0];
    assert.ok(gpt);
    gpt.transitions = [];
    gpt.openS = 0;
    const outage = sectionOf(renderRunbook([report]), 'Provider outage: provider-a');
    // The series fails over 30 times a second from 23 s to 53 s. That is 840 in the 31
    // seconds from 20 s to 51 s, 27.1 a second, and 60 from 51 s to the end at 90 s.
    assert.equal(
      operatorStep(outage, 1),
      '1. Confirm that requests fail over from provider-a: a `to_provider="provider-b"` line ' +
        'that changes between the two reads of `(curl -s "$GATEWAY_URL/metrics"; sleep 10; ' +
        'curl -s "$GATEWAY_URL/metrics") | grep -E ' +
        '\'^scalegate_failover_activations_total\\{from_provider="provider-a"\'` is the outage ' +
        'in progress. In the drill, no breaker of provider-a opened during the outage, so ' +
        '`scalegate_breaker_state{provider="provider-a"}` stayed 0 (closed). Each request ' +
        'called provider-a first and failed over after that call failed: the router failed ' +
        'over from provider-a to provider-b 810 times. Over the 31 seconds from 20 s to 51 s ' +
        'that cover the fault window (20.01-50.02 s), `scalegate_failover_activations_total` ' +
        'rose by 840, 27.1 per second, counting every provider pair.',
    );

    const verify = outage.slice(outage.indexOf('### Verify recovery'));
    assert.ok(
      verify.includes(
        '- Step 1\'s two reads print the same `to_provider="provider-b"` line: calls to ' +
          'provider-a succeed again, so none fails over. In the drill, ' +
          '`scalegate_failover_activations_total` rose by 60 over the 39 seconds from 51 s ' +
          "to the drill's last reading at 90 s, counting every provider pair.",
      ),
      verify,
    );
    assert.doesNotMatch(verify, /back at 0 \(closed\) in step 1's command/);
  });

  it('reads the breaker gauge in step 1 without breaker records', () => {
    const outage = sectionOf(renderRunbook([sampleReportV1()]), 'Provider outage: provider-a');
    assert.equal(
      operatorStep(outage, 1),
      '1. Confirm the breaker of provider-a is open (2) or half-open (1): ' +
        '`curl -s "$GATEWAY_URL/metrics" | grep \'scalegate_breaker_state{provider="provider-a"\'`. ' +
        'The report records no breakers, so the drill did not show whether it opens in this ' +
        'outage. While it reads 0 (closed), requests still call provider-a first, and a ' +
        '`to_provider="provider-b"` line that changes between the two reads of ' +
        '`(curl -s "$GATEWAY_URL/metrics"; sleep 10; curl -s "$GATEWAY_URL/metrics") | grep -E ' +
        '\'^scalegate_failover_activations_total\\{from_provider="provider-a"\'` shows them ' +
        'failing over. In the drill, the router failed over from provider-a to provider-b 810 times.',
    );
  });

  it('reads the breaker gauge in step 1 when it was open already', () => {
    const report = sampleReport();
    const gpt = drillOf(report).breakers?.targets[0];
    assert.ok(gpt);
    gpt.transitions = [{ atS: 12, from: 'closed', to: 'open' }];
    gpt.endState = 'open';
    gpt.openS = 78;
    const outage = sectionOf(renderRunbook([report]), 'Provider outage: provider-a');
    assert.ok(
      operatorStep(outage, 1).endsWith(
        'grep \'scalegate_breaker_state{provider="provider-a"\'`. In the drill, when the outage ' +
          'started at 20.01 s, `gpt-4o` was open.',
      ),
      operatorStep(outage, 1),
    );
  });

  it('times the breaker closing in the recovery check', () => {
    const outage = sectionOf(renderRunbook([sampleReport()]), 'Provider outage: provider-a');
    const verify = outage.slice(outage.indexOf('### Verify recovery'));
    assert.ok(
      verify.includes('In the drill, `gpt-4o` closed at 52.30 s, 2.28 s after the fault ended.'),
      verify,
    );
  });

  it('reports a breaker still open in the recovery check', () => {
    const report = sampleReport();
    const gpt = drillOf(report).breakers?.targets[0];
    assert.ok(gpt);
    gpt.transitions = gpt.transitions.slice(0, 3);
    gpt.endState = 'open';
    const outage = sectionOf(renderRunbook([report]), 'Provider outage: provider-a');
    const verify = outage.slice(outage.indexOf('### Verify recovery'));
    assert.ok(
      verify.includes(
        'In the drill, `gpt-4o` was still open at the drill end (90.00 s), so the drill did ' +
          'not show it closing.',
      ),
      verify,
    );
  });

  it('reports unrecorded breakers in the recovery check', () => {
    const outage = sectionOf(renderRunbook([sampleReportV1()]), 'Provider outage: provider-a');
    const verify = outage.slice(outage.indexOf('### Verify recovery'));
    assert.ok(verify.includes('The report records no breakers, so it gives no closing time.'));
  });

  it('marks breakers of a version 1 report unrecorded', () => {
    const row = breakerRow(renderRunbook([sampleReportV1()]));
    assert.ok(
      row.endsWith(
        '| not recorded in the report, which has schema version 1 and predates breaker records |',
      ),
      row,
    );
  });

  it('marks breakers of a platform without them unrecorded', () => {
    const report = sampleReport();
    drillOf(report).breakers = null;
    const row = breakerRow(renderRunbook([report]));
    assert.ok(row.endsWith('the drill ran against a platform that reports no breakers |'), row);
  });

  it('measures the fallback rate limit step', () => {
    const outage = sectionOf(renderRunbook([sampleReport()]), 'Provider outage: provider-a');
    assert.ok(
      outage.includes(
        'grep -E \'^scalegate_provider_errors_total\\{provider="provider-b".*error_class="status_429"\'',
      ),
      outage,
    );
    assert.ok(outage.includes('`make policy-gate POLICY=path/to/policy.yaml`'), outage);
  });

  it('reads counters as a change, not a total', () => {
    const markdown = renderRunbook([sampleReport()]);
    // Counters are totals since the platform started, so one read shows history.
    const commands = [...markdown.matchAll(/`([^`]*curl[^`]*)`/g)].map(([, command]) => command);
    const counterReads = commands.filter((command) => command?.includes('_total'));
    assert.ok(counterReads.length >= 4, String(counterReads.length));
    for (const command of counterReads) {
      assert.match(command ?? '', /curl -s "\$GATEWAY_URL\/metrics"; sleep 10; curl -s/, command);
    }
    const signals = [...markdown.matchAll(/^\| (.*) \| (.*) \| .* \|$/gm)]
      .map(([, metric = '', threshold = '']) => `${metric} ${threshold}`)
      .filter((cells) => /_total[{[]/.test(cells));
    assert.ok(signals.length >= 3, String(signals.length));
    for (const cells of signals) {
      for (const counter of cells.match(/scalegate_[a-z_]+_total/g) ?? []) {
        assert.ok(cells.includes(`rate(${counter}`), `${counter} without a rate in: ${cells}`);
      }
    }
  });

  it('gives each probe a metrics expression', () => {
    const markdown = renderRunbook([sampleReport()]);
    const outage = sectionOf(markdown, 'Provider outage: provider-a');
    assert.ok(
      outage.includes(
        '| success rate while faults were active (load generator); on `/metrics`: ' +
          '`sum(rate(scalegate_requests_total{outcome="succeeded"}[1m])) / sum(rate(scalegate_requests_total[1m]))`',
      ),
      outage,
    );
    const spike = sectionOf(markdown, 'Latency spike on provider-b');
    assert.ok(
      spike.includes(
        '| p95 latency while faults were active (load generator); on `/metrics`: ' +
          '`histogram_quantile(0.95, sum by (le) (rate(scalegate_request_duration_seconds_bucket[1m])))`',
      ),
      spike,
    );
  });

  it('names the p95 limits of the latency spike', () => {
    const spike = sectionOf(renderRunbook([sampleReport()]), 'Latency spike on provider-b');
    assert.ok(spike.includes("| above 4 s, the p95 probe's max | 4.10 s |"), spike);
    assert.ok(
      spike.includes(
        "[1m])))` is back at or under 4.5 s, the p95 probe's max of 4 s plus its tolerance " +
          "after settling; the drill's load generator measured 2.20 s there.",
      ),
      spike,
    );
  });

  it('checks p95 recovery at the limit without tolerance', () => {
    const report = sampleReport();
    const after = drillOf(report).steadyState.find((check) => check.phase === 'after');
    const probe = after?.probes.find((entry) => entry.name === 'p95-latency');
    assert.ok(probe);
    probe.tolerance = 0;
    const spike = sectionOf(renderRunbook([report]), 'Latency spike on provider-b');
    assert.ok(
      spike.includes("[1m])))` is back at or under 4 s, the p95 probe's max after settling;"),
      spike,
    );
  });

  it('bounds the detection time by whole seconds', () => {
    const outage = sectionOf(renderRunbook([sampleReport()]), 'Provider outage: provider-a');
    assert.ok(
      outage.includes(
        '- provider-b carried most of the traffic by 3.99 s after the outage started ' +
          '(detection time): the end of the first whole second in which provider-b served ' +
          'more requests than provider-a.',
      ),
      outage,
    );
  });

  it('times the return of traffic in step 2', () => {
    const outage = sectionOf(renderRunbook([sampleReport()]), 'Provider outage: provider-a');
    assert.ok(
      outage.includes(
        '- Step 2\'s command shows provider-a\'s `outcome="success"` line rising again. In the ' +
          'drill, traffic moved back to provider-a by 3.98 s after the fault ended (recovery ' +
          'time): the end of the first whole second in which provider-a served more requests ' +
          'than provider-b.',
      ),
      outage,
    );
  });

  it('tells the breaker how it closes', () => {
    const outage = sectionOf(renderRunbook([sampleReport()]), 'Provider outage: provider-a');
    assert.ok(outage.includes('`breaker.cooldownMs` in the policy has passed'), outage);
    assert.ok(outage.includes('closed after the next call to provider-a succeeds'), outage);
  });

  it('reads the during window of the fault', () => {
    const report = sampleReport();
    const [before, during, after] = drillOf(report).steadyState;
    assert.ok(before);
    assert.ok(during);
    assert.ok(after);
    // An earlier stretch of faults, from 10 s to 15 s, comes first in the report.
    const earlier = structuredClone({ ...during, fromS: 10, toS: 15 });
    const outageWindow = structuredClone({ ...during, toS: 50 });
    const outageProbe = outageWindow.probes[0];
    assert.ok(outageProbe);
    outageProbe.value = 0.9;
    outageProbe.passed = false;
    drillOf(report).steadyState = [{ ...before, toS: 10 }, earlier, outageWindow, after];
    const outage = sectionOf(renderRunbook([report]), 'Provider outage: provider-a');
    assert.ok(outage.includes('| min 0.97 | 90.0% (fail) |'), outage);
  });

  it('verifies recovery in the next between window', () => {
    const report = sampleReport();
    const [before, during, after] = drillOf(report).steadyState;
    assert.ok(before);
    assert.ok(during);
    assert.ok(after);
    const gap = structuredClone({ ...before, phase: 'between' as const, fromS: 52, toS: 60 });
    const gapProbe = gap.probes[0];
    assert.ok(gapProbe);
    gapProbe.value = 0.975;
    drillOf(report).steadyState = [before, { ...during, toS: 50 }, gap, after];
    const outage = sectionOf(renderRunbook([report]), 'Provider outage: provider-a');
    assert.ok(outage.includes('Success rate after settling: 97.5% (within min 0.97).'), outage);
  });

  it('calls a probe that could not fail unchecked', () => {
    const report = sampleReport();
    const during = drillOf(report).steadyState.find((check) => check.phase === 'during');
    const probe = during?.probes.find((entry) => entry.name === 'success-rate');
    assert.ok(probe);
    probe.passed = null;
    probe.notChecked = 'the drill spec leaves it out of the during windows (checkDuring: false)';
    const outage = sectionOf(renderRunbook([report]), 'Provider outage: provider-a');
    assert.ok(
      outage.includes(
        '| 96.4% (not checked in this phase: the drill spec leaves it out of the during ' +
          'windows (checkDuring: false)) |',
      ),
      outage,
    );
  });

  it('says when only the tolerance passed a value', () => {
    const report = sampleReport();
    const after = drillOf(report).steadyState.find((check) => check.phase === 'after');
    const probe = after?.probes.find((entry) => entry.name === 'p95-latency');
    assert.ok(probe);
    probe.value = 4.3;
    const spike = sectionOf(renderRunbook([report]), 'Latency spike on provider-b');
    assert.ok(
      spike.includes(
        'p95 after settling: 4.30 s (within the tolerance of max 4, passes up to 4.5)',
      ),
      spike,
    );
  });

  it('states a tolerance on its side only', () => {
    const report = sampleReport();
    const during = drillOf(report).steadyState.find((check) => check.phase === 'during');
    const probe = during?.probes.find((entry) => entry.name === 'success-rate');
    assert.ok(probe);
    probe.threshold = 0.99;
    probe.tolerance = 0.05;
    const outage = sectionOf(renderRunbook([report]), 'Provider outage: provider-a');
    assert.ok(outage.includes('| min 0.99, passes from 0.94 |'), outage);
  });

  it('uses the report numbers for a tenant burst', () => {
    const report = sampleReport();
    const burstSection = sectionOf(renderRunbook([report]), 'Noisy tenant burst: tenant-noisy');
    const burst = drillOf(report).faults[1]?.burst;
    const alpha = report.topologies[0]?.perTenant[0];
    assert.ok(burst);
    assert.ok(alpha);
    assert.ok(
      burstSection.includes(`shed ${burst.shed} of ${burst.requests} requests of tenant-noisy`),
    );
    assert.ok(burstSection.includes(`${burst.succeeded} succeeded`));
    assert.ok(
      burstSection.includes(
        `Over the whole drill, other faults included, tenant-alpha had a success rate of ${percent(alpha.successRate)}`,
      ),
      burstSection,
    );
  });

  it('measures burst rejections in the recovery check', () => {
    const burstSection = sectionOf(
      renderRunbook([sampleReport()]),
      'Noisy tenant burst: tenant-noisy',
    );
    const verify = burstSection.slice(burstSection.indexOf('### Verify recovery'));
    // The series rejects tenant-noisy 84 times a second from 60 s to 75 s, 3 times from 76 s.
    assert.ok(
      verify.includes(
        "- Rejections for tenant-noisy stop rising once its rate is back under quota: step 1's " +
          'two reads print the same lines. In the drill, ' +
          '`scalegate_admission_rejections_total{tenant="tenant-noisy"}` rose by 1260 over the ' +
          '15 seconds from 60 s to 75 s that cover the burst (60.00-75.00 s), 84.0 per second. ' +
          'Rejections began in the second from 60 s to 61 s, 0.00-1.00 s after the burst ' +
          'started, and peaked at 84 in the second from 60 s to 61 s. Over the 15 seconds ' +
          "after it, from 75 s to the drill's last reading at 90 s, it rose by 3, the last in the " +
          'second from 76 s to 77 s.\n',
      ),
      verify,
    );
  });

  it('states when burst rejections began and peaked', () => {
    const report = sampleReport();
    const burst = drillOf(report).faults[1];
    assert.ok(burst);
    burst.appliedAtS = 60.4;
    // No rejection until the tenant has used its quota, then 40, 120 and 84 a second.
    const counts = new Map([
      [60, 0],
      [61, 0],
      [62, 40],
      [63, 120],
    ]);
    for (const point of report.topologies[0]?.timeSeries ?? []) {
      if (point.t < 60 || point.t >= 75) continue;
      const rejected = counts.get(point.t) ?? 84;
      point.admissionRejections = rejected === 0 ? {} : { 'tenant-noisy': rejected };
    }
    const burstSection = sectionOf(renderRunbook([report]), 'Noisy tenant burst: tenant-noisy');
    // 40 + 120 + 11 x 84 = 1084 over 15 seconds, 72.3 a second. The second from 62 s starts
    // 1.60 s after the burst started at 60.40 s.
    assert.ok(
      burstSection.includes(
        'rose by 1084 over the 15 seconds from 60 s to 75 s that cover the burst ' +
          '(60.40-75.00 s), 72.3 per second. Rejections began in the second from 62 s to ' +
          '63 s, 1.60-2.60 s after the burst started, and peaked at 120 in the second from ' +
          '63 s to 64 s.',
      ),
      burstSection,
    );
  });

  it('starts burst rejections no earlier than the burst', () => {
    const report = sampleReport();
    const burst = drillOf(report).faults[1];
    assert.ok(burst);
    burst.appliedAtS = 60.4;
    const burstSection = sectionOf(renderRunbook([report]), 'Noisy tenant burst: tenant-noisy');
    // The second from 60 s to 61 s starts before the burst, so the range starts at 0.
    assert.ok(
      burstSection.includes(
        'Rejections began in the second from 60 s to 61 s, 0.00-0.60 s after the burst started',
      ),
      burstSection,
    );
  });

  it('omits the burst start and peak without a rejection', () => {
    const report = sampleReport();
    for (const point of report.topologies[0]?.timeSeries ?? []) {
      if (point.t >= 60 && point.t < 75) point.admissionRejections = {};
    }
    const burstSection = sectionOf(renderRunbook([report]), 'Noisy tenant burst: tenant-noisy');
    assert.ok(
      burstSection.includes(
        'rose by 0 over the 15 seconds from 60 s to 75 s that cover the burst ' +
          '(60.00-75.00 s), 0.0 per second. Over the 15 seconds after it',
      ),
      burstSection,
    );
    assert.doesNotMatch(burstSection, /Rejections began|peaked/);
  });

  it('measures no burst rejections after the burst', () => {
    const report = sampleReport();
    const late = report.topologies[0]?.timeSeries.find((point) => point.t === 76);
    assert.ok(late);
    late.admissionRejections = {};
    const burstSection = sectionOf(renderRunbook([report]), 'Noisy tenant burst: tenant-noisy');
    assert.ok(
      burstSection.includes(
        "Over the 15 seconds after it, from 75 s to the drill's last reading at 90 s, it rose by 0.\n",
      ),
      burstSection,
    );
  });

  it('counts seconds without a rejection read', () => {
    const report = sampleReport();
    const unread = report.topologies[0]?.timeSeries.find((point) => point.t === 70);
    assert.ok(unread);
    delete unread.admissionRejections;
    const burstSection = sectionOf(renderRunbook([report]), 'Noisy tenant burst: tenant-noisy');
    // 14 read seconds of 84 rejections each.
    assert.ok(
      burstSection.includes(
        'rose by 1176 over the 15 seconds from 60 s to 75 s (1 of them without a read) that ' +
          'cover the burst (60.00-75.00 s), 84.0 per second.',
      ),
      burstSection,
    );
  });

  it('names burst rejections a version 3 report lacks', () => {
    const burstSection = sectionOf(
      renderRunbook([sampleReportV3()]),
      'Noisy tenant burst: tenant-noisy',
    );
    assert.ok(
      burstSection.includes(
        "step 1's two reads print the same lines. The report's series has no admission " +
          'rejections per second, which reports of schema version 4 record, so the drill ' +
          'gives no rate before or after the burst ended.',
      ),
      burstSection,
    );
  });

  it('names burst rejections a version 4 drill never read', () => {
    const report = sampleReport();
    for (const point of report.topologies[0]?.timeSeries ?? []) delete point.admissionRejections;
    const burstSection = sectionOf(renderRunbook([report]), 'Noisy tenant burst: tenant-noisy');
    assert.ok(
      burstSection.includes(
        "step 1's two reads print the same lines. The drill read no admission rejections in " +
          "any second of the report's series, so it gives no rate before or after the burst " +
          'ended.',
      ),
      burstSection,
    );
    assert.doesNotMatch(burstSection, /which reports of schema version 4 record/);
  });

  it('measures other tenants during the burst', () => {
    const report = sampleReport();
    const burstSection = sectionOf(renderRunbook([report]), 'Noisy tenant burst: tenant-noisy');
    // The during window from 20 s to 75 s contains the burst's start at 60 s.
    assert.ok(
      burstSection.includes(
        'While faults were active, the main load of tenant-alpha, tenant-noisy had a success rate' +
          ' of 96.4% (outside min 0.97) and a p95 of 3.10 s (within max 4, passes up to 4.5).',
      ),
      burstSection,
    );
  });

  it('names the load limits in step 4', () => {
    const burstSection = sectionOf(
      renderRunbook([sampleReport()]),
      'Noisy tenant burst: tenant-noisy',
    );
    assert.equal(
      operatorStep(burstSection, 4),
      '4. Confirm other tenants are unaffected: between the two reads of ' +
        '`(curl -s "$GATEWAY_URL/metrics"; sleep 10; curl -s "$GATEWAY_URL/metrics") | grep -E ' +
        '\'^(scalegate_gateway_rejections_total\\{[^}]*limit="(requests_per_minute|tokens_per_minute|' +
        'max_in_flight|queue_depth|queue_oldest_age_ms)",status="(429|503)"|' +
        "scalegate_requests_total\\{)'` no rejection line of another tenant changes, and neither " +
        'do their `outcome="failed"` lines. The command prints only rejections at the limits ' +
        "that the burst's load can reach: a quota, in-flight or backpressure limit " +
        '(`requests_per_minute`, `tokens_per_minute`, `max_in_flight`, `queue_depth` or ' +
        '`queue_oldest_age_ms`) with status 429 or 503. It leaves out rejections for a ' +
        "request's own size or its tenant's spend, such as `contextWindowTokens` or " +
        "`budget_usd`, which another tenant's burst does not cause.",
    );
  });

  it('greps only load rejections in step 4', async () => {
    const burstSection = sectionOf(
      renderRunbook([sampleReport()]),
      'Noisy tenant burst: tenant-noisy',
    );
    const pattern = /grep -E '([^']+)'/.exec(operatorStep(burstSection, 4))?.[1];
    assert.ok(pattern, burstSection);

    const registry = new Registry();
    const gateway = new GatewayMetrics(registry);
    const platform = defineMetrics(registry);
    gateway.observeRejection('tenant-alpha', 'contextWindowTokens', 400);
    gateway.observeRejection('tenant-alpha', 'tokens_per_minute', 413);
    gateway.observeRejection('tenant-alpha', 'budget_usd', 429);
    gateway.observeRejection('tenant-alpha', 'queue', 503);
    gateway.observeRejection('tenant-alpha', 'maxTaskDurationMs', 400);
    gateway.observeRejection('tenant-alpha', 'requests_per_minute', 429);
    gateway.observeRejection('tenant-alpha', 'tokens_per_minute', 429);
    gateway.observeRejection('tenant-alpha', 'max_in_flight', 429);
    gateway.observeRejection('tenant-alpha', 'queue_depth', 429);
    gateway.observeRejection('tenant-alpha', 'queue_oldest_age_ms', 503);
    platform.requests.inc({ tenant: 'tenant-alpha', route: 'chat', outcome: 'failed' });

    const grep = spawnSync('grep', ['-E', pattern], {
      input: await registry.metrics(),
      encoding: 'utf8',
    });
    assert.equal(grep.status, 0, grep.stderr);
    assert.deepEqual(grep.stdout.trimEnd().split('\n'), [
      'scalegate_gateway_rejections_total{tenant="tenant-alpha",limit="requests_per_minute",status="429"} 1',
      'scalegate_gateway_rejections_total{tenant="tenant-alpha",limit="tokens_per_minute",status="429"} 1',
      'scalegate_gateway_rejections_total{tenant="tenant-alpha",limit="max_in_flight",status="429"} 1',
      'scalegate_gateway_rejections_total{tenant="tenant-alpha",limit="queue_depth",status="429"} 1',
      'scalegate_gateway_rejections_total{tenant="tenant-alpha",limit="queue_oldest_age_ms",status="503"} 1',
      'scalegate_requests_total{tenant="tenant-alpha",route="chat",outcome="failed"} 1',
    ]);
  });

  it('warns about evidence that did not pass', () => {
    const report = sampleReport();
    const deviated = renderRunbook([report]);
    assert.equal(deviated.split('**Warning: the evidence run did not pass').length - 1, 3);
    assert.ok(deviated.includes('(verdict deviated).** during: success-rate 0.964 below 0.97.'));
    report.verdict = { status: 'passed', reasons: [] };
    assert.doesNotMatch(renderRunbook([report]), /Warning/);
  });

  it('keeps proxy commands off TOXIPROXY_URL', () => {
    const markdown = renderRunbook([sampleReport()]);
    // TOXIPROXY_URL in the shell would make a restarted platform create proxies next to the live ones.
    assert.doesNotMatch(markdown, /\$TOXIPROXY_URL/);
    const spike = sectionOf(markdown, 'Latency spike on provider-b');
    assert.ok(spike.includes('curl -s "$PROXY_API/proxies/provider-b/toxics"'));
  });

  it('restricts the noisy tenant restart to Redis', () => {
    const burstSection = sectionOf(
      renderRunbook([sampleReport()]),
      'Noisy tenant burst: tenant-noisy',
    );
    assert.match(burstSection, /Restart only a platform on Redis \(REDIS_URL\)/);
    assert.match(burstSection, /with the same REDIS_URL and `--key-prefix` so it finds the queued/);
    assert.match(burstSection, /its --tenants option, or fixtures\/tenants\.yaml/);
  });

  it("names the drill's tenants file", () => {
    const report = sampleReport();
    report.environment = {
      ...report.environment,
      tenantsPath: '/srv/trial-tenants.yaml',
      tenantsHash: `1bc288ea1098${'0'.repeat(52)}`,
    };
    const burstSection = sectionOf(renderRunbook([report]), 'Noisy tenant burst: tenant-noisy');
    assert.ok(
      burstSection.includes(
        "sets. The drill's platform read `/srv/trial-tenants.yaml` (sha256 1bc288ea1098), so " +
          'the rejections cited here come from its limits. For `budget`,',
      ),
      burstSection,
    );
  });

  it('names no tenants file of an older report', () => {
    const burstSection = sectionOf(
      renderRunbook([sampleReport()]),
      'Noisy tenant burst: tenant-noisy',
    );
    assert.doesNotMatch(burstSection, /The drill's platform read/);
  });

  it('maps each rejection reason to its limit', () => {
    const burstSection = sectionOf(
      renderRunbook([sampleReport()]),
      'Noisy tenant burst: tenant-noisy',
    );
    // The reason label values of scalegate_admission_rejections_total, as admission sets them.
    assert.ok(burstSection.includes('`requests_per_minute` is requestsPerMinute'), burstSection);
    assert.ok(burstSection.includes('`tokens_per_minute` is tokensPerMinute'), burstSection);
    assert.ok(burstSection.includes('`in_flight` is maxInFlight'), burstSection);
    assert.ok(burstSection.includes('`budget` is budgetUsd over its budgetPeriod'), burstSection);
    assert.ok(burstSection.includes("`backpressure` is the platform's queue backlog"));
  });

  it('reads the budget gauges for budget rejections', () => {
    const burstSection = sectionOf(
      renderRunbook([sampleReport()]),
      'Noisy tenant burst: tenant-noisy',
    );
    const command =
      '`curl -s "$GATEWAY_URL/metrics" | grep -E ' +
      '\'scalegate_tenant_budget_usd\\{tenant="tenant-noisy"|' +
      'scalegate_tenant_spend_usd\\{tenant="tenant-noisy"|' +
      'scalegate_tenant_reserved_usd\\{tenant="tenant-noisy"\'`';
    assert.ok(burstSection.includes(`For \`budget\`, read the tenant's budget`), burstSection);
    assert.ok(burstSection.includes(command), burstSection);
  });

  it('uses the series for a latency spike', () => {
    const report = sampleReport();
    const spike = sectionOf(renderRunbook([report]), 'Latency spike on provider-b');
    const series = report.topologies[0]?.timeSeries ?? [];
    const worst = Math.max(
      ...series.filter((point) => point.t >= 30 && point.t < 45).map((point) => point.p95S),
    );
    assert.equal(worst, 4.1);
    assert.ok(spike.includes(`worst per-second p95: ${seconds(worst)}`));
    assert.ok(spike.includes('scalegate-drill-fallback-latency'));
  });

  it('skips seconds without successes for the worst p95', () => {
    const report = sampleReport();
    const series = report.topologies[0]?.timeSeries ?? [];
    const spikeSeconds = series.filter((point) => point.t >= 30 && point.t < 45);
    for (const point of spikeSeconds) {
      point.successes = 0;
      point.successRate = 0;
      point.p95S = 0;
    }
    assert.ok(spikeSeconds.some((point) => point.requests > 0));
    const spike = sectionOf(renderRunbook([report]), 'Latency spike on provider-b');
    assert.ok(spike.includes('worst per-second p95: n/a'), spike);
  });

  it('gives the first token baseline', () => {
    const spike = sectionOf(renderRunbook([sampleReport()]), 'Latency spike on provider-b');
    assert.ok(
      spike.includes(
        "In the drill, provider-b's mean was 0.40 s over the 30 s before the fault (210 tasks) " +
          'and 1.80 s over the 15 s that cover it (450 tasks).',
      ),
      spike,
    );
  });

  it('checks first token recovery', () => {
    const spike = sectionOf(renderRunbook([sampleReport()]), 'Latency spike on provider-b');
    assert.ok(
      spike.includes(
        "- Step 1's mean for provider-b over 10 s is back near 0.40 s, its mean before the " +
          'fault. In the drill, its mean over at least 10 tasks was at or under 0.60 s, 1.5 times ' +
          'that, by 1.00 s after the fault ended: 0.40 s over 30 tasks in the second from 45 s to ' +
          '46 s.',
      ),
      spike,
    );
  });

  it('names overlapping faults in first token means', () => {
    const spike = sectionOf(renderRunbook([sampleReport()]), 'Latency spike on provider-b');
    assert.ok(
      spike.includes(
        "(450 tasks). The drill's provider-fault on provider-a (20.01-50.02 s) also overlapped " +
          'these seconds, so its effect is in these figures too.',
      ),
      spike,
    );
    assert.ok(
      spike.includes(
        "take. The drill's provider-fault on provider-a (20.01-50.02 s) also overlapped the " +
          'seconds until then, so its effect is in these figures too.',
      ),
      spike,
    );
  });

  it('names no fault that does not overlap', () => {
    const report = sampleReport();
    const outage = drillOf(report).faults.find((entry) => entry.id === 'primary-outage');
    assert.ok(outage);
    // Moved to start after the latency spike's first recovered second, 45 s to 46 s.
    outage.appliedAtS = 46;
    const spike = sectionOf(renderRunbook([report]), 'Latency spike on provider-b');
    assert.doesNotMatch(spike, /also overlapped/);
  });

  it('omits first token times before version 7', () => {
    const spike = sectionOf(renderRunbook([sampleReportV6()]), 'Latency spike on provider-b');
    assert.ok(spike.includes('gives the mean of the last 10 s.'), spike);
    assert.doesNotMatch(spike, /In the drill, provider-b's mean/);
    assert.doesNotMatch(spike, /Step 1's mean/);
  });

  it('gives n/a without a first token', () => {
    const report = sampleReport();
    for (const point of report.topologies[0]?.timeSeries ?? []) {
      if (point.t < 30) point.firstTokenByProvider = {};
    }
    const spike = sectionOf(renderRunbook([report]), 'Latency spike on provider-b');
    assert.ok(
      spike.includes(
        "In the drill, provider-b's mean was n/a over the 30 s before the fault (0 tasks) " +
          'and 1.80 s over the 15 s that cover it (450 tasks).',
      ),
      spike,
    );
    assert.doesNotMatch(spike, /Step 1's mean/);
  });

  it('times first token recovery by second', () => {
    const report = sampleReport();
    for (const point of report.topologies[0]?.timeSeries ?? []) {
      // Tasks that began under the toxic finish in the 3 seconds after it.
      if (point.t >= 45 && point.t < 48) {
        point.firstTokenByProvider = { 'provider-b': { count: 30, sumS: 30 * 1.8 } };
      }
    }
    const spike = sectionOf(renderRunbook([report]), 'Latency spike on provider-b');
    assert.ok(
      spike.includes(
        'by 4.00 s after the fault ended: 0.40 s over 30 tasks in the second from 48 s to 49 s.',
      ),
      spike,
    );
  });

  it('gives n/a without a second before', () => {
    const report = sampleReport();
    const fault = drillOf(report).faults.find((entry) => entry.id === 'fallback-latency');
    assert.ok(fault);
    fault.appliedAtS = 0.5;
    const spike = sectionOf(renderRunbook([report]), 'Latency spike on provider-b');
    assert.ok(
      spike.includes(
        "In the drill, provider-b's mean was n/a (the series has no whole second there) and ",
      ),
      spike,
    );
    assert.doesNotMatch(spike, /Step 1's mean/);
  });

  it('says when the series ends first', () => {
    const report = sampleReport();
    const topology = report.topologies[0];
    assert.ok(topology);
    // An aborted drill's series can end with the fault.
    topology.timeSeries = topology.timeSeries.filter((point) => point.t < 45);
    const spike = sectionOf(renderRunbook([report]), 'Latency spike on provider-b');
    assert.ok(
      spike.includes(
        'In the drill, the series ended before a whole second after the fault, so it shows no ' +
          'recovery.',
      ),
      spike,
    );
  });

  it('says when no later second recovered', () => {
    const report = sampleReport();
    const topology = report.topologies[0];
    assert.ok(topology);
    topology.timeSeries = topology.timeSeries.filter((point) => point.t < 47);
    for (const point of topology.timeSeries) {
      if (point.t === 45) point.firstTokenByProvider = { 'provider-b': { count: 12, sumS: 12 } };
      if (point.t === 46) point.firstTokenByProvider = {};
    }
    const spike = sectionOf(renderRunbook([report]), 'Latency spike on provider-b');
    assert.ok(
      spike.includes(
        'In the drill, no whole seconds after the fault with at least 10 tasks had a mean for ' +
          'provider-b at or under 0.60 s, 1.5 times that (12 tasks over 2 s).',
      ),
      spike,
    );
  });

  it('does not count one fast task as recovery', () => {
    const report = sampleReport();
    for (const point of report.topologies[0]?.timeSeries ?? []) {
      // One fast task in a quiet second, then slow seconds, then recovery at 48 s.
      if (point.t === 45) point.firstTokenByProvider = { 'provider-b': { count: 1, sumS: 0.1 } };
      if (point.t === 46 || point.t === 47) {
        point.firstTokenByProvider = { 'provider-b': { count: 30, sumS: 30 * 1.8 } };
      }
    }
    const spike = sectionOf(renderRunbook([report]), 'Latency spike on provider-b');
    assert.ok(
      spike.includes(
        'by 4.00 s after the fault ended: 0.40 s over 30 tasks in the second from 48 s to 49 s.',
      ),
      spike,
    );
  });

  it('joins quiet seconds until they have enough tasks', () => {
    const report = sampleReport();
    for (const point of report.topologies[0]?.timeSeries ?? []) {
      // 4 tasks a second at 0.5 s: the 3 seconds from 45 s have 12 tasks.
      if (point.t >= 45) point.firstTokenByProvider = { 'provider-b': { count: 4, sumS: 2 } };
    }
    const spike = sectionOf(renderRunbook([report]), 'Latency spike on provider-b');
    assert.ok(
      spike.includes(
        'by 3.00 s after the fault ended: 0.50 s over 12 tasks in the 3 s from 45 s to 48 s.',
      ),
      spike,
    );
  });

  it('names the policy file and hash', () => {
    const report = sampleReport();
    report.environment.policyPath = 'policies/default.yaml';
    const hash = report.environment.policyHash.slice(0, 12);
    assert.ok(
      renderRunbook([report]).includes(`policy \`policies/default.yaml\` (sha256 ${hash})`),
    );
  });

  it('names the seed and time scale', () => {
    const report = sampleReport();
    report.environment.seed = 3;
    report.environment.timeScale = 2;
    assert.match(renderRunbook([report]), /seed 3, time scale 2x, verdict \*\*/);
  });

  it('names the drill, run id and commit', () => {
    const report = sampleReport();
    const markdown = renderRunbook([report]);
    const evidence = `Drill \`provider-outage\`, report \`${report.runId}\` (${report.createdAt}), commit \`abc1234\``;
    assert.equal(markdown.split(evidence).length - 1, 3);
  });

  it('prints only numbers found in the report', () => {
    const report = sampleReport();
    const markdown = renderRunbook([report]);
    const drill = drillOf(report);
    const allowed = new Set([
      ...(JSON.stringify(report).match(/\d+(\.\d+)?/g) ?? []),
      '96.1',
      '60.0',
      '100.0',
      '96.4',
      '93.9',
      '98.0',
      '3.00',
      '3.99',
      '3.98',
      '4.10',
      '1.00',
      '2.20',
      '3.10',
      '20.01',
      '50.02',
      // The breaker of provider-a opened 21.40 - 20.01 s after the outage started, and
      // closed 52.30 - 50.02 s after the fault ended.
      '1.39',
      '2.28',
      // provider-b's mean time to first token before and during its latency spike, and the
      // tasks behind the means: 7 and 15 seconds of 30 tasks.
      '0.40',
      '1.80',
      '210',
      '450',
      // A second's mean counts as recovered at 1.5 times the mean before the fault.
      '1.5',
      '30.00',
      '45.00',
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      // The quantile of the p95 expressions, the seconds between two reads of /metrics and
      // the bounds of the latency buckets that are 1 s wide.
      '0.95',
      '10',
      '12',
      // The injected error rate of 1 as a share of requests, 100%.
      '100',
    ]);
    assert.match(markdown, /logs all three in its `platform started` line/);
    // Step numbers are the only numbers not measured. A number with thousands separators,
    // such as 1,500, counts as one number.
    const measured = (markdown.match(/\b\d{1,3}(,\d{3})+(\.\d+)?\b|\b\d+(\.\d+)?\b/g) ?? []).map(
      (value) => value.replaceAll(',', ''),
    );
    const unknown = measured.filter(
      (value) => !allowed.has(value) && !allowed.has(String(Number(value))),
    );
    assert.deepEqual(unknown, []);
    assert.equal(drill.faults.length, 3);
  });

  it('keeps the newest report and lists older runs', () => {
    const older = sampleReport();
    older.runId = '20261201T000000Z-provider-outage';
    older.createdAt = '2026-12-01T00:00:00.000Z';
    const newer = sampleReport();
    const outage = sectionOf(renderRunbook([older, newer]), 'Provider outage: provider-a');
    assert.ok(outage.includes(`report \`${newer.runId}\``));
    assert.ok(outage.includes(`Also exercised in \`${older.runId}\`.`));
  });
});

describe('runbookUnchangedReason', () => {
  it('lets a passed drill rewrite the runbook', () => {
    assert.equal(runbookUnchangedReason(sampleReport()), undefined);
  });

  it('keeps the runbook after an aborted drill', () => {
    const report = sampleReport();
    report.verdict = { status: 'aborted', reasons: ['aborted at 3.00 s: signal'] };
    assert.equal(runbookUnchangedReason(report), 'an aborted drill does not write the runbook');
  });

  it('keeps the runbook after an invalid run', () => {
    const report = sampleReport();
    const topology = report.topologies[0];
    assert.ok(topology !== undefined);
    topology.harness = { ...topology.harness, valid: false, reasons: ['scheduler behind'] };
    report.verdict = { status: 'deviated', reasons: ['harness invalid: scheduler behind'] };
    assert.match(runbookUnchangedReason(report) ?? '', /load generator fell behind/);
  });
});

describe('writeRunbook', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-runbook-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the rendered runbook', async () => {
    const path = join(dir, 'runbooks', 'scaling_runbook.md');
    await writeRunbook([sampleReport()], path);
    assert.equal(await readFile(path, 'utf8'), renderRunbook([sampleReport()]));
  });

  it('leaves no temp file when the rename fails', async () => {
    // A directory at the runbook path makes the rename fail.
    await assert.rejects(writeRunbook([sampleReport()], dir), { code: 'EISDIR' });
    const parent = await readdir(join(dir, '..'));
    const base = dir.split('/').at(-1) ?? '';
    assert.deepEqual(
      parent.filter((name) => name.startsWith(`${base}.`)),
      [],
    );
  });

  it('writes nothing for an invalid report', async () => {
    const report = sampleReport();
    report.environment.seed = 1.5;
    await assert.rejects(writeRunbook([report], join(dir, 'runbook.md')), isReportValidationError);
    assert.deepEqual(await readdir(dir), []);
  });
});

describe('keptRunbook', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-kept-runbook-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('calls an existing runbook unchanged', async () => {
    const path = join(dir, 'runbook.md');
    await writeFile(path, '# Scaling runbook\n');
    assert.deepEqual(await keptRunbook(path, 'an aborted drill does not write the runbook'), {
      status: 'unchanged',
      path,
      reason: 'an aborted drill does not write the runbook',
    });
  });

  it('calls a missing runbook not written', async () => {
    const path = join(dir, 'runbooks', 'runbook.md');
    assert.deepEqual(await keptRunbook(path, 'a trial policy'), {
      status: 'not-written',
      path,
      reason: 'a trial policy',
    });
  });
});
