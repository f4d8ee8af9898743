import assert from 'node:assert/strict';

import { describeFirstIssue } from '../../../src/harness/report/schema-check.js';

describe('describeFirstIssue', () => {
  it('lowercases a description after expected', () => {
    const issue = {
      instancePath: '/successRate',
      keyword: 'maximum',
      message: 'must be <= 1',
      value: '99.5',
      expected: 'Share of ended requests that succeeded',
    };
    assert.equal(
      describeFirstIssue([issue]),
      'at /successRate: maximum rule failed (must be <= 1, got 99.5); ' +
        'expected share of ended requests that succeeded',
    );
  });

  it('keeps a first word in capitals', () => {
    const issue = {
      instancePath: '/path',
      keyword: 'type',
      message: 'must be string',
      value: '7',
      expected: 'JSON Pointer of the failing value',
    };
    assert.equal(
      describeFirstIssue([issue]),
      'at /path: type rule failed (must be string, got 7); expected JSON Pointer of the failing value',
    );
  });
});
