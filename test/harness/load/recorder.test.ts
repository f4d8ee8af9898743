import assert from 'node:assert/strict';
import { LoadRecorder, type RecorderSettings } from '../../../src/harness/load/recorder.js';
import type { ScheduledRequest } from '../../../src/harness/load/schedule.js';

const SETTINGS: RecorderSettings = {
  scheduled: 3,
  windowMs: 5000,
  lateThresholdMs: 10,
  defaultTopology: 'default',
  lagLimitMs: 50,
};

function request(index: number): ScheduledRequest {
  return {
    index,
    offsetMs: 0,
    tenantId: 'tenant-alpha',
    route: 'chat',
    mode: 'sync',
    taskKind: 'chat',
    inputTokens: 10,
    maxOutputTokens: 10,
  };
}

describe('LoadRecorder', () => {
  it('keeps tenant and route p99 at or below max', () => {
    const recorder = new LoadRecorder(SETTINGS);
    recorder.recordOutcome({
      request: request(0),
      success: true,
      latencyMs: 10_460,
      finishedAtMs: 1,
    });
    const tenant = recorder.byTenant.summaries()['tenant-alpha'];
    const route = recorder.byRoute.summaries().chat;
    assert.equal(tenant?.p99, 10_460);
    assert.equal(tenant?.max, 10_460);
    assert.equal(route?.p99, 10_460);
    assert.equal(route?.max, 10_460);
  });

  it('counts completions inside the send window', () => {
    const recorder = new LoadRecorder(SETTINGS);
    recorder.recordOutcome({
      request: request(0),
      success: true,
      latencyMs: 5,
      finishedAtMs: 4000,
    });
    recorder.recordOutcome({
      request: request(1),
      success: false,
      latencyMs: 5,
      finishedAtMs: 5000,
    });
    recorder.recordOutcome({
      request: request(2),
      success: true,
      latencyMs: 5,
      finishedAtMs: 5001,
    });
    assert.equal(recorder.completedInWindow, 2);
  });

  it('counts successes inside the send window', () => {
    const recorder = new LoadRecorder(SETTINGS);
    const outcomes: [success: boolean, finishedAtMs: number][] = [
      [true, 4000],
      [false, 4500],
      [true, 5000],
      [true, 5001],
    ];
    outcomes.forEach(([success, finishedAtMs], index) => {
      recorder.recordOutcome({ request: request(index), success, latencyMs: 5, finishedAtMs });
    });
    assert.equal(recorder.completedInWindow, 3);
    assert.equal(recorder.succeededInWindow, 2);
  });

  it('leaves successes after an early close out', () => {
    const recorder = new LoadRecorder(SETTINGS);
    recorder.recordOutcome({ request: request(0), success: true, latencyMs: 5, finishedAtMs: 900 });
    recorder.closeWindow(1000);
    recorder.recordOutcome({
      request: request(1),
      success: true,
      latencyMs: 5,
      finishedAtMs: 1100,
    });
    assert.equal(recorder.succeededInWindow, 1);
  });

  it('shortens the window when closed early', () => {
    const recorder = new LoadRecorder(SETTINGS);
    recorder.recordOutcome({ request: request(0), success: true, latencyMs: 5, finishedAtMs: 900 });
    recorder.closeWindow(1000);
    recorder.recordOutcome({
      request: request(1),
      success: true,
      latencyMs: 5,
      finishedAtMs: 1100,
    });
    assert.equal(recorder.windowMs, 1000);
    assert.equal(recorder.completedInWindow, 1);
  });

  it('counts aborted requests as ended in progress', () => {
    const recorder = new LoadRecorder(SETTINGS);
    recorder.recordOutcome({ request: request(0), success: true, latencyMs: 5, finishedAtMs: 10 });
    recorder.recordAbort(request(1), 900);
    recorder.recordAbort(request(2), 800);
    const progress = recorder.progress(1000, 0, 'done');
    assert.equal(progress.aborted, 2);
    assert.equal(progress.successRate, 1 / 3);
  });

  it('puts aborted requests in series', () => {
    const recorder = new LoadRecorder(SETTINGS);
    recorder.recordOutcome({ request: request(0), success: true, latencyMs: 5, finishedAtMs: 10 });
    // Sent at 0 ms and aborted after 2,500 ms, so in second 2.
    recorder.recordAbort(request(1), 2_500);
    const points = recorder.timeSeries();
    assert.equal(points[0]?.successes, 1);
    assert.equal(points[0]?.aborted, 0);
    assert.equal(points[2]?.aborted, 1);
    assert.equal(points[2]?.p95Ms, 2_500);
  });

  it('reports latencies with their series second', () => {
    const reported: [number, number][] = [];
    const recorder = new LoadRecorder({
      ...SETTINGS,
      onLatency: (second, latencyMs) => reported.push([second, latencyMs]),
    });
    recorder.recordOutcome({
      request: request(0),
      success: false,
      latencyMs: 700,
      finishedAtMs: 1_999,
    });
    // Sent at 0 ms and aborted after 2,500 ms, so in second 2.
    recorder.recordAbort(request(1), 2_500);
    assert.deepEqual(reported, [
      [1, 700],
      [2, 2_500],
    ]);
    const points = recorder.timeSeries();
    assert.equal(points[1]?.failures, 1);
    assert.equal(points[2]?.aborted, 1);
  });

  it('counts the wait of aborted requests in latency', () => {
    const recorder = new LoadRecorder(SETTINGS);
    for (let index = 0; index < 10; index += 1) {
      recorder.recordOutcome({
        request: request(index),
        success: true,
        latencyMs: 5,
        finishedAtMs: 10,
      });
    }
    // Two of twelve never finished: the p95 is at least the shorter of their waits.
    recorder.recordAbort(request(10), 40_000);
    recorder.recordAbort(request(11), 30_000);
    const p95 = recorder.overall.percentile(95);
    assert.ok(p95 >= 30_000 * 0.99, `p95 ${p95}`);
    assert.equal(recorder.overall.percentile(50) < 10, true);
  });

  it('counts aborted requests per tenant and route', () => {
    const recorder = new LoadRecorder(SETTINGS);
    recorder.recordOutcome({ request: request(0), success: true, latencyMs: 5, finishedAtMs: 10 });
    recorder.recordAbort(request(1), 900);
    recorder.recordAbort({ ...request(2), tenantId: 'tenant-beta' }, 800);
    assert.deepEqual(recorder.tenantOutcomes, {
      'tenant-alpha': { finished: 2, succeeded: 1, aborted: 1 },
      'tenant-beta': { finished: 1, succeeded: 0, aborted: 1 },
    });
    assert.deepEqual(recorder.routeOutcomes, { chat: { finished: 3, succeeded: 1, aborted: 2 } });
  });

  it('counts aborted async tasks once', () => {
    const recorder = new LoadRecorder(SETTINGS);
    const followed = { ...request(0), mode: 'async' as const };
    const ended = { ...request(1), mode: 'async' as const };
    recorder.recordAsyncAccepted(followed);
    recorder.recordAsyncAccepted(ended);
    recorder.recordOutcome({
      request: ended,
      success: true,
      latencyMs: 400,
      finishedAtMs: 400,
      asyncEnd: 'succeeded',
    });
    recorder.recordAbort(followed, 9000);
    // An async request aborted before its 202 was never accepted, so it is no async task.
    recorder.recordAbort({ ...request(2), mode: 'async' }, 8000);
    assert.deepEqual(recorder.asyncCounts, {
      accepted: 2,
      succeeded: 1,
      failed: 0,
      timedOut: 0,
      aborted: 1,
    });
    assert.equal(recorder.asyncEndToEnd.summary().count, 2);
    assert.equal(recorder.asyncEndToEnd.summary().min, 400);
    assert.ok(recorder.asyncEndToEnd.summary().max >= 9000 * 0.99);
  });

  it('counts a task without asyncEnd failed', () => {
    const recorder = new LoadRecorder(SETTINGS);
    const task = { ...request(0), mode: 'async' as const };
    recorder.recordAsyncAccepted(task);
    recorder.recordOutcome({
      request: task,
      success: false,
      latencyMs: 50,
      finishedAtMs: 50,
      errorCode: 'engine_error',
    });
    assert.equal(recorder.asyncCounts.failed, 1);
    assert.equal(recorder.asyncEndToEnd.summary().count, 1);
  });

  it('measures progress rps since the previous snapshot', () => {
    const recorder = new LoadRecorder(SETTINGS);
    for (let i = 0; i < 6; i++) recorder.recordSend(i, 0);
    assert.equal(recorder.progress(2000, 6, 'sending').rps, 3);
    recorder.recordSend(2100, 0);
    assert.equal(recorder.progress(2500, 1, 'draining').rps, 2);
  });
});
