import assert from 'node:assert/strict';
import { editPolicy, ONE_ROUTE, problemLines } from './policy-yaml-fixtures.js';

const BUDGET = 'retryBudget: { windowMs: 10000, maxRetriesPerWindow: 10, maxAttemptsPerTask: 3 }';

/** ONE_ROUTE with `ratio` set in its retry budget, on line 11 at column 60. */
function withRatio(ratio: string): string {
  return editPolicy(ONE_ROUTE, [
    [BUDGET, `retryBudget: { windowMs: 10000, maxAttemptsPerTask: 3, ratio: ${ratio} }`],
  ]);
}

describe('schema problem messages', () => {
  it('locates a repeated failoverOn item', () => {
    const text = editPolicy(ONE_ROUTE, [
      ['[status_5xx, connection_error]', '[status_5xx, connection_error, status_5xx]'],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:12:48 /routes/chat/failoverOn/2: duplicate item "status_5xx" (also at index 0); remove one',
    ]);
  });

  it('rejects an empty routes map', () => {
    assert.deepEqual(problemLines('version: 1\nroutes: {}\n'), [
      '  policies/x.yaml:2:1 /routes: the map is empty; add at least one entry, as policies/default.yaml does',
    ]);
  });

  it('rejects an empty candidate list', () => {
    const text = editPolicy(ONE_ROUTE, [
      [
        'candidates:\n      - { provider: oa, model: m1, weight: 1 }\n      - { provider: an, model: m2, weight: 0 }',
        'candidates: []',
      ],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:5:5 /routes/chat/candidates: the list is empty; add at least one item, as policies/default.yaml does',
    ]);
  });

  it('rejects an empty provider name', () => {
    const text = editPolicy(ONE_ROUTE, [['provider: oa', 'provider: ""']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:6:11 /routes/chat/candidates/0/provider: the value is an empty string; write a name, as policies/default.yaml does',
    ]);
  });

  it('suggests a close error class', () => {
    const text = editPolicy(ONE_ROUTE, [['[status_5xx, connection_error]', '[status_50x]']]);
    const [line] = problemLines(text);
    assert.ok(line?.startsWith('  policies/x.yaml:12:18 /routes/chat/failoverOn/0: "status_50x"'));
    assert.ok(line?.endsWith('malformed_response, aborted; did you mean "status_5xx"?'), line);
  });

  for (const [status, range] of [
    ['status_500', 'status_5xx'],
    ['status_503', 'status_5xx'],
    ['status_410', 'status_4xx'],
  ] as const) {
    it(`suggests ${range} for ${status}`, () => {
      const text = editPolicy(ONE_ROUTE, [['[status_5xx, connection_error]', `[${status}]`]]);
      const [line] = problemLines(text);
      const hint = `; did you mean "${range}"? It covers every ${range.slice(7, 8)}xx status without a class of its own`;
      assert.ok(line?.startsWith(`  policies/x.yaml:12:18 /routes/chat/failoverOn/0: "${status}"`));
      assert.ok(line?.endsWith(`malformed_response, aborted${hint}`), line);
    });
  }

  for (const [status, swapped, range] of [
    ['status_492', 'status_429', 'status_4xx'],
    ['status_592', 'status_529', 'status_5xx'],
  ] as const) {
    it(`suggests ${swapped} first for ${status}`, () => {
      const text = editPolicy(ONE_ROUTE, [['[status_5xx, connection_error]', `[${status}]`]]);
      const [line] = problemLines(text);
      const covers = `every ${range.slice(7, 8)}xx status without a class of its own`;
      const hint = `; did you mean "${swapped}"? Or "${range}", which covers ${covers}`;
      assert.ok(line?.endsWith(`malformed_response, aborted${hint}`), line);
    });
  }

  it('suggests only the range for a defined status', () => {
    // 431 is an HTTP status, so status_431 is no typo of status_413.
    const text = editPolicy(ONE_ROUTE, [['[status_5xx, connection_error]', '[status_431]']]);
    const [line] = problemLines(text);
    const hint =
      '; did you mean "status_4xx"? It covers every 4xx status without a class of its own';
    assert.ok(line?.endsWith(`malformed_response, aborted${hint}`), line);
  });

  it('suggests no distant error class', () => {
    const text = editPolicy(ONE_ROUTE, [['[status_5xx, connection_error]', '[timeout]']]);
    const [line] = problemLines(text);
    assert.ok(line?.endsWith('malformed_response, aborted'), line);
  });

  it('reads a ratio above 1 as a percentage', () => {
    assert.deepEqual(problemLines(withRatio('20')), [
      '  policies/x.yaml:11:60 /routes/chat/retryBudget/ratio: must be <= 1, received 20; it is a fraction, so write 0.2 for 20%',
    ]);
  });

  it('tells to lower a ratio above 100', () => {
    assert.deepEqual(problemLines(withRatio('150')), [
      '  policies/x.yaml:11:60 /routes/chat/retryBudget/ratio: must be <= 1, received 150; lower it to at most that',
    ]);
  });

  it('converts a percentage string to a fraction', () => {
    assert.deepEqual(problemLines(withRatio('15%')), [
      '  policies/x.yaml:11:60 /routes/chat/retryBudget/ratio: must be number, received "15%"; write it as a fraction, such as 0.15 for 15%',
    ]);
  });

  it('converts seconds to milliseconds', () => {
    const text = editPolicy(ONE_ROUTE, [['deadlineMs: 8000', 'deadlineMs: 30s']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:10:5 /routes/chat/deadlineMs: must be integer, received "30s"; write the number of milliseconds without a unit, such as 30000',
    ]);
  });

  it('converts minutes to milliseconds', () => {
    const text = editPolicy(ONE_ROUTE, [['cooldownMs: 15000', 'cooldownMs: 1.5 min']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:17:7 /routes/chat/breaker/cooldownMs: must be integer, received "1.5 min"; write the number of milliseconds without a unit, such as 90000',
    ]);
  });

  it('gives no millisecond fix outside Ms fields', () => {
    const text = editPolicy(ONE_ROUTE, [['halfOpenMaxProbes: 1', 'halfOpenMaxProbes: 2s']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:18:7 /routes/chat/breaker/halfOpenMaxProbes: must be integer, received "2s"; write a whole number',
    ]);
  });

  it('tells to round a fractional integer', () => {
    const text = editPolicy(ONE_ROUTE, [['qualityFloor: 2', 'qualityFloor: 1.6']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:4:5 /routes/chat/qualityFloor: must be integer, received 1.6; write a whole number, such as 2',
    ]);
  });

  it('tells to replace a boolean with a number', () => {
    const text = editPolicy(ONE_ROUTE, [['halfOpenMaxProbes: 1', 'halfOpenMaxProbes: true']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:18:7 /routes/chat/breaker/halfOpenMaxProbes: must be integer, received true; write a whole number',
    ]);
  });

  it('tells to fill in an empty value', () => {
    const text = editPolicy(ONE_ROUTE, [['    onExhausted: fail', '    fallbackRoute:']]);
    const lines = problemLines(text);
    assert.ok(
      lines.includes(
        '  policies/x.yaml:19:5 /routes/chat/fallbackRoute: must be string, received null; write a value after the colon',
      ),
      lines.join('\n'),
    );
  });

  it('describes the root map for a scalar file', () => {
    assert.deepEqual(problemLines('hello\n'), [
      '  policies/x.yaml:1:1: must be object, received "hello"; write a map with version: 1 and routes, as policies/default.yaml does',
    ]);
  });
});
