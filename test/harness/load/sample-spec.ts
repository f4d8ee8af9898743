import type { ScenarioSpec } from '../../../src/harness/scenario/types.js';
import type { TraceRow } from '../../../src/harness/scenario/trace.js';

export const TEST_KEYS = { 'tenant-alpha': 'test-key-alpha', 'tenant-beta': 'test-key-beta' };

/** Builds a small valid spec; tests override the fields they exercise. */
export function sampleSpec(overrides: Partial<ScenarioSpec> = {}): ScenarioSpec {
  return {
    name: 'test',
    description: 'test scenario',
    target: 'http://127.0.0.1:9',
    durationSec: 1,
    arrival: { kind: 'constant', ratePerSec: 10 },
    tenants: [
      { tenantId: 'tenant-alpha', weight: 1 },
      { tenantId: 'tenant-beta', weight: 1 },
    ],
    routes: [{ route: 'chat', weight: 1 }],
    tasks: {
      source: 'distribution',
      kinds: [
        {
          name: 'chat',
          weight: 1,
          inputTokens: { kind: 'constant', value: 100 },
          outputTokens: { kind: 'constant', value: 20 },
        },
      ],
    },
    modes: { sync: 1, async: 0 },
    slo: { successRate: 0.99 },
    ...overrides,
  };
}

/** Builds a trace-replay spec whose arrivals are the given offsets, in milliseconds. */
export function replaySpec(
  offsetsMs: number[],
  overrides: Partial<ScenarioSpec> = {},
): { spec: ScenarioSpec; traceRows: TraceRow[] } {
  const spec = sampleSpec({
    arrival: { kind: 'trace', file: 'unused.csv', speedUp: 1 },
    ...overrides,
  });
  const traceRows = offsetsMs.map((offsetMs, i) => ({
    line: i + 2,
    offsetMs,
    contextTokens: 50,
    generatedTokens: 10,
  }));
  return { spec, traceRows };
}
