import assert from 'node:assert/strict';

import { renderCharts } from '../../../src/harness/report/charts.js';
import { sampleReport } from './sample-report.js';

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
    // Three faults shaded in each of the three panels.
    const shaded = timeline.svg.match(/fill="#d62728"/g) ?? [];
    assert.equal(shaded.length, 9);
  });

  it('labels each tenant on the latency chart', async () => {
    const [, latency] = await renderCharts(sampleReport());
    assert.ok(latency);
    assert.match(latency.svg, />tenant-alpha</);
    assert.match(latency.svg, />tenant-noisy</);
  });
});
