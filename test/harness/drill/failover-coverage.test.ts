import assert from 'node:assert/strict';

import { providerOutageDrill } from '../../../chaos/provider-outage.js';
import { loadProviderCatalog } from '../../../src/faults/providers/index.js';
import { failoverGaps } from '../../../src/harness/drill/failover-coverage.js';
import { DEFAULT_POLICY_PATH, loadPolicy } from '../../../src/platform/router/load-policy.js';
import type { Policy } from '../../../src/platform/router/policy-types.js';

async function defaultPolicy(): Promise<Policy> {
  return loadPolicy(DEFAULT_POLICY_PATH, await loadProviderCatalog());
}

/** Returns `policy` with route `name` calling only its first candidate. */
function withoutFallback(policy: Policy, name: string): Policy {
  const copy = structuredClone(policy);
  const route = copy.routes[name];
  assert.ok(route);
  route.candidates = route.candidates.slice(0, 1);
  return copy;
}

describe('failoverGaps', () => {
  it('finds none in the default policy', async () => {
    assert.deepEqual(
      failoverGaps(
        providerOutageDrill,
        ['chat'],
        await defaultPolicy(),
        await loadProviderCatalog(),
      ),
      [],
    );
  });

  it('names a route without the fallback', async () => {
    const policy = withoutFallback(await defaultPolicy(), 'chat');
    const gaps = failoverGaps(providerOutageDrill, ['chat'], policy, await loadProviderCatalog());
    assert.equal(gaps.length, 1);
    assert.match(gaps[0] ?? '', /^route chat of the policy calls provider-a but has no provider-b/);
    assert.match(gaps[0] ?? '', /while fault primary-outage takes provider-a down/);
    assert.match(gaps[0] ?? '', /add provider-b to its candidates/);
  });

  it('follows fallbackRoute', async () => {
    const policy = withoutFallback(await defaultPolicy(), 'chat');
    const chat = policy.routes.chat;
    assert.ok(chat);
    // chat-fast lists provider-b, so a chat task can still fail over through it.
    chat.fallbackRoute = 'chat-fast';
    assert.deepEqual(
      failoverGaps(providerOutageDrill, ['chat'], policy, await loadProviderCatalog()),
      [],
    );
  });

  it('stops at a fallbackRoute cycle', async () => {
    const policy = withoutFallback(await defaultPolicy(), 'chat');
    const chat = policy.routes.chat;
    assert.ok(chat);
    chat.fallbackRoute = 'chat';
    assert.equal(
      failoverGaps(providerOutageDrill, ['chat'], policy, await loadProviderCatalog()).length,
      1,
    );
  });

  it('skips routes that never call the primary', async () => {
    // bench calls only the instant provider, so an outage of provider-a does not touch it.
    assert.deepEqual(
      failoverGaps(
        providerOutageDrill,
        ['bench'],
        await defaultPolicy(),
        await loadProviderCatalog(),
      ),
      [],
    );
  });
});
