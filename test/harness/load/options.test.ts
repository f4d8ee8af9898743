import assert from 'node:assert/strict';
import { resolveLoadOptions } from '../../../src/harness/load/options.js';

describe('resolveLoadOptions connections', () => {
  it('defaults to 1000', () => {
    assert.equal(resolveLoadOptions({}).connections, 1000);
  });

  it('follows a raised maxInFlight', () => {
    // A pool of 1000 connections would queue 4000 of these requests inside the engine.
    assert.equal(resolveLoadOptions({ maxInFlight: 5000 }).connections, 5000);
  });

  it('follows a lowered maxInFlight', () => {
    assert.equal(resolveLoadOptions({ maxInFlight: 3 }).connections, 3);
  });

  it('keeps an explicit value', () => {
    assert.equal(resolveLoadOptions({ maxInFlight: 5000, connections: 10 }).connections, 10);
  });

  it('rejects an explicit 0', () => {
    assert.throws(() => resolveLoadOptions({ connections: 0 }), {
      name: 'RangeError',
      message: 'connections must be an integer >= 1, got 0',
    });
  });
});
