import assert from 'node:assert/strict';

import { formatTopology, parseTopology } from '../../../src/platform/runtime/topology.js';

describe('parseTopology', () => {
  it('reads both parts', () => {
    const topology = parseTopology('workers=24 serverless_burst=disabled');
    assert.equal(topology.workers, 24);
    assert.equal(topology.serverlessBurst, false);
  });

  it('fills a missing part with its default', () => {
    const topology = parseTopology('workers=3');
    assert.equal(topology.workers, 3);
    assert.equal(topology.serverlessBurst, true);
  });

  it('rejects an invalid part by name', () => {
    assert.throws(() => parseTopology('workers=0'), /invalid topology part "workers=0"/);
    assert.throws(() => parseTopology('burst=on'), /invalid topology part "burst=on"/);
  });

  it('rejects a worker count above the safe integers', () => {
    assert.throws(
      () => parseTopology('workers=99999999999999999999'),
      /^RangeError: invalid topology part "workers=99999999999999999999": workers is above 9007199254740991, the largest integer a JavaScript number stores exactly, so/,
    );
  });

  it('reads the largest safe worker count', () => {
    const topology = parseTopology('workers=9007199254740991');
    assert.equal(topology.workers, Number.MAX_SAFE_INTEGER);
  });

  it('rejects a second equals sign', () => {
    assert.throws(() => parseTopology('workers=2=3'), /invalid topology part "workers=2=3"/);
  });

  it('rejects a part given twice', () => {
    assert.throws(
      () => parseTopology('workers=2 workers=3'),
      /^RangeError: invalid topology: workers is given twice; keep one workers= part$/,
    );
  });

  it('formats what it parses', () => {
    const text = 'workers=24 serverless_burst=enabled';
    assert.equal(formatTopology(parseTopology(text)), text);
  });
});
