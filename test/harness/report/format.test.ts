import assert from 'node:assert/strict';

import { explicitlySignedUsd, percent } from '../../../src/harness/report/format.js';

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

describe('explicitlySignedUsd', () => {
  it('signs a positive amount with +', () => {
    assert.equal(explicitlySignedUsd(0.1), '+$0.1000');
  });

  it('signs a negative amount with -', () => {
    assert.equal(explicitlySignedUsd(-0.0043), '-$0.004300');
  });

  it('leaves zero unsigned', () => {
    assert.equal(explicitlySignedUsd(0), '$0.000');
  });
});
