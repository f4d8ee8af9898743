import assert from 'node:assert/strict';
import {
  type BackpressureDecision,
  createBackpressure,
} from '../../../src/platform/admission/index.js';
import type { PriorityClass } from '../../../src/platform/task.js';

const backpressure = createBackpressure({ maxQueueDepth: 1000, maxOldestAgeMs: 30_000 });

interface Row {
  priority: PriorityClass;
  depth: number;
  oldestAgeMs: number;
  expected: 'admit' | { status: 429 | 503; limit: string; value: number; retry: number };
}

const ROWS: Row[] = [
  { priority: 'batch', depth: 0, oldestAgeMs: 0, expected: 'admit' },
  { priority: 'batch', depth: 499, oldestAgeMs: 14_999, expected: 'admit' },
  {
    priority: 'batch',
    depth: 500,
    oldestAgeMs: 2_100,
    expected: { status: 429, limit: 'queue_depth', value: 500, retry: 3 },
  },
  {
    priority: 'batch',
    depth: 10,
    oldestAgeMs: 15_000,
    expected: { status: 429, limit: 'queue_oldest_age_ms', value: 15_000, retry: 15 },
  },
  { priority: 'standard', depth: 500, oldestAgeMs: 15_000, expected: 'admit' },
  {
    priority: 'standard',
    depth: 800,
    oldestAgeMs: 0,
    expected: { status: 429, limit: 'queue_depth', value: 800, retry: 1 },
  },
  {
    priority: 'standard',
    depth: 0,
    oldestAgeMs: 24_000,
    expected: { status: 429, limit: 'queue_oldest_age_ms', value: 24_000, retry: 24 },
  },
  { priority: 'critical', depth: 999, oldestAgeMs: 29_999, expected: 'admit' },
  {
    priority: 'critical',
    depth: 1000,
    oldestAgeMs: 0,
    expected: { status: 503, limit: 'queue_depth', value: 1000, retry: 1 },
  },
  {
    priority: 'critical',
    depth: 0,
    oldestAgeMs: 90_000,
    expected: { status: 503, limit: 'queue_oldest_age_ms', value: 30_000, retry: 60 },
  },
  {
    priority: 'batch',
    depth: 1000,
    oldestAgeMs: 0,
    expected: { status: 503, limit: 'queue_depth', value: 1000, retry: 1 },
  },
  {
    priority: 'standard',
    depth: 0,
    oldestAgeMs: 30_000,
    expected: { status: 503, limit: 'queue_oldest_age_ms', value: 30_000, retry: 30 },
  },
  // Over the batch depth watermark but at the hard age limit: the 503 names the age.
  {
    priority: 'batch',
    depth: 600,
    oldestAgeMs: 30_000,
    expected: { status: 503, limit: 'queue_oldest_age_ms', value: 30_000, retry: 30 },
  },
];

/** Returns the limit a rejection names, or undefined for an admission. */
function limitOf(decision: BackpressureDecision): { name: string; value: number } | undefined {
  return decision.admitted ? undefined : decision.limit;
}

describe('createBackpressure', () => {
  for (const row of ROWS) {
    const label = `${row.priority} at depth ${row.depth}, oldest ${row.oldestAgeMs} ms`;
    it(`decides ${label}`, () => {
      const decision = backpressure.decide(row.priority, row);
      if (row.expected === 'admit') {
        assert.deepEqual(decision, { admitted: true });
        return;
      }
      assert.deepEqual(decision, {
        admitted: false,
        reason: 'backpressure',
        status: row.expected.status,
        retryAfterSeconds: row.expected.retry,
        limit: { name: row.expected.limit, value: row.expected.value },
      });
    });
  }

  it('sheds batch before standard before critical', () => {
    const shedAt = (priority: PriorityClass): number => {
      let depth = 0;
      while (backpressure.decide(priority, { depth, oldestAgeMs: 0 }).admitted) {
        depth += 1;
      }
      return depth;
    };
    assert.deepEqual([shedAt('batch'), shedAt('standard'), shedAt('critical')], [500, 800, 1000]);
  });

  it('sheds from whole-task watermarks', () => {
    // In floating point 100 * 0.55 is 55.00000000000001 and 6 * 0.8 is 4.800000000000001.
    const rule = createBackpressure({
      maxQueueDepth: 100,
      maxOldestAgeMs: 60_000,
      watermarks: { batch: 0.55, standard: 0.8 },
    });
    const batch = rule.decide('batch', { depth: 55, oldestAgeMs: 0 });
    assert.deepEqual(limitOf(batch), { name: 'queue_depth', value: 55 });
    assert.equal(rule.decide('batch', { depth: 54, oldestAgeMs: 0 }).admitted, true);
    const aged = rule.decide('batch', { depth: 0, oldestAgeMs: 33_000 });
    assert.deepEqual(limitOf(aged), { name: 'queue_oldest_age_ms', value: 33_000 });

    const small = createBackpressure({ maxQueueDepth: 6, maxOldestAgeMs: 60_000 });
    const standard = small.decide('standard', { depth: 5, oldestAgeMs: 0 });
    assert.deepEqual(limitOf(standard), { name: 'queue_depth', value: 5 });
    assert.equal(small.decide('standard', { depth: 4, oldestAgeMs: 0 }).admitted, true);
  });

  it('rejects a batch watermark above the standard one', () => {
    assert.throws(
      () =>
        createBackpressure({
          maxQueueDepth: 10,
          maxOldestAgeMs: 10,
          watermarks: { batch: 0.9, standard: 0.8 },
        }),
      /watermarks.batch must be <= watermarks.standard \(0.8\), got 0.9/,
    );
  });

  it('rejects a non-positive maxQueueDepth', () => {
    assert.throws(
      () => createBackpressure({ maxQueueDepth: 0, maxOldestAgeMs: 10 }),
      /maxQueueDepth must be a positive number, got 0/,
    );
  });
});
