import assert from 'node:assert/strict';
import type { Dispatcher } from 'undici';
import { LoadRun } from '../../../src/harness/load/load-run.js';
import { resolveLoadOptions } from '../../../src/harness/load/options.js';
import type { ScheduledRequest } from '../../../src/harness/load/schedule.js';
import { TEST_KEYS } from './sample-spec.js';

/** A pool whose request call blocks the event loop for `costMs`, then returns a 200. */
function slowPool(costMs: number): Dispatcher {
  const request = () => {
    const until = performance.now() + costMs;
    while (performance.now() < until) {
      // Busy-waits on purpose: each send costs the engine `costMs` of CPU.
    }
    return Promise.resolve({
      statusCode: 200,
      headers: {},
      body: { text: () => Promise.resolve('{"state":"succeeded"}') },
    });
  };
  return { request, destroy: () => Promise.resolve() } as unknown as Dispatcher;
}

function evenSchedule(count: number, gapMs: number): ScheduledRequest[] {
  return Array.from({ length: count }, (_, index) => ({
    index,
    offsetMs: index * gapMs,
    tenantId: 'tenant-alpha',
    route: 'chat',
    mode: 'sync',
    taskKind: 'chat',
    inputTokens: 10,
    maxOutputTokens: 10,
  }));
}

describe('LoadRun', () => {
  it('marks an overloaded engine invalid', async () => {
    // 300 sends 2 ms apart, each costing 5 ms: the backlog grows until the schedule ends.
    const run = new LoadRun({
      scenarioName: 'overload',
      target: 'http://127.0.0.1:9',
      durationSec: 0.6,
      schedule: evenSchedule(300, 2),
      keys: TEST_KEYS,
      pool: slowPool(5),
      options: resolveLoadOptions({ drainTimeoutMs: 1000 }),
    });
    const result = await run.execute();
    assert.equal(result.requests.sent, 300);
    assert.equal(result.requests.succeeded, 300);
    const longest = result.schedulerStalls?.longestStallMs ?? 0;
    assert.ok(longest > 600, `longest stall ${longest} ms`);
    assert.equal(result.health.valid, false);
    assert.match(result.health.reasons[0] ?? '', /^scheduler stalled: /);
  });

  it('keeps a light schedule valid', async () => {
    const run = new LoadRun({
      scenarioName: 'light',
      target: 'http://127.0.0.1:9',
      durationSec: 0.2,
      schedule: evenSchedule(20, 10),
      keys: TEST_KEYS,
      pool: slowPool(0),
      options: resolveLoadOptions({}),
    });
    const result = await run.execute();
    assert.equal(result.requests.sent, 20);
    assert.equal(result.schedulerStalls?.behindMs, 0);
    assert.equal(result.health.valid, true);
  });
});
