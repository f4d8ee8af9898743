import assert from 'node:assert/strict';
import { createBackpressure } from '../../../src/platform/admission/index.js';
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
