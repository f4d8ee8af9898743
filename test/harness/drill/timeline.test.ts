import assert from 'node:assert/strict';

import type { ToxicStep } from '../../../src/harness/drill/spec.js';
import { newRecord } from '../../../src/harness/drill/timeline.js';

function toxicStep(toxic: Partial<ToxicStep['toxic']>): ToxicStep {
  return {
    kind: 'toxic',
    id: 'fallback-latency',
    proxy: 'provider-b',
    atS: 30,
    durationS: 15,
    toxic: { type: 'latency', attributes: { latency: 1500 }, ...toxic },
  };
}

describe('newRecord', () => {
  it("records a toxic's default stream and toxicity", () => {
    assert.deepEqual(newRecord(toxicStep({})).toxic, { stream: 'downstream', toxicity: 1 });
  });

  it("records a toxic's own stream and toxicity", () => {
    const record = newRecord(toxicStep({ stream: 'upstream', toxicity: 0.4 }));
    assert.deepEqual(record.toxic, { stream: 'upstream', toxicity: 0.4 });
  });

  it('records no toxic scope for a provider fault', () => {
    const record = newRecord({
      kind: 'provider-fault',
      id: 'primary-outage',
      provider: 'provider-a',
      atS: 20,
      durationS: 30,
      faults: { errorRate: 1, errorStatus: 503 },
    });
    assert.equal(record.toxic, undefined);
    assert.equal(Object.hasOwn(record, 'toxic'), false);
  });
});
