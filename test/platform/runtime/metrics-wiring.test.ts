import assert from 'node:assert/strict';
import type { MetricSink } from '../../../src/platform/runtime/metric-relay.js';
import { wireRouterMetrics } from '../../../src/platform/runtime/metrics-wiring.js';
import { type Rig, route, startRig } from '../router/router-fixtures.js';

/**
 * Creates a sink that lists each recordAttempt call as `provider outcome errorClass`, and
 * each recordFallbackAttempt call as `route fallbackRoute outcome`.
 */
function attemptSink(): { sink: MetricSink; attempts: string[]; fallbackAttempts: string[] } {
  const attempts: string[] = [];
  const fallbackAttempts: string[] = [];
  const ignore = (): void => {};
  const sink: MetricSink = {
    recordRequest: ignore,
    observeQueueWait: ignore,
    observeTimeToFirstToken: ignore,
    recordFailover: ignore,
    recordAttempt: (labels, outcome, errorClass) =>
      attempts.push(`${labels.provider} ${outcome} ${errorClass ?? '-'}`),
    recordFallbackAttempt: (labels, outcome) =>
      fallbackAttempts.push(`${labels.route} ${labels.fallbackRoute} ${outcome}`),
    setBreakerState: ignore,
    recordCost: ignore,
    recordCapDeferral: ignore,
    recordResumedSteps: ignore,
  };
  return { sink, attempts, fallbackAttempts };
}

/** Creates a sink that lists each setBreakerState call as `state reason`. */
function breakerSink(): { sink: MetricSink; states: string[] } {
  const { sink } = attemptSink();
  const states: string[] = [];
  sink.setBreakerState = (_labels, state, reason) => states.push(`${state} ${reason ?? '-'}`);
  return { sink, states };
}

describe('wireRouterMetrics', () => {
  let rig: Rig | undefined;

  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('counts a caller abort apart from failures', async () => {
    const chat = route();
    rig = await startRig({}, chat);
    const { sink, attempts } = attemptSink();
    wireRouterMetrics(rig.router, sink, { version: 1, routes: { chat } });
    const end = {
      route: 'chat',
      candidateRoute: 'chat',
      provider: 'oa',
      model: 'm1',
      latencyMs: 5,
    };
    rig.router.emit('attempt_end', { ...end, outcome: 'success' });
    rig.router.emit('attempt_end', { ...end, outcome: 'failed', errorClass: 'status_5xx' });
    rig.router.emit('attempt_end', { ...end, outcome: 'failed', errorClass: 'aborted' });
    assert.deepEqual(attempts, ['oa success -', 'oa failed status_5xx', 'oa aborted aborted']);
  });

  it('counts fallback attempts by fallback route', async () => {
    const chat = route({ fallbackRoute: 'backup' });
    const backup = route({ candidates: [{ provider: 'low', model: 'tiny', weight: 1 }] });
    rig = await startRig({}, { version: 1, routes: { chat, backup } });
    const { sink, attempts, fallbackAttempts } = attemptSink();
    wireRouterMetrics(rig.router, sink, { version: 1, routes: { chat, backup } });
    const own = { route: 'chat', candidateRoute: 'chat', provider: 'oa', model: 'm1' };
    const fallback = { route: 'chat', candidateRoute: 'backup', provider: 'low', model: 'tiny' };
    rig.router.emit('attempt_end', { ...own, outcome: 'success', latencyMs: 5 });
    rig.router.emit('attempt_end', { ...fallback, outcome: 'success', latencyMs: 5 });
    const aborted = { outcome: 'failed', errorClass: 'aborted', latencyMs: 5 } as const;
    rig.router.emit('attempt_end', { ...fallback, ...aborted });
    assert.deepEqual(attempts, ['oa success -', 'low success -', 'low aborted aborted']);
    assert.deepEqual(fallbackAttempts, ['chat backup success', 'chat backup aborted']);
  });

  it('passes a breaker transition with its reason', async () => {
    const chat = route();
    rig = await startRig({}, chat);
    const { sink, states } = breakerSink();
    wireRouterMetrics(rig.router, sink, { version: 1, routes: { chat } });
    rig.router.emit('breaker_transition', {
      provider: 'oa',
      model: 'm1',
      from: 'half_open',
      to: { kind: 'closed' },
    });
    assert.equal(states.at(-1), 'closed half-open probe succeeded');
  });
});
