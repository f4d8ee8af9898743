import assert from 'node:assert/strict';

import type { RunGroup } from '../../../src/harness/compare/compare.js';
import { fairnessWarnings } from '../../../src/harness/compare/fairness.js';
import { type RunRecord, runFromLoadOutput } from '../../../src/harness/compare/run.js';
import { sampleLoadOutput } from '../load/sample-output.js';

function run(file: string): RunRecord {
  return runFromLoadOutput(file, sampleLoadOutput());
}

function groups(base: RunRecord[], candidate: RunRecord[]): RunGroup[] {
  return [
    { label: 'base', runs: base },
    { label: 'candidate', runs: candidate },
  ];
}

describe('fairnessWarnings', () => {
  it('finds nothing in like runs', () => {
    assert.deepEqual(fairnessWarnings(groups([run('a1'), run('a2')], [run('b1'), run('b2')])), []);
  });

  it('names a different CPU model', () => {
    const other = run('b1');
    other.machine = { ...other.machine, cpuModel: 'Other CPU' };
    assert.deepEqual(fairnessWarnings(groups([run('a1'), run('a2')], [other])), [
      'machine differs: 2 CPUs Sample CPU, 24 GiB, linux (a1, a2) vs ' +
        '2 CPUs Other CPU, 24 GiB, linux (b1); run every side on one machine',
    ]);
  });

  it('ignores memory that differs by some KiB', () => {
    const other = run('b1');
    other.machine = { ...other.machine, memoryBytes: other.machine.memoryBytes + 8192 };
    assert.deepEqual(fairnessWarnings(groups([run('a1')], [other])), []);
  });

  it('compares machines without a CPU model', () => {
    const old = run('report.json');
    const { cpuModel: _, ...machine } = old.machine;
    old.machine = machine;
    const other = run('b1');
    other.machine = { ...other.machine, cpuModel: 'Other CPU', cpus: 4 };
    assert.deepEqual(fairnessWarnings(groups([old], [other])), [
      'machine differs: 2 CPUs, 24 GiB, linux (report.json) vs 4 CPUs, 24 GiB, linux (b1); ' +
        'run every side on one machine',
    ]);
  });

  it('names a different Node.js version', () => {
    const other = run('b1');
    other.machine = { ...other.machine, nodeVersion: 'v22.12.0' };
    assert.deepEqual(fairnessWarnings(groups([run('a1')], [other])), [
      'Node.js version differs: v20.20.2 (a1) vs v22.12.0 (b1); run every side with one Node.js version',
    ]);
  });

  it('names a different scenario', () => {
    const other = run('b1');
    other.scenario = 'steady-chat';
    assert.deepEqual(fairnessWarnings(groups([run('a1')], [other])), [
      'scenario differs: conv-replay (a1) vs steady-chat (b1); compare runs of one scenario',
    ]);
  });

  it('names a different duration', () => {
    const other = run('b1');
    other.durationS = 60;
    assert.deepEqual(fairnessWarnings(groups([run('a1')], [other])), [
      'duration differs: 5 s (a1) vs 60 s (b1); give every run the same --duration',
    ]);
  });

  it('names different seeds per side', () => {
    const [a1, a2, b1, b2] = [run('a1'), run('a2'), run('b1'), run('b2')];
    a2.seed = 2;
    b2.seed = 3;
    assert.deepEqual(fairnessWarnings(groups([a1, a2], [b1, b2])), [
      'seeds differ: 1, 2 (base) vs 1, 3 (candidate); give every side the same --seed values',
    ]);
  });

  it('names a one-run side by its path', () => {
    const other = run('runs/b1.json');
    other.seed = 7;
    assert.deepEqual(fairnessWarnings(groups([run('runs/a1.json')], [other])), [
      'seeds differ: 1 (runs/a1.json) vs 7 (runs/b1.json); give every side the same --seed values',
    ]);
  });

  it('lists files of one seed together', () => {
    const [a, b, c] = [run('a.json'), run('b.json'), run('c.json')];
    c.seed = 2;
    const columns = [a, b, c].map((file) => ({ label: file.file, runs: [file] }));
    assert.deepEqual(fairnessWarnings(columns), [
      'seeds differ: 1 (a.json, b.json) vs 2 (c.json); give every side the same --seed values',
    ]);
  });

  it('names one run in two files', () => {
    const [a1, a2, b1] = [run('a1'), run('a2'), run('b1')];
    a2.identity = a1.identity;
    assert.deepEqual(fairnessWarnings(groups([a1, a2], [b1])), [
      `a1, a2 contain the same run (${a1.identity}); pass each run once, as a copy narrows the ` +
        'range and can fake a noise band',
    ]);
  });

  it('names one run on both sides', () => {
    const [a1, b1] = [run('a1'), run('b1')];
    b1.identity = a1.identity;
    assert.deepEqual(fairnessWarnings(groups([a1], [b1])), [
      `a1, b1 contain the same run (${a1.identity}); pass each run once, as a copy narrows the ` +
        'range and can fake a noise band',
    ]);
  });

  it('names a side of two topologies', () => {
    const [a1, a2, b1, b2] = [run('a1'), run('a2'), run('b1'), run('b2')];
    a2.topology = 'workers=8 serverless_burst=disabled';
    assert.deepEqual(fairnessWarnings(groups([a1, a2], [b1, b2])), [
      'base mixes topologies: workers=2 serverless_burst=disabled (a1) vs ' +
        'workers=8 serverless_burst=disabled (a2); its median describes no one topology, so ' +
        'give each side runs of one topology',
    ]);
  });

  it('names a side of two policies', () => {
    const [a1, b1, b2] = [run('a1'), run('b1'), run('b2')];
    b2.policyHash = 'f'.repeat(64);
    assert.deepEqual(fairnessWarnings(groups([a1], [b1, b2])), [
      'policy hash differs: eeeeeeeeeeee (a1, b1) vs ffffffffffff (b2); ' +
        'give every run the same --policy unless the policy is what you compare',
      'candidate mixes policy hashes: eeeeeeeeeeee (b1) vs ffffffffffff (b2); its median ' +
        'describes no one policy, so give each side runs of one --policy',
    ]);
  });

  it('names a side with a --target run', () => {
    const [a1, b1, b2] = [run('a1'), run('b1'), run('b2')];
    b2.policyHash = null;
    const mixed = fairnessWarnings(groups([a1], [b1, b2])).filter((line) =>
      line.startsWith('candidate mixes policy hashes:'),
    );
    assert.deepEqual(mixed, [
      'candidate mixes policy hashes: eeeeeeeeeeee (b1) vs not recorded (--target) (b2); its ' +
        'median describes no one policy, so give each side runs of one --policy',
    ]);
  });

  it('accepts the same seeds in another order', () => {
    const [a1, a2, b1, b2] = [run('a1'), run('a2'), run('b1'), run('b2')];
    a2.seed = 2;
    b1.seed = 2;
    assert.deepEqual(fairnessWarnings(groups([a1, a2], [b1, b2])), []);
  });

  it('accepts one seed on sides of unequal size', () => {
    assert.deepEqual(fairnessWarnings(groups([run('a1'), run('a2')], [run('b1')])), []);
  });

  it('names a different policy hash', () => {
    const other = run('b1');
    other.policyHash = 'f'.repeat(64);
    assert.deepEqual(fairnessWarnings(groups([run('a1')], [other])), [
      'policy hash differs: eeeeeeeeeeee (a1) vs ffffffffffff (b1); ' +
        'give every run the same --policy unless the policy is what you compare',
    ]);
  });

  it('names a run without a policy', () => {
    const other = run('b1');
    other.policyHash = null;
    assert.deepEqual(fairnessWarnings(groups([run('a1')], [other])), [
      'policy hash differs: eeeeeeeeeeee (a1) vs not recorded (--target) (b1); a load sent ' +
        'to --target records no policy, so compare cannot check it and warns even when the ' +
        'policies match; start its gateway with the --policy of the other runs unless the ' +
        'policy is what you compare',
    ]);
  });

  it('names different backpressure limits', () => {
    const output = sampleLoadOutput();
    assert.ok(output.settings.platform !== null);
    output.settings.platform.backpressure = {
      maxQueueDepth: 500,
      maxOldestAgeMs: 60_000,
      watermarks: { batch: 0.5, standard: 0.8 },
    };
    const other = runFromLoadOutput('b1', output);
    assert.deepEqual(fairnessWarnings(groups([run('a1')], [other])), [
      'backpressure differs: max_queue_depth=10000 max_queue_age_ms=60000 ' +
        'shed_watermarks=0.5,0.8 (a1) vs max_queue_depth=500 max_queue_age_ms=60000 ' +
        'shed_watermarks=0.5,0.8 (b1); give every run the same --max-queue-depth, ' +
        '--max-queue-age-ms and --shed-watermarks unless backpressure is what you compare',
    ]);
  });

  it('reads unrecorded backpressure as the defaults', () => {
    const output = sampleLoadOutput();
    assert.ok(output.settings.platform !== null);
    output.settings.platform.backpressure = {
      maxQueueDepth: 10_000,
      maxOldestAgeMs: 60_000,
      watermarks: { batch: 0.5, standard: 0.8 },
    };
    const recorded = runFromLoadOutput('b1', output);
    assert.deepEqual(fairnessWarnings(groups([run('a1')], [recorded])), []);
  });

  it('names a side of two backpressure limits', () => {
    const [a1, a2, b1, b2] = [run('a1'), run('a2'), run('b1'), run('b2')];
    b2.backpressure = 'max_queue_depth=500 max_queue_age_ms=60000 shed_watermarks=0.5,0.8';
    const warnings = fairnessWarnings(groups([a1, a2], [b1, b2]));
    assert.equal(warnings.length, 2);
    assert.match(
      warnings[1] ?? '',
      /^candidate mixes backpressure limits: .* \(b1\) vs .* \(b2\); /,
    );
  });

  it('names memory and Redis drivers', () => {
    const [a1, b1] = [run('a1'), run('b1')];
    a1.drivers = 'memory';
    b1.drivers = 'redis';
    assert.deepEqual(fairnessWarnings(groups([a1], [b1])), [
      'driver differs: memory (a1) vs redis (b1); on Redis every admission, enqueue and ' +
        'store call crosses the network, async tasks run in worker processes, and an odd ' +
        'count of workers above 1 is billed for one worker slot more, so latency and cost ' +
        'per task do not compare like for like; set REDIS_URL for every side or for none ' +
        'unless the drivers are what you compare',
    ]);
  });

  it('skips drivers a file lacks', () => {
    const [a1, b1] = [run('a1'), run('b1')];
    b1.drivers = 'redis';
    assert.deepEqual(fairnessWarnings(groups([a1], [b1])), []);
  });

  it('names different price tables', () => {
    const [a1, a2, b1] = [run('a1'), run('a2'), run('b1')];
    a1.prices = { path: 'fixtures/prices.yaml', sha256: 'a'.repeat(64), effectiveDate: null };
    a2.prices = { path: 'fixtures/prices.yaml', sha256: 'a'.repeat(64), effectiveDate: null };
    b1.prices = { path: 'fixtures/prices.yaml', sha256: 'c'.repeat(64), effectiveDate: null };
    assert.deepEqual(fairnessWarnings(groups([a1, a2], [b1])), [
      'price table differs: fixtures/prices.yaml (sha256 aaaaaaaaaaaa) (a1, a2) vs ' +
        'fixtures/prices.yaml (sha256 cccccccccccc) (b1); cost per task and the worker pool ' +
        'bill come from its prices, so they do not compare like for like; run every side on ' +
        'one price table',
    ]);
  });

  it('shows the effective dates of two price tables', () => {
    const [a1, b1] = [run('a1'), run('b1')];
    const path = 'fixtures/prices.yaml';
    a1.prices = { path, sha256: 'a'.repeat(64), effectiveDate: '2026-01-01' };
    b1.prices = { path, sha256: 'c'.repeat(64), effectiveDate: '2026-03-01' };
    assert.deepEqual(fairnessWarnings(groups([a1], [b1])), [
      'price table differs: fixtures/prices.yaml (sha256 aaaaaaaaaaaa, effective 2026-01-01) ' +
        '(a1) vs fixtures/prices.yaml (sha256 cccccccccccc, effective 2026-03-01) (b1); cost ' +
        'per task and the worker pool bill come from its prices, so they do not compare like ' +
        'for like; run every side on one price table',
    ]);
  });

  it('leaves out dates when one side lacks its date', () => {
    const [a1, b1] = [run('a1'), run('b1')];
    a1.prices = { path: 'fixtures/prices.yaml', sha256: 'a'.repeat(64), effectiveDate: null };
    b1.prices = { path: 'prices.yaml', sha256: 'c'.repeat(64), effectiveDate: '2026-03-01' };
    assert.deepEqual(fairnessWarnings(groups([a1], [b1])), [
      'price table differs: fixtures/prices.yaml (sha256 aaaaaaaaaaaa) (a1) vs prices.yaml ' +
        '(sha256 cccccccccccc) (b1); cost per task and the worker pool bill come from its ' +
        'prices, so they do not compare like for like; run every side on one price table',
    ]);
  });

  it('accepts one dated price table at two paths', () => {
    const [a1, b1] = [run('a1'), run('b1')];
    a1.prices = { path: 'fixtures/prices.yaml', sha256: 'a'.repeat(64), effectiveDate: null };
    b1.prices = { path: 'copy.yaml', sha256: 'a'.repeat(64), effectiveDate: '2026-01-01' };
    assert.deepEqual(fairnessWarnings(groups([a1], [b1])), []);
  });

  it('names different tenants files', () => {
    const [a1, b1] = [run('a1'), run('b1')];
    a1.tenants = { path: 'fixtures/tenants.yaml', sha256: 'a'.repeat(64), effectiveDate: null };
    b1.tenants = { path: 'trial-tenants.yaml', sha256: 'b'.repeat(64), effectiveDate: null };
    assert.deepEqual(fairnessWarnings(groups([a1], [b1])), [
      'tenants file differs: fixtures/tenants.yaml (sha256 aaaaaaaaaaaa) (a1) vs ' +
        "trial-tenants.yaml (sha256 bbbbbbbbbbbb) (b1); each tenant's rate limits, in-flight " +
        'and running caps and budget come from it, so rejections, success rate and throughput ' +
        'do not compare like for like; give every side the same --tenants',
    ]);
  });

  it('accepts one tenants file at two paths', () => {
    const [a1, b1] = [run('a1'), run('b1')];
    a1.tenants = { path: 'fixtures/tenants.yaml', sha256: 'a'.repeat(64), effectiveDate: null };
    b1.tenants = {
      path: '../scalegate/fixtures/tenants.yaml',
      sha256: 'a'.repeat(64),
      effectiveDate: null,
    };
    assert.deepEqual(fairnessWarnings(groups([a1], [b1])), []);
  });

  it('names a file older than the record', () => {
    const [a1, b1] = [run('a1'), run('b1')];
    b1.prices = { path: 'fixtures/prices.yaml', sha256: 'c'.repeat(64), effectiveDate: null };
    assert.deepEqual(fairnessWarnings(groups([a1], [b1])), [
      'a1 predates the record of the price table and tenants file, so compare could not ' +
        'check them',
    ]);
  });

  it('names older files in one line', () => {
    const [a1, a2, b1] = [run('a1'), run('a2'), run('b1')];
    b1.tenants = { path: 'fixtures/tenants.yaml', sha256: 'c'.repeat(64), effectiveDate: null };
    assert.deepEqual(fairnessWarnings(groups([a1, a2], [b1])), [
      'a1, a2 predate the record of the price table and tenants file, so compare could not ' +
        'check them',
    ]);
  });

  it('names older files after the seeds', () => {
    const [a1, b1] = [run('a1'), run('b1')];
    b1.seed = 2;
    b1.prices = { path: 'fixtures/prices.yaml', sha256: 'c'.repeat(64), effectiveDate: null };
    assert.deepEqual(fairnessWarnings(groups([a1], [b1])), [
      'seeds differ: 1 (a1) vs 2 (b1); give every side the same --seed values',
      'a1 predates the record of the price table and tenants file, so compare could not ' +
        'check them',
    ]);
  });

  it('leaves out a --target run without files', () => {
    const [a1, b1] = [run('a1'), run('b1')];
    a1.topology = null;
    b1.prices = { path: 'fixtures/prices.yaml', sha256: 'c'.repeat(64), effectiveDate: null };
    assert.deepEqual(fairnessWarnings(groups([a1], [b1])), []);
  });

  it('says nothing when no file records them', () => {
    const [a1, b1] = [run('a1'), run('b1')];
    b1.kind = 'drill';
    assert.deepEqual(fairnessWarnings(groups([a1], [b1])), [
      'kind of run differs: load output (a1) vs drill report (b1); ' +
        "a drill's figures include the faults it injected, so compare drills with drills",
    ]);
  });

  it('names a run without the fault proxy', () => {
    const [a1, b1] = [run('a1'), run('b1')];
    b1.faultProxy = false;
    assert.deepEqual(fairnessWarnings(groups([a1], [b1])), [
      'fault proxy differs: on (a1) vs off (b1); relaying every provider byte through the ' +
        'proxy costs CPU and latency, so give every run --no-fault-proxy or none',
    ]);
  });

  it('names drill reports among load runs', () => {
    const other = run('report.json');
    other.kind = 'drill';
    assert.deepEqual(fairnessWarnings(groups([run('a1')], [other])), [
      'kind of run differs: load output (a1) vs drill report (report.json); ' +
        "a drill's figures include the faults it injected, so compare drills with drills",
    ]);
  });

  it('counts files past the third', () => {
    const base = ['a1', 'a2', 'a3', 'a4', 'a5'].map(run);
    const other = run('b1');
    other.durationS = 60;
    assert.deepEqual(fairnessWarnings(groups(base, [other])), [
      'duration differs: 5 s (a1, a2, a3 and 2 more) vs 60 s (b1); give every run the same --duration',
    ]);
  });

  it('lists the caveats of each run', () => {
    const other = run('b1');
    other.caveats = ['the run was stopped by SIGINT'];
    assert.deepEqual(fairnessWarnings(groups([run('a1')], [other])), [
      'b1: the run was stopped by SIGINT',
    ]);
  });
});
