import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { registerCompareCommand } from '../../src/cli/commands/compare.js';
import { registerLoadCommand } from '../../src/cli/commands/load.js';
import { buildProgram } from '../../src/cli/program.js';
import type { Comparison } from '../../src/harness/compare/compare.js';
import type { LoadCommandOutput } from '../../src/harness/load/output.js';
import {
  BASE_FIGURES,
  type SampleFigures,
  sampleLoadOutput,
  writeJson,
} from '../harness/load/sample-output.js';
import { type FakeGateway, startFakeGateway } from '../harness/load/fake-gateway.js';
import { type CommandRun, runInProcess } from '../support/run-command.js';

/** Runs `scalegate <args>` in process, with compare and load registered and output captured. */
function runCommand(args: string[]): Promise<CommandRun> {
  return runInProcess((program) => {
    registerCompareCommand(program);
    registerLoadCommand(program);
  }, args);
}

/** Runs `scalegate compare <args>` in process. */
function runCompareCommand(args: string[]): Promise<CommandRun> {
  return runCommand(['compare', ...args]);
}

/** Returns the table line that starts with `heading`, with runs of spaces cut to one. */
function row(stdout: string, heading: string): string {
  const line = stdout.split('\n').find((candidate) => candidate.startsWith(`${heading}  `));
  assert.ok(line !== undefined, `no ${heading} row in:\n${stdout}`);
  return line.replace(/ {2,}/g, ' | ');
}

/** Returns the `warning:` lines of the output. */
function warnings(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line.startsWith('warning: '));
}

/**
 * Returns a sample load output in which 3 of 100 requests were aborted at the drain timeout:
 * its p50 is exact, and its p95 and p99 have no upper bound, so they are lower bounds.
 */
function withAborts(figures: SampleFigures = BASE_FIGURES): LoadCommandOutput {
  const output = sampleLoadOutput(figures);
  Object.assign(output.result.requests, { failed: 47, aborted: 3 });
  output.result.drain = { timeoutSec: 10, endedBy: 'timeout', aborted: 3 };
  output.result.latency.upperBounds = {
    overall: { p50: figures.p50Ms, p95: null, p99: null },
    byTenant: {},
  };
  return output;
}

/** Warning of a `withAborts` run. */
function abortWarning(file: string): string {
  return (
    `warning: ${file}: 3 of 100 requests were aborted at the drain timeout, and aborted ` +
    'requests count with the time they had waited, so its p95 and p99 latency are lower bounds'
  );
}

const LOWER_BOUND_NOTE =
  "A figure marked '>=' is a lower bound, and so is its range, because aborted requests " +
  "count with the time they had waited. Its change is then a bound too ('>=' or '<='), or " +
  'n/a when both sides are lower bounds.';

const IDENTICAL_NOTE =
  "* The runs of a side gave identical values for this figure, so that side's range is no " +
  'noise band, and even a small change shows as beyond noise.';

const SMALL = 'workers=2 serverless_burst=disabled';
const LARGE = 'workers=24 serverless_burst=enabled';

/** Two runs per side. The candidate's throughput range lies above the base's; success overlaps. */
const BASE_RUNS: SampleFigures[] = [
  { ...BASE_FIGURES, completedRpm: 900, successRate: 0.5, p95Ms: 4000 },
  { ...BASE_FIGURES, completedRpm: 1100, successRate: 0.7, p95Ms: 6000 },
];
const CANDIDATE_RUNS: SampleFigures[] = [
  { ...BASE_FIGURES, completedRpm: 1150, successRate: 0.6, p95Ms: 2000, meanUsd: 0.003 },
  { ...BASE_FIGURES, completedRpm: 1350, successRate: 0.7, p95Ms: 3000, meanUsd: 0.003 },
];

describe('scalegate compare', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-compare-cli-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes the base and candidate runs and returns their paths. */
  async function writeSides(): Promise<{ base: string[]; candidate: string[] }> {
    const write = (prefix: string, figures: SampleFigures[], topology: string) =>
      Promise.all(
        figures.map((run, index) =>
          writeJson(dir, `${prefix}${index + 1}.json`, sampleLoadOutput(run, topology)),
        ),
      );
    return {
      base: await write('a', BASE_RUNS, SMALL),
      candidate: await write('b', CANDIDATE_RUNS, LARGE),
    };
  }

  it('prints medians, ranges and changes', async () => {
    const { base, candidate } = await writeSides();
    const run = await runCompareCommand(['--base', ...base, '--candidate', ...candidate]);
    assert.equal(run.stderr, '');
    assert.equal(run.exitCode, 0);
    assert.equal(row(run.stdout, 'topology'), `topology | ${SMALL} | ${LARGE}`);
    assert.equal(row(run.stdout, 'runs'), 'runs | 2 | 2');
    assert.equal(
      row(run.stdout, 'completed throughput'),
      'completed throughput | 1000 rpm (900 rpm..1100 rpm) | 1250 rpm (1150 rpm..1350 rpm) | +25.0%',
    );
    assert.equal(
      row(run.stdout, 'p95 latency'),
      'p95 latency | 5.00 s (4.00 s..6.00 s) | 2.50 s (2.00 s..3.00 s) | -50.0%',
    );
    assert.equal(
      row(run.stdout, 'mean cost per task'),
      'mean cost per task | $0.004000 ($0.004000..$0.004000) | $0.003000 ($0.003000..$0.003000) | -25.0% *',
    );
  });

  it('marks overlapping ranges within noise', async () => {
    const { base, candidate } = await writeSides();
    const run = await runCompareCommand(['--base', ...base, '--candidate', ...candidate]);
    assert.equal(
      row(run.stdout, 'success rate'),
      'success rate | 60.0% (50.0%..70.0%) | 65.0% (60.0%..70.0%) | +8.3% within noise',
    );
    assert.doesNotMatch(row(run.stdout, 'completed throughput'), /within noise/);
    assert.match(run.stdout, /^A change marked 'within noise' has a range that overlaps/m);
    assert.doesNotMatch(run.stdout, /No noise band/);
  });

  it('writes the comparison as JSON', async () => {
    const { base, candidate } = await writeSides();
    const run = await runCompareCommand(['--json', '--base', ...base, '--candidate', ...candidate]);
    const comparison = JSON.parse(run.stdout) as Comparison;
    assert.equal(comparison.noiseBand, true);
    assert.deepEqual(comparison.warnings, []);
    const throughput = comparison.rows.find((entry) => entry.metric === 'throughputRpm');
    assert.deepEqual(throughput?.groups[0], {
      values: [900, 1100],
      runs: 2,
      median: 1000,
      min: 900,
      max: 1100,
      lowerBound: false,
      identicalRuns: false,
      changePercent: null,
      changeBound: null,
      noise: null,
    });
    assert.equal(throughput?.groups[1]?.changePercent, 25);
    assert.equal(throughput?.groups[1]?.noise, 'beyond');
    const success = comparison.rows.find((entry) => entry.metric === 'successRate');
    assert.equal(success?.groups[1]?.noise, 'within');
    assert.ok(Math.abs((success?.groups[1]?.changePercent ?? 0) - 100 / 12) < 1e-9);
  });

  it('says one run per side has no noise band', async () => {
    const base = await writeJson(dir, 'small.json', sampleLoadOutput(BASE_RUNS[0], SMALL));
    const other = await writeJson(dir, 'large.json', sampleLoadOutput(CANDIDATE_RUNS[0], LARGE));
    const run = await runCompareCommand([base, other]);
    assert.equal(run.exitCode, 0);
    assert.match(run.stdout, /^ +small\.json +large\.json +vs baseline$/m);
    assert.equal(
      row(run.stdout, 'completed throughput'),
      'completed throughput | 900 rpm | 1150 rpm | +27.8%',
    );
    assert.match(
      run.stdout,
      /^No noise band can be given, because each column is a single run\. .* repeat each side 3 or more times, alternating the sides/m,
    );
    assert.doesNotMatch(run.stdout, /within noise/);
    assert.doesNotMatch(run.stdout, /\*/);
  });

  it('names the group of a single run', async () => {
    const { base } = await writeSides();
    const other = await writeJson(dir, 'large.json', sampleLoadOutput(CANDIDATE_RUNS[0], LARGE));
    const run = await runCompareCommand(['--base', ...base, '--candidate', other]);
    assert.equal(run.exitCode, 0);
    assert.match(run.stdout, /^No noise band can be given, because candidate is a single run\. /m);
    assert.doesNotMatch(run.stdout, /within noise/);
  });

  it('compares three single runs with the first', async () => {
    const files = await Promise.all(
      [900, 1800, 450].map((completedRpm, index) =>
        writeJson(dir, `r${index}.json`, sampleLoadOutput({ ...BASE_FIGURES, completedRpm })),
      ),
    );
    const run = await runCompareCommand(files);
    assert.equal(
      row(run.stdout, 'completed throughput'),
      'completed throughput | 900 rpm | 1800 rpm | +100.0% | 450 rpm | -50.0%',
    );
  });

  it('prints succeeded beside completed throughput', async () => {
    const base = await writeJson(dir, 'half.json', sampleLoadOutput());
    const all = await writeJson(
      dir,
      'all.json',
      sampleLoadOutput({ ...BASE_FIGURES, successRate: 1 }),
    );
    const run = await runCompareCommand([base, all]);
    assert.equal(run.exitCode, 0);
    // Both ended 83 requests in the 5 s window: 42 succeeded in one, all 83 in the other.
    assert.equal(
      row(run.stdout, 'completed throughput'),
      'completed throughput | 1000 rpm | 1000 rpm | 0.0%',
    );
    assert.equal(
      row(run.stdout, 'succeeded throughput'),
      'succeeded throughput | 504 rpm | 996 rpm | +97.6%',
    );
    const lines = run.stdout.split('\n');
    assert.equal(
      lines.indexOf(lines.find((line) => line.startsWith('succeeded throughput')) ?? ''),
      lines.indexOf(lines.find((line) => line.startsWith('completed throughput')) ?? '') + 1,
    );
    assert.doesNotMatch(run.stdout, /is n\/a for/);
  });

  it('footnotes succeeded throughput of a k6 run', async () => {
    const k6 = sampleLoadOutput();
    k6.result.engine = 'k6';
    k6.settings.engine = 'k6';
    k6.result.throughput = { windowSec: 5, offeredRpm: 1200 };
    const base = await writeJson(dir, 'embedded.json', sampleLoadOutput());
    const other = await writeJson(dir, 'k6.json', k6);
    const run = await runCompareCommand([base, other]);
    assert.equal(
      row(run.stdout, 'succeeded throughput'),
      'succeeded throughput | 504 rpm | n/a | n/a',
    );

    assert.ok(
      run.stdout.includes(
        `\nSucceeded throughput is n/a for ${other}: k6 does not time when requests end, so ` +
          'the output has no count of requests that ended inside the send window.\n',
      ),
      run.stdout,
    );

    const json = await runCompareCommand(['--json', base, other]);
    const comparison = JSON.parse(json.stdout) as Comparison;
    const succeeded = comparison.rows.find((entry) => entry.metric === 'succeededRpm');
    assert.deepEqual(succeeded?.unmeasured, [
      {
        file: other,
        reason:
          'k6 does not time when requests end, so the output has no count of requests that ' +
          'ended inside the send window',
      },
    ]);
    assert.equal(succeeded?.groups[0]?.median, 504);
    assert.equal(succeeded?.groups[1]?.median, null);
  });

  it('prints n/a for cost of a --target run', async () => {
    const target = sampleLoadOutput();
    target.settings.platform = null;
    delete target.platform;
    const base = await writeJson(dir, 'platform.json', sampleLoadOutput());
    const other = await writeJson(dir, 'target.json', target);
    const run = await runCompareCommand([base, other]);
    assert.equal(
      row(run.stdout, 'mean cost per task'),
      'mean cost per task | $0.004000 | n/a | n/a',
    );
    assert.equal(row(run.stdout, 'topology'), `topology | ${SMALL} | not recorded (--target)`);
  });

  it('counts the runs behind a partial figure', async () => {
    const target = sampleLoadOutput();
    target.settings.platform = null;
    delete target.platform;
    const { candidate } = await writeSides();
    const base = [
      await writeJson(dir, 'platform.json', sampleLoadOutput()),
      await writeJson(dir, 'target.json', target),
    ];
    const run = await runCompareCommand(['--base', ...base, '--candidate', ...candidate]);
    assert.equal(
      row(run.stdout, 'mean cost per task'),
      'mean cost per task | $0.004000 [1 of 2 runs] | $0.003000 ($0.003000..$0.003000) | -25.0% noise unknown',
    );
  });

  it('prints the requests each run sent', async () => {
    const small = sampleLoadOutput();
    small.result.requests.sent = 89;
    const base = await writeJson(dir, 'small.json', small);
    const { candidate } = await writeSides();
    const run = await runCompareCommand(['--base', base, '--candidate', ...candidate]);
    assert.equal(run.exitCode, 0);
    assert.equal(row(run.stdout, 'requests sent'), 'requests sent | 89 | 100, 100');
  });

  it('charges failed tasks to succeeded requests', async () => {
    const base = await writeJson(dir, 'served.json', sampleLoadOutput());
    const shed = sampleLoadOutput();
    // The same spend, with 20 of the 50 successes shed as rejected requests.
    shed.result.requests.succeeded = 30;
    shed.result.requests.failed = 70;
    const other = await writeJson(dir, 'shed.json', shed);
    const run = await runCompareCommand([base, other]);
    assert.equal(run.exitCode, 0);
    assert.equal(
      row(run.stdout, 'cost per succeeded request'),
      'cost per succeeded request | $0.008000 | $0.01333 | +66.7%',
    );
    assert.equal(
      row(run.stdout, 'mean cost per task'),
      'mean cost per task | $0.004000 | $0.004000 | 0.0%',
    );
  });

  it('explains a change from a baseline of 0', async () => {
    const base = await writeJson(
      dir,
      'none.json',
      sampleLoadOutput({ ...BASE_FIGURES, successRate: 0 }),
    );
    const other = await writeJson(dir, 'half.json', sampleLoadOutput());
    const run = await runCompareCommand([base, other]);
    assert.equal(
      row(run.stdout, 'success rate'),
      'success rate | 0.0% | 50.0% | n/a (baseline is 0)',
    );
  });

  it('shows n/a for an overflowing change', async () => {
    const base = await writeJson(dir, 'tiny.json', sampleLoadOutput({ ...BASE_FIGURES, p99Ms: 1 }));
    const other = await writeJson(
      dir,
      'huge.json',
      sampleLoadOutput({ ...BASE_FIGURES, p99Ms: Number.MAX_VALUE }),
    );
    const run = await runCompareCommand([base, other]);
    assert.equal(run.exitCode, 0);
    assert.match(row(run.stdout, 'p99 latency'), / \| n\/a \(change too large\)$/);
  });

  it('warns once per unfair difference', async () => {
    const other = sampleLoadOutput(BASE_FIGURES, LARGE);
    other.environment.machine.nodeVersion = 'v22.12.0';
    other.settings.seed = 7;
    const base = await writeJson(dir, 'a.json', sampleLoadOutput());
    const candidate = await writeJson(dir, 'b.json', other);
    const run = await runCompareCommand([base, candidate]);
    assert.equal(run.exitCode, 0);
    const warnings = run.stdout.split('\n').filter((line) => line.startsWith('warning: '));
    assert.deepEqual(warnings, [
      `warning: Node.js version differs: v20.20.2 (${base}) vs v22.12.0 (${candidate}); ` +
        'run every side with one Node.js version',
      `warning: seeds differ: 1 (${base}) vs 7 (${candidate}); give every side the same --seed values`,
    ]);
  });

  it('prints a change rounding to zero unsigned', async () => {
    // 1999.5 ms against 2000 ms is -0.025%, and 2000.5 ms +0.025%.
    const base = await writeJson(dir, 'base.json', sampleLoadOutput());
    const lower = await writeJson(
      dir,
      'lower.json',
      sampleLoadOutput({ ...BASE_FIGURES, p50Ms: 1999.5 }),
    );
    const higher = await writeJson(
      dir,
      'higher.json',
      sampleLoadOutput({ ...BASE_FIGURES, p50Ms: 2000.5 }),
    );
    const run = await runCompareCommand([base, lower, higher]);
    assert.equal(run.exitCode, 0);
    assert.equal(
      row(run.stdout, 'p50 latency'),
      'p50 latency | 2.00 s | 2.00 s | 0.0% | 2.00 s | 0.0%',
    );
  });

  it('marks a lower-bound percentile', async () => {
    const base = await writeJson(dir, 'base.json', sampleLoadOutput());
    const cut = await writeJson(dir, 'cut.json', withAborts({ ...BASE_FIGURES, p95Ms: 5570 }));
    const run = await runCompareCommand([base, cut]);
    assert.equal(run.exitCode, 0);
    assert.equal(row(run.stdout, 'p50 latency'), 'p50 latency | 2.00 s | 2.00 s | 0.0%');
    assert.equal(row(run.stdout, 'p95 latency'), 'p95 latency | 4.00 s | >= 5.57 s | >= +39.3%');
    assert.equal(row(run.stdout, 'p99 latency'), 'p99 latency | 8.00 s | >= 8.00 s | >= 0.0%');
    assert.ok(run.stdout.split('\n').includes(LOWER_BOUND_NOTE), run.stdout);
    assert.deepEqual(warnings(run.stdout), [abortWarning(cut)]);
  });

  it('bounds the change from a lower-bound baseline', async () => {
    const base = await writeJson(dir, 'cut.json', withAborts({ ...BASE_FIGURES, p95Ms: 5000 }));
    const other = await writeJson(dir, 'other.json', sampleLoadOutput());
    const run = await runCompareCommand([base, other]);
    assert.equal(row(run.stdout, 'p95 latency'), 'p95 latency | >= 5.00 s | 4.00 s | <= -20.0%');
  });

  it('gives no change between lower bounds', async () => {
    const base = await writeJson(dir, 'cut1.json', withAborts());
    const other = await writeJson(dir, 'cut2.json', withAborts({ ...BASE_FIGURES, p95Ms: 5000 }));
    const run = await runCompareCommand([base, other]);
    assert.equal(
      row(run.stdout, 'p95 latency'),
      'p95 latency | >= 4.00 s | >= 5.00 s | n/a (both lower bounds)',
    );
    assert.deepEqual(warnings(run.stdout), [abortWarning(base), abortWarning(other)]);
  });

  it('marks a group with a lower-bound run', async () => {
    const { base, candidate } = await writeSides();
    const [a1] = base;
    const second = BASE_RUNS[1];
    assert.ok(a1 !== undefined);
    assert.ok(second !== undefined);
    const cut = await writeJson(dir, 'a2-cut.json', withAborts(second));
    const args = ['--base', a1, cut, '--candidate', ...candidate];
    const run = await runCompareCommand(args);
    assert.equal(
      row(run.stdout, 'p95 latency'),
      'p95 latency | >= 5.00 s (4.00 s..6.00 s) | 2.50 s (2.00 s..3.00 s) | <= -50.0%',
    );
    assert.equal(
      row(run.stdout, 'p50 latency'),
      'p50 latency | 2.00 s (2.00 s..2.00 s) | 2.00 s (2.00 s..2.00 s) | 0.0% within noise *',
    );

    const json = await runCompareCommand(['--json', ...args]);
    const p95 = (JSON.parse(json.stdout) as Comparison).rows.find(
      (entry) => entry.metric === 'p95LatencyS',
    );
    assert.equal(p95?.groups[0]?.lowerBound, true);
    assert.equal(p95?.groups[1]?.lowerBound, false);
    assert.equal(p95?.groups[1]?.changeBound, 'atMost');
    assert.equal(p95?.groups[1]?.changePercent, -50);
    assert.equal(p95?.groups[1]?.noise, 'unknown');
  });

  it('marks a change against identical repeats', async () => {
    const write = (name: string, completedRpm: number) =>
      writeJson(dir, name, sampleLoadOutput({ ...BASE_FIGURES, completedRpm }));
    const base = [await write('a1.json', 1000), await write('a2.json', 1000)];
    const candidate = [await write('b1.json', 1008), await write('b2.json', 1020)];
    const run = await runCompareCommand(['--base', ...base, '--candidate', ...candidate]);
    assert.equal(
      row(run.stdout, 'completed throughput'),
      'completed throughput | 1000 rpm (1000 rpm..1000 rpm) | 1014 rpm (1008 rpm..1020 rpm) | +1.4% *',
    );
    assert.ok(run.stdout.split('\n').includes(IDENTICAL_NOTE), run.stdout);
  });

  it('leaves out the footnote without identical repeats', async () => {
    const write = (name: string, figures: SampleFigures) =>
      writeJson(dir, name, sampleLoadOutput(figures));
    // One more request ends in the 5 s window per index, so succeeded throughput varies too.
    const vary = (index: number): SampleFigures => ({
      completedRpm: 1000 + 12 * index,
      successRate: 0.5 + index / 100,
      p50Ms: 2000 + index,
      p95Ms: 4000 + index,
      p99Ms: 8000 + index,
      meanUsd: 0.004 + index / 1e5,
      p95Usd: 0.01 + index / 1e5,
      workerPoolUsd: 0.0002 + index / 1e6,
    });
    const base = [await write('a1.json', vary(0)), await write('a2.json', vary(1))];
    const candidate = [await write('b1.json', vary(2)), await write('b2.json', vary(3))];
    const run = await runCompareCommand(['--base', ...base, '--candidate', ...candidate]);
    assert.equal(run.exitCode, 0);
    assert.doesNotMatch(run.stdout, /\*/);
  });

  it('rejects a file given twice', async () => {
    const base = await writeJson(dir, 'a.json', sampleLoadOutput());
    const run = await runCompareCommand([base, base]);
    assert.equal(run.exitCode, 2);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      `error: ${base}: given more than once; pass each run once, as a repeated file narrows ` +
        'the range and can fake a noise band\n',
    );
  });

  it('rejects a file on both sides', async () => {
    const { base, candidate } = await writeSides();
    const [a1] = base;
    assert.ok(a1 !== undefined);
    const respelled = `${dir}/./a1.json`;
    const run = await runCompareCommand([
      '--base',
      ...base,
      '--candidate',
      ...candidate,
      respelled,
    ]);
    assert.equal(run.exitCode, 2);
    assert.equal(
      run.stderr,
      `error: ${a1} (again as ${respelled}): given more than once; pass each run once, as a ` +
        'repeated file narrows the range and can fake a noise band\n',
    );
  });

  it('warns of a copied run', async () => {
    const output = sampleLoadOutput();
    const first = await writeJson(dir, 'a1.json', output);
    const copy = await writeJson(dir, 'a2.json', output);
    const other = await writeJson(dir, 'b1.json', sampleLoadOutput());
    const run = await runCompareCommand(['--base', first, copy, '--candidate', other]);
    assert.equal(run.exitCode, 0);
    const started = new Date(output.result.startedAt).toISOString();
    assert.deepEqual(warnings(run.stdout), [
      `warning: ${first}, ${copy} contain the same run (started at ${started} against ` +
        'http://127.0.0.1:40000); pass each run once, as a copy narrows the range and can ' +
        'fake a noise band',
    ]);
  });

  it('warns of a side of two topologies', async () => {
    const w2 = await writeJson(dir, 'w2.json', sampleLoadOutput(BASE_FIGURES, SMALL));
    const w24 = await writeJson(dir, 'w24.json', sampleLoadOutput(BASE_FIGURES, LARGE));
    const { candidate } = await writeSides();
    const run = await runCompareCommand(['--base', w2, w24, '--candidate', ...candidate]);
    assert.equal(run.exitCode, 0);
    assert.equal(row(run.stdout, 'topology'), `topology | ${SMALL}, ${LARGE} | ${LARGE}`);
    assert.deepEqual(warnings(run.stdout), [
      `warning: base mixes topologies: ${SMALL} (${w2}) vs ${LARGE} (${w24}); its median ` +
        'describes no one topology, so give each side runs of one topology',
    ]);
  });

  it('rejects a second --candidate', async () => {
    const { base, candidate } = await writeSides();
    const [b1, b2] = candidate;
    assert.ok(b1 !== undefined);
    assert.ok(b2 !== undefined);
    const run = await runCompareCommand(['--base', ...base, '--candidate', b1, '--candidate', b2]);
    assert.equal(run.exitCode, 2);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      'error: --candidate is given 2 times, but compare takes one candidate group; list all ' +
        'its runs after one --candidate, such as --candidate b1.json b2.json\n',
    );
  });

  it('rejects a second --base', async () => {
    const { base, candidate } = await writeSides();
    const [a1, a2] = base;
    assert.ok(a1 !== undefined);
    assert.ok(a2 !== undefined);
    const run = await runCompareCommand([
      `--base=${a1}`,
      '--base',
      a2,
      '--candidate',
      ...candidate,
    ]);
    assert.equal(run.exitCode, 2);
    assert.equal(
      run.stderr,
      'error: --base is given 2 times, but compare takes one base group; list all its runs ' +
        'after one --base, such as --base a1.json a2.json\n',
    );
  });

  it('words an interrupted run as interrupted', async () => {
    const stopped = sampleLoadOutput();
    stopped.interrupted = { signal: 'SIGINT' };
    stopped.result.drain = { timeoutSec: 10, endedBy: 'signal', aborted: 0 };
    assert.ok(stopped.result.throughput !== undefined);
    stopped.result.throughput.windowSec = 3.2;
    stopped.result.health = {
      valid: false,
      reasons: ['run stopped by its abort signal before the schedule ended: interrupted by SIGINT'],
    };
    const base = await writeJson(dir, 'a.json', sampleLoadOutput());
    const other = await writeJson(dir, 'b.json', stopped);
    const run = await runCompareCommand([base, other]);
    assert.deepEqual(warnings(run.stdout), [
      `warning: ${other}: the run was interrupted by SIGINT 3.2 s into its 5 s schedule, so ` +
        'its figures cover that part only',
    ]);
  });

  it('is registered with the program', () => {
    assert.ok(buildProgram().commands.some((command) => command.name() === 'compare'));
  });

  it('reads the output of scalegate load', async () => {
    let gateway: FakeGateway | undefined;
    try {
      gateway = await startFakeGateway();
      const outs = [join(dir, 'one.json'), join(dir, 'two.json')];
      for (const out of outs) {
        const args = ['--scenario=steady-chat', `--target=${gateway.url}`, '--duration=1'];
        await runCommand(['load', ...args, `--out=${out}`]);
      }
      const run = await runCompareCommand(outs);
      assert.equal(run.stderr, '');
      assert.equal(run.exitCode, 0);
      assert.equal(row(run.stdout, 'success rate'), 'success rate | 100.0% | 100.0% | 0.0%');
      // Every request succeeded, so the series gives succeeded throughput equal to completed.
      const completed = row(run.stdout, 'completed throughput').split(' | ').slice(1);
      const succeeded = row(run.stdout, 'succeeded throughput').split(' | ').slice(1);
      assert.deepEqual(succeeded, completed);
      assert.equal(row(run.stdout, 'mean cost per task'), 'mean cost per task | n/a | n/a | n/a');
    } finally {
      await gateway?.close();
    }
  });

  it('reads the committed drill report', async () => {
    const pointer = JSON.parse(await readFile('reports/latest.json', 'utf8')) as {
      reportPath: string;
    };
    const report = join('reports', pointer.reportPath);
    const copy = join(dir, 'report.json');
    await copyFile(report, copy);
    const run = await runCompareCommand([report, copy]);
    assert.equal(run.stderr, '');
    assert.equal(run.exitCode, 0);
    assert.match(
      row(run.stdout, 'completed throughput'),
      /^completed throughput \| \d+ rpm \| \d+ rpm \| 0\.0%$/,
    );
    assert.match(
      row(run.stdout, 'succeeded throughput'),
      /^succeeded throughput \| \d+ rpm \| \d+ rpm | 0\.0%$/,
    );
    const { runId, createdAt } = JSON.parse(await readFile(report, 'utf8')) as {
      runId: string;
      createdAt: string;
    };
    assert.match(
      run.stdout,
      new RegExp(
        `^warning: ${report}, ${copy} contain the same run \\(run id ${runId}, created at ${createdAt}\\); `,
        'm',
      ),
    );
  });

  it('rejects a missing file with exit code 2', async () => {
    const base = await writeJson(dir, 'a.json', sampleLoadOutput());
    const missing = join(dir, 'b.json');
    const run = await runCompareCommand([base, missing]);
    assert.equal(run.exitCode, 2);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      `error: ${missing}: file not found; pass a file written by scalegate load --out or a ` +
        'drill reports/<run-id>/report.json\n',
    );
  });

  it('names a missing file given twice', async () => {
    const missing = join(dir, 'x.json');
    const run = await runCompareCommand([missing, missing]);
    assert.equal(run.exitCode, 2);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      `error: ${missing}: file not found; pass a file written by scalegate load --out or a ` +
        'drill reports/<run-id>/report.json\n',
    );
  });

  it('names every unusable file', async () => {
    const base = await writeJson(dir, 'a.json', { ...sampleLoadOutput(), schemaVersion: 9 });
    const other = await writeJson(dir, 'b.json', { hello: 'world' });
    const run = await runCompareCommand([base, other]);
    assert.equal(run.exitCode, 2);
    const lines = run.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.ok(lines[0]?.startsWith(`error: ${base}: load output schemaVersion 9`), lines[0]);
    assert.ok(lines[1]?.startsWith(`error: ${other}: neither a load output`), lines[1]);
  });

  it('rejects a single file', async () => {
    const base = await writeJson(dir, 'a.json', sampleLoadOutput());
    const run = await runCompareCommand([base]);
    assert.equal(run.exitCode, 2);
    assert.equal(
      run.stderr,
      'error: compare needs two or more files; pass them as arguments, the baseline first, ' +
        'or as --base FILE... --candidate FILE...\n',
    );
  });

  it('rejects --base without --candidate', async () => {
    const base = await writeJson(dir, 'a.json', sampleLoadOutput());
    const run = await runCompareCommand(['--base', base, base]);
    assert.equal(run.exitCode, 2);
    assert.equal(
      run.stderr,
      'error: --base is given without --candidate; pass the runs of each side, such as ' +
        '--base a1.json a2.json --candidate b1.json b2.json\n',
    );
  });

  it('rejects --candidate without --base', async () => {
    const candidate = await writeJson(dir, 'b.json', sampleLoadOutput());
    const run = await runCompareCommand(['--candidate', candidate]);
    assert.equal(run.exitCode, 2);
    assert.equal(
      run.stderr,
      'error: --candidate is given without --base; pass the runs of each side, such as ' +
        '--base a1.json a2.json --candidate b1.json b2.json\n',
    );
  });

  it('rejects --base without files', async () => {
    const candidate = await writeJson(dir, 'b.json', sampleLoadOutput());
    const run = await runCompareCommand(['--base', '--candidate', candidate]);
    assert.equal(run.exitCode, 2);
    assert.equal(
      run.stderr,
      'error: --base is given no files, as --candidate follows it; list the runs of that side ' +
        'right after --base, such as --base a1.json a2.json --candidate b1.json b2.json, and ' +
        'pass a file whose name starts with a dash as ./NAME\n',
    );
  });

  it('rejects --candidate without files', async () => {
    const base = await writeJson(dir, 'a.json', sampleLoadOutput());
    const run = await runCompareCommand(['--candidate', '--base', base]);
    assert.equal(run.exitCode, 2);
    assert.equal(
      run.stderr,
      'error: --candidate is given no files, as --base follows it; list the runs of that side ' +
        'right after --candidate, such as --base a1.json a2.json --candidate b1.json b2.json, ' +
        'and pass a file whose name starts with a dash as ./NAME\n',
    );
  });

  it('rejects files beside --base and --candidate', async () => {
    const base = await writeJson(dir, 'a.json', sampleLoadOutput());
    const run = await runCompareCommand([base, '--base', base, '--candidate', base]);
    assert.equal(run.exitCode, 2);
    assert.equal(
      run.stderr,
      `error: ${base}: pass files either as arguments or with --base and --candidate, not both\n`,
    );
  });
});
