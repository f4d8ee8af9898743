import assert from 'node:assert/strict';
import { loadProviderCatalog } from '../../../src/faults/providers/profile.js';
import {
  isPolicyValidationError,
  loadPolicy,
  parsePolicy,
  policyHash,
} from '../../../src/platform/router/index.js';
import { CATALOG, route } from './router-fixtures.js';

function problemsOf(document: unknown): string[] {
  try {
    parsePolicy(document, CATALOG);
  } catch (error) {
    assert.ok(isPolicyValidationError(error));
    return error.problems.map((problem) => `${problem.path}: ${problem.message}`);
  }
  return assert.fail('expected a PolicyValidationError');
}

describe('loadPolicy', () => {
  it('loads the default policy against the shipped catalog', async () => {
    const policy = await loadPolicy('policies/default.yaml', await loadProviderCatalog());
    assert.deepEqual(Object.keys(policy.routes), ['chat', 'chat-fast', 'summarize', 'bench']);
    assert.equal('x-shared' in policy, false);
  });

  it('reports every semantic problem with its path', () => {
    const chat = route({
      candidates: [
        { provider: 'oa', model: 'gpt-9', weight: 0 },
        { provider: 'nobody', model: 'm1', weight: 0 },
        { provider: 'low', model: 'tiny', weight: 0 },
        { provider: 'an', model: 'm2', weight: 0 },
        { provider: 'an', model: 'm2', weight: 0 },
      ],
      fallbackRoute: 'other',
    });
    const other = route({ fallbackRoute: 'chat' });
    const lost = route({ fallbackRoute: 'missing' });
    assert.deepEqual(problemsOf({ version: 1, routes: { chat, other, lost } }), [
      '/routes/chat/candidates/0/model: unknown model "gpt-9" for oa',
      '/routes/chat/candidates/1/provider: unknown provider "nobody"',
      '/routes/chat/candidates/2/model: quality tier 1 of low/tiny is below qualityFloor 2',
      '/routes/chat/candidates/4: duplicate candidate an/m2 (also at index 3)',
      '/routes/chat/candidates: every candidate has weight 0',
      '/routes/lost/fallbackRoute: unknown route "missing"',
      '/routes/chat/fallbackRoute: fallback cycle chat -> other -> chat',
    ]);
  });

  it('reports schema problems with their paths', () => {
    const chat = {
      ...route(),
      failoverOn: ['status_999'],
      retryBudget: { windowMs: 1000, maxAttemptsPerTask: 2 },
    };
    const { onExhausted: _omitted, ...rest } = chat;
    const problems = problemsOf({ version: 1, routes: { chat: { ...rest, extra: true } } });
    assert.deepEqual(problems.slice(0, 3), [
      '/routes/chat: missing property "onExhausted"',
      '/routes/chat: unknown property "extra"',
      '/routes/chat/retryBudget: must set one of: maxRetriesPerWindow, ratio',
    ]);
    assert.match(problems[3] ?? '', /^\/routes\/chat\/failoverOn\/0: must be one of: status_400, /);
    assert.equal(problems.length, 4);
  });

  it('checks valid routes when another route fails the schema', () => {
    const { onExhausted: _omitted, ...broken } = route();
    const chat = route({
      candidates: [{ provider: 'oa', model: 'gpt-9', weight: 1 }],
      fallbackRoute: 'broken',
    });
    const other = route({ fallbackRoute: 'missing' });
    assert.deepEqual(problemsOf({ version: 2, routes: { broken, chat, other } }), [
      '/version: must be equal to constant',
      '/routes/broken: missing property "onExhausted"',
      '/routes/chat/candidates/0/model: unknown model "gpt-9" for oa',
      '/routes/other/fallbackRoute: unknown route "missing"',
    ]);
  });

  it('reports a fallback route with a lower quality floor', () => {
    const chat = route({ fallbackRoute: 'cheap', qualityFloor: 3 });
    const cheap = route({ qualityFloor: 1 });
    assert.deepEqual(problemsOf({ version: 1, routes: { chat, cheap } }), [
      '/routes/chat/fallbackRoute: route "cheap" has qualityFloor 1, below this route\'s 3',
    ]);
  });

  it('hashes equal policies equally whatever the key order', () => {
    const a = parsePolicy({ version: 1, routes: { chat: route() } }, CATALOG);
    const reordered = Object.fromEntries(Object.entries(route()).reverse());
    const b = parsePolicy({ routes: { chat: reordered }, version: 1 }, CATALOG);
    assert.equal(policyHash(a), policyHash(b));
    assert.match(policyHash(a), /^[0-9a-f]{64}$/);
  });

  it('changes the hash when a setting changes', () => {
    const a = parsePolicy({ version: 1, routes: { chat: route() } }, CATALOG);
    const b = parsePolicy({ version: 1, routes: { chat: route({ deadlineMs: 9000 }) } }, CATALOG);
    assert.notEqual(policyHash(a), policyHash(b));
  });
});
