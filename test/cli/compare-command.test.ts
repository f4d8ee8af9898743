import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Command } from 'commander';

import { registerCompareCommand } from '../../src/cli/commands/compare.js';
import { registerLoadCommand } from '../../src/cli/commands/load.js';
import { buildProgram } from '../../src/cli/program.js';
import type { Comparison } from '../../src/harness/compare/compare.js';
import {
  BASE_FIGURES,
  type SampleFigures,
  sampleLoadOutput,
  writeJson,
} from '../harness/load/sample-output.js';
import { type FakeGateway, startFakeGateway } from '../harness/load/fake-gateway.js';

interface CommandRun {
  stdout: string;
  stderr: string;
  exitCode: typeof process.exitCode;
}

/** Runs `scalegate <args>` in process, with compare and load registered and output captured. */
async function runCommand(args: string[]): Promise<CommandRun> {
  const program = new Command('scalegate').exitOverride();
  registerCompareCommand(program);
  registerLoadCommand(program);
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  const output = { stdout: '', stderr: '' };
  const savedExitCode = process.exitCode;
  const capture = (stream: 'stdout' | 'stderr') => (chunk: string | Uint8Array) => {
    output[stream] += String(chunk);
    return true;
  };
  process.stdout.write = capture('stdout') as typeof process.stdout.write;
  process.stderr.write = capture('stderr') as typeof process.stderr.write;
  try {
    await program.parseAsync(['node', 'scalegate', ...args]);
    return { ...output, exitCode: process.exitCode };
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
    process.exitCode = savedExitCode;
  }
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
      'mean cost per task | $0.004000 ($0.004000..$0.004000) | $0.003000 ($0.003000..$0.003000) | -25.0%',
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
      changePercent: null,
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
      'mean cost per task | $0.004000 [1 of 2 runs] | $0.003000 ($0.003000..$0.003000) | -25.0%',
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
      'warning: seeds differ: 1 (a.json) vs 7 (b.json); give every side the same --seed values',
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
      assert.equal(row(run.stdout, 'success rate'), 'success rate | 100.0% | 100.0% | +0.0%');
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
    const run = await runCompareCommand([report, report]);
    assert.equal(run.stderr, '');
    assert.equal(run.exitCode, 0);
    assert.match(
      row(run.stdout, 'completed throughput'),
      /^completed throughput \| \d+ rpm \| \d+ rpm \| \+0\.0%$/,
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
      'error: --base and --candidate go together; pass the runs of each side, such as ' +
        '--base a1.json a2.json --candidate b1.json b2.json\n',
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
