import assert from 'node:assert/strict';
import { parsePolicyYaml } from '../../../src/platform/router/index.js';
import { problemLines } from './policy-yaml-fixtures.js';
import { CATALOG } from './router-fixtures.js';

interface RouteSpec {
  name: string;
  candidates: string;
  breaker?: string;
  fallbackRoute?: string;
}

const OA = '{ provider: oa, model: m1, weight: 1 }';
const AN = '{ provider: an, model: m2, weight: 1 }';
const LOW = '{ provider: low, model: tiny, weight: 1 }';

/**
 * Returns a policy whose routes take `&breaker` unless they give their own breaker. Route i
 * (from 0) starts on line 6 + 10 i, and its breaker is on line 14 + 10 i.
 */
function policyText(routes: readonly RouteSpec[]): string {
  const lines = [
    'version: 1',
    'x-shared:',
    '  breaker: &breaker { failureThreshold: 5, minimumRequests: 10, windowMs: 30000, cooldownMs: 15000, halfOpenMaxProbes: 1 }',
    '  retryBudget: &budget { windowMs: 10000, maxRetriesPerWindow: 10, maxAttemptsPerTask: 3 }',
    'routes:',
  ];
  for (const route of routes) {
    lines.push(
      `  ${route.name}:`,
      '    qualityFloor: 1',
      `    candidates: [${route.candidates}]`,
      '    firstTokenTimeoutMs: 2000',
      '    stallTimeoutMs: 5000',
      '    deadlineMs: 8000',
      '    retryBudget: *budget',
      '    failoverOn: [status_5xx]',
      `    breaker: ${route.breaker ?? '*breaker'}`,
      route.fallbackRoute === undefined
        ? '    onExhausted: fail'
        : `    onExhausted: fail\n    fallbackRoute: ${route.fallbackRoute}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const FIX =
  'the router keeps one breaker per provider/model and builds it from the settings of the first route that calls it';

describe('shared breaker check', () => {
  it('reports a merge-key override at the route', () => {
    const text = policyText([
      { name: 'chat', candidates: `${OA}, ${AN}`, breaker: '{ <<: *breaker, cooldownMs: 5000 }' },
      { name: 'chat-fast', candidates: `${AN}, ${OA}` },
      { name: 'summarize', candidates: OA },
      { name: 'bench', candidates: LOW },
    ]);
    assert.deepEqual(problemLines(text), [
      `  policies/x.yaml:14:30 /routes/chat/breaker/cooldownMs: breaker settings differ from those of routes chat-fast, summarize, which share oa/m1, an/m2 with this route: cooldownMs is 5000 here and 15000 there; ${FIX}, so set cooldownMs to 15000 here, or change routes chat-fast, summarize to match`,
    ]);
  });

  it('reports the later route on a tie', () => {
    const text = policyText([
      { name: 'chat', candidates: OA },
      { name: 'chat-fast', candidates: OA, breaker: '{ <<: *breaker, windowMs: 1000 }' },
    ]);
    assert.deepEqual(problemLines(text), [
      `  policies/x.yaml:24:30 /routes/chat-fast/breaker/windowMs: breaker settings differ from those of route chat, which shares oa/m1 with this route: windowMs is 1000 here and 30000 there; ${FIX}, so set windowMs to 30000 here, or change route chat to match`,
    ]);
  });

  it('names every differing field', () => {
    const text = policyText([
      {
        name: 'chat',
        candidates: OA,
        breaker: '{ <<: *breaker, cooldownMs: 5000, windowMs: 1000 }',
      },
      { name: 'chat-fast', candidates: OA },
      { name: 'summarize', candidates: OA },
    ]);
    assert.deepEqual(problemLines(text), [
      `  policies/x.yaml:14:48 /routes/chat/breaker/windowMs: breaker settings differ from those of routes chat-fast, summarize, which share oa/m1 with this route: windowMs is 1000 here and 30000 there, cooldownMs is 5000 here and 15000 there; ${FIX}, so set windowMs to 30000 and cooldownMs to 15000 here, or change routes chat-fast, summarize to match`,
    ]);
  });

  it('counts candidates of a fallback route', () => {
    const text = policyText([
      {
        name: 'chat',
        candidates: OA,
        breaker: '{ <<: *breaker, cooldownMs: 5000 }',
        fallbackRoute: 'spare',
      },
      { name: 'spare', candidates: AN },
      { name: 'bench', candidates: LOW },
    ]);
    assert.deepEqual(problemLines(text), [
      `  policies/x.yaml:14:30 /routes/chat/breaker/cooldownMs: breaker settings differ from those of route spare, which shares an/m2 with this route: cooldownMs is 5000 here and 15000 there; ${FIX}, so set cooldownMs to 15000 here, or change route spare to match`,
    ]);
  });

  it('reports an anchor that only differing routes use once', () => {
    const text = policyText([
      { name: 'chat', candidates: OA, breaker: '&fast { <<: *breaker, cooldownMs: 5000 }' },
      { name: 'chat-fast', candidates: OA, breaker: '*fast' },
      { name: 'summarize', candidates: OA },
      { name: 'bench', candidates: OA },
      { name: 'batch', candidates: OA },
    ]);
    assert.deepEqual(problemLines(text), [
      `  policies/x.yaml:14:36 /routes/chat/breaker/cooldownMs: breaker settings differ from those of routes summarize, bench, batch, which share oa/m1 with this route: cooldownMs is 5000 here and 15000 there; ${FIX}, so set cooldownMs to 15000 here, or change routes summarize, bench, batch to match (anchor &fast, used by routes chat, chat-fast)`,
    ]);
  });

  it('accepts one breaker written twice', () => {
    const text = policyText([
      {
        name: 'chat',
        candidates: OA,
        breaker:
          '{ halfOpenMaxProbes: 1, cooldownMs: 15000, windowMs: 30000, minimumRequests: 10, failureThreshold: 5 }',
      },
      { name: 'chat-fast', candidates: OA },
    ]);
    assert.ok(parsePolicyYaml(text, CATALOG).routes.chat !== undefined);
  });

  it('accepts different breakers on different models', () => {
    const text = policyText([
      { name: 'chat', candidates: OA, breaker: '{ <<: *breaker, cooldownMs: 5000 }' },
      { name: 'chat-fast', candidates: AN },
    ]);
    assert.ok(parsePolicyYaml(text, CATALOG).routes.chat !== undefined);
  });
});
