import assert from 'node:assert/strict';

import { renderCharts, timelineSpec } from '../../../src/harness/report/charts.js';
import { sampleReport, sampleReportV2 } from './sample-report.js';

/** Returns the y-axis titles of the timeline's panels. */
function panelTitles(spec: object): string[] {
  const panels = (spec as { vconcat: { layer: { encoding: { y?: { title: string } } }[] }[] })
    .vconcat;
  return panels.map((panel) => panel.layer.at(-1)?.encoding.y?.title ?? '');
}

/** Returns the seconds that the timeline panel titled `title` plots. */
function panelSeconds(spec: object, title: string): number[] {
  type Layer = { data: { values: { t?: number }[] }; encoding: { y?: { title: string } } };
  const panels = (spec as { vconcat: { layer: Layer[] }[] }).vconcat;
  const layer = panels.find((panel) => panel.layer.at(-1)?.encoding.y?.title === title)?.layer;
  assert.ok(layer, title);
  return layer.at(-1)?.data.values.map((row) => row.t ?? -1) ?? [];
}

/** Returns the line segment of each row that the timeline panel titled `title` plots. */
function panelSegments(spec: object, title: string): number[] {
  type Layer = { data: { values: { segment?: number }[] }; encoding: { y?: { title: string } } };
  const panels = (spec as { vconcat: { layer: Layer[] }[] }).vconcat;
  const layer = panels.find((panel) => panel.layer.at(-1)?.encoding.y?.title === title)?.layer;
  assert.ok(layer, title);
  return layer.at(-1)?.data.values.map((row) => row.segment ?? -1) ?? [];
}

describe('renderCharts', () => {
  it('renders three svg charts', async () => {
    const charts = await renderCharts(sampleReport());
    assert.deepEqual(
      charts.map((chart) => chart.fileName),
      ['timeline.svg', 'latency-per-tenant.svg', 'cost-per-task.svg'],
    );
    for (const chart of charts) {
      assert.match(chart.svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    }
  });

  it('shades each fault window', async () => {
    const [timeline] = await renderCharts(sampleReport());
    assert.ok(timeline);
    // Three faults shaded in each of the five panels.
    const shaded = timeline.svg.match(/fill="#d62728"/g) ?? [];
    assert.equal(shaded.length, 15);
  });

  it('plots the queue gauges of a version 3 series', () => {
    assert.deepEqual(panelTitles(timelineSpec(sampleReport())), [
      'throughput (rpm)',
      'success rate',
      'p95 latency (s)',
      'queue depth (tasks)',
      'queue oldest age (s)',
    ]);
  });

  it('leaves the queue panels out of a version 2 series', () => {
    assert.deepEqual(panelTitles(timelineSpec(sampleReportV2())), [
      'throughput (rpm)',
      'success rate',
      'p95 latency (s)',
    ]);
  });

  it('plots no p95 for a second without successes', () => {
    const report = sampleReport();
    const result = report.topologies[0];
    assert.ok(result);
    result.timeSeries = result.timeSeries
      .slice(0, 3)
      .map((point, index) =>
        index === 1 ? { ...point, requests: 10, successes: 0, successRate: 0, p95S: 0 } : point,
      );
    const spec = timelineSpec(report);
    assert.deepEqual(panelSeconds(spec, 'success rate'), [0, 1, 2, 3]);
    assert.deepEqual(panelSeconds(spec, 'p95 latency (s)'), [0, 1, 2, 3]);
    assert.deepEqual(panelSegments(spec, 'p95 latency (s)'), [0, 0, 1, 1]);
  });

  it('breaks the lines over seconds without requests', async () => {
    const report = sampleReport();
    const result = report.topologies[0];
    assert.ok(result);
    // Seconds 1 to 3 end no request, as while every async worker is paused.
    result.timeSeries = result.timeSeries
      .slice(0, 6)
      .map((point) =>
        point.t >= 1 && point.t <= 3
          ? { ...point, requests: 0, successes: 0, successRate: 0, p95S: 0, throughputRpm: 0 }
          : point,
      );
    const spec = timelineSpec(report);
    assert.deepEqual(panelSeconds(spec, 'success rate'), [0, 1, 4, 5, 6]);
    assert.deepEqual(panelSegments(spec, 'success rate'), [0, 0, 1, 1, 1]);
    assert.deepEqual(panelSeconds(spec, 'throughput (rpm)'), [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(panelSegments(spec, 'throughput (rpm)'), [0, 0, 0, 0, 0, 0, 0]);
    const [timeline] = await renderCharts(report);
    assert.ok(timeline);
    const successLines = timeline.svg.match(/aria-label="[^"]*success rate: [^"]*"/g) ?? [];
    const p95Lines = timeline.svg.match(/aria-label="[^"]*p95 latency \(s\): [^"]*"/g) ?? [];
    assert.equal(successLines.length, 2);
    assert.equal(p95Lines.length, 2);
  });

  it('draws the last second of the series', () => {
    const report = sampleReport();
    const result = report.topologies[0];
    assert.ok(result);
    const last = result.timeSeries.at(-1);
    assert.ok(last);
    const seconds = panelSeconds(timelineSpec(report), 'queue depth (tasks)');
    assert.equal(seconds.at(-1), last.t + 1);
  });

  it('labels each tenant on the latency chart', async () => {
    const [, latency] = await renderCharts(sampleReport());
    assert.ok(latency);
    assert.match(latency.svg, />tenant-alpha</);
    assert.match(latency.svg, />tenant-noisy</);
  });
});
