import assert from 'node:assert/strict';

import type { FaultRecord, Report } from '../../../src/harness/report/types.js';
import { renderRunbook } from '../../../src/harness/runbook/render.js';
import { sampleReport } from '../report/sample-report.js';
import { sampleWorkerLossReport } from '../report/sample-worker-loss.js';

/** Returns the sample report's fault `id`, to rewrite its description. */
function faultOf(report: Report, id: string): FaultRecord {
  const fault = report.drill?.faults.find((entry) => entry.id === id);
  assert.ok(fault, `the sample report has no fault ${id}`);
  return fault;
}

/** Renders the sample report with the provider fault's description set to `description`. */
function withProviderFault(description: string): string {
  const report = sampleReport();
  faultOf(report, 'primary-outage').description = description;
  return renderRunbook([report]);
}

/** Renders the sample report with the toxic's description set to `description`. */
function withToxic(description: string): string {
  const report = sampleReport();
  faultOf(report, 'fallback-latency').description = description;
  return renderRunbook([report]);
}

/** Returns the section under `## title`, failing when the runbook has none. */
function sectionOf(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  assert.notEqual(start, -1, `missing section ${title} in:\n${markdown}`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

/** Returns the section's `Injected fault:` line without its label. */
function injectedLine(section: string): string {
  const line = section.split('\n').find((entry) => entry.startsWith('Injected fault: '));
  assert.ok(line, section);
  return line.slice('Injected fault: '.length);
}

/** Returns the section's `Symptom:` line without its label. */
function symptomLine(section: string): string {
  const line = section.split('\n').find((entry) => entry.startsWith('Symptom: '));
  assert.ok(line, section);
  return line.slice('Symptom: '.length);
}

// The sample's provider fault on provider-a ran from 20.01 s to 50.02 s.
const PROVIDER_CASES = [
  {
    kind: 'outage',
    faults: { errorRate: 1, errorStatus: 503 },
    title: 'Provider outage: provider-a',
    settings: 'provider-a: 503 on 100% of requests, 20.0 to 50.0 s.',
  },
  {
    kind: 'partial errors',
    faults: { errorRate: 0.25, errorStatus: 502, retryAfterSeconds: 2 },
    title: 'Provider errors: provider-a',
    settings: 'provider-a: 502 on 25% of requests with Retry-After 2 s, 20.0 to 50.0 s.',
  },
  {
    kind: 'rate-limit storm',
    faults: { rateLimitStorm: true, retryAfterSeconds: 5 },
    title: 'Provider rate limiting: provider-a',
    settings: 'provider-a: 429 on every request with Retry-After 5 s, 20.0 to 50.0 s.',
  },
  {
    kind: 'injected 429',
    faults: { errorRate: 1, errorStatus: 429 },
    title: 'Provider rate limiting: provider-a',
    settings: 'provider-a: 429 on 100% of requests, 20.0 to 50.0 s.',
  },
  {
    kind: 'hang',
    faults: { hangBeforeHeaders: true },
    title: 'Provider hang: provider-a',
    settings: 'provider-a: requests accepted and never answered, 20.0 to 50.0 s.',
  },
  {
    kind: 'stream error',
    faults: { streamErrorAfterTokens: 12 },
    title: 'Provider stream errors: provider-a',
    settings: 'provider-a: error event after 12 tokens, 20.0 to 50.0 s.',
  },
  {
    kind: 'stream cut',
    faults: { streamCutAfterTokens: 40 },
    title: 'Provider stream cut: provider-a',
    settings: 'provider-a: stream cut after 40 tokens, 20.0 to 50.0 s.',
  },
  {
    kind: 'stream stall',
    faults: { stallAfterFirstToken: true },
    title: 'Provider stream stall: provider-a',
    settings: 'provider-a: stream stalled after the first token, 20.0 to 50.0 s.',
  },
  {
    kind: 'malformed stream',
    faults: { malformedSseAfterTokens: 3 },
    title: 'Malformed provider stream: provider-a',
    settings: 'provider-a: invalid JSON line after 3 tokens, 20.0 to 50.0 s.',
  },
  {
    kind: 'first-token delay',
    faults: { firstTokenDelayMs: 3000 },
    title: 'Provider slowdown: provider-a',
    settings: 'provider-a: first token delayed by 3,000 ms, 20.0 to 50.0 s.',
  },
  {
    kind: 'per-model delay',
    faults: { models: { 'gpt-4o': { firstTokenDelayMs: 2500 } } },
    title: 'Provider slowdown: provider-a',
    settings: 'provider-a: for model gpt-4o: first token delayed by 2,500 ms, 20.0 to 50.0 s.',
  },
  {
    kind: 'no setting',
    faults: {},
    title: 'Provider fault: provider-a',
    settings: 'provider-a: `{}`, 20.0 to 50.0 s.',
  },
] as const;

describe('runbook provider fault kinds', () => {
  for (const { kind, faults, title, settings } of PROVIDER_CASES) {
    it(`titles a ${kind}`, () => {
      const markdown = withProviderFault(JSON.stringify(faults));
      const section = sectionOf(markdown, title);
      assert.equal(injectedLine(section), settings);
    });
  }

  it('reads key=value descriptions too', () => {
    const section = sectionOf(
      withProviderFault('errorRate=0.5 errorStatus=500'),
      'Provider errors: provider-a',
    );
    assert.equal(injectedLine(section), 'provider-a: 500 on 50% of requests, 20.0 to 50.0 s.');
  });

  it('quotes an unreadable description', () => {
    const section = sectionOf(withProviderFault('broken {'), 'Provider fault: provider-a');
    assert.equal(injectedLine(section), 'provider-a: `broken {`, 20.0 to 50.0 s.');
  });

  it('calls a slowdown no outage', () => {
    const markdown = withProviderFault(JSON.stringify({ firstTokenDelayMs: 3000 }));
    const section = sectionOf(markdown, 'Provider slowdown: provider-a');
    assert.ok(!markdown.includes('Provider outage'), markdown);
    // The sample drill is named provider-outage, so only the sentences are checked.
    assert.doesNotMatch(section, /the outage/);
    assert.match(symptomLine(section), /first token arrives late/);
    assert.ok(section.includes('error_class="first_token_timeout"'), section);
    assert.ok(!section.includes('Confirm the breaker'), section);
  });

  it('words a storm as a fault', () => {
    const markdown = withProviderFault(JSON.stringify({ rateLimitStorm: true }));
    const section = sectionOf(markdown, 'Provider rate limiting: provider-a');
    assert.doesNotMatch(section, /the outage/);
    assert.ok(section.includes('after the fault started (detection time)'), section);
    assert.ok(section.includes('error_class="status_429"'), section);
  });

  it('words an outage as one', () => {
    const section = sectionOf(
      withProviderFault('errorRate=1 errorStatus=503'),
      'Provider outage: provider-a',
    );
    assert.match(symptomLine(section), /^provider-a fails every call with an error status/);
    assert.ok(section.includes('after the outage started (detection time)'), section);
  });

  it('keys each kind apart', () => {
    const outage = sampleReport();
    const slowdown = sampleReport();
    slowdown.runId = '20261201T000000Z-provider-outage';
    slowdown.createdAt = '2026-12-01T00:00:00.000Z';
    faultOf(slowdown, 'primary-outage').description = '{"firstTokenDelayMs":3000}';
    const markdown = renderRunbook([outage, slowdown]);
    sectionOf(markdown, 'Provider outage: provider-a');
    sectionOf(markdown, 'Provider slowdown: provider-a');
  });
});

// The sample's toxic on provider-b ran from 30 s to 45 s.
const TOXIC_CASES = [
  {
    description: 'latency {"latency":1500,"jitter":200}',
    title: 'Latency spike on provider-b',
    settings: 'provider-b: latency 1,500 ms, jitter 200 ms, 30.0 to 45.0 s.',
  },
  {
    description: 'bandwidth {"rate":64}',
    title: 'Bandwidth limit on provider-b',
    settings: 'provider-b: bandwidth limited to 64 KB/s, 30.0 to 45.0 s.',
  },
  {
    description: 'timeout {"timeout":0}',
    title: 'Connection timeout on provider-b',
    settings:
      'provider-b: data dropped, connections held open until the toxic is removed, 30.0 to 45.0 s.',
  },
  {
    description: 'timeout {"timeout":5000}',
    title: 'Connection timeout on provider-b',
    settings:
      'provider-b: data dropped, connections closed after 5,000 ms without data, 30.0 to 45.0 s.',
  },
  {
    description: 'reset_peer {"timeout":250}',
    title: 'Connection resets on provider-b',
    settings: 'provider-b: connections reset 250 ms after their first data, 30.0 to 45.0 s.',
  },
  {
    description: 'slow_close {"delay":2000}',
    title: 'Slow connection close on provider-b',
    settings: 'provider-b: connection close delayed by 2,000 ms, 30.0 to 45.0 s.',
  },
  {
    description: 'slicer {"average_size":64,"size_variation":16,"delay":1000}',
    title: 'Sliced stream on provider-b',
    settings:
      'provider-b: data sliced into chunks of 64 bytes (± 16 bytes), 1,000 µs apart, 30.0 to 45.0 s.',
  },
  {
    description: 'limit_data {"bytes":2048}',
    title: 'Data limit on provider-b',
    settings: 'provider-b: connections closed after 2,048 bytes, 30.0 to 45.0 s.',
  },
  {
    description: 'jam {"level":3}',
    title: 'Network fault on provider-b',
    settings: 'provider-b: `jam {"level":3}`, 30.0 to 45.0 s.',
  },
] as const;

describe('runbook toxic kinds', () => {
  for (const { description, title, settings } of TOXIC_CASES) {
    it(`titles ${description.split(' ')[0]} ${description.split(' ')[1]}`, () => {
      const section = sectionOf(withToxic(description), title);
      assert.equal(injectedLine(section), settings);
    });
  }

  it('states the stream and the share of connections a toxic applied to', () => {
    const report = sampleReport();
    const fault = faultOf(report, 'fallback-latency');
    fault.description = 'latency {"latency":1500}';
    fault.toxic = { stream: 'upstream', toxicity: 0.25 };
    const section = sectionOf(renderRunbook([report]), 'Latency spike on provider-b');
    assert.equal(
      injectedLine(section),
      "provider-b: latency 1,500 ms, jitter 0 ms, on the platform's bytes to the provider, " +
        '25% of connections, 30.0 to 45.0 s.',
    );
  });

  it('states a downstream toxic on every connection', () => {
    const report = sampleReport();
    const fault = faultOf(report, 'fallback-latency');
    fault.description = 'latency {"latency":1500}';
    fault.toxic = { stream: 'downstream', toxicity: 1 };
    const section = sectionOf(renderRunbook([report]), 'Latency spike on provider-b');
    assert.equal(
      injectedLine(section),
      "provider-b: latency 1,500 ms, jitter 0 ms, on the provider's bytes to the platform, every connection, " +
        '30.0 to 45.0 s.',
    );
  });

  it('keeps a partial toxicity off 0% and 100%', () => {
    const cases: [number, string][] = [
      [0, '0% of connections'],
      [0.0004, '0.1% of connections'],
      [0.9996, '99.9% of connections'],
    ];
    for (const [toxicity, share] of cases) {
      const report = sampleReport();
      const fault = faultOf(report, 'fallback-latency');
      fault.description = 'latency {"latency":1500}';
      fault.toxic = { stream: 'downstream', toxicity };
      const section = sectionOf(renderRunbook([report]), 'Latency spike on provider-b');
      assert.equal(
        injectedLine(section),
        "provider-b: latency 1,500 ms, jitter 0 ms, on the provider's bytes to the platform, " +
          `${share}, 30.0 to 45.0 s.`,
        String(toxicity),
      );
    }
  });

  it('checks errors for a reset', () => {
    const section = sectionOf(
      withToxic('reset_peer {"timeout":250}'),
      'Connection resets on provider-b',
    );
    assert.ok(section.includes('scalegate_provider_errors_total\\{provider="provider-b"'), section);
    assert.ok(!section.includes('Compare the time to first token'), section);
    assert.match(section, /\| success rate while faults were active/);
  });

  it('compares first tokens for bandwidth', () => {
    const section = sectionOf(withToxic('bandwidth {"rate":64}'), 'Bandwidth limit on provider-b');
    assert.ok(section.includes('Compare the time to first token'), section);
    assert.doesNotMatch(section, /\| success rate while faults were active/);
  });
});

/** Returns the section's `Verify recovery` lines. */
function verificationOf(section: string): string[] {
  const start = section.indexOf('### Verify recovery');
  assert.notEqual(start, -1, section);
  return section
    .slice(start)
    .split('\n')
    .filter((line) => line.startsWith('- '));
}

/** Renders the sample report with the toxic `description` on `stream` of half the connections. */
function withToxicOn(description: string, stream: 'upstream' | 'downstream'): string {
  const report = sampleReport();
  const fault = faultOf(report, 'fallback-latency');
  fault.description = description;
  fault.toxic = { stream, toxicity: 0.5 };
  return renderRunbook([report]);
}

describe('runbook first-token recovery source', () => {
  it('names step 1 for a slowing toxic', () => {
    const section = sectionOf(withToxic('bandwidth {"rate":64}'), 'Bandwidth limit on provider-b');
    assert.match(section, /\n1\. Compare the time to first token per provider/);
    const check = verificationOf(section).find((line) => line.includes('is back near'));
    assert.ok(check, section);
    assert.ok(check.startsWith("- Step 1's mean for provider-b over 10 s is back near"), check);
  });

  it('gives its own command for a reset', () => {
    const section = sectionOf(
      withToxic('reset_peer {"timeout":250}'),
      'Connection resets on provider-b',
    );
    const check = verificationOf(section).find((line) => line.includes('is back near'));
    assert.ok(check, section);
    assert.doesNotMatch(check, /Step 1/);
    assert.ok(
      check.startsWith(
        '- The mean time to first token of provider-b over the last 10 s, the change of ' +
          '`_sum` over the change of `_count` between the two reads of ' +
          '`(curl -s "$GATEWAY_URL/metrics"; sleep 10; curl -s "$GATEWAY_URL/metrics") | ' +
          'grep -E \'^scalegate_time_to_first_token_seconds_(sum|count)\\{provider="provider-b"\'`, ' +
          'is back near',
      ),
      check,
    );
  });
});

describe('runbook upstream toxics', () => {
  it('words an upstream slicer by its requests', () => {
    const section = sectionOf(
      withToxicOn('slicer {"average_size":64,"size_variation":16,"delay":1000}', 'upstream'),
      'Sliced requests to provider-b',
    );
    assert.equal(
      symptomLine(section),
      "The proxy splits the platform's requests to provider-b through its proxy into small " +
        'chunks with a delay between them, so each request reaches provider-b later, the ' +
        'larger it is, and the time to first token of its calls rises.',
    );
  });

  it('words an upstream bandwidth limit by its requests', () => {
    const section = sectionOf(
      withToxicOn('bandwidth {"rate":1}', 'upstream'),
      'Bandwidth limit on requests to provider-b',
    );
    assert.doesNotMatch(symptomLine(section), /completions/);
    assert.match(section, /\n1\. Compare the time to first token per provider/);
  });

  it('checks errors for an upstream data limit', () => {
    const section = sectionOf(
      withToxicOn('limit_data {"bytes":2048}', 'upstream'),
      'Data limit on requests to provider-b',
    );
    assert.doesNotMatch(symptomLine(section), /completions/);
    assert.ok(section.includes('scalegate_provider_errors_total\\{provider="provider-b"'), section);
  });

  it('keeps the stream wording downstream', () => {
    const section = sectionOf(
      withToxicOn('slicer {"average_size":64,"size_variation":16,"delay":1000}', 'downstream'),
      'Sliced stream on provider-b',
    );
    assert.match(symptomLine(section), /streams arrive in pieces/);
  });

  it('keeps upstream and downstream slicers apart', () => {
    const upstream = sampleReport();
    const upFault = faultOf(upstream, 'fallback-latency');
    upFault.description = 'slicer {"average_size":64,"size_variation":16,"delay":1000}';
    upFault.toxic = { stream: 'upstream', toxicity: 1 };
    const downstream = sampleReport();
    downstream.runId = '20261201T000000Z-provider-outage';
    downstream.createdAt = '2026-12-01T00:00:00.000Z';
    const downFault = faultOf(downstream, 'fallback-latency');
    downFault.description = upFault.description;
    downFault.toxic = { stream: 'downstream', toxicity: 1 };
    const markdown = renderRunbook([upstream, downstream]);
    sectionOf(markdown, 'Sliced requests to provider-b');
    sectionOf(markdown, 'Sliced stream on provider-b');
  });
});

describe('runbook burst and pause settings', () => {
  it('states a tenant burst', () => {
    const section = sectionOf(renderRunbook([sampleReport()]), 'Noisy tenant burst: tenant-noisy');
    assert.equal(
      injectedLine(section),
      'tenant-noisy: extra load at 10 times its quota, 60.0 to 75.0 s.',
    );
  });

  it('states a worker pause', () => {
    const report = sampleWorkerLossReport();
    const fault = report.drill?.faults[0];
    assert.ok(fault?.workerPause);
    const [from, to] = [fault.appliedAtS ?? fault.startS, fault.removedAtS ?? fault.endS];
    const section = sectionOf(renderRunbook([report]), 'Queue backlog: async worker capacity lost');
    assert.equal(
      injectedLine(section),
      `async workers: every async worker paused (${fault.workerPause.slots} slots), ${from.toFixed(1)} to ${to.toFixed(1)} s.`,
    );
  });
});

/** Renders the sample report with `description` on provider-a and no failover from it. */
function withoutFailover(description: string, unreadAtS?: number): string {
  const report = sampleReport();
  faultOf(report, 'primary-outage').description = description;
  for (const point of report.topologies[0]?.timeSeries ?? []) {
    point.failovers = 0;
    point.failoversByPair = {};
    if (point.t === unreadAtS) delete point.failoversByPair;
  }
  return renderRunbook([report]);
}

/** Returns the section's numbered lines, the operator steps and verification checks. */
function numberedLines(section: string): string[] {
  return section.split('\n').filter((line) => /^\d+\. /.test(line));
}

const STATUS_400_CLASS_STEP =
  '3. Confirm the fault\'s failure mode: an `error_class="status_400"` line of provider-a ' +
  'that changes between the two reads of `(curl -s "$GATEWAY_URL/metrics"; sleep 10; ' +
  'curl -s "$GATEWAY_URL/metrics") | grep -E ' +
  '\'^scalegate_provider_errors_total\\{provider="provider-a".*error_class="status_400"\'` ' +
  'is calls to provider-a still failing with status 400. No line means no call to ' +
  'provider-a failed this way since the platform started.';

describe('runbook error status without failover', () => {
  it('states an outage the router kept', () => {
    const section = sectionOf(
      withoutFailover(JSON.stringify({ errorRate: 1, errorStatus: 400 })),
      'Provider outage: provider-a',
    );
    assert.equal(
      symptomLine(section),
      'provider-a fails every call with status 400. The drill recorded no failover from ' +
        "provider-a while the fault was active, so the route's `failoverOn` in the policy " +
        'does not list `status_400`: the router does not send these calls to another ' +
        'provider, and their tasks fail with the error.',
    );
    const steps = numberedLines(section);
    assert.equal(steps[2], STATUS_400_CLASS_STEP);
    assert.equal(
      steps[3],
      '4. Find `failoverOn` of the routes that call provider-a in the policy file the ' +
        'platform was started with. `status_400` is not in it, so each call that fails with ' +
        'status 400 fails its task. Add `status_400` only if another provider can serve the ' +
        'call that provider-a rejected.',
    );
    assert.ok(!section.includes('turn the extra traffic away'), section);
  });

  it('states injected errors the router kept', () => {
    const section = sectionOf(
      withoutFailover(JSON.stringify({ errorRate: 0.5, errorStatus: 404 })),
      'Provider errors: provider-a',
    );
    assert.equal(
      symptomLine(section),
      'provider-a fails a share of its calls with status 404 and serves the others. The ' +
        'drill recorded no failover from provider-a while the fault was active, so the ' +
        "route's `failoverOn` in the policy does not list `status_404`: the router does not " +
        'send these calls to another provider, and their tasks fail with the error.',
    );
  });

  it('hedges an outage with an unread second', () => {
    const section = sectionOf(
      withoutFailover(JSON.stringify({ errorRate: 1, errorStatus: 400 }), 30),
      'Provider outage: provider-a',
    );
    assert.equal(
      symptomLine(section),
      'provider-a fails every call with status 400. The router sends such a call to another ' +
        "provider only when the route's `failoverOn` in the policy lists `status_400`; " +
        "otherwise the call's task fails with the error.",
    );
    const steps = numberedLines(section);
    assert.equal(steps[2], STATUS_400_CLASS_STEP);
    assert.equal(
      steps[3],
      '4. Find `failoverOn` of the routes that call provider-a in the policy file the ' +
        'platform was started with. If it lists `status_400`, the router sends these calls ' +
        'to another provider and the steps about the fallback apply; if it does not, each ' +
        'call that fails with status 400 fails its task.',
    );
    assert.ok(section.includes('turn the extra traffic away'), section);
  });

  it('keeps the outage symptom after failovers', () => {
    const section = sectionOf(
      withProviderFault(JSON.stringify({ errorRate: 1, errorStatus: 400 })),
      'Provider outage: provider-a',
    );
    assert.equal(
      symptomLine(section),
      'provider-a fails every call with an error status, so the router sends its traffic to ' +
        'another provider.',
    );
    assert.ok(!section.includes('error_class="status_400"'), section);
  });
});
