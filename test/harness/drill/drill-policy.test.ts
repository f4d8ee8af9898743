import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadProviderCatalog } from '../../../src/faults/providers/index.js';
import { loadDrillPolicy } from '../../../src/harness/drill/drill-policy.js';
import { DEFAULT_POLICY_PATH } from '../../../src/platform/router/load-policy.js';
import { isPolicyValidationError } from '../../../src/platform/router/policy-errors.js';

const SPEC = { name: 'provider-outage', scenario: 'agent-mix' };
const SCENARIO = {
  routes: [
    { route: 'chat', weight: 6 },
    { route: 'summarize', weight: 4 },
  ],
};

describe('loadDrillPolicy', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-drill-policy-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a policy with every route', async () => {
    const policy = await loadDrillPolicy(
      DEFAULT_POLICY_PATH,
      await loadProviderCatalog(),
      SPEC,
      SCENARIO,
    );
    assert.ok(Object.hasOwn(policy.routes, 'chat'));
    assert.ok(Object.hasOwn(policy.routes, 'summarize'));
  });

  it('names each route the policy lacks', async () => {
    const text = (await readFile(DEFAULT_POLICY_PATH, 'utf8'))
      .replace(/^ {2}chat:$/m, '  chat-v2:')
      .replace(/^ {2}summarize:$/m, '  summary:');
    const path = join(dir, 'renamed.yaml');
    await writeFile(path, text);
    const error = await loadDrillPolicy(path, await loadProviderCatalog(), SPEC, SCENARIO).then(
      () => undefined,
      (rejected: unknown) => rejected,
    );
    assert.ok(isPolicyValidationError(error), String(error));
    assert.equal(error.source, path);
    assert.deepEqual(
      error.problems.map((problem) => problem.path),
      ['/routes/chat', '/routes/summarize'],
    );
    // Both point at the routes key on line 35, under which the missing routes belong.
    assert.deepEqual(
      error.problems.map((problem) => problem.location),
      [
        { line: 35, column: 1 },
        { line: 35, column: 1 },
      ],
    );
    assert.match(error.message, new RegExp(`\\n  ${path}:35:1 /routes/chat: route chat not found`));
    assert.equal(
      error.problems[1]?.message,
      'route summarize not found; drill provider-outage sends its agent-mix load to it, so ' +
        'keep a route named summarize in the policy, or set routes[1].route of scenario ' +
        "agent-mix to one of the policy's routes: chat-v2, chat-fast, summary, bench",
    );
  });
});
