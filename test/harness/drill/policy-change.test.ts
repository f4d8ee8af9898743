import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import {
  basePolicy,
  comparePolicies,
  exercisedRoutes,
  fallbackOnlyRoutes,
  policyChanges,
  unexercisedChangedRoutes,
} from '../../../src/harness/drill/policy-change.js';
import { isPolicyValidationError } from '../../../src/platform/router/policy-errors.js';

const BREAKER = {
  failureThreshold: 5,
  minimumRequests: 10,
  windowMs: 30000,
  cooldownMs: 15000,
  halfOpenMaxProbes: 1,
};

/** Builds a route as the drill parses it, with two candidates in failover order. */
function route(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    qualityFloor: 3,
    candidates: [
      { provider: 'provider-a', model: 'gpt-4o', weight: 1 },
      { provider: 'provider-b', model: 'claude-sonnet', weight: 0 },
    ],
    firstTokenTimeoutMs: 4000,
    stallTimeoutMs: 5000,
    deadlineMs: 30000,
    retryBudget: { windowMs: 10000, ratio: 0.2, maxAttemptsPerTask: 3 },
    failoverOn: ['status_5xx', 'connection_error'],
    breaker: BREAKER,
    onExhausted: 'fail',
    ...overrides,
  };
}

function policy(routes: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { version: 1, ...extra, routes };
}

const BASE = policy({ chat: route(), 'chat-fast': route({ deadlineMs: 20000 }) });

describe('policyChanges', () => {
  it('lists nothing for equal policies', () => {
    assert.deepEqual(policyChanges(BASE, structuredClone(BASE)), []);
  });

  it('ignores x- blocks', () => {
    const changed = { ...structuredClone(BASE), 'x-shared': { breaker: BREAKER } };
    assert.deepEqual(policyChanges(BASE, changed), []);
  });

  it('names a nested setting', () => {
    const changed = policy({
      chat: route(),
      'chat-fast': route({ deadlineMs: 20000, breaker: { ...BREAKER, cooldownMs: 5000 } }),
    });
    assert.deepEqual(policyChanges(BASE, changed), [
      { route: 'chat-fast', kind: 'changed', details: ['breaker.cooldownMs 15000 -> 5000'] },
    ]);
  });

  it('shows an unset setting as default', () => {
    const changed = policy({ chat: route({ retryBackoffMs: 250 }), 'chat-fast': route() });
    assert.deepEqual(policyChanges(BASE, changed), [
      { route: 'chat', kind: 'changed', details: ['retryBackoffMs default -> 250'] },
      { route: 'chat-fast', kind: 'changed', details: ['deadlineMs 20000 -> 30000'] },
    ]);
  });

  it('lists added and removed routes', () => {
    const changed = policy({ chat: route(), bench: route() });
    assert.deepEqual(policyChanges(BASE, changed), [
      { route: 'bench', kind: 'added', details: [] },
      { route: 'chat-fast', kind: 'removed', details: [] },
    ]);
  });

  it('lists a throttle change first', () => {
    const changed = {
      ...structuredClone(BASE),
      throttle: { minRemainingRequests: 5 },
    };
    assert.deepEqual(policyChanges(BASE, changed), [
      { route: null, kind: 'changed', details: ['minRemainingRequests default -> 5'] },
    ]);
  });

  it('describes a reweighted candidate', () => {
    const candidates = [
      { provider: 'provider-a', model: 'gpt-4o', weight: 1 },
      { provider: 'provider-b', model: 'claude-sonnet', weight: 1 },
    ];
    const changed = policy({
      chat: route({ candidates }),
      'chat-fast': route({ deadlineMs: 20000 }),
    });
    assert.deepEqual(policyChanges(BASE, changed)[0]?.details, [
      'candidate provider-b/claude-sonnet weight 0 -> 1',
    ]);
  });

  it('describes a new failover order', () => {
    const candidates = [
      { provider: 'provider-b', model: 'claude-sonnet', weight: 0 },
      { provider: 'provider-a', model: 'gpt-4o', weight: 1 },
    ];
    const changed = policy({
      chat: route({ candidates }),
      'chat-fast': route({ deadlineMs: 20000 }),
    });
    assert.deepEqual(policyChanges(BASE, changed)[0]?.details, [
      'failover order provider-a/gpt-4o, provider-b/claude-sonnet -> provider-b/claude-sonnet, provider-a/gpt-4o',
    ]);
  });

  it('describes added and removed candidates', () => {
    const candidates = [
      { provider: 'provider-a', model: 'gpt-4o', weight: 1 },
      { provider: 'provider-c', model: 'llama-70b', weight: 0 },
    ];
    const changed = policy({
      chat: route({ candidates }),
      'chat-fast': route({ deadlineMs: 20000 }),
    });
    assert.deepEqual(policyChanges(BASE, changed)[0]?.details, [
      'candidate provider-c/llama-70b added at position 2, weight 0',
      'candidate provider-b/claude-sonnet removed',
    ]);
  });

  it('lists failoverOn items added and removed', () => {
    const failoverOn = ['status_5xx', 'status_429'];
    const changed = policy({
      chat: route({ failoverOn }),
      'chat-fast': route({ deadlineMs: 20000 }),
    });
    assert.deepEqual(policyChanges(BASE, changed)[0]?.details, [
      'failoverOn added status_429',
      'failoverOn removed connection_error',
    ]);
  });
});

describe('unexercisedChangedRoutes', () => {
  it('lists added and changed routes not exercised', () => {
    const changes = [
      { route: null, kind: 'changed' as const, details: ['minRemainingRequests 0 -> 5'] },
      { route: 'chat', kind: 'changed' as const, details: ['deadlineMs 1 -> 2'] },
      { route: 'summarize', kind: 'changed' as const, details: ['deadlineMs 1 -> 2'] },
      { route: 'extra', kind: 'added' as const, details: [] },
      { route: 'bench', kind: 'removed' as const, details: [] },
    ];
    assert.deepEqual(unexercisedChangedRoutes(changes, ['chat']), ['summarize', 'extra']);
  });
});

describe('exercisedRoutes', () => {
  const CHANGES = [
    { route: 'chat', kind: 'changed' as const, details: ['deadlineMs 1 -> 2'] },
    { route: 'summarize', kind: 'changed' as const, details: ['deadlineMs 1 -> 2'] },
  ];

  it('adds a fallback route that served tasks', () => {
    const topologies = [
      {
        fallbackRouteAttempts: [
          { route: 'chat', fallbackRoute: 'summarize', attempts: 7, succeeded: 7 },
        ],
      },
    ];
    const exercised = exercisedRoutes(['chat'], topologies);
    assert.deepEqual(exercised, ['chat', 'summarize']);
    assert.deepEqual(unexercisedChangedRoutes(CHANGES, exercised), []);
  });

  it('adds a fallback route whose calls all failed', () => {
    const entry = { route: 'chat', fallbackRoute: 'summarize', attempts: 3, succeeded: 0 };
    assert.deepEqual(exercisedRoutes(['chat'], [{ fallbackRouteAttempts: [entry] }]), [
      'chat',
      'summarize',
    ]);
  });

  it('leaves out a fallback route never reached', () => {
    const exercised = exercisedRoutes(['chat'], [{ fallbackRouteAttempts: [] }]);
    assert.deepEqual(exercised, ['chat']);
    assert.deepEqual(unexercisedChangedRoutes(CHANGES, exercised), ['summarize']);
  });

  it('leaves out a fallback route without calls', () => {
    const entry = { route: 'chat', fallbackRoute: 'summarize', attempts: 0, succeeded: 0 };
    assert.deepEqual(exercisedRoutes(['chat'], [{ fallbackRouteAttempts: [entry] }]), ['chat']);
  });

  it('reads a topology without fallback calls', () => {
    assert.deepEqual(exercisedRoutes(['chat'], [{}]), ['chat']);
  });
});

describe('fallbackOnlyRoutes', () => {
  it('maps each fallback route to the routes that reached it', () => {
    const fallbackRouteAttempts = [
      { route: 'chat', fallbackRoute: 'backup', attempts: 2, succeeded: 2 },
      { route: 'chat-fast', fallbackRoute: 'backup', attempts: 1, succeeded: 0 },
      { route: 'chat-fast', fallbackRoute: 'chat', attempts: 5, succeeded: 5 },
    ];
    const reached = fallbackOnlyRoutes(['chat', 'chat-fast'], [{ fallbackRouteAttempts }]);
    assert.deepEqual([...reached], [['backup', ['chat', 'chat-fast']]]);
  });
});

describe('comparePolicies', () => {
  const BASE_TEXT = [
    'version: 1',
    'routes:',
    '  chat: { deadlineMs: 30000 }',
    '  summarize: { deadlineMs: 60000 }',
    '',
  ].join('\n');

  it('records the base file and the unexercised changes', () => {
    const base = basePolicy('base.yaml', Buffer.from(BASE_TEXT), BASE_TEXT);
    const drilled = BASE_TEXT.replace('30000', '25000').replace('60000', '50000');
    assert.deepEqual(comparePolicies(base, drilled, 'policy.yaml', ['chat']), {
      basePolicyPath: 'base.yaml',
      basePolicySha256: createHash('sha256').update(BASE_TEXT).digest('hex'),
      changes: [
        { route: 'chat', kind: 'changed', details: ['deadlineMs 30000 -> 25000'] },
        { route: 'summarize', kind: 'changed', details: ['deadlineMs 60000 -> 50000'] },
      ],
      unexercisedRoutes: ['summarize'],
    });
  });

  it('records no change for the same settings', () => {
    const base = basePolicy('base.yaml', Buffer.from(BASE_TEXT), BASE_TEXT);
    const record = comparePolicies(base, `# comment\n${BASE_TEXT}`, 'policy.yaml', ['chat']);
    assert.deepEqual(record.changes, []);
    assert.deepEqual(record.unexercisedRoutes, []);
  });

  it('rejects a drilled policy that is not a map', () => {
    const base = basePolicy('base.yaml', Buffer.from(BASE_TEXT), BASE_TEXT);
    assert.throws(
      () => comparePolicies(base, '- a list\n', 'policy.yaml', []),
      (error: unknown) =>
        isPolicyValidationError(error) &&
        error.message.includes('the document is not a map of version and routes'),
    );
  });
});
