import assert from 'node:assert/strict';

import {
  candidateKey,
  fallbackChain,
  orderForTask,
  routeCandidates,
} from '../../../src/platform/router/candidate-order.js';
import type { Candidate, Policy } from '../../../src/platform/router/index.js';
import { CATALOG, route } from './router-fixtures.js';

const OWN_A: Candidate = { provider: 'oa', model: 'm1', weight: 1 };
const OWN_SPARE: Candidate = { provider: 'an', model: 'm2', weight: 0 };
const BACKUP_LIGHT: Candidate = { provider: 'low', model: 'tiny', weight: 1 };
const BACKUP_HEAVY: Candidate = { provider: 'an', model: 'm3', weight: 3 };

const keys = (candidates: Candidate[]) => candidates.map(candidateKey);
const all = () => true;

describe('candidate order', () => {
  it('draws the first from own candidates only', () => {
    const groups = [[OWN_A], [BACKUP_HEAVY]];
    for (const point of [0, 0.3, 0.6, 0.99]) {
      const order = orderForTask(groups, all, () => point);
      assert.deepEqual(keys(order), ['oa/m1', 'an/m3'], `random ${point}`);
    }
  });

  it('draws by weight in the fallback group', () => {
    const groups = [[OWN_A], [BACKUP_LIGHT, BACKUP_HEAVY]];
    const available = (candidate: Candidate) => candidate !== OWN_A;
    const order = orderForTask(groups, available, () => 0.5);
    assert.deepEqual(keys(order), ['an/m3', 'oa/m1', 'low/tiny']);
  });

  it('prefers an own unweighted candidate', () => {
    const groups = [[OWN_A, OWN_SPARE], [BACKUP_HEAVY]];
    const available = (candidate: Candidate) => candidate !== OWN_A;
    const order = orderForTask(groups, available, () => 0.9);
    assert.deepEqual(keys(order), ['oa/m1', 'an/m2', 'an/m3']);
  });

  it('keeps policy order with nothing available', () => {
    const groups = [[OWN_A], [BACKUP_LIGHT]];
    const order = orderForTask(
      groups,
      () => false,
      () => 0.5,
    );
    assert.deepEqual(keys(order), ['oa/m1', 'low/tiny']);
  });

  it('groups candidates per route', () => {
    const policy: Policy = {
      version: 1,
      routes: {
        chat: route({ candidates: [OWN_A, OWN_SPARE], fallbackRoute: 'backup', qualityFloor: 2 }),
        backup: route({ candidates: [OWN_SPARE, BACKUP_LIGHT, { ...OWN_A, weight: 2 }] }),
      },
    };
    const groups = routeCandidates(policy, 'chat', CATALOG);
    assert.deepEqual(groups.map(keys), [['oa/m1', 'an/m2'], []]);
  });
});

describe('fallbackChain', () => {
  it('follows fallback links in order', () => {
    const policy: Policy = {
      version: 1,
      routes: {
        chat: route({ fallbackRoute: 'backup' }),
        backup: route({ fallbackRoute: 'spare' }),
        spare: route(),
      },
    };
    assert.deepEqual(fallbackChain(policy, 'chat'), ['chat', 'backup', 'spare']);
    assert.deepEqual(fallbackChain(policy, 'spare'), ['spare']);
  });

  it('stops where a route repeats', () => {
    const policy: Policy = {
      version: 1,
      routes: {
        chat: route({ fallbackRoute: 'backup' }),
        backup: route({ fallbackRoute: 'chat' }),
      },
    };
    assert.deepEqual(fallbackChain(policy, 'chat'), ['chat', 'backup']);
  });
});
