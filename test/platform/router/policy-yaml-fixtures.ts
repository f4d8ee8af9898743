import assert from 'node:assert/strict';
import { isPolicyValidationError, parsePolicyYaml } from '../../../src/platform/router/index.js';
import { CATALOG } from './router-fixtures.js';

/** File name that the located problems of {@link problemLines} start with. */
export const SOURCE = 'policies/x.yaml';

/**
 * A valid policy over {@link CATALOG} with one route and no anchors. Lines are numbered
 * from 1 at `version: 1`, so `deadlineMs` is on line 10 and its key starts at column 5.
 */
export const ONE_ROUTE = [
  'version: 1',
  'routes:',
  '  chat:',
  '    qualityFloor: 2',
  '    candidates:',
  '      - { provider: oa, model: m1, weight: 1 }',
  '      - { provider: an, model: m2, weight: 0 }',
  '    firstTokenTimeoutMs: 2000',
  '    stallTimeoutMs: 5000',
  '    deadlineMs: 8000',
  '    retryBudget: { windowMs: 10000, maxRetriesPerWindow: 10, maxAttemptsPerTask: 3 }',
  '    failoverOn: [status_5xx, connection_error]',
  '    breaker:',
  '      failureThreshold: 5',
  '      minimumRequests: 10',
  '      windowMs: 30000',
  '      cooldownMs: 15000',
  '      halfOpenMaxProbes: 1',
  '    onExhausted: fail',
  '',
].join('\n');

/**
 * Returns `text` with the first occurrence of each `from` replaced by its `to`,
 * failing the test when a `from` is missing, so an edit cannot silently do nothing.
 */
export function editPolicy(text: string, edits: ReadonlyArray<readonly [string, string]>): string {
  let edited = text;
  for (const [from, to] of edits) {
    assert.ok(edited.includes(from), `fixture has no ${JSON.stringify(from)}`);
    edited = edited.replace(from, to);
  }
  return edited;
}

/** Returns the problem lines of the error that `parsePolicyYaml` raises for `text`. */
export function problemLines(text: string): string[] {
  try {
    parsePolicyYaml(text, CATALOG, SOURCE);
  } catch (error) {
    assert.ok(isPolicyValidationError(error), String(error));
    return error.message.split('\n').slice(1);
  }
  return assert.fail('expected a PolicyValidationError');
}
