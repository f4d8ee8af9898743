import assert from 'node:assert/strict';
import { SCENARIOS } from '../../../scenarios/index.js';
import { compileScenarioToK6 } from '../../../src/harness/k6/compile.js';
import { replaySpec, sampleSpec } from '../load/sample-spec.js';

describe('compileScenarioToK6', () => {
  it('makes one constant-arrival-rate scenario per tenant', () => {
    const spec = sampleSpec({
      durationSec: 60,
      arrival: { kind: 'constant', ratePerSec: 5 },
      tenants: [
        { tenantId: 'tenant-alpha', weight: 3 },
        { tenantId: 'tenant-beta', weight: 1 },
      ],
    });
    const { options } = compileScenarioToK6(spec);
    assert.deepEqual(Object.keys(options.scenarios), ['tenant-alpha', 'tenant-beta']);
    const alpha = options.scenarios['tenant-alpha'];
    assert.ok(alpha?.executor === 'constant-arrival-rate');
    assert.equal(alpha.rate, 225);
    assert.equal(alpha.timeUnit, '1m');
    assert.equal(alpha.duration, '60s');
    assert.equal(alpha.preAllocatedVUs, 19);
    assert.equal(alpha.maxVUs, 76);
    assert.deepEqual(alpha.tags, { tenant: 'tenant-alpha' });
    assert.deepEqual(alpha.env, { SCALEGATE_TENANT: 'tenant-alpha' });
    assert.equal(options.scenarios['tenant-beta']?.executor, 'constant-arrival-rate');
  });

  it('sets dropped_iterations, checks and trend stats', () => {
    const spec = sampleSpec({ durationSec: 100, slo: { successRate: 0.98, p95LatencyMs: 2000 } });
    const { options } = compileScenarioToK6(spec);
    assert.deepEqual(options.thresholds.dropped_iterations, ['count<=10']);
    assert.deepEqual(options.thresholds.checks, ['rate>=0.98']);
    assert.deepEqual(options.thresholds.scalegate_latency, ['p(95)<=2000']);
    assert.deepEqual(options.thresholds.scalegate_success, ['rate>=0.98']);
    assert.deepEqual(options.thresholds['scalegate_latency{tenant:tenant-alpha}'], ['max>=0']);
    assert.ok(options.summaryTrendStats.includes('p(99)'));
    assert.ok(options.summaryTrendStats.includes('count'));
  });

  it('compiles ramp stages per tenant', () => {
    const plan = compileScenarioToK6(SCENARIOS.ramp ?? assert.fail('ramp missing'));
    const alpha = plan.options.scenarios['tenant-alpha'];
    assert.ok(alpha?.executor === 'ramping-arrival-rate');
    assert.equal(alpha.startRate, 30);
    assert.deepEqual(alpha.stages, [
      { duration: '30s', target: 300 },
      { duration: '60s', target: 900 },
      { duration: '30s', target: 900 },
      { duration: '30s', target: 150 },
    ]);
    assert.deepEqual(plan.options.thresholds['scalegate_latency{tenant:tenant-alpha}'], [
      'p(95)<=8000',
    ]);
    assert.deepEqual(plan.options.thresholds['scalegate_success{tenant:tenant-beta}'], [
      'rate>=0.99',
    ]);
  });

  it('passes a tenant its own tasks and modes', () => {
    const noisy = SCENARIOS['noisy-hold'];
    assert.ok(noisy !== undefined);
    const { workload } = compileScenarioToK6(noisy);
    assert.deepEqual(Object.keys(workload.tenants ?? {}), ['tenant-noisy']);
    const own = workload.tenants?.['tenant-noisy'];
    assert.deepEqual(own?.modes, { sync: 0, async: 1 });
    assert.ok(own?.tasks?.source === 'distribution');
    assert.deepEqual(
      own.tasks.kinds.map((kind) => kind.name),
      ['long-agent'],
    );
    assert.deepEqual(workload.modes, noisy.modes);
  });

  it('leaves out tenants without their own workload', () => {
    assert.equal(compileScenarioToK6(sampleSpec()).workload.tenants, undefined);
  });

  it('passes known route output limits', () => {
    const spec = sampleSpec({
      routes: [
        { route: 'chat', weight: 1 },
        { route: 'free', weight: 1 },
      ],
    });
    const limits: Record<string, number> = { chat: 4096, unused: 100 };
    const { workload } = compileScenarioToK6(spec, { outputLimitOf: (route) => limits[route] });
    assert.deepEqual(workload.outputLimits, { chat: 4096 });
  });

  it('leaves out unknown output limits', () => {
    assert.equal(compileScenarioToK6(sampleSpec()).workload.outputLimits, undefined);
    const none = compileScenarioToK6(sampleSpec(), { outputLimitOf: () => undefined });
    assert.equal(none.workload.outputLimits, undefined);
  });

  it('rejects an invalid output limit', () => {
    for (const limit of [0, -5, 1.5, Number.NaN]) {
      assert.throws(
        () => compileScenarioToK6(sampleSpec(), { outputLimitOf: () => limit }),
        {
          name: 'TypeError',
          message: `output limit of route chat is ${limit}; expected a positive integer of tokens`,
        },
        String(limit),
      );
    }
  });

  it('sends a trace bucket at its own rate', () => {
    // 10 rows in the first 10 s and 30 in the next 10 s: 1 then 3 requests/s.
    const offsets = Array.from({ length: 40 }, (_, i) =>
      i < 10 ? i * 1000 : 10_000 + (i - 10) * 333,
    );
    const { spec, traceRows } = replaySpec(offsets, {
      durationSec: 20,
      tenants: [{ tenantId: 'tenant-alpha', weight: 1 }],
    });
    const plan = compileScenarioToK6(spec, { traceRows, traceBucketSec: 10 });
    const alpha = plan.options.scenarios['tenant-alpha'];
    assert.ok(alpha?.executor === 'ramping-arrival-rate');
    // Iterations k6 starts in the second bucket: a 1 s ramp from 1 to 3 requests/s, then 9 s at 3.
    let fromPerMin = alpha.startRate;
    let elapsedSec = 0;
    let secondBucket = 0;
    for (const stage of alpha.stages) {
      const stageSec = Number.parseFloat(stage.duration);
      if (elapsedSec >= 10) secondBucket += ((fromPerMin + stage.target) / 2 / 60) * stageSec;
      fromPerMin = stage.target;
      elapsedSec += stageSec;
    }
    assert.equal(secondBucket, 29);
  });

  it('sends a short last bucket at its rate', () => {
    // One row a second for 15 s: the last 10 s bucket lasts 5 s and contains 5 rows, so 1 request/s.
    const offsets = Array.from({ length: 15 }, (_, i) => i * 1000);
    const { spec, traceRows } = replaySpec(offsets, {
      durationSec: 15,
      tenants: [{ tenantId: 'tenant-alpha', weight: 1 }],
    });
    const plan = compileScenarioToK6(spec, { traceRows, traceBucketSec: 10 });
    const alpha = plan.options.scenarios['tenant-alpha'];
    assert.ok(alpha?.executor === 'ramping-arrival-rate');
    assert.deepEqual(alpha.stages, [
      { duration: '1s', target: 60 },
      { duration: '9s', target: 60 },
      { duration: '1s', target: 60 },
      { duration: '4s', target: 60 },
    ]);
  });

  it('requires trace rows for a replay', () => {
    const { spec } = replaySpec([0]);
    assert.throws(() => compileScenarioToK6(spec), /traceRows is required/);
  });

  it('turns trace rows into rate stages and size samples', () => {
    const offsets = Array.from({ length: 30 }, (_, i) => (i < 10 ? i * 100 : 10_000 + i * 10));
    const { spec, traceRows } = replaySpec(offsets, {
      durationSec: 20,
      tasks: { source: 'trace' },
    });
    const plan = compileScenarioToK6(spec, { traceRows, traceBucketSec: 10 });
    const alpha = plan.options.scenarios['tenant-alpha'];
    assert.ok(alpha?.executor === 'ramping-arrival-rate');
    assert.deepEqual(alpha.stages, [
      { duration: '1s', target: 30 },
      { duration: '9s', target: 30 },
      { duration: '1s', target: 60 },
      { duration: '9s', target: 60 },
    ]);
    assert.ok(plan.workload.tasks.source === 'samples');
    assert.equal(plan.workload.tasks.samples.length, 30);
    assert.equal(plan.workload.keys, undefined);
  });
});
