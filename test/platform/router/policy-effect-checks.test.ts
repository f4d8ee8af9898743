import assert from 'node:assert/strict';
import { parsePolicyYaml } from '../../../src/platform/router/index.js';
import { editPolicy, ONE_ROUTE, problemLines } from './policy-yaml-fixtures.js';
import { CATALOG } from './router-fixtures.js';

const BUDGET = 'maxRetriesPerWindow: 10';
const NO_RETRY_FIX = 'set maxAttemptsPerTask to 1 for no retries, or';

/** Returns ONE_ROUTE with `chat` falling back to the routes given as YAML lines. */
function withFallback(fallbackRoute: string, routes: readonly string[]): string {
  const chat = editPolicy(ONE_ROUTE, [
    ['    onExhausted: fail\n', `    onExhausted: fail\n    fallbackRoute: ${fallbackRoute}\n`],
  ]);
  return `${chat}${routes.join('\n')}\n`;
}

/** Returns the YAML lines of a route over `candidates` with chat's limits and breaker. */
function routeLines(name: string, candidates: string, fallbackRoute?: string): string[] {
  return [
    `  ${name}:`,
    '    qualityFloor: 2',
    `    candidates: ${candidates}`,
    '    firstTokenTimeoutMs: 2000',
    '    stallTimeoutMs: 5000',
    '    deadlineMs: 8000',
    '    retryBudget: { windowMs: 10000, maxRetriesPerWindow: 10, maxAttemptsPerTask: 3 }',
    '    failoverOn: [status_5xx]',
    '    breaker: { failureThreshold: 5, minimumRequests: 10, windowMs: 30000, cooldownMs: 15000, halfOpenMaxProbes: 1 }',
    '    onExhausted: fail',
    ...(fallbackRoute === undefined ? [] : [`    fallbackRoute: ${fallbackRoute}`]),
  ];
}

function accepts(text: string): void {
  assert.ok(parsePolicyYaml(text, CATALOG).routes.chat !== undefined);
}

describe('policy settings that cannot take effect', () => {
  it('rejects failureThreshold above minimumRequests', () => {
    const text = editPolicy(ONE_ROUTE, [['failureThreshold: 5', 'failureThreshold: 12']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:14:7 /routes/chat/breaker/failureThreshold: failureThreshold 12 is above minimumRequests 10, and failed calls count toward minimumRequests, so minimumRequests has no effect; set minimumRequests to 12 or more, or failureThreshold to 10 or less',
    ]);
  });

  it('rejects a qualityFloor no model reaches', () => {
    const text = editPolicy(ONE_ROUTE, [['qualityFloor: 2', 'qualityFloor: 4']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:4:5 /routes/chat/qualityFloor: qualityFloor 4 is above the quality tier of every model in the provider catalog, whose highest is 3 (oa/m1, an/m2); set qualityFloor to 3 or less',
    ]);
  });

  it('names the models that reach a qualityFloor', () => {
    const text = editPolicy(ONE_ROUTE, [['provider: an, model: m2', 'provider: low, model: tiny']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:7:26 /routes/chat/candidates/1/model: quality tier 1 of low/tiny is below qualityFloor 2; pick a model of tier 2 or above (oa/m1, an/m2), or lower the floor',
    ]);
  });

  it('accepts a qualityFloor at the highest tier', () => {
    accepts(editPolicy(ONE_ROUTE, [['qualityFloor: 2', 'qualityFloor: 3']]));
  });

  it('accepts failureThreshold equal to minimumRequests', () => {
    accepts(editPolicy(ONE_ROUTE, [['failureThreshold: 5', 'failureThreshold: 10']]));
  });

  it('rejects maxRetriesPerWindow 0 with retries per task', () => {
    const text = editPolicy(ONE_ROUTE, [[BUDGET, 'maxRetriesPerWindow: 0']]);
    assert.deepEqual(problemLines(text), [
      `  policies/x.yaml:11:37 /routes/chat/retryBudget/maxRetriesPerWindow: maxRetriesPerWindow 0 allows no retry in any window, and every call after a task's first is a retry, failovers included, so maxAttemptsPerTask 3 has no effect; ${NO_RETRY_FIX} raise maxRetriesPerWindow above 0`,
    ]);
  });

  it('accepts maxRetriesPerWindow 0 with one attempt per task', () => {
    accepts(
      editPolicy(ONE_ROUTE, [
        [BUDGET, 'maxRetriesPerWindow: 0'],
        ['maxAttemptsPerTask: 3', 'maxAttemptsPerTask: 1'],
      ]),
    );
  });

  it('rejects ratio 0 without minRetriesPerWindow', () => {
    const text = editPolicy(ONE_ROUTE, [[BUDGET, 'ratio: 0']]);
    assert.deepEqual(problemLines(text), [
      `  policies/x.yaml:11:37 /routes/chat/retryBudget/ratio: ratio 0 with minRetriesPerWindow 0 (the default) allows no retry in any window, and every call after a task's first is a retry, failovers included, so maxAttemptsPerTask 3 has no effect; ${NO_RETRY_FIX} raise ratio or minRetriesPerWindow above 0`,
    ]);
  });

  it('rejects ratio 0 with minRetriesPerWindow 0', () => {
    const text = editPolicy(ONE_ROUTE, [[BUDGET, 'ratio: 0, minRetriesPerWindow: 0']]);
    assert.deepEqual(problemLines(text), [
      `  policies/x.yaml:11:37 /routes/chat/retryBudget/ratio: ratio 0 with minRetriesPerWindow 0 allows no retry in any window, and every call after a task's first is a retry, failovers included, so maxAttemptsPerTask 3 has no effect; ${NO_RETRY_FIX} raise ratio or minRetriesPerWindow above 0`,
    ]);
  });

  it('accepts ratio 0 with retries always allowed', () => {
    accepts(editPolicy(ONE_ROUTE, [[BUDGET, 'ratio: 0, minRetriesPerWindow: 2']]));
  });

  it('accepts a small ratio alone', () => {
    accepts(editPolicy(ONE_ROUTE, [[BUDGET, 'ratio: 0.01']]));
  });

  it('rejects minRetriesPerWindow without ratio', () => {
    const text = editPolicy(ONE_ROUTE, [[BUDGET, `${BUDGET}, minRetriesPerWindow: 4`]]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:11:62 /routes/chat/retryBudget/minRetriesPerWindow: minRetriesPerWindow 4 has no effect without ratio, and the budget allows maxRetriesPerWindow 10 retries per window; remove minRetriesPerWindow, or add ratio',
    ]);
  });

  it('rejects a ratio that maxRetriesPerWindow always caps', () => {
    const budget = 'maxRetriesPerWindow: 5, ratio: 0.2, minRetriesPerWindow: 5';
    const text = editPolicy(ONE_ROUTE, [[BUDGET, budget]]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:11:61 /routes/chat/retryBudget/ratio: ratio has no effect, because minRetriesPerWindow 5 alone reaches maxRetriesPerWindow 5, so the budget always allows 5 retries per window; remove ratio and minRetriesPerWindow, or set minRetriesPerWindow below 5',
    ]);
  });

  it('accepts a ratio below maxRetriesPerWindow', () => {
    const budget = 'maxRetriesPerWindow: 5, ratio: 0.2, minRetriesPerWindow: 4';
    accepts(editPolicy(ONE_ROUTE, [[BUDGET, budget]]));
  });

  it('rejects a retry backoff that outlasts the deadline', () => {
    const text = editPolicy(ONE_ROUTE, [
      ['    deadlineMs: 8000\n', '    deadlineMs: 8000\n    retryBackoffMs: 16000\n'],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:11:5 /routes/chat/retryBackoffMs: retryBackoffMs 16000 makes a task wait at least 8000 ms before it calls a candidate again, at or above deadlineMs 8000, so the task waits out its deadline instead; set retryBackoffMs below 16000',
    ]);
  });

  it('accepts a retry backoff just inside the deadline', () => {
    accepts(
      editPolicy(ONE_ROUTE, [
        ['    deadlineMs: 8000\n', '    deadlineMs: 8000\n    retryBackoffMs: 15999\n'],
      ]),
    );
  });

  it('rejects a deadline the default backoff outlasts', () => {
    const text = editPolicy(ONE_ROUTE, [
      ['firstTokenTimeoutMs: 2000', 'firstTokenTimeoutMs: 20'],
      ['stallTimeoutMs: 5000', 'stallTimeoutMs: 20'],
      ['deadlineMs: 8000', 'deadlineMs: 50'],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:10:5 /routes/chat/deadlineMs: the default retryBackoffMs 100 makes a task wait at least 50 ms before it calls a candidate again, at or above deadlineMs 50, so the task waits out its deadline instead; set retryBackoffMs below 100, or raise deadlineMs above 50',
    ]);
  });

  it('rejects a backoff cap below the base wait', () => {
    const text = editPolicy(ONE_ROUTE, [
      [
        '    deadlineMs: 8000\n',
        '    deadlineMs: 8000\n    retryBackoffMs: 400\n    retryBackoffMaxMs: 300\n',
      ],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:12:5 /routes/chat/retryBackoffMaxMs: retryBackoffMaxMs 300 is below retryBackoffMs 400, and the router never caps a wait below the base wait; raise retryBackoffMaxMs to at least 400, or lower retryBackoffMs to 300 or less',
    ]);
  });

  it('rejects a backoff cap below the default base wait', () => {
    const text = editPolicy(ONE_ROUTE, [
      ['    deadlineMs: 8000\n', '    deadlineMs: 8000\n    retryBackoffMaxMs: 99\n'],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:11:5 /routes/chat/retryBackoffMaxMs: retryBackoffMaxMs 99 is below the default retryBackoffMs 100, and the router never caps a wait below the base wait; raise retryBackoffMaxMs to at least 100, or set retryBackoffMs to 99 or less',
    ]);
  });

  it('accepts a backoff cap equal to the base wait', () => {
    accepts(
      editPolicy(ONE_ROUTE, [
        ['    deadlineMs: 8000\n', '    deadlineMs: 8000\n    retryBackoffMaxMs: 100\n'],
      ]),
    );
  });

  it('accepts a long backoff with one attempt per task', () => {
    accepts(
      editPolicy(ONE_ROUTE, [
        ['    deadlineMs: 8000\n', '    deadlineMs: 8000\n    retryBackoffMs: 16000\n'],
        ['maxAttemptsPerTask: 3', 'maxAttemptsPerTask: 1'],
      ]),
    );
  });

  it('rejects a fallback route that adds no candidate', () => {
    const text = withFallback(
      'backup',
      routeLines('backup', '[{ provider: an, model: m2, weight: 1 }]'),
    );
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:20:5 /routes/chat/fallbackRoute: fallback route "backup" adds no candidate, because an/m2 is already a candidate of this route and the router lists each candidate once, so the fallback is never used; remove fallbackRoute, or give "backup" a candidate this route lacks',
    ]);
  });

  it('rejects a fallback chain that adds no candidate', () => {
    const text = withFallback('backup', [
      ...routeLines('backup', '[{ provider: an, model: m2, weight: 1 }]', 'spare'),
      ...routeLines('spare', '[{ provider: oa, model: m1, weight: 1 }]'),
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:20:5 /routes/chat/fallbackRoute: fallback routes "backup" -> "spare" add no candidate, because an/m2, oa/m1 are already candidates of this route and the router lists each candidate once, so the fallback is never used; remove fallbackRoute, or give one of "backup", "spare" a candidate this route lacks',
    ]);
  });

  it('accepts a fallback route with a new candidate', () => {
    const text = withFallback(
      'backup',
      routeLines('backup', '[{ provider: an, model: m2, weight: 1 }]'),
    );
    accepts(editPolicy(text, [['      - { provider: an, model: m2, weight: 0 }\n', '']]));
  });
});
