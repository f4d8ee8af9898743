import assert from 'node:assert/strict';

import type { ProviderFaultStep, ToxicStep } from '../../../src/harness/drill/spec.js';
import { type FaultBench, startFaultBench } from './fixture.js';

function latencyToxic(id: string): ToxicStep {
  return {
    kind: 'toxic',
    id,
    proxy: 'provider-b',
    atS: 0,
    durationS: 10,
    toxic: { type: 'latency', attributes: { latency: 100 } },
  };
}

const outageOfB: ProviderFaultStep = {
  kind: 'provider-fault',
  id: 'outage-b',
  provider: 'provider-b',
  atS: 0,
  durationS: 10,
  faults: { errorRate: 1, errorStatus: 503 },
};

describe('createFaultDriver', () => {
  let bench: FaultBench;

  beforeEach(async () => {
    bench = await startFaultBench();
  });

  afterEach(async () => {
    await bench.close();
  });

  it('removes only its own toxic', async () => {
    const first = latencyToxic('first');
    const second = latencyToxic('second');
    await bench.driver.apply(first);
    await bench.driver.apply(second);
    await bench.driver.remove(first);
    assert.deepEqual(await bench.toxicsOn('provider-b'), ['scalegate-drill-second']);
  });

  it('keeps a toxic when a provider fault ends', async () => {
    const toxic = latencyToxic('slow-b');
    await bench.driver.apply(toxic);
    await bench.driver.apply(outageOfB);
    await bench.driver.remove(outageOfB);
    assert.deepEqual(await bench.toxicsOn('provider-b'), ['scalegate-drill-slow-b']);
    assert.deepEqual(bench.providerB.faults(), {});
  });

  it('keeps a provider fault when a toxic ends', async () => {
    const toxic = latencyToxic('slow-b');
    await bench.driver.apply(outageOfB);
    await bench.driver.apply(toxic);
    await bench.driver.remove(toxic);
    assert.deepEqual(bench.providerB.faults(), { errorRate: 1, errorStatus: 503 });
    assert.deepEqual(await bench.toxicsOn('provider-b'), []);
  });
});
