import assert from 'node:assert/strict';
import type { MetricSink } from '../../../src/platform/runtime/metric-relay.js';
import { wireRouterMetrics } from '../../../src/platform/runtime/metrics-wiring.js';
import { type Rig, route, startRig } from '../router/router-fixtures.js';

/** Creates a sink that lists each recordAttempt call as `provider outcome errorClass`. */
function attemptSink(): { sink: MetricSink; attempts: string[] } {
  const attempts: string[] = [];
  const ignore = (): void => {};
  const sink: MetricSink = {
    recordRequest: ignore,
    observeQueueWait: ignore,
    observeTimeToFirstToken: ignore,
    recordFailover: ignore,
    recordAttempt: (labels, outcome, errorClass) =>
      attempts.push(`${labels.provider} ${outcome} ${errorClass ?? '-'}`),
    setBreakerState: ignore,
    recordCost: ignore,
    recordCapDeferral: ignore,
    recordResumedSteps: ignore,
  };
  return { sink, attempts };
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
    const end = { route: 'chat', provider: 'oa', model: 'm1', latencyMs: 5 };
    rig.router.emit('attempt_end', { ...end, outcome: 'success' });
    rig.router.emit('attempt_end', { ...end, outcome: 'failed', errorClass: 'status_5xx' });
    rig.router.emit('attempt_end', { ...end, outcome: 'failed', errorClass: 'aborted' });
    assert.deepEqual(attempts, ['oa success -', 'oa failed status_5xx', 'oa aborted aborted']);
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
