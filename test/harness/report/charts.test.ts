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
    const times = result.timeSeries.map((point) => point.t);
    const spec = timelineSpec(report);
    assert.deepEqual(panelSeconds(spec, 'success rate'), times);
    assert.deepEqual(panelSeconds(spec, 'p95 latency (s)'), [times[0], times[2]]);
  });

  it('labels each tenant on the latency chart', async () => {
    const [, latency] = await renderCharts(sampleReport());
    assert.ok(latency);
    assert.match(latency.svg, />tenant-alpha</);
    assert.match(latency.svg, />tenant-noisy</);
  });
});
