import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadProviderCatalog } from '../../../src/faults/providers/profile.js';
import {
  isPolicyValidationError,
  loadPolicy,
  parsePolicy,
  policyHash,
} from '../../../src/platform/router/index.js';
import { ONE_ROUTE } from './policy-yaml-fixtures.js';
import { CATALOG, route } from './router-fixtures.js';

const PROVIDERS = CATALOG.map((provider) => provider.name).join(', ');
const OA_MODELS = CATALOG.find((provider) => provider.name === 'oa')
  ?.models.map((model) => model.name)
  .join(', ');

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
  it('accepts the committed default policy', async () => {
    const policy = await loadPolicy('policies/default.yaml', await loadProviderCatalog());
    assert.ok(Object.keys(policy.routes).length > 0);
  });

  it('names the file and line of a problem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scalegate-policy-'));
    try {
      const path = join(dir, 'policy.yaml');
      await writeFile(path, ONE_ROUTE.replace('deadlineMs: 8000', 'deadlineMs: 0'));
      const error = await loadPolicy(path, CATALOG).then(
        () => assert.fail('expected a PolicyValidationError'),
        (thrown: unknown) => thrown,
      );
      assert.ok(isPolicyValidationError(error));
      assert.equal(
        error.message.split('\n')[1],
        `  ${path}:10:5 /routes/chat/deadlineMs: must be >= 1, received 0; raise it to at least that`,
      );
      assert.deepEqual(error.problems[0]?.location, { line: 10, column: 5 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
      `/routes/chat/candidates/0/model: unknown model "gpt-9" for oa; its models: ${OA_MODELS}`,
      `/routes/chat/candidates/1/provider: unknown provider "nobody"; known: ${PROVIDERS}`,
      '/routes/chat/candidates/2/model: quality tier 1 of low/tiny is below qualityFloor 2; pick a model of tier 2 or above (oa/m1, an/m2), or lower the floor',
      '/routes/chat/candidates/4: duplicate candidate an/m2 (also at index 3); remove one, or add their weights together',
      '/routes/chat/candidates: every candidate has weight 0; give at least one a weight above 0',
      '/routes/lost/fallbackRoute: unknown route "missing"; routes: chat, other, lost',
      '/routes/chat/fallbackRoute: fallback cycle chat -> other -> chat; remove the fallbackRoute of one of these routes',
    ]);
  });

  it('suggests the provider a misspelt name is close to', () => {
    const chat = route({ candidates: [{ provider: 'lwo', model: 'tiny', weight: 1 }] });
    assert.deepEqual(problemsOf({ version: 1, routes: { chat } }), [
      `/routes/chat/candidates/0/provider: unknown provider "lwo"; did you mean "low"? known: ${PROVIDERS}`,
    ]);
  });

  it('suggests the model a name in other letter case is', () => {
    const chat = route({ candidates: [{ provider: 'oa', model: 'M1', weight: 1 }] });
    assert.deepEqual(problemsOf({ version: 1, routes: { chat } }), [
      `/routes/chat/candidates/0/model: unknown model "M1" for oa; did you mean "m1"? its models: ${OA_MODELS}`,
    ]);
  });

  it('suggests nothing when several providers are as close', () => {
    // "a" is one edit from both "oa" and "an".
    const chat = route({ candidates: [{ provider: 'a', model: 'm1', weight: 1 }] });
    assert.deepEqual(problemsOf({ version: 1, routes: { chat } }), [
      `/routes/chat/candidates/0/provider: unknown provider "a"; known: ${PROVIDERS}`,
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
      '/routes/chat/extra: unknown property "extra"',
      '/routes/chat/retryBudget: must set one of: maxRetriesPerWindow, ratio',
    ]);
    assert.match(
      problems[3] ?? '',
      /^\/routes\/chat\/failoverOn\/0: "status_999" is not one of: status_400, /,
    );
    assert.equal(problems.length, 4);
  });

  it('names a route name that breaks the pattern', () => {
    assert.deepEqual(problemsOf({ version: 1, routes: { Chat_Fast: route() } }), [
      '/routes/Chat_Fast: name "Chat_Fast" must match ^[a-z0-9][a-z0-9_-]*$; use lowercase letters, digits, - and _, starting with a letter or digit',
    ]);
  });

  it('quotes a value of the wrong type', () => {
    const chat = route({ candidates: [{ provider: 'oa', model: 'm1', weight: 'x' as never }] });
    assert.deepEqual(problemsOf({ version: 1, routes: { chat } }), [
      '/routes/chat/candidates/0/weight: must be number, received "x"; write a number',
    ]);
  });

  it('quotes a value below the minimum', () => {
    const chat = route({ firstTokenTimeoutMs: 0 });
    assert.deepEqual(problemsOf({ version: 1, routes: { chat } }), [
      '/routes/chat/firstTokenTimeoutMs: must be >= 1, received 0; raise it to at least that',
    ]);
  });

  it('quotes NaN and infinite values', () => {
    const yaml = [
      'version: 1',
      'routes:',
      '  chat:',
      '    candidates: [{ provider: oa, model: m1, weight: .nan }]',
      '    deadlineMs: .inf',
      '    firstTokenTimeoutMs: -.inf',
    ].join('\n');
    const { chat } = (parseYaml(yaml) as { routes: { chat: object } }).routes;
    assert.deepEqual(problemsOf({ version: 1, routes: { chat: { ...route(), ...chat } } }), [
      '/routes/chat/candidates/0/weight: must be number, received NaN; write a finite number',
      '/routes/chat/firstTokenTimeoutMs: must be integer, received -Infinity; write a whole number',
      '/routes/chat/deadlineMs: must be integer, received Infinity; write a whole number',
    ]);
  });

  it('reports an Object.prototype fallback', () => {
    const chat = route({ fallbackRoute: 'constructor' });
    assert.deepEqual(problemsOf({ version: 1, routes: { chat } }), [
      '/routes/chat/fallbackRoute: unknown route "constructor"; routes: chat',
    ]);
  });

  it('reports an empty policy', () => {
    assert.deepEqual(problemsOf(null), [
      ': the policy is empty; write version: 1 and the routes, as in policies/default.yaml',
    ]);
  });

  it('checks valid routes when another route fails the schema', () => {
    const { onExhausted: _omitted, ...broken } = route();
    const chat = route({
      candidates: [{ provider: 'oa', model: 'gpt-9', weight: 1 }],
      fallbackRoute: 'broken',
    });
    const other = route({ fallbackRoute: 'missing' });
    assert.deepEqual(problemsOf({ version: 2, routes: { broken, chat, other } }), [
      '/version: must be 1, received 2; write 1, the only value this scalegate reads',
      '/routes/broken: missing property "onExhausted"',
      `/routes/chat/candidates/0/model: unknown model "gpt-9" for oa; its models: ${OA_MODELS}`,
      '/routes/other/fallbackRoute: unknown route "missing"; routes: chat, other',
    ]);
  });

  it('reports a fallback route with a lower quality floor', () => {
    const chat = route({ fallbackRoute: 'cheap', qualityFloor: 3 });
    const cheap = route({
      candidates: [{ provider: 'low', model: 'tiny', weight: 1 }],
      qualityFloor: 1,
    });
    assert.deepEqual(problemsOf({ version: 1, routes: { chat, cheap } }), [
      '/routes/chat/fallbackRoute: route "cheap" has qualityFloor 1, below this route\'s 3; fall back to a route with a floor of 3 or above',
    ]);
  });

  it('reports timeouts above the deadline', () => {
    const chat = route({ deadlineMs: 30_000, firstTokenTimeoutMs: 40_000, stallTimeoutMs: 31_000 });
    assert.deepEqual(problemsOf({ version: 1, routes: { chat } }), [
      '/routes/chat/firstTokenTimeoutMs: firstTokenTimeoutMs 40000 is at or above deadlineMs 30000, so no time is left to fail over; set it below 30000',
      '/routes/chat/stallTimeoutMs: stallTimeoutMs 31000 is at or above deadlineMs 30000, so no time is left to fail over; set it below 30000',
    ]);
  });

  it('reports a timeout equal to the deadline', () => {
    const chat = route({ deadlineMs: 30_000, firstTokenTimeoutMs: 30_000 });
    assert.deepEqual(problemsOf({ version: 1, routes: { chat } }), [
      '/routes/chat/firstTokenTimeoutMs: firstTokenTimeoutMs 30000 is at or above deadlineMs 30000, so no time is left to fail over; set it below 30000',
    ]);
  });

  it('reports timeouts above the timer maximum', () => {
    const chat = route({
      deadlineMs: 4_000_000_000,
      firstTokenTimeoutMs: 3_000_000_000,
      stallTimeoutMs: 2_147_483_648,
    });
    const advice =
      'Node timers wait at most 2147483647 ms (about 24.8 days), so set it to 2147483647 or less';
    assert.deepEqual(problemsOf({ version: 1, routes: { chat } }), [
      `/routes/chat/firstTokenTimeoutMs: must be <= 2147483647, received 3000000000; ${advice}`,
      `/routes/chat/deadlineMs: must be <= 2147483647, received 4000000000; ${advice}`,
      `/routes/chat/stallTimeoutMs: must be <= 2147483647, received 2147483648; ${advice}`,
    ]);
  });

  it('accepts a deadline at the timer maximum', () => {
    const chat = route({ deadlineMs: 2_147_483_647 });
    const policy = parsePolicy({ version: 1, routes: { chat } }, CATALOG);
    assert.equal(policy.routes.chat?.deadlineMs, 2_147_483_647);
  });

  it('accepts timeouts below the deadline', () => {
    const chat = route({ deadlineMs: 30_000, firstTokenTimeoutMs: 29_999, stallTimeoutMs: 29_999 });
    assert.equal(
      parsePolicy({ version: 1, routes: { chat } }, CATALOG).routes.chat?.deadlineMs,
      30_000,
    );
  });

  it('counts one problem in the singular', () => {
    const chat = route({ fallbackRoute: 'missing' });
    assert.throws(
      () => parsePolicy({ version: 1, routes: { chat } }, CATALOG),
      (error: Error) => error.message.startsWith('invalid route policy policy (1 problem):'),
    );
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
