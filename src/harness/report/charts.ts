import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

import type { Report, SeriesPoint, TopologyResult } from './types.js';

/** One rendered chart: its file name inside the run folder and the SVG text. */
export interface RenderedChart {
  fileName: string;
  svg: string;
}

type Row = Record<string, string | number>;

const WIDTH = 640;
const PANEL_HEIGHT = 140;
const QUEUE_DEPTH = 'queue depth (tasks)';
const QUEUE_AGE = 'queue oldest age (s)';

type PanelValue = (point: SeriesPoint) => number | undefined;

// A second in which nothing finished has no success rate to plot, and one without a success
// has no latency, because the p95 covers succeeded requests only. Queue gauges exist from
// schema version 3 on, in the seconds the drill read them.
const PANEL_VALUES: readonly (readonly [string, PanelValue])[] = [
  ['throughput (rpm)', (point) => point.throughputRpm],
  ['success rate', (point) => (point.requests > 0 ? point.successRate : undefined)],
  ['p95 latency (s)', (point) => (point.successes > 0 ? point.p95S : undefined)],
  [QUEUE_DEPTH, (point) => point.queueDepth],
  [QUEUE_AGE, (point) => point.queueOldestAgeS],
];

/**
 * Builds one panel's rows of one topology. Point `t` covers the second from t to t + 1, so the
 * last point of each run of consecutive seconds with a value gets a closing row at t + 1. Each
 * run is its own `segment`, so the line breaks at a second without a value instead of carrying
 * the last value across it.
 */
function panelRows(
  topology: string,
  panel: string,
  points: readonly SeriesPoint[],
  value: PanelValue,
): Row[] {
  const rows: Row[] = [];
  let segment = 0;
  points.forEach((point, index) => {
    const current = value(point);
    if (current === undefined) return;
    rows.push({ topology, segment, t: point.t, panel, value: current });
    const next = points[index + 1];
    if (next === undefined || next.t !== point.t + 1 || value(next) === undefined) {
      rows.push({ topology, segment, t: point.t + 1, panel, value: current });
      segment += 1;
    }
  });
  return rows;
}

function seriesRows(topologies: readonly TopologyResult[]): Row[] {
  return topologies.flatMap((result) =>
    PANEL_VALUES.flatMap(([panel, value]) =>
      panelRows(result.topology, panel, result.timeSeries, value),
    ),
  );
}

/** Shades the window each fault was active; a fault never applied (drill aborted first) has none. */
function faultRows(report: Report): Row[] {
  const faults = report.drill?.faults ?? [];
  return faults.flatMap((fault) =>
    fault.appliedAtS === null
      ? []
      : [
          {
            fault: `${fault.id} (${fault.kind})`,
            start: fault.appliedAtS,
            end: fault.removedAtS ?? fault.endS,
          },
        ],
  );
}

function panel(title: string, rows: Row[], faults: Row[]): object {
  const layers: object[] = [];
  if (faults.length > 0) {
    layers.push({
      data: { values: faults },
      mark: { type: 'rect', opacity: 0.15, color: '#d62728' },
      encoding: { x: { field: 'start', type: 'quantitative' }, x2: { field: 'end' } },
    });
  }
  layers.push({
    data: { values: rows.filter((row) => row.panel === title) },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'seconds from load start' },
      y: { field: 'value', type: 'quantitative', title },
      color: { field: 'topology', type: 'nominal' },
      detail: { field: 'segment', type: 'nominal' },
    },
  });
  return { width: WIDTH, height: PANEL_HEIGHT, layer: layers };
}

/**
 * Builds the over-time chart: throughput, success rate, p95 and, when the series has them,
 * the queue depth and oldest age, fault windows shaded.
 */
export function timelineSpec(report: Report): TopLevelSpec {
  const rows = seriesRows(report.topologies);
  const faults = faultRows(report);
  const queuePanels = [QUEUE_DEPTH, QUEUE_AGE].filter((title) =>
    rows.some((row) => row.panel === title),
  );
  const titles = ['throughput (rpm)', 'success rate', 'p95 latency (s)', ...queuePanels];
  return {
    title: `${report.scenario.name}: over time (shaded: fault windows)`,
    vconcat: titles.map((title) => panel(title, rows, faults)),
  } as TopLevelSpec;
}

/** Builds the grouped bar chart of p50, p95 and p99 latency per tenant. */
export function tenantLatencySpec(report: Report): TopLevelSpec {
  const values = report.topologies.flatMap((result) =>
    result.perTenant.flatMap((slice) => [
      {
        topology: result.topology,
        tenant: slice.key,
        percentile: 'p50',
        seconds: slice.latency.p50S,
      },
      {
        topology: result.topology,
        tenant: slice.key,
        percentile: 'p95',
        seconds: slice.latency.p95S,
      },
      {
        topology: result.topology,
        tenant: slice.key,
        percentile: 'p99',
        seconds: slice.latency.p99S,
      },
    ]),
  );
  return {
    title: 'latency per tenant',
    data: { values },
    mark: 'bar',
    encoding: {
      row: { field: 'topology', type: 'nominal' },
      x: { field: 'tenant', type: 'nominal' },
      xOffset: { field: 'percentile', type: 'nominal' },
      y: { field: 'seconds', type: 'quantitative', title: 'latency (s)' },
      color: { field: 'percentile', type: 'nominal' },
    },
  } as TopLevelSpec;
}

/** Builds the bar chart of mean and p95 cost per task, by tenant and by route. */
export function costSpec(report: Report): TopLevelSpec {
  const values = report.topologies.flatMap((result) => {
    const slices = [
      ...result.cost.byTenant.map((slice) => ({ ...slice, by: 'tenant' })),
      ...result.cost.byRoute.map((slice) => ({ ...slice, by: 'route' })),
    ];
    return slices.flatMap((slice) => [
      { topology: result.topology, by: slice.by, key: slice.key, stat: 'mean', usd: slice.meanUsd },
      ...(slice.p95Usd === null
        ? []
        : [
            {
              topology: result.topology,
              by: slice.by,
              key: slice.key,
              stat: 'p95',
              usd: slice.p95Usd,
            },
          ]),
    ]);
  });
  return {
    title: 'cost per task (USD)',
    data: { values },
    mark: 'bar',
    encoding: {
      row: { field: 'topology', type: 'nominal' },
      column: { field: 'by', type: 'nominal' },
      x: { field: 'key', type: 'nominal', title: null },
      xOffset: { field: 'stat', type: 'nominal' },
      y: { field: 'usd', type: 'quantitative', title: 'USD per task' },
      color: { field: 'stat', type: 'nominal' },
    },
    resolve: { scale: { x: 'independent' } },
  } as TopLevelSpec;
}

/** Compiles a vega-lite spec to vega and renders it to SVG text without a canvas or a browser. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders every chart of a report. */
export async function renderCharts(report: Report): Promise<RenderedChart[]> {
  const specs: [string, TopLevelSpec][] = [
    ['timeline.svg', timelineSpec(report)],
    ['latency-per-tenant.svg', tenantLatencySpec(report)],
    ['cost-per-task.svg', costSpec(report)],
  ];
  const charts: RenderedChart[] = [];
  for (const [fileName, spec] of specs) {
    charts.push({ fileName, svg: await renderSvg(spec) });
  }
  return charts;
}
