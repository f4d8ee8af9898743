import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Report } from '../../../src/harness/report/types.js';
import { createBackpressure } from '../../../src/platform/admission/index.js';
import { runbookEvidence } from '../../../src/harness/runbook/evidence-reports.js';
import { incidentsOf } from '../../../src/harness/runbook/incidents.js';
import { renderRunbook } from '../../../src/harness/runbook/render.js';
import { sampleReport, sampleReportV2 } from '../report/sample-report.js';
import { sampleWorkerLossReport } from '../report/sample-worker-loss.js';

function backlogSection(markdown: string): string {
  const start = markdown.indexOf('## Queue backlog: async worker capacity lost');
  assert.notEqual(start, -1, markdown);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

/** Returns the detection table row whose metric cell starts with `metric`. */
function signalRow(section: string, metric: string): string {
  const row = section.split('\n').find((line) => line.startsWith(`| ${metric}`));
  assert.ok(row, section);
  return row;
}

describe('queue-backlog incident', () => {
  it('comes from a worker pause', () => {
    const incidents = incidentsOf(sampleWorkerLossReport());
    assert.deepEqual(
      incidents.map((entry) => entry.incident.key),
      ['queue-backlog:async-workers'],
    );
  });

  it('gives the oldest age limits per class', () => {
    const row = signalRow(
      backlogSection(renderRunbook([sampleWorkerLossReport()])),
      '`max(scalegate_queue_oldest_age_seconds)`',
    );
    assert.match(
      row,
      /\| from 20 s batch requests get 429, from 32 s standard ones too, and from 40 s every class gets 503 \|/,
    );
  });

  it('cites the peak oldest age and when it was read', () => {
    const row = signalRow(
      backlogSection(renderRunbook([sampleWorkerLossReport()])),
      '`max(scalegate_queue_oldest_age_seconds)`',
    );
    assert.match(
      row,
      /peak 35\.50 s, read at 56\.00 s, 35\.98 s after the pause started; at most 0\.30 s before the pause \|$/,
    );
  });

  it('cites the peak depth', () => {
    const row = signalRow(
      backlogSection(renderRunbook([sampleWorkerLossReport()])),
      '`sum(scalegate_queue_depth)`',
    );
    assert.match(row, /\| from 500 tasks batch requests get 429/);
    assert.match(
      row,
      /peak 120 tasks, read at 50\.00 s, 29\.98 s after the pause started; at most 1 task before the pause \|$/,
    );
  });

  it('matches every backpressure limit name', () => {
    const rule = createBackpressure({ maxQueueDepth: 10, maxOldestAgeMs: 1_000 });
    const names = [
      rule.decide('critical', { depth: 10, oldestAgeMs: 0 }),
      rule.decide('critical', { depth: 0, oldestAgeMs: 1_000 }),
    ].map((decision) => (decision.admitted ? 'admitted' : decision.limit.name));
    assert.deepEqual(names, ['queue_depth', 'queue_oldest_age_ms']);
    // PromQL anchors a label regex at both ends.
    for (const name of names) assert.match(name, /^(?:queue_.+)$/);
  });

  it('gives the shedding rate and counts by class', () => {
    const row = signalRow(
      backlogSection(renderRunbook([sampleWorkerLossReport()])),
      'Requests backpressure sheds',
    );
    assert.ok(
      row.includes('`sum(rate(scalegate_gateway_rejections_total{limit=~"queue_.+"}[1m]))`'),
      row,
    );
    assert.match(
      row,
      /\| 34 shed from the pause to the drill's end, by class: batch 34, standard 0, critical 0 \(tenant-batch \(batch\) 34 x 429\) \|$/,
    );
  });

  it('says which classes backpressure kept', () => {
    const section = backlogSection(renderRunbook([sampleWorkerLossReport()]));
    assert.ok(
      section.includes(
        "- Backpressure shed by class, lowest first: batch 34, standard 0, critical 0 (tenant-batch (batch) 34 x 429); standard and critical not shed. A shed request gets a `Retry-After` of the oldest task's age in whole seconds, from 1 to 60.",
      ),
      section,
    );
  });

  it('says that the pause redelivered no task', () => {
    const section = backlogSection(renderRunbook([sampleWorkerLossReport()]));
    assert.match(section, /- No task was redelivered: a paused worker finishes the tasks it runs/);
  });

  it('times the recovery from the resume', () => {
    const section = backlogSection(renderRunbook([sampleWorkerLossReport()]));
    assert.ok(
      section.includes(
        "- The oldest task's age and the queue depth were both under their batch limits, 20 s and 500 tasks, at 57.00 s, 6.99 s after the workers resumed, so backpressure admitted every class again.",
      ),
      section,
    );
    assert.ok(
      section.includes(
        '- The queue depth was back at its level before the pause (1 task) at 57.00 s, 6.99 s after the workers resumed.',
      ),
      section,
    );
  });

  it('admits every class only under both limits', () => {
    const report = sampleWorkerLossReport();
    for (const point of report.topologies[0]?.timeSeries ?? []) {
      // The age is back under its batch limit of 20 s from 56 s, the depth only from 60 s.
      if (point.t >= 56 && point.t < 60) point.queueDepth = 600;
    }
    const section = backlogSection(renderRunbook([report]));
    assert.ok(
      section.includes(
        "- The oldest task's age and the queue depth were both under their batch limits, 20 s and 500 tasks, at 61.00 s, 10.99 s after the workers resumed, so backpressure admitted every class again.",
      ),
      section,
    );
  });

  it('reads the probes after settling', () => {
    const section = backlogSection(renderRunbook([sampleWorkerLossReport()]));
    assert.ok(
      section.includes("- Oldest task's age after settling: 0.30 s (within max 5)."),
      section,
    );
    assert.ok(
      section.includes('- Success rate after settling: 100.0% (within min 0.99).'),
      section,
    );
  });

  it('says when the queue never drained', () => {
    const report = sampleWorkerLossReport();
    for (const point of report.topologies[0]?.timeSeries ?? []) {
      if (point.t >= 50) {
        point.queueOldestAgeS = 45;
        point.queueDepth = 90;
      }
    }
    const section = backlogSection(renderRunbook([report]));
    assert.ok(
      section.includes(
        "- The oldest task's age or the queue depth stayed at or above its batch limit, 20 s or 500 tasks, until the drill's end, so batch requests were still shed.",
      ),
      section,
    );
    assert.ok(
      section.includes(
        "- The queue depth was not back at its level before the pause (1 task) by the drill's end.",
      ),
      section,
    );
  });

  it('keeps the serverless setting in the restart step', () => {
    const report = sampleWorkerLossReport();
    const result = report.topologies[0];
    assert.ok(result);
    result.topology = 'workers=4 serverless_burst=disabled';
    const step = backlogSection(renderRunbook([report]))
      .split('\n')
      .find((line) => line.startsWith('4. '));
    assert.ok(step);
    assert.ok(step.includes('`--topology "workers=N serverless_burst=disabled"`'), step);
    assert.ok(!step.includes('serverless_burst=enabled'), step);
    assert.match(step, /`topology` of its `platform started` line/);
  });

  it('reads running-cap deferrals in the first step', () => {
    const step = backlogSection(renderRunbook([sampleWorkerLossReport()]))
      .split('\n')
      .find((line) => line.startsWith('1. '));
    assert.ok(step);
    assert.match(
      step,
      /grep -E '\^\(scalegate_queue_depth\|scalegate_queue_oldest_age_seconds\|scalegate_queue_wait_seconds_count\|scalegate_running_cap_deferrals_total\)'/,
    );
    assert.match(step, /A deferral line that rises means workers take that tenant's tasks/);
  });

  it('warns of long tasks in the first step', () => {
    const step = backlogSection(renderRunbook([sampleWorkerLossReport()]))
      .split('\n')
      .find((line) => line.startsWith('1. '));
    assert.ok(step);
    assert.match(step, /lines that did not change, or that the command does not print because/);
    assert.match(step, /stays still while each worker runs a task longer than 10 s/);
  });

  it('says what no exit line means', () => {
    const step = backlogSection(renderRunbook([sampleWorkerLossReport()]))
      .split('\n')
      .find((line) => line.startsWith('2. '));
    assert.ok(step);
    assert.match(step, /grep -E '\^scalegate_worker_process_exits_total'/);
    assert.match(step, /No line means none exited since the platform started/);
  });

  it('reads shed lines by tenant', () => {
    const step = backlogSection(renderRunbook([sampleWorkerLossReport()]))
      .split('\n')
      .find((line) => line.startsWith('3. '));
    assert.ok(step);
    assert.match(step, /Each line names a tenant and the status its requests got\./);
    assert.match(step, /A 429 line is a tenant whose requests' class, its tier or the request's/);
    assert.doesNotMatch(step, /429 lines are the classes/);
  });

  it('keeps the key prefix in the restart step', () => {
    const step = backlogSection(renderRunbook([sampleWorkerLossReport()]))
      .split('\n')
      .find((line) => line.startsWith('4. '));
    assert.ok(step);
    assert.match(step, /with the same REDIS_URL and `--key-prefix` so it finds the queued tasks/);
  });

  it('lists every class shed', () => {
    const report = sampleWorkerLossReport();
    const pause = report.drill?.faults[0]?.workerPause;
    assert.ok(pause);
    pause.shed.push(
      { tenant: 'tenant-beta', priorityClass: 'standard', status: 429, requests: 3 },
      { tenant: 'tenant-alpha', priorityClass: 'critical', status: 503, requests: 2 },
    );
    const section = backlogSection(renderRunbook([report]));
    assert.match(section, /batch 34, standard 3, critical 2 .*; every class was shed\./);
  });

  it('leaves out a pause without its record', () => {
    const report = sampleWorkerLossReport();
    const fault = report.drill?.faults[0];
    assert.ok(fault);
    delete fault.workerPause;
    assert.deepEqual(incidentsOf(report), []);
  });
});

describe('runbookEvidence', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-evidence-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function put(report: Report, name = report.runId): Promise<void> {
    await mkdir(join(dir, name), { recursive: true });
    await writeFile(join(dir, name, 'report.json'), JSON.stringify(report));
  }

  it('keeps the newest report of each other drill', async () => {
    const older = {
      ...sampleReportV2(),
      runId: 'old-outage',
      createdAt: '2026-12-01T00:00:00.000Z',
    };
    const newer = { ...sampleReport(), runId: 'new-outage', createdAt: '2026-12-03T00:00:00.000Z' };
    await put(older);
    await put(newer);
    const current = sampleWorkerLossReport();
    const evidence = await runbookEvidence(current, dir);
    assert.deepEqual(
      evidence.reports.map((report) => report.runId),
      [current.runId, 'new-outage'],
    );
    assert.deepEqual(evidence.skipped, []);
  });

  it('leaves out older runs of the same drill', async () => {
    await put({ ...sampleWorkerLossReport(), runId: 'old-loss' });
    const current = { ...sampleWorkerLossReport(), runId: 'new-loss' };
    const evidence = await runbookEvidence(current, dir);
    assert.deepEqual(
      evidence.reports.map((report) => report.runId),
      ['new-loss'],
    );
  });

  it('leaves out an aborted run', async () => {
    await put({ ...sampleReport(), verdict: { status: 'aborted', reasons: ['interrupted'] } });
    const evidence = await runbookEvidence(sampleWorkerLossReport(), dir);
    assert.equal(evidence.reports.length, 1);
  });

  it('skips a report that breaks the schema, naming it', async () => {
    await put({ ...sampleReport(), schemaVersion: 10 } as unknown as Report, 'broken');
    const evidence = await runbookEvidence(sampleWorkerLossReport(), dir);
    assert.equal(evidence.reports.length, 1);
    assert.equal(evidence.skipped.length, 1);
    assert.match(
      evidence.skipped[0] ?? '',
      /broken\/report\.json: invalid report at \/schemaVersion/,
    );
  });

  it('renders both drills into one runbook', async () => {
    await put(sampleReport());
    const evidence = await runbookEvidence(sampleWorkerLossReport(), dir);
    const markdown = renderRunbook(evidence.reports);
    assert.match(markdown, /## Provider outage: provider-a/);
    assert.match(markdown, /## Queue backlog: async worker capacity lost/);
  });
});
