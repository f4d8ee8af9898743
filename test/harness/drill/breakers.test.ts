import assert from 'node:assert/strict';

import { breakerJournal } from '../../../src/harness/drill/breakers.js';
import type { BreakerChangeAt, BreakerWatch } from '../../../src/harness/drill/deps.js';

const GPT = { provider: 'provider-a', model: 'gpt-4o' };
const MINI = { provider: 'provider-a', model: 'gpt-4o-mini' };
const SONNET = { provider: 'provider-b', model: 'claude-sonnet' };

/** Builds a watch that saw `changes`, with every target of `initial` closed at its start. */
function watchOf(
  changes: BreakerChangeAt[],
  initial: { provider: string; model: string }[] = [GPT],
): Pick<BreakerWatch, 'initial' | 'changes'> {
  return {
    initial: initial.map((target) => ({ ...target, state: 'closed' as const })),
    changes: () => changes,
  };
}

describe('breakerJournal', () => {
  it('measures offsets from the load start', () => {
    const journal = breakerJournal(
      watchOf([
        { ...GPT, from: 'closed', to: 'open', atMs: 7250 },
        { ...GPT, from: 'open', to: 'half-open', atMs: 22_250 },
        { ...GPT, from: 'half-open', to: 'closed', atMs: 22_700 },
      ]),
      5000,
      30,
    );
    assert.deepEqual(
      journal.targets[0]?.transitions.map((entry) => entry.atS),
      [2.25, 17.25, 17.7],
    );
    assert.equal(journal.targets[0]?.openS, 15);
  });

  it('counts an open breaker until the end', () => {
    const journal = breakerJournal(
      watchOf([{ ...GPT, from: 'closed', to: 'open', atMs: 4000 }]),
      1000,
      10.5,
    );
    assert.equal(journal.untilS, 10.5);
    assert.equal(journal.targets[0]?.endState, 'open');
    assert.equal(journal.targets[0]?.openS, 7.5);
  });

  it('takes a change before the load start as the start state', () => {
    const journal = breakerJournal(
      watchOf([
        { ...GPT, from: 'closed', to: 'open', atMs: 500 },
        { ...GPT, from: 'open', to: 'half-open', atMs: 3000 },
      ]),
      1000,
      5,
    );
    assert.equal(journal.targets[0]?.startState, 'open');
    assert.deepEqual(journal.targets[0]?.transitions, [{ atS: 2, from: 'open', to: 'half-open' }]);
    assert.equal(journal.targets[0]?.openS, 2);
  });

  it('keeps the reason of a change', () => {
    const reason = 'half-open probe succeeded';
    const journal = breakerJournal(
      watchOf([{ ...GPT, from: 'half-open', to: 'closed', reason, atMs: 2000 }]),
      0,
      5,
    );
    assert.equal(journal.targets[0]?.transitions[0]?.reason, reason);
  });

  it('adds a target first seen in a change', () => {
    const journal = breakerJournal(
      watchOf([{ ...SONNET, from: 'closed', to: 'open', atMs: 2000 }]),
      0,
      5,
    );
    assert.deepEqual(
      journal.targets.map((target) => [target.provider, target.model, target.endState]),
      [
        ['provider-a', 'gpt-4o', 'closed'],
        ['provider-b', 'claude-sonnet', 'open'],
      ],
    );
  });

  it('sorts targets by provider and model', () => {
    const journal = breakerJournal(watchOf([], [SONNET, MINI, GPT]), 0, 5);
    assert.deepEqual(
      journal.targets.map((target) => target.model),
      ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet'],
    );
  });

  it('rounds times to milliseconds', () => {
    const journal = breakerJournal(
      watchOf([{ ...GPT, from: 'closed', to: 'open', atMs: 1234.5678 }]),
      0,
      2.00049,
    );
    assert.equal(journal.targets[0]?.transitions[0]?.atS, 1.235);
    assert.equal(journal.untilS, 2);
    assert.equal(journal.targets[0]?.openS, 0.765);
  });
});
