import assert from 'node:assert/strict';
import {
  buildSchedule,
  checkPlannedRequests,
  plannedRatePerMinute,
} from '../../../src/harness/load/schedule.js';
import { SCENARIOS } from '../../../scenarios/index.js';
import { replaySpec, sampleSpec } from './sample-spec.js';

describe('buildSchedule', () => {
  it('repeats the same schedule for the same seed', async () => {
    const spec = sampleSpec({ modes: { sync: 1, async: 1 } });
    const first = await buildSchedule(spec, { seed: 42, durationSec: 10 });
    const second = await buildSchedule(spec, { seed: 42, durationSec: 10 });
    const other = await buildSchedule(spec, { seed: 43, durationSec: 10 });
    assert.deepEqual(first, second);
    assert.notDeepEqual(first, other);
  });

  it('draws Poisson arrivals near the constant rate', async () => {
    const spec = sampleSpec({ arrival: { kind: 'constant', ratePerSec: 50 } });
    const schedule = await buildSchedule(spec, { seed: 7, durationSec: 20 });
    // 1000 expected; a Poisson count stays within 5 standard deviations (about 158).
    assert.ok(schedule.length > 842, `got ${schedule.length}`);
    assert.ok(schedule.length < 1158, `got ${schedule.length}`);
    assert.ok(schedule.every((r, i) => i === 0 || r.offsetMs >= (schedule[i - 1]?.offsetMs ?? 0)));
    assert.ok(schedule.every((r) => r.offsetMs < 20_000));
  });

  it('follows ramp stages', async () => {
    const spec = sampleSpec({
      arrival: {
        kind: 'ramp',
        startRatePerSec: 0,
        stages: [{ durationSec: 20, targetRatePerSec: 100 }],
      },
    });
    const schedule = await buildSchedule(spec, { seed: 3, durationSec: 20 });
    const firstHalf = schedule.filter((r) => r.offsetMs < 10_000).length;
    const secondHalf = schedule.length - firstHalf;
    // Expected 250 then 750 arrivals.
    assert.ok(firstHalf > 170, `first half ${firstHalf}`);
    assert.ok(firstHalf < 330, `first half ${firstHalf}`);
    assert.ok(secondHalf > 620, `second half ${secondHalf}`);
    assert.ok(secondHalf < 880, `second half ${secondHalf}`);
  });

  it('raises the rate inside burst windows', async () => {
    const spec = sampleSpec({
      arrival: {
        kind: 'burst',
        baseRatePerSec: 5,
        burstRatePerSec: 100,
        windows: [{ startSec: 5, durationSec: 5 }],
      },
    });
    const schedule = await buildSchedule(spec, { seed: 9, durationSec: 10 });
    const inBurst = schedule.filter((r) => r.offsetMs >= 5000).length;
    const before = schedule.length - inBurst;
    assert.ok(inBurst > 400, `in burst ${inBurst}`);
    assert.ok(inBurst < 600, `in burst ${inBurst}`);
    assert.ok(before < 60, `before ${before}`);
  });

  it('takes trace times and sizes for a replay', async () => {
    const { spec, traceRows } = replaySpec([0, 250, 1500], { tasks: { source: 'trace' } });
    const schedule = await buildSchedule(spec, { seed: 1, durationSec: 1, traceRows });
    assert.deepEqual(
      schedule.map((r) => r.offsetMs),
      [0, 250],
    );
    assert.equal(schedule[0]?.inputTokens, 50);
    assert.equal(schedule[0]?.forcedOutputTokens, 10);
  });

  it('clamps a replayed output length to the route limit', async () => {
    const { spec, traceRows } = replaySpec([0, 100, 200], { tasks: { source: 'trace' } });
    const sized = traceRows.map((row, i) => ({
      ...row,
      generatedTokens: [8192, 8193, 20_000][i] ?? 1,
    }));
    const schedule = await buildSchedule(spec, {
      seed: 1,
      durationSec: 1,
      traceRows: sized,
      outputLimitOf: (route) => (route === 'chat' ? 8192 : undefined),
    });
    assert.deepEqual(
      schedule.map((r) => [r.maxOutputTokens, r.forcedOutputTokens]),
      [
        [8192, 8192],
        [8192, 8192],
        [8192, 8192],
      ],
    );
  });

  it('clamps a drawn output length to the route limit', async () => {
    const spec = sampleSpec({
      routes: [
        { route: 'chat', weight: 1 },
        { route: 'open', weight: 1 },
      ],
      tasks: {
        source: 'distribution',
        kinds: [
          {
            name: 'long',
            weight: 1,
            inputTokens: { kind: 'constant', value: 10 },
            outputTokens: { kind: 'constant', value: 9000 },
          },
        ],
      },
    });
    const outputLimitOf = (route: string) => (route === 'chat' ? 8192 : undefined);
    const schedule = await buildSchedule(spec, { seed: 2, durationSec: 2, outputLimitOf });
    const chat = schedule.filter((r) => r.route === 'chat');
    const open = schedule.filter((r) => r.route === 'open');
    assert.ok(chat.length > 0);
    assert.ok(open.length > 0);
    assert.deepEqual([...new Set(chat.map((r) => r.maxOutputTokens))], [8192]);
    assert.deepEqual([...new Set(open.map((r) => r.maxOutputTokens))], [9000]);
    assert.ok(chat.every((r) => r.forcedOutputTokens === undefined));
  });

  it('keeps output lengths without a limit', async () => {
    const { spec, traceRows } = replaySpec([0], { tasks: { source: 'trace' } });
    const sized = traceRows.map((row) => ({ ...row, generatedTokens: 50_000 }));
    const schedule = await buildSchedule(spec, { seed: 1, durationSec: 1, traceRows: sized });
    assert.equal(schedule[0]?.maxOutputTokens, 50_000);
    assert.equal(schedule[0]?.forcedOutputTokens, 50_000);
  });

  it('sizes agent tasks with steps and tool waits', async () => {
    const spec = sampleSpec({
      tasks: {
        source: 'distribution',
        kinds: [
          {
            name: 'agent',
            weight: 1,
            inputTokens: { kind: 'constant', value: 10 },
            outputTokens: { kind: 'constant', value: 5 },
            steps: { kind: 'uniform', min: 3, max: 8 },
            toolWaitMs: { kind: 'lognormal', median: 500, p95: 2000 },
          },
        ],
      },
    });
    const schedule = await buildSchedule(spec, { seed: 5, durationSec: 5 });
    assert.ok(schedule.length > 0);
    for (const request of schedule) {
      assert.ok((request.steps ?? 0) >= 3);
      assert.ok((request.steps ?? 0) <= 8);
      assert.ok((request.toolWaitMs ?? -1) >= 0);
    }
  });

  it('gives a tenant its own tasks and modes', async () => {
    const spec = sampleSpec({
      tenants: [
        { tenantId: 'tenant-alpha', weight: 1 },
        {
          tenantId: 'tenant-beta',
          weight: 1,
          modes: { sync: 0, async: 1 },
          tasks: {
            source: 'distribution',
            kinds: [
              {
                name: 'hold',
                weight: 1,
                inputTokens: { kind: 'constant', value: 7 },
                outputTokens: { kind: 'constant', value: 3 },
                steps: { kind: 'constant', value: 2 },
                toolWaitMs: { kind: 'constant', value: 9000 },
              },
            ],
          },
        },
      ],
    });
    const schedule = await buildSchedule(spec, { seed: 3, durationSec: 5 });
    const beta = schedule.filter((request) => request.tenantId === 'tenant-beta');
    const alpha = schedule.filter((request) => request.tenantId === 'tenant-alpha');
    assert.ok(beta.length > 0);
    assert.ok(alpha.length > 0);
    for (const request of beta) {
      assert.equal(request.mode, 'async');
      assert.equal(request.taskKind, 'hold');
      assert.equal(request.inputTokens, 7);
      assert.equal(request.toolWaitMs, 9000);
    }
    // tenant-alpha keeps the scenario's sync chat.
    for (const request of alpha) {
      assert.equal(request.mode, 'sync');
      assert.equal(request.taskKind, 'chat');
      assert.equal(request.steps, undefined);
    }
  });
});

describe('plannedRatePerMinute', () => {
  it('counts trace rows inside the run', async () => {
    // Two of the three rows fall inside the 2 s run: 60 per minute.
    const { spec, traceRows } = replaySpec([0, 1500, 2500]);
    const rate = await plannedRatePerMinute(spec, { seed: 1, durationSec: 2, traceRows });
    assert.equal(rate, 60);
  });

  it('equals the schedule length per minute', async () => {
    const spec = sampleSpec({ arrival: { kind: 'constant', ratePerSec: 50 } });
    const options = { seed: 7, durationSec: 20 };
    const schedule = await buildSchedule(spec, options);
    assert.equal(await plannedRatePerMinute(spec, options), schedule.length * 3);
  });
});

describe('checkPlannedRequests', () => {
  it('accepts exactly the maximum', () => {
    const spec = sampleSpec({
      arrival: { kind: 'constant', ratePerSec: 1 },
      durationSec: 5_000_000,
    });
    assert.doesNotThrow(() => checkPlannedRequests(spec));
  });

  it('rejects one request past the maximum', () => {
    const spec = sampleSpec({
      arrival: { kind: 'constant', ratePerSec: 1 },
      durationSec: 5_000_001,
    });
    assert.throws(() => checkPlannedRequests(spec), {
      name: 'ScenarioValidationError',
      message:
        'scenario.arrival: expected a peak rate times durationSec of at most 5000000 requests, ' +
        'got 5000001 (1 requests/s for 5000001 s); lower the rate or durationSec, or split ' +
        'the run, because the embedded engine plans every request in memory before the first send',
    });
  });

  it('checks a ramp at its peak rate', () => {
    const spec = sampleSpec({
      arrival: {
        kind: 'ramp',
        startRatePerSec: 1,
        stages: [{ durationSec: 10, targetRatePerSec: 100_000 }],
      },
      durationSec: 60,
    });
    assert.throws(() => checkPlannedRequests(spec), /got 6000000 \(100000 requests\/s for 60 s\)/);
  });

  it('accepts every shipped scenario for 24 hours', () => {
    for (const scenario of Object.values(SCENARIOS)) {
      assert.doesNotThrow(
        () => checkPlannedRequests({ ...scenario, durationSec: 86_400 }),
        scenario.name,
      );
    }
  });
});
