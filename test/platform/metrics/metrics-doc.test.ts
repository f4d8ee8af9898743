import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { Registry } from 'prom-client';

import { GatewayMetrics } from '../../../src/platform/gateway/metrics.js';
import { createPlatformMetrics } from '../../../src/platform/metrics/index.js';

/** Returns the text of README.md from its `## Metrics` heading to the next `## ` heading. */
function metricsSection(): string {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n## Metrics\n');
  assert.ok(start >= 0, 'README.md has no "## Metrics" section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Returns each metric that `GET /metrics` serves, written as `name{label,label}`. */
function servedMetrics(): string[] {
  const registry = new Registry();
  createPlatformMetrics(registry);
  new GatewayMetrics(registry);
  return registry.getMetricsAsArray().map((metric) => {
    // prom-client keeps the label names on each metric but leaves them out of its types.
    const { labelNames = [] } = metric as unknown as { labelNames?: readonly string[] };
    return labelNames.length === 0 ? metric.name : `${metric.name}{${labelNames.join(',')}}`;
  });
}

describe('README metrics', () => {
  it('lists every metric with its labels', () => {
    const section = metricsSection();
    const missing = servedMetrics().filter((entry) => !section.includes(`\`${entry}\``));
    assert.deepEqual(missing, [], `metrics missing from README.md's Metrics section`);
  });

  it('names every limit the gateway checks', async () => {
    // The gateway rejects these in task-service.ts, outside admission, with a 400 or a 503
    // error that names the limit. The counter takes its `limit` label from that name.
    const source = readFileSync(
      new URL('../../../src/platform/gateway/task-service.ts', import.meta.url),
      'utf8',
    );
    const limits = [...source.matchAll(/limit: '([A-Za-z_]+)'/g)].map((match) => match[1] ?? '');
    assert.deepEqual([...new Set(limits)].sort(), [
      'contextWindowTokens',
      'integrationTimeoutMs',
      'maxTaskDurationMs',
      'queue',
    ]);
    const section = metricsSection();
    const missing = limits.filter((limit) => !section.includes(`\`${limit}\``));
    assert.deepEqual(missing, [], "limits missing from README.md's Metrics section");
    const registry = new Registry();
    new GatewayMetrics(registry);
    const help = (await registry.metrics())
      .split('\n')
      .find((line) => line.startsWith('# HELP scalegate_gateway_rejections_total '));
    const unhelped = limits.filter((limit) => !help?.includes(limit));
    assert.deepEqual(unhelped, [], 'limits missing from the help text of the counter');
  });

  it('names only served labels', () => {
    const served = new Set(servedMetrics());
    const documented = metricsSection().match(/`scalegate_[a-z_]+\{[^}`]*\}`/g) ?? [];
    const unknown = documented
      .map((entry) => entry.slice(1, -1))
      .filter((entry) => !served.has(entry));
    assert.deepEqual(unknown, [], 'README.md names labels that GET /metrics does not serve');
  });
});
