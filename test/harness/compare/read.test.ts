import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  type CompareInputProblem,
  isCompareInputError,
} from '../../../src/harness/compare/errors.js';
import { readRun } from '../../../src/harness/compare/read.js';
import { sampleReport } from '../report/sample-report.js';
import { sampleLoadOutput, writeJson } from '../load/sample-output.js';

/** Asserts that reading `file` fails with `problem` and exactly `message`. */
async function assertRejected(file: string, problem: CompareInputProblem, message: string) {
  await assert.rejects(readRun(file), (error: unknown) => {
    assert.ok(isCompareInputError(error), String(error));
    assert.equal(error.problem, problem);
    assert.equal(error.file, file);
    assert.equal(error.message, message);
    return true;
  });
}

const PASS_A_RUN =
  'pass a file written by scalegate load --out or a drill reports/<run-id>/report.json';

describe('readRun', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-compare-read-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the figures of a load output', async () => {
    const file = await writeJson(dir, 'load.json', sampleLoadOutput());
    const run = await readRun(file);
    assert.equal(run.kind, 'load');
    assert.equal(run.topology, 'workers=2 serverless_burst=disabled');
    assert.equal(run.policyHash, 'e'.repeat(64));
    assert.equal(run.seed, 1);
    assert.deepEqual(run.figures, {
      throughputRpm: 1000,
      successRate: 0.5,
      p50LatencyS: 2,
      p95LatencyS: 4,
      p99LatencyS: 8,
      meanUsdPerTask: 0.004,
      p95UsdPerTask: 0.01,
      workerPoolUsd: 0.0002,
    });
    assert.deepEqual(run.caveats, []);
  });

  it('leaves cost null for a --target run', async () => {
    const output = sampleLoadOutput();
    output.settings.platform = null;
    delete output.platform;
    const run = await readRun(await writeJson(dir, 'target.json', output));
    assert.equal(run.topology, null);
    assert.equal(run.policyHash, null);
    assert.equal(run.figures.meanUsdPerTask, null);
    assert.equal(run.figures.workerPoolUsd, null);
  });

  it('reads the figures of a drill report', async () => {
    const report = sampleReport();
    const run = await readRun(await writeJson(dir, 'report.json', report));
    assert.equal(run.kind, 'drill');
    assert.equal(run.scenario, 'provider-outage');
    assert.equal(run.seed, 42);
    assert.equal(run.timeScale, 10);
    assert.deepEqual(run.figures, {
      throughputRpm: 1800,
      successRate: 0.964,
      p50LatencyS: 1.1,
      p95LatencyS: 3.4,
      p99LatencyS: 5.2,
      meanUsdPerTask: 0.019,
      p95UsdPerTask: 0.041,
      workerPoolUsd: null,
    });
  });

  it('notes an interrupted load', async () => {
    const output = sampleLoadOutput();
    output.interrupted = { signal: 'SIGINT' };
    output.result.health = { valid: false, reasons: ['scheduler lag p99 80 ms'] };
    const run = await readRun(await writeJson(dir, 'stopped.json', output));
    assert.deepEqual(run.caveats, [
      'the run was stopped by SIGINT',
      'the load generator fell behind (scheduler lag p99 80 ms)',
    ]);
  });

  it('rejects a missing file', async () => {
    const file = join(dir, 'nope.json');
    await assertRejected(file, 'not_found', `${file}: file not found; ${PASS_A_RUN}`);
  });

  it('rejects a folder', async () => {
    const file = join(dir, 'run');
    await mkdir(file);
    await assertRejected(
      file,
      'unreadable',
      `${file}: is a folder; pass a file in it, such as <folder>/report.json`,
    );
  });

  it('rejects a file that is not JSON', async () => {
    const file = join(dir, 'summary.md');
    await writeFile(file, '# drill summary\n');
    await assert.rejects(readRun(file), (error: unknown) => {
      assert.ok(isCompareInputError(error));
      assert.equal(error.problem, 'not_json');
      assert.ok(error.message.startsWith(`${file}: not JSON (`), error.message);
      assert.ok(error.message.endsWith(`); ${PASS_A_RUN}`), error.message);
      return true;
    });
  });

  it('rejects JSON of another kind', async () => {
    const file = await writeJson(dir, 'package.json', { name: 'scalegate', version: '0.1.0' });
    await assertRejected(
      file,
      'unknown_format',
      `${file}: neither a load output (fields result and verdict) nor a drill report ` +
        `(fields runId and topologies); ${PASS_A_RUN}`,
    );
  });

  it('rejects a JSON array', async () => {
    const file = await writeJson(dir, 'list.json', [sampleLoadOutput()]);
    await assert.rejects(readRun(file), (error: unknown) => {
      assert.ok(isCompareInputError(error));
      assert.equal(error.problem, 'unknown_format');
      return true;
    });
  });

  it('rejects a load output without schemaVersion', async () => {
    const { result, verdict, platform } = sampleLoadOutput();
    const file = await writeJson(dir, 'old.json', { result, verdict, platform });
    await assertRejected(
      file,
      'no_schema_version',
      `${file}: load output without schemaVersion, written by a scalegate load before schema ` +
        'version 1; run the load again with this scalegate to record its environment and settings',
    );
  });

  it('rejects an unknown load schemaVersion', async () => {
    const file = await writeJson(dir, 'next.json', { ...sampleLoadOutput(), schemaVersion: 2 });
    await assertRejected(
      file,
      'unsupported_schema_version',
      `${file}: load output schemaVersion 2 is not supported by this scalegate, which reads version 1; ` +
        'compare it with the scalegate version that wrote it, or run the load again with this one',
    );
  });

  it('rejects an unknown report schemaVersion', async () => {
    const file = await writeJson(dir, 'report.json', { ...sampleReport(), schemaVersion: '2' });
    await assertRejected(
      file,
      'unsupported_schema_version',
      `${file}: drill report schemaVersion "2" is not supported by this scalegate, which reads version 1; ` +
        'compare it with the scalegate version that wrote it, or run the drill again with this one',
    );
  });

  it('rejects a load output that breaks the schema', async () => {
    const output = sampleLoadOutput() as unknown as { settings: Record<string, unknown> };
    delete output.settings.seed;
    const file = await writeJson(dir, 'edited.json', output);
    await assertRejected(
      file,
      'invalid',
      `${file}: invalid load output at /settings: required rule failed ` +
        "(must have required property 'seed'); " +
        'run the load again, as an edited or cut-off file cannot be compared',
    );
  });

  it('rejects a report that breaks the schema', async () => {
    const report = sampleReport();
    const [topology] = report.topologies;
    assert.ok(topology !== undefined);
    topology.successRate = 96.4;
    const file = await writeJson(dir, 'report.json', report);
    await assert.rejects(readRun(file), (error: unknown) => {
      assert.ok(isCompareInputError(error));
      assert.equal(error.problem, 'invalid');
      assert.match(
        error.message,
        /: invalid report at \/topologies\/0\/successRate: maximum rule failed .*; run the drill again, as an edited or cut-off report cannot be compared$/,
      );
      return true;
    });
  });

  it('rejects a report of two topologies', async () => {
    const report = sampleReport();
    const [topology] = report.topologies;
    assert.ok(topology !== undefined);
    report.topologies.push({ ...topology, topology: 'serverless' });
    const file = await writeJson(dir, 'two.json', report);
    await assertRejected(
      file,
      'several_topologies',
      `${file}: the report holds 2 topologies, and compare reads one per file; ` +
        'pass a report of one topology, such as scalegate drill writes',
    );
  });
});
