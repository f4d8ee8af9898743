import assert from 'node:assert/strict';

import { runLoad } from '../../../src/harness/load/engine.js';
import { reportCostOf, topologyFromLoad } from '../../../src/harness/report/from-load.js';
import { validateReport } from '../../../src/harness/report/validate.js';
import { loadPriceTable, MemoryCostLedger } from '../../../src/platform/cost/index.js';
import { startFakeGateway } from '../load/fake-gateway.js';
import { replaySpec, TEST_KEYS } from '../load/sample-spec.js';
import { latency, sampleLoadResult as loadResult } from './sample-load-result.js';
import { sampleReport } from './sample-report.js';

describe('topologyFromLoad', () => {
  const extras = {
    topology: 'workers',
    failovers: [{ fromProvider: 'provider-a', toProvider: 'provider-b', activations: 4 }],
    cost: { meanUsd: 0.01, p95Usd: 0.02, totalUsd: 2.3, byTenant: [], byRoute: [] },
    servedBySecond: new Map([[0, { 'provider-a': 1 }]]),
  };

  it('converts milliseconds to seconds', () => {
    const topology = topologyFromLoad(loadResult(), extras);
    assert.deepEqual(topology.latency, { p50S: 0.8, p95S: 2.4, p99S: 3.1 });
    assert.equal(topology.timeSeries[0]?.p95S, 1.5);
  });

  it('copies the queue gauges of each read second', () => {
    const result = loadResult();
    result.timeSeries = [
      { second: 0, requests: 1, successes: 1, failures: 0, aborted: 0, p95Ms: 900 },
      { second: 1, requests: 1, successes: 1, failures: 0, aborted: 0, p95Ms: 900 },
    ];
    const queueBySecond = new Map([[1, { depth: 42, oldestAgeS: 7.5 }]]);
    const [first, second] = topologyFromLoad(result, { ...extras, queueBySecond }).timeSeries;
    assert.equal(first?.queueDepth, undefined);
    assert.equal(first?.queueOldestAgeS, undefined);
    assert.equal(second?.queueDepth, 42);
    assert.equal(second?.queueOldestAgeS, 7.5);
  });

  it('copies the failovers by pair of each read second', () => {
    const result = loadResult();
    result.timeSeries = [
      { second: 0, requests: 1, successes: 1, failures: 0, aborted: 0, p95Ms: 900 },
      { second: 1, requests: 1, successes: 1, failures: 0, aborted: 0, p95Ms: 900 },
    ];
    const failoversBySecond = new Map([[0, 4]]);
    const failoversByPairBySecond = new Map([
      [0, { 'provider-a': { 'provider-b': 3, 'provider-c': 1 } }],
    ]);
    const [first, second] = topologyFromLoad(result, {
      ...extras,
      failoversBySecond,
      failoversByPairBySecond,
    }).timeSeries;
    assert.equal(first?.failovers, 4);
    assert.deepEqual(first?.failoversByPair, {
      'provider-a': { 'provider-b': 3, 'provider-c': 1 },
    });
    assert.equal(second?.failovers, 0);
    assert.equal(second?.failoversByPair, undefined);
  });

  it('copies first token times per second', () => {
    const result = loadResult();
    result.timeSeries = [
      { second: 0, requests: 1, successes: 1, failures: 0, aborted: 0, p95Ms: 900 },
      { second: 1, requests: 1, successes: 1, failures: 0, aborted: 0, p95Ms: 900 },
    ];
    const firstTokenBySecond = new Map([[1, { 'provider-b': { count: 2, sumS: 3.5 } }]]);
    const [first, second] = topologyFromLoad(result, { ...extras, firstTokenBySecond }).timeSeries;
    assert.equal(first?.firstTokenByProvider, undefined);
    assert.deepEqual(second?.firstTokenByProvider, { 'provider-b': { count: 2, sumS: 3.5 } });
  });

  it('copies the admission rejections of each read second', () => {
    const result = loadResult();
    result.timeSeries = [
      { second: 0, requests: 1, successes: 1, failures: 0, aborted: 0, p95Ms: 900 },
      { second: 1, requests: 1, successes: 1, failures: 0, aborted: 0, p95Ms: 900 },
    ];
    const admissionRejectionsBySecond = new Map([[0, { 'tenant-noisy': 12 }]]);
    const [first, second] = topologyFromLoad(result, {
      ...extras,
      admissionRejectionsBySecond,
    }).timeSeries;
    assert.deepEqual(first?.admissionRejections, { 'tenant-noisy': 12 });
    assert.equal(second?.admissionRejections, undefined);
  });

  it('counts aborts against second success', () => {
    const result = loadResult();
    result.timeSeries = [
      { second: 0, requests: 4, successes: 2, failures: 0, aborted: 2, p95Ms: 1500 },
    ];
    const [point] = topologyFromLoad(result, extras).timeSeries;
    assert.equal(point?.requests, 4);
    assert.equal(point?.successRate, 0.5);
    assert.equal(point?.throughputRpm, 120);
  });

  it('leaves requests a stop cut out', () => {
    const result = loadResult();
    result.drain = { timeoutSec: 0, endedBy: 'signal', aborted: 6 };
    result.timeSeries = [
      { second: 0, requests: 3, successes: 1, failures: 0, aborted: 0, p95Ms: 1500 },
      { second: 1, requests: 4, successes: 1, failures: 1, aborted: 6, p95Ms: 1500 },
    ];
    const [first, second] = topologyFromLoad(result, extras).timeSeries;
    assert.equal(first?.requests, 1);
    assert.equal(first?.cutByStop, undefined);
    assert.equal(second?.requests, 2);
    assert.equal(second?.successRate, 0.5);
    assert.equal(second?.cutByStop, 6);
    assert.equal(second?.throughputRpm, 120);
  });

  it('leaves a stop cut out of success', () => {
    const result = loadResult();
    result.drain = { timeoutSec: 0, endedBy: 'signal', aborted: 6 };
    result.requests = { ...result.requests, sent: 24, succeeded: 15, failed: 3, aborted: 6 };
    result.successRate = 15 / 24;
    result.latency.byRoute = { chat: latency(700, 2000, 2900) };
    result.successRateByTenant = { 'tenant-alpha': { finished: 12, succeeded: 8, aborted: 4 } };
    result.successRateByRoute = { chat: { finished: 24, succeeded: 15, aborted: 6 } };
    const topology = topologyFromLoad(result, extras);
    assert.equal(topology.requests, 24);
    assert.equal(topology.successRate, 15 / 18);
    assert.equal(topology.perTenant[0]?.requests, 12);
    assert.equal(topology.perTenant[0]?.successRate, 8 / 8);
    assert.equal(topology.perRoute[0]?.requests, 24);
    assert.equal(topology.perRoute[0]?.successRate, 15 / 18);
  });

  it('leaves a stop cut out of latency', () => {
    // Of 892 requests sent, the stop cut 163, whose waits pull every percentile down.
    const result = loadResult();
    result.drain = { timeoutSec: 0, endedBy: 'signal', aborted: 163 };
    result.requests = { ...result.requests, sent: 892, succeeded: 700, failed: 29, aborted: 163 };
    result.statusCodes = { '200': 700, '503': 29 };
    result.latency = {
      overall: latency(2800, 4100, 4600),
      byTenant: { 'tenant-alpha': latency(2700, 4000, 4500) },
      byRoute: { chat: latency(2750, 4050, 4550) },
      byTopology: {},
      completed: {
        overall: latency(3900, 4400, 4900),
        byTenant: { 'tenant-alpha': latency(3800, 4300, 4800) },
        byRoute: { chat: latency(3850, 4350, 4850) },
      },
    };
    result.successRateByTenant = {
      'tenant-alpha': { finished: 892, succeeded: 700, aborted: 163 },
    };
    result.successRateByRoute = { chat: { finished: 892, succeeded: 700, aborted: 163 } };
    const topology = topologyFromLoad(result, extras);
    assert.deepEqual(topology.latency, { p50S: 3.9, p95S: 4.4, p99S: 4.9 });
    assert.deepEqual(topology.perTenant[0]?.latency, { p50S: 3.8, p95S: 4.3, p99S: 4.8 });
    assert.deepEqual(topology.perRoute[0]?.latency, { p50S: 3.85, p95S: 4.35, p99S: 4.85 });
    assert.deepEqual(topology.statusCounts, { '200': 700, '503': 29 });
    assert.equal(topology.cutByStop, 163);
    assert.equal('cutAfterAccepted' in topology, false);
    const responses = Object.values(topology.statusCounts).reduce((sum, n) => sum + n, 0);
    assert.equal(responses + (topology.cutByStop ?? 0), topology.requests);
  });

  it('counts async tasks a stop cut', () => {
    // 19 of the 239 cut requests were async tasks whose submissions had returned 202.
    const result = loadResult();
    result.drain = { timeoutSec: 0, endedBy: 'signal', aborted: 239 };
    result.requests = { ...result.requests, sent: 1658, succeeded: 1400, failed: 19, aborted: 239 };
    result.statusCodes = { '200': 1276, '202': 162 };
    result.async = { ...result.async, accepted: 162, succeeded: 124, failed: 19, aborted: 19 };
    const topology = topologyFromLoad(result, extras);
    assert.equal(topology.cutByStop, 239);
    assert.equal(topology.cutAfterAccepted, 19);
    const responses = Object.values(topology.statusCounts).reduce((sum, n) => sum + n, 0);
    assert.equal(responses + 239 - 19, topology.requests);
  });

  it('leaves a stop cut out of a real run', async () => {
    // The fake gateway replies to the first 10 posts at once and never to the 5 after them.
    const gateway = await startFakeGateway({ hangAfter: 10 });
    try {
      const offsets = Array.from({ length: 15 }, (_, index) => index * 10);
      const { spec, traceRows } = replaySpec(offsets, { target: gateway.url, durationSec: 5 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('interrupted by SIGINT')), 1500);
      const result = await runLoad(spec, { keys: TEST_KEYS, traceRows, signal: controller.signal });
      const topology = topologyFromLoad(result, extras);
      assert.equal(topology.requests, 15);
      assert.deepEqual(topology.statusCounts, { '200': 10 });
      assert.equal(topology.cutByStop, 5);
      assert.equal('cutAfterAccepted' in topology, false);
      assert.equal(topology.successRate, 1);
      // Each cut request waited at least 1.3 s, and each request with a reply took far less.
      assert.ok(topology.latency.p99S < 1, `p99 ${topology.latency.p99S} s`);
      assert.ok(result.latency.overall.p99 >= 1300, `load p99 ${result.latency.overall.p99} ms`);
    } finally {
      await gateway.close();
    }
  });

  it('keeps a group the stop cut whole', () => {
    const result = loadResult();
    result.drain = { timeoutSec: 0, endedBy: 'signal', aborted: 2 };
    result.requests = { ...result.requests, sent: 12, succeeded: 10, failed: 0, aborted: 2 };
    result.latency.byTenant = {
      'tenant-alpha': latency(700, 2000, 2900),
      'tenant-beta': latency(300, 400, 400),
    };
    result.latency.completed = {
      overall: latency(700, 2000, 2900),
      byTenant: { 'tenant-alpha': latency(700, 2000, 2900) },
      byRoute: {},
    };
    result.successRateByTenant = {
      'tenant-alpha': { finished: 10, succeeded: 10, aborted: 0 },
      'tenant-beta': { finished: 2, succeeded: 0, aborted: 2 },
    };
    const [alpha, beta] = topologyFromLoad(result, extras).perTenant;
    assert.equal(alpha?.key, 'tenant-alpha');
    assert.deepEqual(alpha?.latency, { p50S: 0.7, p95S: 2, p99S: 2.9 });
    assert.equal(beta?.key, 'tenant-beta');
    assert.equal(beta?.requests, 2);
    assert.equal(beta?.successRate, 0);
    assert.deepEqual(beta?.latency, { p50S: 0, p95S: 0, p99S: 0 });
  });

  it('keeps drain aborts in latency', () => {
    const result = loadResult();
    result.drain = { timeoutSec: 20, endedBy: 'timeout', aborted: 6 };
    result.requests = { ...result.requests, sent: 24, succeeded: 15, failed: 3, aborted: 6 };
    result.statusCodes = { '200': 15, '502': 3 };
    result.async = { ...result.async, accepted: 2, aborted: 2 };
    result.latency = {
      overall: latency(2800, 4100, 4600),
      byTenant: { 'tenant-alpha': latency(2700, 4000, 4500) },
      byRoute: {},
      byTopology: {},
      completed: {
        overall: latency(3900, 4400, 4900),
        byTenant: { 'tenant-alpha': latency(3800, 4300, 4800) },
        byRoute: {},
      },
    };
    const topology = topologyFromLoad(result, extras);
    assert.deepEqual(topology.latency, { p50S: 2.8, p95S: 4.1, p99S: 4.6 });
    assert.deepEqual(topology.perTenant[0]?.latency, { p50S: 2.7, p95S: 4, p99S: 4.5 });
    assert.deepEqual(topology.statusCounts, { '200': 15, '502': 3 });
    assert.equal('cutByStop' in topology, false);
    assert.equal('cutAfterAccepted' in topology, false);
  });

  it('counts drain aborts against success', () => {
    const result = loadResult();
    result.drain = { timeoutSec: 20, endedBy: 'timeout', aborted: 6 };
    result.requests = { ...result.requests, sent: 24, succeeded: 15, failed: 3, aborted: 6 };
    result.successRate = 15 / 24;
    result.successRateByTenant = { 'tenant-alpha': { finished: 12, succeeded: 8, aborted: 4 } };
    const topology = topologyFromLoad(result, extras);
    assert.equal(topology.successRate, 15 / 24);
    assert.equal(topology.perTenant[0]?.successRate, 8 / 12);
  });

  it('counts aborts of the drain deadline', () => {
    const result = loadResult();
    result.drain = { timeoutSec: 20, endedBy: 'timeout', aborted: 2 };
    result.timeSeries = [
      { second: 0, requests: 4, successes: 2, failures: 0, aborted: 2, p95Ms: 1500 },
    ];
    const [point] = topologyFromLoad(result, extras).timeSeries;
    assert.equal(point?.requests, 4);
    assert.equal(point?.successRate, 0.5);
    assert.equal(point?.cutByStop, undefined);
  });

  it('computes throughput per minute', () => {
    assert.equal(topologyFromLoad(loadResult(), extras).throughputRpm, 120);
  });

  it('takes throughput from the send window', () => {
    const result = loadResult();
    result.throughput = {
      windowSec: 100,
      offeredRpm: 144,
      completedInWindow: 230,
      completedRpm: 138,
    };
    assert.equal(topologyFromLoad(result, extras).throughputRpm, 138);
  });

  it('records the send window', () => {
    const result = loadResult();
    // An aborted drill stops the load 41.25 s into its schedule.
    result.throughput = { windowSec: 41.25, offeredRpm: 144 };
    assert.equal(topologyFromLoad(result, extras).sendWindowS, 41.25);
  });

  it('leaves out a send window it lacks', () => {
    const result = loadResult();
    delete result.throughput;
    assert.equal('sendWindowS' in topologyFromLoad(result, extras), false);
  });

  it('breaks results down per route', () => {
    const result = loadResult();
    result.latency.byRoute = { chat: latency(600, 1800, 2500) };
    result.successRateByRoute = { chat: { finished: 40, succeeded: 38, aborted: 0 } };
    const [chat] = topologyFromLoad(result, extras).perRoute;
    assert.equal(chat?.key, 'chat');
    assert.equal(chat?.requests, 40);
    assert.equal(chat?.successRate, 0.95);
    assert.equal(chat?.latency.p95S, 1.8);
  });

  it('leaves routes empty without outcomes', () => {
    assert.deepEqual(topologyFromLoad(loadResult(), extras).perRoute, []);
  });

  it('falls back to the offered rate', () => {
    const result = loadResult();
    result.throughput = { windowSec: 100, offeredRpm: 144 };
    assert.equal(topologyFromLoad(result, extras).throughputRpm, 144);
  });

  it('copies harness health counts', () => {
    const health = topologyFromLoad(loadResult(), extras).harness;
    assert.deepEqual(health, {
      valid: true,
      reasons: [],
      lagP99Ms: 4,
      droppedSends: 1,
      lateSends: 3,
    });
  });

  it('breaks down success per tenant', () => {
    const [alpha] = topologyFromLoad(loadResult(), extras).perTenant;
    assert.equal(alpha?.successRate, 0.98);
    assert.equal(alpha?.requests, 200);
  });

  it('fits the report schema', () => {
    const report = { ...sampleReport(), topologies: [topologyFromLoad(loadResult(), extras)] };
    assert.equal(validateReport(report).topologies[0]?.topology, 'workers');
  });
});

describe('reportCostOf', () => {
  it('gives priced tokens as exact decimals', async () => {
    const prices = await loadPriceTable();
    const ledger = new MemoryCostLedger();
    // gpt-4o prices 135 input tokens at 0.0003375 and 32 output tokens at 0.00032, whose float
    // sum is 0.0006575000000000001.
    const usages = [
      { inputTokens: 135, outputTokens: 0 },
      { inputTokens: 0, outputTokens: 32 },
    ];
    for (const [index, usage] of usages.entries()) {
      await ledger.record({
        taskId: `task-${index}`,
        tenantId: 'tenant-alpha',
        route: 'chat',
        provider: 'provider-a',
        model: 'gpt-4o',
        usage,
        tokenCostUsd: prices.priceTokens('provider-a', 'gpt-4o', usage),
        executorCostUsd: 0,
      });
    }

    const cost = reportCostOf(await ledger.summary(), 0);

    assert.equal(cost.totalUsd, 0.0006575);
    assert.equal(cost.meanUsd, 0.00032875);
    const slice = { key: 'chat', meanUsd: 0.00032875, p95Usd: 0.0003375, totalUsd: 0.0006575 };
    assert.deepEqual(cost.byRoute, [slice]);
    assert.equal(
      JSON.stringify(cost.byTenant),
      '[{"key":"tenant-alpha","meanUsd":0.00032875,"p95Usd":0.0003375,"totalUsd":0.0006575}]',
    );
  });
});
