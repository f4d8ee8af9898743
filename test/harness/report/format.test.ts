import assert from 'node:assert/strict';

import { percent } from '../../../src/harness/report/format.js';

describe('percent', () => {
  it('keeps a rate with failures below 100.0%', () => {
    assert.equal(percent(2629 / 2630), '99.9%');
  });

  it('shows a whole rate as 100.0%', () => {
    assert.equal(percent(1), '100.0%');
  });

  it('rounds down to a tenth of a percent', () => {
    assert.equal(percent(0.12345), '12.3%');
    assert.equal(percent(0.57), '57.0%');
    assert.equal(percent(0), '0.0%');
  });
});
