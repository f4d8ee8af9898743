import type { Registry } from 'prom-client';

/** One Prometheus sample: series name (with `_bucket`, `_count` or `_sum` for histograms) and labels. */
export interface MetricSampleValue {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Reads every sample of a prom-client registry in process, without an HTTP scrape. */
export async function readRegistry(registry: Registry): Promise<MetricSampleValue[]> {
  const metrics = await registry.getMetricsAsJSON();
  return metrics.flatMap((metric) =>
    metric.values.map((entry) => {
      const named = entry as { metricName?: string };
      const labels: Record<string, string> = {};
      for (const [key, value] of Object.entries(entry.labels)) {
        if (value !== undefined) {
          labels[key] = String(value);
        }
      }
      return { name: named.metricName ?? metric.name, labels, value: entry.value };
    }),
  );
}

/** Keys samples as `name{label="value",...}` with labels sorted, the form metric probes name. */
export function keyedSamples(samples: readonly MetricSampleValue[]): Record<string, number> {
  const keyed: Record<string, number> = {};
  for (const sample of samples) {
    const labels = Object.keys(sample.labels)
      .sort()
      .map((key) => `${key}="${sample.labels[key]}"`);
    const key = labels.length === 0 ? sample.name : `${sample.name}{${labels.join(',')}}`;
    keyed[key] = sample.value;
  }
  return keyed;
}

/** Sums the samples named `name` whose labels pass `filter`. */
export function sumOf(
  samples: readonly MetricSampleValue[],
  name: string,
  filter: (labels: Record<string, string>) => boolean = () => true,
): number {
  return samples
    .filter((sample) => sample.name === name && filter(sample.labels))
    .reduce((total, sample) => total + sample.value, 0);
}

/** Sums samples named `name` per value of `label`. */
export function sumBy(
  samples: readonly MetricSampleValue[],
  name: string,
  label: string,
): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const sample of samples.filter((entry) => entry.name === name)) {
    const key = sample.labels[label];
    if (key !== undefined) {
      sums[key] = (sums[key] ?? 0) + sample.value;
    }
  }
  return sums;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses Prometheus text exposition into samples, adding `extraLabels` to each. */
export function parsePrometheusText(
  text: string,
  extraLabels: Record<string, string> = {},
): MetricSampleValue[] {
  const samples: MetricSampleValue[] = [];
  for (const line of text.split('\n')) {
    const match = SAMPLE_LINE.exec(line);
    if (line.startsWith('#') || match === null) continue;
    const [, name = '', labelText = '', valueText = ''] = match;
    const labels: Record<string, string> = { ...extraLabels };
    for (const pair of labelText.matchAll(LABEL_PAIR)) {
      labels[pair[1] ?? ''] = (pair[2] ?? '').replace(/\\(.)/g, '$1');
    }
    const value = Number(valueText);
    if (Number.isFinite(value)) samples.push({ name, labels, value });
  }
  return samples;
}
