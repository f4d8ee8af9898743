import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { isReportValidationError } from '../../../src/harness/report/errors.js';
import type { Report } from '../../../src/harness/report/types.js';
import {
  isReportExistsError,
  readLatestReport,
  writeReport,
} from '../../../src/harness/report/writer.js';
import { sampleReport } from './sample-report.js';

describe('writeReport', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-report-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes json, markdown and svg files', async () => {
    const report = sampleReport();
    const written = await writeReport(report, dir);
    const names = (await readdir(written.runDir)).sort();
    assert.deepEqual(names, [
      'cost-per-task.svg',
      'latency-per-tenant.svg',
      'report.json',
      'summary.md',
      'timeline.svg',
    ]);
    const json = JSON.parse(await readFile(join(written.runDir, 'report.json'), 'utf8')) as Report;
    assert.deepEqual(json, report);
    const svg = await readFile(join(written.runDir, 'timeline.svg'), 'utf8');
    assert.match(svg, /^<svg/);
  });

  it('points latest.json at the new run', async () => {
    const report = sampleReport();
    await writeReport(report, dir);
    const latest = await readLatestReport(dir);
    assert.equal(latest.runId, report.runId);
  });

  it('rejects a schema-breaking report and writes nothing', async () => {
    const report = sampleReport();
    const first = report.topologies[0];
    assert.ok(first);
    first.successRate = 1.5;
    await assert.rejects(writeReport(report, dir), (error: unknown) => {
      assert.ok(isReportValidationError(error));
      assert.equal(error.instancePath, '/topologies/0/successRate');
      assert.equal(error.keyword, 'maximum');
      assert.match(error.message, /\/topologies\/0\/successRate/);
      return true;
    });
    assert.deepEqual(await readdir(dir), []);
  });

  it('names the value and expected form', async () => {
    const report = sampleReport();
    const first = report.topologies[0];
    assert.ok(first);
    first.successRate = 99.96;
    await assert.rejects(writeReport(report, dir), (error: unknown) => {
      assert.ok(isReportValidationError(error));
      assert.match(error.message, /must be <= 1, got 99\.96\)/);
      assert.match(error.message, /expected share of ended requests .* a fraction from 0 to 1/);
      return true;
    });
  });

  it('rejects percentiles out of order', async () => {
    const report = sampleReport();
    const first = report.topologies[0];
    assert.ok(first);
    first.latency = { p50S: 3.2, p95S: 2.4, p99S: 5 };
    await assert.rejects(writeReport(report, dir), (error: unknown) => {
      assert.ok(isReportValidationError(error));
      assert.equal(error.instancePath, '/topologies/0/latency');
      assert.equal(error.keyword, 'percentileOrder');
      assert.match(error.message, /expected p50S <= p95S <= p99S/);
      return true;
    });
    assert.deepEqual(await readdir(dir), []);
  });

  it('rejects a cost total off its slices', async () => {
    const report = sampleReport();
    const first = report.topologies[0];
    assert.ok(first);
    first.cost = { ...first.cost, totalUsd: first.cost.totalUsd + 99 };
    await assert.rejects(writeReport(report, dir), (error: unknown) => {
      assert.ok(isReportValidationError(error));
      assert.equal(error.instancePath, '/topologies/0/cost/totalUsd');
      assert.equal(error.keyword, 'costSum');
      return true;
    });
  });

  it('rejects a fractional unsettled count', async () => {
    const report = sampleReport();
    const first = report.topologies[0];
    assert.ok(first);
    first.cost = { ...first.cost, unsettledTasks: 1.5 };
    await assert.rejects(writeReport(report, dir), (error: unknown) => {
      assert.ok(isReportValidationError(error));
      assert.equal(error.instancePath, '/topologies/0/cost/unsettledTasks');
      assert.equal(error.keyword, 'type');
      return true;
    });
  });

  it('keeps an unsettled count in report.json', async () => {
    const report = sampleReport();
    const first = report.topologies[0];
    assert.ok(first);
    first.cost = { ...first.cost, unsettledTasks: 2 };
    const written = await writeReport(report, dir);
    const json = JSON.parse(await readFile(join(written.runDir, 'report.json'), 'utf8')) as Report;
    assert.equal(json.topologies[0]?.cost.unsettledTasks, 2);
  });

  it('names a missing field in the error', async () => {
    const report: Partial<Report> = sampleReport();
    delete report.verdict;
    await assert.rejects(writeReport(report as Report, dir), (error: unknown) => {
      assert.ok(isReportValidationError(error));
      assert.equal(error.instancePath, '');
      assert.equal(error.keyword, 'required');
      assert.match(error.message, /verdict/);
      return true;
    });
    assert.deepEqual(await readdir(dir), []);
  });

  it('refuses to overwrite an existing run', async () => {
    await writeReport(sampleReport(), dir);
    await assert.rejects(writeReport(sampleReport(), dir), isReportExistsError);
    assert.deepEqual((await readdir(dir)).sort(), [
      '20261204T150000Z-provider-outage',
      'latest.json',
    ]);
  });
});
