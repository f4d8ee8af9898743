import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { isReportValidationError } from '../../../src/harness/report/errors.js';
import type {
  BreakerRecord,
  PolicyChangeRecord,
  Report,
} from '../../../src/harness/report/types.js';
import { validateReport } from '../../../src/harness/report/validate.js';
import {
  sampleReport,
  sampleReportV1,
  sampleReportV2,
  sampleReportV3,
  sampleReportV4,
  sampleReportV5,
  sampleReportV6,
  sampleReportV7,
  sampleReportV8,
} from './sample-report.js';
import { sampleWorkerLossReport } from './sample-worker-loss.js';

/** Returns the message of the validation error that `report` raises. */
function errorOf(report: unknown): string {
  try {
    validateReport(report);
  } catch (error) {
    assert.ok(isReportValidationError(error), String(error));
    return error.message;
  }
  return assert.fail('the report validated');
}

/** Returns the breaker record of provider-a/gpt-4o in `report`, which has five transitions. */
function gptOf(report: Report): BreakerRecord {
  const gpt = report.drill?.breakers?.targets[0];
  assert.ok(gpt);
  return gpt;
}

/** A change to chat, which sampleReport exercises, and to summarize, which it does not. */
function policyChange(): PolicyChangeRecord {
  return {
    basePolicyPath: 'base.yaml',
    basePolicySha256: 'a'.repeat(64),
    changes: [
      { route: null, kind: 'changed', details: ['minRemainingRequests 0 -> 5'] },
      { route: 'chat', kind: 'changed', details: ['deadlineMs 25000 -> 30000'] },
      { route: 'summarize', kind: 'changed', details: ['deadlineMs 50000 -> 60000'] },
      { route: 'bench', kind: 'removed', details: [] },
    ],
    unexercisedRoutes: ['summarize'],
  };
}

describe('validateReport', () => {
  describe('toxic scope', () => {
    /** Returns the sample report with the toxic's recorded scope set to `toxic`. */
    function withToxicScope(toxic: unknown): Report {
      const report = sampleReport();
      const fault = report.drill?.faults.find((entry) => entry.id === 'fallback-latency');
      assert.ok(fault);
      Object.assign(fault, { toxic });
      return report;
    }

    it("accepts a toxic's stream and toxicity", () => {
      const report = withToxicScope({ stream: 'upstream', toxicity: 0.5 });
      assert.deepEqual(
        validateReport(report).drill?.faults.find((entry) => entry.id === 'fallback-latency')
          ?.toxic,
        {
          stream: 'upstream',
          toxicity: 0.5,
        },
      );
    });

    it('rejects a stream that is neither upstream nor downstream', () => {
      assert.match(errorOf(withToxicScope({ stream: 'sideways', toxicity: 1 })), /stream/);
    });

    it('rejects a toxicity above 1', () => {
      assert.match(errorOf(withToxicScope({ stream: 'downstream', toxicity: 2 })), /toxicity/);
    });
  });

  describe('schema versions', () => {
    it('accepts times to first token in version 7', () => {
      const series = validateReport(sampleReport()).topologies[0]?.timeSeries ?? [];
      assert.deepEqual(series[35]?.firstTokenByProvider, {
        'provider-b': { count: 30, sumS: 30 * 1.8 },
      });
    });

    it('accepts a version 6 report without times to first token', () => {
      const report = validateReport(sampleReportV6());
      assert.equal(report.schemaVersion, 6);
      assert.equal(report.topologies[0]?.timeSeries[35]?.firstTokenByProvider, undefined);
    });

    it('rejects times to first token in version 6', () => {
      const report = sampleReport();
      report.schemaVersion = 6;
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/timeSeries\/0\/firstTokenByProvider: not rule failed .*set schemaVersion to 7/,
      );
    });

    it('rejects a time to first token count of 0', () => {
      const report = sampleReport();
      const point = report.topologies[0]?.timeSeries[0];
      assert.ok(point);
      point.firstTokenByProvider = { 'provider-a': { count: 0, sumS: 0 } };
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/timeSeries\/0\/firstTokenByProvider\/provider-a\/count: minimum rule failed/,
      );
    });

    it('rejects a negative time to first token sum', () => {
      const report = sampleReport();
      const point = report.topologies[0]?.timeSeries[0];
      assert.ok(point);
      point.firstTokenByProvider = { 'provider-a': { count: 1, sumS: -0.5 } };
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/timeSeries\/0\/firstTokenByProvider\/provider-a\/sumS: minimum rule failed/,
      );
    });

    it("accepts the providers' bill in a version 6 report", () => {
      const bill = validateReport(sampleReport()).topologies[0]?.cost.providerBill;
      assert.equal(bill?.differenceUsd, 0.1);
      assert.equal(bill?.lines.length, 2);
    });

    it("accepts a version 5 report without the providers' bill", () => {
      const report = validateReport(sampleReportV5());
      assert.equal(report.schemaVersion, 5);
      assert.equal(report.topologies[0]?.cost.providerBill, undefined);
    });

    it("rejects the providers' bill in a version 5 report", () => {
      const report = sampleReportV6();
      report.schemaVersion = 5;
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/cost\/providerBill: not rule failed .*set schemaVersion to 6/,
      );
    });

    it("rejects a negative token count in the providers' bill", () => {
      const report = sampleReport();
      const line = report.topologies[0]?.cost.providerBill?.lines[0];
      assert.ok(line);
      line.inputTokens = -1;
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/cost\/providerBill\/lines\/0\/inputTokens: minimum rule failed/,
      );
    });

    it('accepts failovers by pair in a version 5 report', () => {
      const series = validateReport(sampleReport()).topologies[0]?.timeSeries ?? [];
      assert.deepEqual(series[23]?.failoversByPair, {
        'provider-a': { 'provider-b': 27, 'provider-c': 1 },
        'provider-b': { 'provider-c': 2 },
      });
      assert.deepEqual(series[0]?.failoversByPair, {});
    });

    it('accepts a version 4 report without failovers by pair', () => {
      const report = validateReport(sampleReportV4());
      assert.equal(report.schemaVersion, 4);
      assert.equal(report.topologies[0]?.timeSeries[23]?.failovers, 30);
      assert.equal(report.topologies[0]?.timeSeries[23]?.failoversByPair, undefined);
    });

    it('rejects failovers by pair in a version 4 report', () => {
      const report = sampleReport();
      report.schemaVersion = 4;
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/timeSeries\/0\/failoversByPair: not rule failed .*set schemaVersion to 5/,
      );
    });

    it('accepts a send window in a version 5 report', () => {
      assert.equal(validateReport(sampleReport()).topologies[0]?.sendWindowS, 90);
    });

    it('rejects a send window in a version 4 report', () => {
      const report = sampleReportV4();
      assert.ok(report.topologies[0]);
      report.topologies[0].sendWindowS = 90;
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/sendWindowS: not rule failed .*set schemaVersion to 5/,
      );
    });

    it('rejects a negative send window', () => {
      const report = sampleReport();
      assert.ok(report.topologies[0]);
      report.topologies[0].sendWindowS = -1;
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/sendWindowS: minimum rule failed/,
      );
    });

    it('rejects a zero failover count of a pair', () => {
      const report = sampleReport();
      const point = report.topologies[0]?.timeSeries[0];
      assert.ok(point);
      point.failoversByPair = { 'provider-a': { 'provider-b': 0 } };
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/timeSeries\/0\/failoversByPair\/provider-a\/provider-b: minimum rule failed/,
      );
    });

    it('rejects a provider without failover pairs', () => {
      const report = sampleReport();
      const point = report.topologies[0]?.timeSeries[0];
      assert.ok(point);
      point.failoversByPair = { 'provider-a': {} };
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/timeSeries\/0\/failoversByPair\/provider-a: minProperties rule failed/,
      );
    });

    it('rejects pairs that differ from the failovers', () => {
      const report = sampleReport();
      const point = report.topologies[0]?.timeSeries[23];
      assert.ok(point);
      point.failovers = 31;
      assert.equal(
        errorOf(report),
        'invalid report at /topologies/0/timeSeries/23/failovers: failoverPairSum rule failed ' +
          '(the pairs of failoversByPair add up to 30, got 31); expected the sum of the counts ' +
          'in failoversByPair',
      );
    });

    it('accepts admission rejections in a version 4 report', () => {
      const series = validateReport(sampleReportV4()).topologies[0]?.timeSeries ?? [];
      assert.deepEqual(series[60]?.admissionRejections, { 'tenant-noisy': 84 });
      assert.deepEqual(series[0]?.admissionRejections, {});
    });

    it('accepts a version 3 report without admission rejections', () => {
      assert.equal(validateReport(sampleReportV3()).schemaVersion, 3);
    });

    it('rejects admission rejections in a version 3 report', () => {
      const report = sampleReportV4();
      report.schemaVersion = 3;
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/timeSeries\/0\/admissionRejections: not rule failed .*set schemaVersion to 4/,
      );
    });

    it('rejects a zero admission rejection count', () => {
      const report = sampleReport();
      const point = report.topologies[0]?.timeSeries[0];
      assert.ok(point);
      point.admissionRejections = { 'tenant-noisy': 0 };
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/timeSeries\/0\/admissionRejections\/tenant-noisy: minimum rule failed/,
      );
    });

    it('accepts a version 3 report with breakers', () => {
      assert.equal(validateReport(sampleReportV3()).drill?.breakers?.targets.length, 3);
    });

    it('accepts queue gauges in a version 3 report', () => {
      const point = validateReport(sampleReportV3()).topologies[0]?.timeSeries[0];
      assert.equal(point?.queueDepth, 2);
      assert.equal(point?.queueOldestAgeS, 0.2);
    });

    it('accepts a version 3 worker pause', () => {
      const fault = validateReport(sampleWorkerLossReport()).drill?.faults[0];
      assert.equal(fault?.kind, 'worker-pause');
      assert.equal(fault?.workerPause?.slots, 24);
    });

    it('accepts a version 2 report without queue gauges', () => {
      assert.equal(validateReport(sampleReportV2()).schemaVersion, 2);
    });

    it('rejects queue gauges in a version 2 report', () => {
      const report = sampleReportV3();
      report.schemaVersion = 2;
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/timeSeries\/0\/queueDepth: not rule failed .*set schemaVersion to 3/,
      );
    });

    it('rejects a worker pause in a version 2 report', () => {
      const report = sampleWorkerLossReport();
      report.schemaVersion = 2;
      for (const point of report.topologies[0]?.timeSeries ?? []) {
        delete point.queueDepth;
        delete point.queueOldestAgeS;
      }
      assert.match(
        errorOf(report),
        /^invalid report at \/drill\/faults\/0\/kind: enum rule failed/,
      );
    });

    it('rejects a negative queue depth', () => {
      const report = sampleReport();
      const point = report.topologies[0]?.timeSeries[0];
      assert.ok(point);
      point.queueDepth = -1;
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/timeSeries\/0\/queueDepth: minimum rule failed/,
      );
    });

    it('accepts a version 1 report without breakers', () => {
      assert.equal(validateReport(sampleReportV1()).schemaVersion, 1);
    });

    it('accepts breakers of null', () => {
      const report = sampleReport();
      assert.ok(report.drill);
      report.drill.breakers = null;
      assert.equal(validateReport(report).drill?.breakers, null);
    });

    it('accepts a report without a drill', () => {
      assert.equal(validateReport({ ...sampleReport(), drill: null }).drill, null);
    });

    it('rejects a version 9 drill without breakers', () => {
      const report = sampleReport();
      delete report.drill?.breakers;
      assert.equal(
        errorOf(report),
        "invalid report at /drill: required rule failed (must have required property 'breakers'); " +
          'expected drill journal of schema version 2 to 9, which has a breakers field, null when not recorded',
      );
    });

    it('rejects breakers in a version 1 report', () => {
      const report = sampleReportV2();
      report.schemaVersion = 1;
      assert.match(
        errorOf(report),
        /^invalid report at \/drill\/breakers: not rule failed .*set schemaVersion to 2/,
      );
    });

    it('rejects an unknown version', () => {
      assert.match(
        errorOf({ ...sampleReport(), schemaVersion: 10 }),
        /^invalid report at \/schemaVersion: enum rule failed \(must be equal to one of the allowed values, got 10\)/,
      );
    });

    it('accepts fallback route calls in version 8', () => {
      const report = sampleReport();
      const entry = { route: 'chat', fallbackRoute: 'summarize', attempts: 12, succeeded: 9 };
      assert.ok(report.topologies[0]);
      report.topologies[0].fallbackRouteAttempts = [entry];
      assert.deepEqual(validateReport(report).topologies[0]?.fallbackRouteAttempts, [entry]);
    });

    it('accepts a version 7 report without fallback route calls', () => {
      const report = validateReport(sampleReportV7());
      assert.equal(report.schemaVersion, 7);
      assert.equal(report.topologies[0]?.fallbackRouteAttempts, undefined);
    });

    it('rejects fallback route calls in version 7', () => {
      const report = sampleReport();
      report.schemaVersion = 7;
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/fallbackRouteAttempts: not rule failed .*set schemaVersion to 8/,
      );
    });

    it('accepts requests cut by a stop in version 9', () => {
      const report = sampleReport();
      const point = report.topologies[0]?.timeSeries[4];
      assert.ok(point);
      point.cutByStop = 6;
      assert.equal(validateReport(report).topologies[0]?.timeSeries[4]?.cutByStop, 6);
    });

    it('accepts a version 8 report without cut requests', () => {
      const report = validateReport(sampleReportV8());
      assert.equal(report.schemaVersion, 8);
      assert.equal(report.topologies[0]?.timeSeries[4]?.cutByStop, undefined);
    });

    it('rejects requests cut by a stop in version 8', () => {
      const report = sampleReportV8();
      const point = report.topologies[0]?.timeSeries[4];
      assert.ok(point);
      point.cutByStop = 6;
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/timeSeries\/4\/cutByStop: not rule failed .*set schemaVersion to 9/,
      );
    });

    it('rejects a cut count of 0', () => {
      const report = sampleReport();
      const point = report.topologies[0]?.timeSeries[4];
      assert.ok(point);
      point.cutByStop = 0;
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/timeSeries\/4\/cutByStop: minimum rule failed/,
      );
    });

    it('accepts a topology cut count in version 9', () => {
      const report = sampleReport();
      const topology = report.topologies[0];
      assert.ok(topology);
      topology.cutByStop = 239;
      topology.cutAfterAccepted = 19;
      const validated = validateReport(report).topologies[0];
      assert.equal(validated?.cutByStop, 239);
      assert.equal(validated?.cutAfterAccepted, 19);
    });

    it('rejects a topology cut count in version 8', () => {
      const report = sampleReportV8();
      const topology = report.topologies[0];
      assert.ok(topology);
      topology.cutByStop = 163;
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/cutByStop: not rule failed .*set schemaVersion to 9/,
      );
    });

    it('rejects cut async tasks in version 8', () => {
      const report = sampleReportV8();
      const topology = report.topologies[0];
      assert.ok(topology);
      topology.cutAfterAccepted = 19;
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/cutAfterAccepted: not rule failed .*set schemaVersion to 9/,
      );
    });

    it('rejects a topology cut count of 0', () => {
      const report = sampleReport();
      const topology = report.topologies[0];
      assert.ok(topology);
      topology.cutByStop = 0;
      assert.match(
        errorOf(report),
        /^invalid report at \/topologies\/0\/cutByStop: minimum rule failed/,
      );
    });

    it('rejects more fallback successes than calls', () => {
      const report = sampleReport();
      const entry = { route: 'chat', fallbackRoute: 'summarize', attempts: 2, succeeded: 3 };
      assert.ok(report.topologies[0]);
      report.topologies[0].fallbackRouteAttempts = [entry];
      assert.equal(
        errorOf(report),
        'invalid report at /topologies/0/fallbackRouteAttempts/0/succeeded: fallbackSucceeded ' +
          'rule failed (more successful calls than the 2 calls, got 3); expected at most attempts',
      );
    });
  });

  describe('policy change', () => {
    it('accepts a version 4 report with a policy change', () => {
      const report = sampleReportV4();
      report.policyChange = policyChange();
      assert.deepEqual(validateReport(report).policyChange, policyChange());
    });

    it('accepts a policy change with the same settings', () => {
      const report = sampleReport();
      report.policyChange = { ...policyChange(), changes: [], unexercisedRoutes: [] };
      assert.deepEqual(validateReport(report).policyChange?.changes, []);
    });

    it('accepts a report without a policy change', () => {
      assert.equal(validateReport(sampleReport()).policyChange, undefined);
    });

    it('rejects a policy change in a version 3 report', () => {
      const report = sampleReportV3();
      report.policyChange = policyChange();
      assert.match(
        errorOf(report),
        /^invalid report at \/policyChange: not rule failed .*set schemaVersion to 4 to record it$/,
      );
    });

    it('rejects a short base policy hash', () => {
      const report = sampleReport();
      report.policyChange = { ...policyChange(), basePolicySha256: 'abc123' };
      assert.match(
        errorOf(report),
        /^invalid report at \/policyChange\/basePolicySha256: pattern rule failed .*got "abc123"\); expected sha256 hex digest of the base policy file, 64 lowercase hex digits$/,
      );
    });

    it('rejects an unknown change kind', () => {
      const report = sampleReport();
      const change = policyChange();
      (change.changes[1] as { kind: string }).kind = 'renamed';
      report.policyChange = change;
      assert.match(
        errorOf(report),
        /^invalid report at \/policyChange\/changes\/1\/kind: enum rule failed .*got "renamed"/,
      );
    });

    it('rejects a missing unexercisedRoutes', () => {
      const report = sampleReport();
      const { unexercisedRoutes: _, ...change } = policyChange();
      (report as { policyChange?: unknown }).policyChange = change;
      assert.match(
        errorOf(report),
        /^invalid report at \/policyChange: required rule failed \(must have required property 'unexercisedRoutes'\)/,
      );
    });

    it('rejects an exercised route as unexercised', () => {
      const report = sampleReport();
      report.policyChange = { ...policyChange(), unexercisedRoutes: ['chat', 'summarize'] };
      assert.equal(
        errorOf(report),
        'invalid report at /policyChange/unexercisedRoutes: unexercisedRoutes rule failed ' +
          '(the changes, scenario.routes and fallbackRouteAttempts give ["summarize"], ' +
          'got ["chat","summarize"]); expected the added or changed routes of ' +
          'policyChange.changes that are neither in scenario.routes nor a fallbackRoute of ' +
          'topologies[].fallbackRouteAttempts',
      );
    });

    it('rejects an unexercised change left out', () => {
      const report = sampleReport();
      report.policyChange = { ...policyChange(), unexercisedRoutes: [] };
      assert.match(
        errorOf(report),
        /^invalid report at \/policyChange\/unexercisedRoutes: unexercisedRoutes rule failed \(the changes, scenario\.routes and fallbackRouteAttempts give \["summarize"\], got \[\]\)/,
      );
    });

    it('accepts a fallback route reached as exercised', () => {
      const report = sampleReport();
      assert.ok(report.topologies[0]);
      report.topologies[0].fallbackRouteAttempts = [
        { route: 'chat', fallbackRoute: 'summarize', attempts: 4, succeeded: 0 },
      ];
      report.policyChange = { ...policyChange(), unexercisedRoutes: [] };
      assert.deepEqual(validateReport(report).policyChange?.unexercisedRoutes, []);
    });

    it('rejects a reached fallback route as unexercised', () => {
      const report = sampleReport();
      assert.ok(report.topologies[0]);
      report.topologies[0].fallbackRouteAttempts = [
        { route: 'chat', fallbackRoute: 'summarize', attempts: 4, succeeded: 3 },
      ];
      report.policyChange = policyChange();
      assert.match(
        errorOf(report),
        /^invalid report at \/policyChange\/unexercisedRoutes: unexercisedRoutes rule failed \(the changes, scenario\.routes and fallbackRouteAttempts give \[\], got \["summarize"\]\)/,
      );
    });

    it('keeps a version 7 fallback route unexercised', () => {
      const report = sampleReportV7();
      report.policyChange = policyChange();
      assert.deepEqual(validateReport(report).policyChange?.unexercisedRoutes, ['summarize']);
      report.policyChange = { ...policyChange(), unexercisedRoutes: [] };
      assert.match(errorOf(report), /^invalid report at \/policyChange\/unexercisedRoutes: /);
    });
  });

  describe('breakers', () => {
    it('rejects an unknown state', () => {
      const report = sampleReport();
      const transition = gptOf(report).transitions[0];
      assert.ok(transition);
      (transition as { to: string }).to = 'tripped';
      assert.match(
        errorOf(report),
        /^invalid report at \/drill\/breakers\/targets\/0\/transitions\/0\/to: enum rule failed/,
      );
    });

    it('rejects a negative offset', () => {
      const report = sampleReport();
      const transition = gptOf(report).transitions[0];
      assert.ok(transition);
      transition.atS = -1;
      assert.match(
        errorOf(report),
        /^invalid report at \/drill\/breakers\/targets\/0\/transitions\/0\/atS: minimum rule failed/,
      );
    });

    it('rejects a transition from another state', () => {
      const report = sampleReport();
      const transition = gptOf(report).transitions[1];
      assert.ok(transition);
      transition.from = 'closed';
      assert.equal(
        errorOf(report),
        'invalid report at /drill/breakers/targets/0/transitions/1/from: breakerChain rule ' +
          'failed (the breaker was open before this transition, got {"from":"closed","to":"half-open"}); ' +
          'expected from open, and a to state other than from',
      );
    });

    it('rejects transitions out of time order', () => {
      const report = sampleReport();
      const transition = gptOf(report).transitions[2];
      assert.ok(transition);
      transition.atS = 30;
      assert.match(
        errorOf(report),
        /^invalid report at \/drill\/breakers\/targets\/0\/transitions\/2\/atS: breakerOrder rule failed .*got 30\)/,
      );
    });

    it('rejects a transition after untilS', () => {
      const report = sampleReport();
      const breakers = report.drill?.breakers;
      assert.ok(breakers);
      breakers.untilS = 50;
      assert.match(
        errorOf(report),
        /^invalid report at \/drill\/breakers\/targets\/0\/transitions\/3\/atS: breakerOrder rule failed/,
      );
    });

    it('rejects an end state off the last transition', () => {
      const report = sampleReport();
      gptOf(report).endState = 'open';
      assert.equal(
        errorOf(report),
        'invalid report at /drill/breakers/targets/0/endState: breakerChain rule failed ' +
          '(not the state after the last transition, got "open"); expected closed',
      );
    });

    it('rejects an open time the transitions do not give', () => {
      const report = sampleReport();
      gptOf(report).openS = 31;
      assert.equal(
        errorOf(report),
        'invalid report at /drill/breakers/targets/0/openS: breakerOpenTime rule failed ' +
          '(the transitions give 30 s open, got 31); expected the seconds between each open ' +
          'and the next transition, or untilS',
      );
    });
  });

  describe('price table and tenants file', () => {
    /** The environment fields of a drill on the shipped fixture files. */
    const recorded = {
      pricesPath: 'fixtures/prices.yaml',
      pricesHash: 'a'.repeat(64),
      pricesEffectiveDate: '2025-01-15',
      tenantsPath: 'fixtures/tenants.yaml',
      tenantsHash: 'b'.repeat(64),
    };

    it('accepts the recorded files', () => {
      const report = sampleReport();
      report.environment = { ...report.environment, ...recorded };
      assert.deepEqual(validateReport(report).environment, report.environment);
    });

    it('accepts a report without them', () => {
      assert.equal(validateReport(sampleReport()).environment.pricesPath, undefined);
    });

    it('rejects a price table path without its hash', () => {
      const report = sampleReport();
      const { pricesHash: _, ...environment } = { ...report.environment, ...recorded };
      report.environment = environment;
      assert.match(
        errorOf(report),
        /^invalid report at \/environment: dependentRequired rule failed \(must have properties pricesHash, pricesEffectiveDate when property pricesPath is present, got /,
      );
    });

    it('rejects an effective date that is not a date', () => {
      const report = sampleReport();
      report.environment = {
        ...report.environment,
        ...recorded,
        pricesEffectiveDate: '15.01.2025',
      };
      assert.equal(
        errorOf(report),
        'invalid report at /environment/pricesEffectiveDate: pattern rule failed (must match ' +
          'pattern "^\\d{4}-\\d{2}-\\d{2}$", got "15.01.2025"); expected the price ' +
          "table's effectiveDate, a calendar date as YYYY-MM-DD",
      );
    });

    it('rejects a short tenants file hash', () => {
      const report = sampleReport();
      report.environment = { ...report.environment, ...recorded, tenantsHash: 'b'.repeat(12) };
      assert.equal(
        errorOf(report),
        'invalid report at /environment/tenantsHash: pattern rule failed (must match pattern ' +
          '"^[0-9a-f]{64}$", got "bbbbbbbbbbbb"); expected sha256 hex digest of the tenants ' +
          "file's bytes",
      );
    });
  });

  describe('committed reports', () => {
    // Both were written before the price table and tenants file were recorded.
    it('validates the two committed reports', async () => {
      const files = [
        'reports/20261206T034218Z-provider-outage/report.json',
        'reports/20261206T034432Z-worker-loss/report.json',
      ];
      for (const file of files) {
        const report = validateReport(JSON.parse(await readFile(file, 'utf8')));
        assert.equal(report.environment.pricesPath, undefined, file);
        assert.equal(report.environment.tenantsPath, undefined, file);
      }
    });

    it('validates every committed drill report', async () => {
      const runs = (await readdir('reports', { withFileTypes: true }))
        .filter((entry) => entry.isDirectory() && /^2026.*-provider-outage$/.test(entry.name))
        .map((entry) => join('reports', entry.name, 'report.json'));
      assert.ok(runs.length > 0, 'no committed provider-outage report under reports/');
      for (const file of runs) {
        const report = validateReport(JSON.parse(await readFile(file, 'utf8')));
        assert.equal(report.drill?.name, 'provider-outage', file);
      }
    });
  });
});
