import assert from 'node:assert/strict';

import { compareGroups } from '../../../src/harness/compare/compare.js';
import {
  changeCell,
  formatComparison,
  formatLatency,
  unmeasuredNotes,
} from '../../../src/harness/compare/format.js';
import { runFromLoadOutput } from '../../../src/harness/compare/run.js';
import { BASE_FIGURES, sampleLoadOutput } from '../load/sample-output.js';

/** Returns a run of `file` in which no request ended, as a 1 s run that sent none records it. */
function runWithoutRequests(file: string) {
  const output = sampleLoadOutput();
  const empty = { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
  output.result.requests = { ...output.result.requests, sent: 0, succeeded: 0, failed: 0 };
  output.result.successRate = 0;
  output.result.latency.overall = empty;
  return runFromLoadOutput(file, output);
}

/**
 * Returns a run of `file` whose every request was rejected, so the cost ledger priced no task
 * and recorded a worker pool bill of 0.
 */
function runWithoutTasks(file: string) {
  const output = sampleLoadOutput();
  output.result.requests = { ...output.result.requests, succeeded: 0, failed: 100 };
  output.result.successRate = 0;
  output.platform = {
    topology: 'workers=2 serverless_burst=disabled',
    cost: {
      tasks: 0,
      totalUsd: 0,
      meanUsdPerTask: null,
      p95UsdPerTask: null,
      unsettledTasks: 0,
      workerPoolUsd: 0,
    },
  };
  return runFromLoadOutput(file, output);
}

function run(file: string, meanUsd: number) {
  return runFromLoadOutput(file, sampleLoadOutput({ ...BASE_FIGURES, meanUsd }));
}

describe('compareGroups', () => {
  it('gives a USD median exactly', () => {
    // (0.0003375 + 0.00032) / 2 is 0.00032875000000000005 in float arithmetic.
    const comparison = compareGroups([
      { label: 'base', runs: [run('a1', 0.0003375), run('a2', 0.00032)] },
    ]);
    const row = comparison.rows.find((candidate) => candidate.metric === 'meanUsdPerTask');
    assert.equal(row?.groups[0]?.median, 0.00032875);
    assert.match(JSON.stringify(row), /"median":0\.00032875,/);
  });

  it('leaves other medians unrounded', () => {
    // 1.2345678901234 s has more decimals than a picodollar rounding would keep.
    const figures = { ...BASE_FIGURES, p50Ms: 1234.5678901234 };
    const runs = [1, 2].map((index) => runFromLoadOutput(`a${index}`, sampleLoadOutput(figures)));
    const comparison = compareGroups([{ label: 'base', runs }]);
    const row = comparison.rows.find((candidate) => candidate.metric === 'p50LatencyS');
    assert.equal(row?.groups[0]?.median, 1234.5678901234 / 1000);
  });

  it('weighs no offered rate against noise', () => {
    const base = [run('a1', 0.004), run('a2', 0.004)];
    const candidate = [run('b1', 0.004), run('b2', 0.004)];
    for (const output of candidate) {
      output.figures.offeredRpm = 1320;
    }
    const comparison = compareGroups([
      { label: 'base', runs: base },
      { label: 'candidate', runs: candidate },
    ]);
    const row = comparison.rows.find((candidate) => candidate.metric === 'offeredRpm');
    const [baseFigure, figure] = row?.groups ?? [];
    assert.ok(baseFigure !== undefined);
    assert.ok(figure !== undefined);
    assert.equal(figure.median, 1320);
    assert.ok(Math.abs((figure.changePercent ?? 0) - 10) < 1e-9, String(figure.changePercent));
    assert.equal(figure.noise, null);
    assert.equal(figure.identicalRuns, true);
    // Without a noise mark, identical repeats get no `*` either.
    assert.equal(changeCell(figure, baseFigure), '+10.0%');
  });

  it('puts the offered rate before completed throughput', () => {
    const comparison = compareGroups([{ label: 'base', runs: [run('a1', 0.004)] }]);
    const metrics = comparison.rows.map((row) => row.metric);
    assert.deepEqual(metrics.slice(0, 3), ['offeredRpm', 'throughputRpm', 'succeededRpm']);
  });

  it('leaves a run without requests out of medians', () => {
    const comparison = compareGroups([
      { label: 'base', runs: [run('a1', 0.004)] },
      { label: 'candidate', runs: [runWithoutRequests('b1'), run('b2', 0.004)] },
    ]);
    const success = comparison.rows.find((row) => row.metric === 'successRate');
    const p50 = comparison.rows.find((row) => row.metric === 'p50LatencyS');
    assert.deepEqual(success?.groups[1]?.values, [BASE_FIGURES.successRate]);
    assert.deepEqual(p50?.groups[1]?.values, [BASE_FIGURES.p50Ms / 1000]);
    assert.equal(p50?.groups[1]?.changePercent, 0);
  });

  it('names a run without requests after the table', () => {
    const comparison = compareGroups([
      { label: 'a.json', runs: [run('a.json', 0.004)] },
      { label: 'b.json', runs: [runWithoutRequests('b.json')] },
    ]);
    assert.deepEqual(unmeasuredNotes(comparison), [
      'Success rate is n/a for b.json: no request ended in the run.',
      'p50 latency is n/a for b.json: no request ended in the run.',
      'p95 latency is n/a for b.json: no request ended in the run.',
      'p99 latency is n/a for b.json: no request ended in the run.',
      'Cost per succeeded request is n/a for b.json: no request succeeded.',
    ]);
  });

  it('marks a change of one measured run', () => {
    // A run sent to --target has no cost, so the base measured the mean cost once.
    const target = run('a2', 0.004);
    target.figures.meanUsdPerTask = null;
    const comparison = compareGroups([
      { label: 'base', runs: [run('a1', 0.004), target] },
      { label: 'candidate', runs: [run('b1', 0.005), run('b2', 0.005)] },
    ]);
    const lines = formatComparison(comparison);
    const mean = lines.find((line) => line.startsWith('mean cost per task'));
    assert.match(
      mean ?? '',
      /\[1 of 2 runs\]\s+\$0\.005000 \(\$0\.005000\.\.\$0\.005000\)\s+\+25\.0% noise unknown$/,
    );
    assert.ok(
      lines.includes(
        "A change marked 'noise unknown' has a side on which fewer than two runs measured the figure, so that side has no range to weigh it against.",
      ),
      lines.join('\n'),
    );
  });

  it('keeps single runs without noise marks', () => {
    const comparison = compareGroups([
      { label: 'a.json', runs: [run('a.json', 0.004)] },
      { label: 'b.json', runs: [run('b.json', 0.005)] },
    ]);
    const lines = formatComparison(comparison);
    const mean = lines.find((line) => line.startsWith('mean cost per task'));
    assert.match(mean ?? '', /\$0\.005000\s+\+25\.0%$/);
    assert.ok(!lines.some((line) => line.includes('noise unknown')), lines.join('\n'));
  });

  it('leaves cost of a run without tasks unmeasured', () => {
    const comparison = compareGroups([
      { label: 'a.json', runs: [run('a.json', 0.004)] },
      { label: 'b.json', runs: [runWithoutTasks('b.json')] },
    ]);
    const pool = comparison.rows.find((row) => row.metric === 'workerPoolUsd');
    assert.equal(pool?.groups[1]?.median, null);
    assert.equal(pool?.groups[1]?.changePercent, null);
    assert.deepEqual(unmeasuredNotes(comparison), [
      'Mean cost per task is n/a for b.json: the cost ledger priced no task.',
      'p95 cost per task is n/a for b.json: the cost ledger priced no task.',
      'Cost per succeeded request is n/a for b.json: no request succeeded.',
      'Worker pool bill is n/a for b.json: the cost ledger priced no task, so it shared out no worker pool bill.',
    ]);
  });

  it('names a run without successes', () => {
    const output = sampleLoadOutput();
    output.result.requests = { ...output.result.requests, succeeded: 0, failed: 100 };
    output.result.successRate = 0;
    const comparison = compareGroups([
      { label: 'a.json', runs: [run('a.json', 0.004)] },
      { label: 'b.json', runs: [runFromLoadOutput('b.json', output)] },
    ]);
    const mean = comparison.rows.find((row) => row.metric === 'meanUsdPerTask');
    assert.equal(mean?.groups[1]?.median, BASE_FIGURES.meanUsd);
    assert.deepEqual(unmeasuredNotes(comparison), [
      'Cost per succeeded request is n/a for b.json: no request succeeded.',
    ]);
  });

  it('prints a latency below 1 s in ms', () => {
    assert.equal(formatLatency(0.004167), '4 ms');
    assert.equal(formatLatency(0.0208), '21 ms');
    assert.equal(formatLatency(0.3778), '378 ms');
  });

  it('prints a latency from 1 s in seconds', () => {
    assert.equal(formatLatency(0.9996), '1.00 s');
    assert.equal(formatLatency(2.062335), '2.06 s');
  });

  it('tells apart latencies of a few ms', () => {
    const figures = { ...BASE_FIGURES, p50Ms: 4.167, p95Ms: 20.847, p99Ms: 58.2 };
    const comparison = compareGroups([
      { label: 'a.json', runs: [run('a.json', 0.004)] },
      { label: 'b.json', runs: [runFromLoadOutput('b.json', sampleLoadOutput(figures))] },
    ]);
    const lines = formatComparison(comparison);
    const p50 = lines.find((line) => line.startsWith('p50 latency'));
    assert.match(p50 ?? '', /^p50 latency\s+2\.00 s\s+4 ms\s+-99\.8%$/);
  });
});
