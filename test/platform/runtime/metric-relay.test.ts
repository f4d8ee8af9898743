import assert from 'node:assert/strict';

import {
  applyMetricCalls,
  createMetricRelay,
  type MetricCall,
  type MetricSink,
} from '../../../src/platform/runtime/metric-relay.js';
import type { BreakerState } from '../../../src/platform/metrics/index.js';
import {
  type BreakerChange,
  BreakerGaugeMerger,
} from '../../../src/platform/runtime/breaker-gauge-merger.js';

/** Creates a sink that lists every call it receives as `method(args as JSON)`. */
function listingSink(): { sink: MetricSink; calls: string[] } {
  const calls: string[] = [];
  const method =
    (name: string) =>
    (...args: unknown[]) => {
      calls.push(`${name}(${JSON.stringify(args)})`);
    };
  const sink: MetricSink = {
    recordRequest: method('recordRequest'),
    observeQueueWait: method('observeQueueWait'),
    observeTimeToFirstToken: method('observeTimeToFirstToken'),
    recordFailover: method('recordFailover'),
    recordAttempt: method('recordAttempt'),
    recordFallbackAttempt: method('recordFallbackAttempt'),
    setBreakerState: method('setBreakerState'),
    recordCost: method('recordCost'),
    recordCapDeferral: method('recordCapDeferral'),
    recordResumedSteps: method('recordResumedSteps'),
  };
  return { sink, calls };
}

describe('metric relay', () => {
  it('sends calls in one batch on flush', () => {
    const batches: MetricCall[][] = [];
    const relay = createMetricRelay((calls) => batches.push(calls), 60_000);
    relay.observeQueueWait('standard', 0.25);
    relay.recordFailover('provider-a', 'provider-b');
    assert.equal(batches.length, 0);
    relay.flush();
    relay.close();
    assert.deepEqual(batches, [
      [
        { method: 'observeQueueWait', args: ['standard', 0.25] },
        { method: 'recordFailover', args: ['provider-a', 'provider-b'] },
      ],
    ]);
  });

  it('sends nothing when no call waits', () => {
    const batches: MetricCall[][] = [];
    const relay = createMetricRelay((calls) => batches.push(calls), 60_000);
    relay.flush();
    relay.close();
    assert.equal(batches.length, 0);
  });

  it('sends a full batch at once', () => {
    const batches: MetricCall[][] = [];
    const relay = createMetricRelay((calls) => batches.push(calls), 60_000);
    for (let index = 0; index < 300; index += 1) relay.recordCost('tenant-alpha', 'chat', 0.01);
    assert.equal(batches.length, 1);
    assert.equal(batches[0]?.length, 256);
    relay.close();
    assert.equal(batches.length, 2);
    assert.equal(batches[1]?.length, 44);
  });

  it('sends waiting calls on its timer', async () => {
    const batches: MetricCall[][] = [];
    const relay = createMetricRelay((calls) => batches.push(calls), 20);
    relay.setBreakerState({ provider: 'p', model: 'm' }, 'open');
    await new Promise((resolve) => setTimeout(resolve, 100));
    relay.close();
    assert.deepEqual(batches, [
      [{ method: 'setBreakerState', args: [{ provider: 'p', model: 'm' }, 'open'] }],
    ]);
  });

  it('applies relayed calls to a sink in order', () => {
    const { sink, calls } = listingSink();
    const applied = applyMetricCalls(sink, [
      { method: 'recordRequest', args: [{ tenant: 't', route: 'r', outcome: 'succeeded' }, 1.5] },
      { method: 'recordAttempt', args: [{ provider: 'p', model: 'm' }, 'failed'] },
    ]);
    assert.equal(applied, 2);
    assert.deepEqual(calls, [
      'recordRequest([{"tenant":"t","route":"r","outcome":"succeeded"},1.5])',
      'recordAttempt([{"provider":"p","model":"m"},"failed"])',
    ]);
  });

  it('relays fallback route calls', () => {
    const batches: MetricCall[][] = [];
    const relay = createMetricRelay((batch) => batches.push(batch), 60_000);
    relay.recordFallbackAttempt({ route: 'chat', fallbackRoute: 'backup' }, 'success');
    relay.close();
    const { sink, calls } = listingSink();
    assert.equal(applyMetricCalls(sink, batches[0]), 1);
    assert.deepEqual(calls, [
      'recordFallbackAttempt([{"route":"chat","fallbackRoute":"backup"},"success"])',
    ]);
  });

  it('skips unknown methods and malformed calls', () => {
    const { sink, calls } = listingSink();
    const applied = applyMetricCalls(sink, [
      { method: 'registry', args: [] },
      { method: 'recordCost' },
      null,
      { method: 'recordCost', args: ['t', 'r', 0.5] },
    ]);
    assert.equal(applied, 1);
    assert.deepEqual(calls, ['recordCost(["t","r",0.5])']);
  });

  it('applies nothing when the payload is not a list', () => {
    const { sink, calls } = listingSink();
    assert.equal(applyMetricCalls(sink, { method: 'recordCost', args: [] }), 0);
    assert.deepEqual(calls, []);
  });
});

/** Provider and model labels of a breaker. */
type BreakerLabels = { provider: string; model: string };

/** Creates a merger over a listing sink, and `report`, which reports a state as `source`. */
function breakerMerger() {
  const { sink, calls } = listingSink();
  const merger = new BreakerGaugeMerger(sink);
  const report = (source: string, labels: BreakerLabels, state: BreakerState) =>
    merger.sinkFor(source).setBreakerState(labels, state);
  return { merger, calls, report };
}

/** Formats a breaker gauge call as `listingSink` lists it. */
function gaugeCall(labels: BreakerLabels, state: BreakerState): string {
  return `setBreakerState(${JSON.stringify([labels, state])})`;
}

describe('BreakerGaugeMerger', () => {
  const GPT = { provider: 'provider-a', model: 'gpt-4o' };

  it('shows a breaker open in one process', () => {
    const { calls, report } = breakerMerger();
    report('platform', GPT, 'closed');
    report('worker 0', GPT, 'open');
    report('worker 1', GPT, 'closed');
    assert.equal(calls.at(-1), gaugeCall(GPT, 'open'));
  });

  it('closes once every process closed', () => {
    const { calls, report } = breakerMerger();
    report('worker 0', GPT, 'open');
    report('worker 1', GPT, 'half-open');
    report('worker 0', GPT, 'closed');
    assert.equal(calls.at(-1), gaugeCall(GPT, 'half-open'));
    report('worker 1', GPT, 'closed');
    assert.equal(calls.at(-1), gaugeCall(GPT, 'closed'));
  });

  it('keeps breakers of other models apart', () => {
    const { calls, report } = breakerMerger();
    const mini = { ...GPT, model: 'gpt-4o-mini' };
    report('worker 0', GPT, 'open');
    report('worker 1', mini, 'closed');
    assert.equal(calls.at(-1), gaugeCall(mini, 'closed'));
  });

  it('forgets the states of an exited process', () => {
    const { merger, calls, report } = breakerMerger();
    report('worker 0', GPT, 'open');
    report('worker 1', GPT, 'closed');
    merger.forget('worker 0');
    assert.equal(calls.at(-1), gaugeCall(GPT, 'closed'));
  });

  it('keeps models with a slash apart', () => {
    const { calls, report } = breakerMerger();
    report('worker 0', { provider: 'a/b', model: 'c' }, 'open');
    report('worker 1', { provider: 'a', model: 'b/c' }, 'closed');
    assert.equal(calls.at(-1), gaugeCall({ provider: 'a', model: 'b/c' }, 'closed'));
  });

  it('reports a change of the shown state with its reason', () => {
    const changes: BreakerChange[] = [];
    const merger = new BreakerGaugeMerger(listingSink().sink, (change) => changes.push(change));
    const trip = 'failure threshold reached, last error status_5xx; half-open in 15000 ms';
    merger.sinkFor('platform').setBreakerState(GPT, 'closed');
    merger.sinkFor('platform').setBreakerState(GPT, 'open', trip);
    assert.deepEqual(changes, [{ ...GPT, from: 'closed', to: 'open', reason: trip }]);
  });

  it('reports no change while the shown state holds', () => {
    const changes: BreakerChange[] = [];
    const merger = new BreakerGaugeMerger(listingSink().sink, (change) => changes.push(change));
    merger.sinkFor('worker 0').setBreakerState(GPT, 'open', 'tripped in worker 0');
    merger.sinkFor('worker 1').setBreakerState(GPT, 'open', 'tripped in worker 1');
    merger.sinkFor('worker 0').setBreakerState(GPT, 'closed', 'half-open probe succeeded');
    assert.deepEqual(
      changes.map((change) => change.reason),
      ['tripped in worker 0'],
    );
  });

  it('leaves out a reason of a state not shown', () => {
    const changes: BreakerChange[] = [];
    const merger = new BreakerGaugeMerger(listingSink().sink, (change) => changes.push(change));
    merger.sinkFor('worker 0').setBreakerState(GPT, 'half-open', 'open wait ended');
    merger.sinkFor('worker 1').setBreakerState(GPT, 'open', 'tripped in worker 1');
    // worker 1 closes, yet the gauge shows worker 0's half-open, which this reason does not explain.
    merger.sinkFor('worker 1').setBreakerState(GPT, 'closed', 'half-open probe succeeded');
    assert.deepEqual(changes.at(-1), { ...GPT, from: 'open', to: 'half-open' });
  });

  it('gives the reason of a forgotten process', () => {
    const changes: BreakerChange[] = [];
    const merger = new BreakerGaugeMerger(listingSink().sink, (change) => changes.push(change));
    merger.sinkFor('worker 0').setBreakerState(GPT, 'open');
    merger.forget('worker 0', 'worker process 0 exited');
    assert.deepEqual(changes.at(-1), {
      ...GPT,
      from: 'open',
      to: 'closed',
      reason: 'worker process 0 exited',
    });
  });

  it('takes a reason relayed from a worker process', () => {
    const changes: BreakerChange[] = [];
    const merger = new BreakerGaugeMerger(listingSink().sink, (change) => changes.push(change));
    const batches: MetricCall[][] = [];
    const relay = createMetricRelay((calls) => batches.push(calls), 60_000);
    relay.setBreakerState(GPT, 'open', 'half-open probe failed with status_5xx');
    relay.close();
    // The batches cross the IPC channel as JSON.
    applyMetricCalls(merger.sinkFor('worker 0'), JSON.parse(JSON.stringify(batches[0])));
    assert.equal(changes[0]?.reason, 'half-open probe failed with status_5xx');
  });

  it('lists the shown state of each breaker', () => {
    const { merger, report } = breakerMerger();
    report('worker 0', GPT, 'open');
    report('worker 1', { ...GPT, model: 'gpt-4o-mini' }, 'closed');
    assert.deepEqual(merger.states(), [
      { ...GPT, state: 'open' },
      { ...GPT, model: 'gpt-4o-mini', state: 'closed' },
    ]);
  });

  it('passes other metric calls through', () => {
    const { merger, calls } = breakerMerger();
    merger.sinkFor('worker 0').recordFailover('provider-a', 'provider-b');
    assert.deepEqual(calls, ['recordFailover(["provider-a","provider-b"])']);
  });
});
