import assert from 'node:assert/strict';
import { parsePolicyYaml } from '../../../src/platform/router/index.js';
import { editPolicy, ONE_ROUTE, problemLines } from './policy-yaml-fixtures.js';
import { CATALOG } from './router-fixtures.js';

const PROVIDERS = CATALOG.map((provider) => provider.name).join(', ');

/** Three routes sharing one breaker and one retry budget through anchors; chat is on line 11. */
const SHARED = [
  'version: 1',
  'x-shared:',
  '  breaker: &breaker',
  '    failureThreshold: 5',
  '    minimumRequests: 10',
  '    windowMs: 30000',
  '    cooldownMs: 15000',
  '    halfOpenMaxProbes: 1',
  '  retryBudget: &budget { windowMs: 10000, maxRetriesPerWindow: 10, maxAttemptsPerTask: 3 }',
  'routes:',
  '  chat:',
  '    qualityFloor: 2',
  '    candidates: [{ provider: oa, model: m1, weight: 1 }]',
  '    firstTokenTimeoutMs: 2000',
  '    stallTimeoutMs: 5000',
  '    deadlineMs: 8000',
  '    retryBudget: *budget',
  '    failoverOn: [status_5xx]',
  '    breaker: *breaker',
  '    onExhausted: fail',
  '  chat-fast:',
  '    qualityFloor: 2',
  '    candidates: [{ provider: an, model: m2, weight: 1 }]',
  '    firstTokenTimeoutMs: 2000',
  '    stallTimeoutMs: 5000',
  '    deadlineMs: 8000',
  '    retryBudget: *budget',
  '    failoverOn: [status_5xx]',
  '    breaker: *breaker',
  '    onExhausted: fail',
  '  summarize:',
  '    qualityFloor: 1',
  '    candidates: [{ provider: low, model: tiny, weight: 1 }]',
  '    firstTokenTimeoutMs: 2000',
  '    stallTimeoutMs: 5000',
  '    deadlineMs: 8000',
  '    retryBudget: *budget',
  '    failoverOn: [status_5xx]',
  '    breaker: *breaker',
  '    onExhausted: fail',
  '',
].join('\n');

/** Two routes that take their timeouts from one map through merge keys. */
const MERGED = [
  'version: 1',
  'x-limits: &limits',
  '  firstTokenTimeoutMs: 7000',
  '  stallTimeoutMs: 5000',
  'routes:',
  '  chat:',
  '    <<: *limits',
  '    qualityFloor: 2',
  '    candidates: [{ provider: oa, model: m1, weight: 1 }]',
  '    deadlineMs: 8000',
  '    retryBudget: { windowMs: 10000, maxRetriesPerWindow: 10, maxAttemptsPerTask: 3 }',
  '    failoverOn: [status_5xx]',
  '    breaker: { failureThreshold: 5, minimumRequests: 10, windowMs: 30000, cooldownMs: 15000, halfOpenMaxProbes: 1 }',
  '    onExhausted: fail',
  '  chat-fast:',
  '    <<: *limits',
  '    qualityFloor: 2',
  '    candidates: [{ provider: an, model: m2, weight: 1 }]',
  '    deadlineMs: 8000',
  '    retryBudget: { windowMs: 10000, maxRetriesPerWindow: 10, maxAttemptsPerTask: 3 }',
  '    failoverOn: [status_5xx]',
  '    breaker: { failureThreshold: 5, minimumRequests: 10, windowMs: 30000, cooldownMs: 15000, halfOpenMaxProbes: 1 }',
  '    onExhausted: fail',
  '',
].join('\n');

describe('parsePolicyYaml', () => {
  it('accepts the fixtures as written', () => {
    for (const text of [ONE_ROUTE, SHARED, MERGED]) {
      assert.ok(parsePolicyYaml(text, CATALOG).routes.chat !== undefined);
    }
  });

  it('resolves anchors and merge keys and drops x- blocks', () => {
    const policy = parsePolicyYaml(MERGED, CATALOG);
    assert.deepEqual(Object.keys(policy), ['version', 'routes']);
    assert.deepEqual(Object.keys(policy.routes), ['chat', 'chat-fast']);
    assert.equal(policy.routes['chat-fast']?.firstTokenTimeoutMs, 7000);
  });

  it('locates a schema problem at its key', () => {
    const text = editPolicy(ONE_ROUTE, [['deadlineMs: 8000', 'deadlineMs: 0']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:10:5 /routes/chat/deadlineMs: must be >= 1, received 0; raise it to at least that',
    ]);
  });

  it('locates a value inside a flow map', () => {
    const text = editPolicy(ONE_ROUTE, [['model: m1, weight: 1', 'model: m1, weight: x']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:6:36 /routes/chat/candidates/0/weight: must be number, received "x"; write a number',
    ]);
  });

  it('locates a misspelt property at its own line', () => {
    const text = editPolicy(ONE_ROUTE, [['deadlineMs: 8000', 'deadlineMS: 8000']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:3:3 /routes/chat: missing property "deadlineMs"',
      '  policies/x.yaml:10:5 /routes/chat/deadlineMS: unknown property "deadlineMS"; did you mean "deadlineMs"?',
    ]);
  });

  it('suggests a property one edit away', () => {
    const text = editPolicy(ONE_ROUTE, [['      cooldownMs: 15000', '      coldownMs: 15000']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:13:5 /routes/chat/breaker: missing property "cooldownMs"',
      '  policies/x.yaml:17:7 /routes/chat/breaker/coldownMs: unknown property "coldownMs"; did you mean "cooldownMs"?',
    ]);
  });

  it('suggests no property for a distant name', () => {
    const text = editPolicy(ONE_ROUTE, [
      ['    onExhausted: fail', '    onExhausted: fail\n    owner: me'],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:20:5 /routes/chat/owner: unknown property "owner"',
    ]);
  });

  it('suggests no property already set', () => {
    const text = editPolicy(ONE_ROUTE, [
      ['    deadlineMs: 8000', '    deadlineMs: 8000\n    deadlineMS: 8000'],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:11:5 /routes/chat/deadlineMS: unknown property "deadlineMS"',
    ]);
  });

  it('tells to unquote a quoted integer', () => {
    const text = editPolicy(ONE_ROUTE, [['deadlineMs: 8000', 'deadlineMs: "8000"']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:10:5 /routes/chat/deadlineMs: must be integer, received "8000"; write 8000 without quotes',
    ]);
  });

  it('tells to unquote a quoted number', () => {
    const text = editPolicy(ONE_ROUTE, [['model: m1, weight: 1', "model: m1, weight: '0.5'"]]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:6:36 /routes/chat/candidates/0/weight: must be number, received "0.5"; write 0.5 without quotes',
    ]);
  });

  it('tells to round a quoted non-integer', () => {
    const text = editPolicy(ONE_ROUTE, [['deadlineMs: 8000', 'deadlineMs: "8000.5"']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:10:5 /routes/chat/deadlineMs: must be integer, received "8000.5"; write a whole number without quotes, such as 8001',
    ]);
  });

  it('tells to drop a millisecond suffix', () => {
    const text = editPolicy(ONE_ROUTE, [['deadlineMs: 8000', 'deadlineMs: "8000ms"']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:10:5 /routes/chat/deadlineMs: must be integer, received "8000ms"; write the number of milliseconds without a unit, such as 8000',
    ]);
  });

  it('locates a bad route name at its key', () => {
    const text = editPolicy(ONE_ROUTE, [['  chat:', '  Chat:']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:3:3 /routes/Chat: name "Chat" must match ^[a-z0-9][a-z0-9_-]*$; use lowercase letters, digits, - and _, starting with a letter or digit',
    ]);
  });

  it('locates a problem at the document root', () => {
    const text = editPolicy(ONE_ROUTE, [['version: 1', 'version: 2']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:1:1 /version: must be 1, received 2; write 1, the only value this scalegate reads',
    ]);
  });

  it('locates a semantic problem', () => {
    const text = editPolicy(ONE_ROUTE, [['provider: oa', 'provider: nobody']]);
    assert.deepEqual(problemLines(text), [
      `  policies/x.yaml:6:11 /routes/chat/candidates/0/provider: unknown provider "nobody"; known: ${PROVIDERS}`,
    ]);
  });

  it('locates a sequence item', () => {
    const text = editPolicy(ONE_ROUTE, [['provider: an, model: m2', 'provider: oa, model: m1']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:7:9 /routes/chat/candidates/1: duplicate candidate oa/m1 (also at index 0); remove one, or add their weights together',
    ]);
  });

  it('locates a YAML syntax error', () => {
    // The parser notices the unclosed sequence at the next key, on line 13.
    const text = editPolicy(ONE_ROUTE, [['[status_5xx, connection_error]', '[status_5xx']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:13:5: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  it('locates a second YAML document', () => {
    assert.deepEqual(problemLines(`${ONE_ROUTE}---\nversion: 1\n`), [
      '  policies/x.yaml:20:1: invalid YAML: a second document starts here, but a policy file holds one; remove this --- line and what follows it',
    ]);
  });

  it('locates a comment-only file at line 1', () => {
    assert.deepEqual(problemLines('# no policy yet\n'), [
      '  policies/x.yaml:1:1: the policy is empty; write version: 1 and the routes, as in policies/default.yaml',
    ]);
  });

  it('locates an empty file at line 1', () => {
    assert.deepEqual(problemLines(''), [
      '  policies/x.yaml:1:1: the policy is empty; write version: 1 and the routes, as in policies/default.yaml',
    ]);
  });

  it('keeps only the tab errors after a tab', () => {
    // The tab also yields 7 errors on the lines after it, which the tab alone causes.
    const text = editPolicy(ONE_ROUTE, [['    stallTimeoutMs: 5000', '\tstallTimeoutMs: 5000']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:9:1: invalid YAML: Tabs are not allowed as indentation; replace the tab with spaces (7 other YAML errors after it are left out, because they may follow from the tab)',
    ]);
  });

  it('reports every tab and the errors before them', () => {
    // The first tab also yields 4 errors on lines 16 and 17, which are left out.
    const text = editPolicy(ONE_ROUTE, [
      ['[status_5xx, connection_error]', '[status_5xx'],
      ['      windowMs: 30000', '\twindowMs: 30000'],
      ['    onExhausted: fail', '\tonExhausted: fail'],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:13:5: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
      '  policies/x.yaml:16:1: invalid YAML: Tabs are not allowed as indentation; replace the tab with spaces (4 other YAML errors after it are left out, because they may follow from the tab)',
      '  policies/x.yaml:19:1: invalid YAML: Tabs are not allowed as indentation; replace the tab with spaces',
    ]);
  });

  it('locates a misspelt alias and names the anchor', () => {
    const text = editPolicy(SHARED, [['    breaker: *breaker', '    breaker: *breakr']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:19:14 /routes/chat/breaker: invalid YAML: alias *breakr names no anchor above it; did you mean *breaker? Anchors defined above it: &breaker, &budget',
    ]);
  });

  it('lists the anchors when none is close to an alias', () => {
    const text = editPolicy(SHARED, [['    retryBudget: *budget', '    retryBudget: *limits']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:17:18 /routes/chat/retryBudget: invalid YAML: alias *limits names no anchor above it; name one of the anchors defined above it (&breaker, &budget), or mark the value to share with &limits above this line',
    ]);
  });

  it('locates an alias above its anchor', () => {
    const text = editPolicy(SHARED, [
      ['    breaker: *breaker', '    breaker: *fast'],
      [
        '    breaker: *breaker',
        '    breaker: &fast { failureThreshold: 5, minimumRequests: 10, windowMs: 30000, cooldownMs: 15000, halfOpenMaxProbes: 1 }',
      ],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:19:14 /routes/chat/breaker: invalid YAML: alias *fast comes before its anchor &fast on line 29, and an alias can only name an anchor above it; move the value marked &fast above line 19',
    ]);
  });

  it('locates an alias in a file without anchors', () => {
    const text = editPolicy(ONE_ROUTE, [['    onExhausted: fail', '    onExhausted: *exhausted']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:19:18 /routes/chat/onExhausted: invalid YAML: alias *exhausted names no anchor, and the file defines none above it; mark the value to share with &exhausted above this line',
    ]);
  });

  it('locates a merge key whose value is a scalar', () => {
    const text = editPolicy(MERGED, [['    <<: *limits', '    <<: 5']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:7:5 /routes/chat: invalid YAML: merge key << takes a map, an alias of a map, or a sequence of those, but received 5; write <<: *name, where &name marks a map',
    ]);
  });

  it('locates a merge key listing an alias of a sequence', () => {
    const text = editPolicy(MERGED, [
      ['x-limits: &limits', 'x-codes: &codes [status_5xx]\nx-limits: &limits'],
      ['    <<: *limits', '    <<: [*limits, *codes]'],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:8:5 /routes/chat: invalid YAML: merge key << takes a map, an alias of a map, or a sequence of those, but item 2 of its sequence is *codes, which is a sequence; write <<: *name, where &name marks a map',
    ]);
  });

  it('reports a schema problem in an anchor once', () => {
    const text = editPolicy(SHARED, [['failureThreshold: 5', 'failureThreshold: 0']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:4:5 /x-shared/breaker/failureThreshold: must be >= 1, received 0; raise it to at least that (anchor &breaker, used by routes chat, chat-fast, summarize)',
    ]);
  });

  it('reports a semantic problem in an anchor once', () => {
    const text = editPolicy(SHARED, [['maxRetriesPerWindow: 10', 'maxRetriesPerWindow: 0']]);
    assert.deepEqual(problemLines(text), [
      "  policies/x.yaml:9:43 /x-shared/retryBudget/maxRetriesPerWindow: maxRetriesPerWindow 0 allows no retry in any window, and every call after a task's first is a retry, failovers included, so maxAttemptsPerTask 3 has no effect; set maxAttemptsPerTask to 1 for no retries, or raise maxRetriesPerWindow above 0 (anchor &budget, used by routes chat, chat-fast, summarize)",
    ]);
  });

  it('reports a catalog problem in an anchor once', () => {
    const text = editPolicy(SHARED, [
      [
        '    candidates: [{ provider: oa, model: m1, weight: 1 }]',
        '    candidates: &cands [{ provider: oa, model: m9, weight: 1 }]',
      ],
      ['    candidates: [{ provider: an, model: m2, weight: 1 }]', '    candidates: *cands'],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:13:41 /routes/chat/candidates/0/model: unknown model "m9" for oa; did you mean "m1"? its models: m1 (anchor &cands, used by routes chat, chat-fast)',
    ]);
  });

  it('names only the routes that take the value from the anchor', () => {
    const text = editPolicy(SHARED, [
      ['failureThreshold: 5', 'failureThreshold: 0'],
      [
        '    breaker: *breaker\n    onExhausted: fail\n  summarize:',
        '    breaker: { <<: *breaker, failureThreshold: 5 }\n    onExhausted: fail\n  summarize:',
      ],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:4:5 /x-shared/breaker/failureThreshold: must be >= 1, received 0; raise it to at least that (anchor &breaker, used by routes chat, summarize)',
    ]);
  });

  it('reports a problem in an anchor a route defines at that route', () => {
    const text = editPolicy(SHARED, [
      ['    breaker: *breaker', '    breaker: &own { <<: *breaker, failureThreshold: 0 }'],
      ['    breaker: *breaker', '    breaker: *own'],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:19:35 /routes/chat/breaker/failureThreshold: must be >= 1, received 0; raise it to at least that (anchor &own, used by routes chat, chat-fast)',
    ]);
  });

  it('keeps different problems at one anchor apart', () => {
    const text = editPolicy(MERGED, [
      ['deadlineMs: 8000', 'deadlineMs: 7000'],
      ['deadlineMs: 8000', 'deadlineMs: 6000'],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:3:3 /x-limits/firstTokenTimeoutMs: firstTokenTimeoutMs 7000 is at or above deadlineMs 7000, so no time is left to fail over; set it below 7000 (anchor &limits, merged by the << on line 7 into route chat)',
      '  policies/x.yaml:3:3 /x-limits/firstTokenTimeoutMs: firstTokenTimeoutMs 7000 is at or above deadlineMs 6000, so no time is left to fail over; set it below 6000 (anchor &limits, merged by the << on line 16 into route chat-fast)',
    ]);
  });

  it('names the merge key of a wrong anchor', () => {
    const text = editPolicy(SHARED, [
      ['    breaker: *breaker', '    breaker: { <<: *breaker, <<: *budget }'],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:9:43 /x-shared/retryBudget/maxRetriesPerWindow: unknown property "maxRetriesPerWindow" (anchor &budget, merged by the << on line 19 into route chat)',
      '  policies/x.yaml:9:68 /x-shared/retryBudget/maxAttemptsPerTask: unknown property "maxAttemptsPerTask" (anchor &budget, merged by the << on line 19 into route chat)',
    ]);
  });

  it('names every merge key line of a shared value', () => {
    const text = editPolicy(MERGED, [['stallTimeoutMs: 5000', 'stallTimeoutMs: 0']]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:4:3 /x-limits/stallTimeoutMs: must be >= 1, received 0; raise it to at least that (anchor &limits, merged by the << on lines 7, 16 into routes chat, chat-fast)',
    ]);
  });

  it('locates a value a route sets over a merge key at the route', () => {
    const text = editPolicy(MERGED, [
      ['    <<: *limits\n', '    <<: *limits\n    firstTokenTimeoutMs: 9000\n'],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:8:5 /routes/chat/firstTokenTimeoutMs: firstTokenTimeoutMs 9000 is at or above deadlineMs 8000, so no time is left to fail over; set it below 8000',
    ]);
  });
});
