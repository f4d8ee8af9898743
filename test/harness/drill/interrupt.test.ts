import assert from 'node:assert/strict';

import { startInterruptReason } from '../../../src/harness/drill/interrupt.js';
import { FleetProcessError } from '../../../src/platform/runtime/fleet-child.js';

/** Returns the start failure of a fleet process that a group SIGINT killed. */
function killedFleet(): FleetProcessError {
  return new FleetProcessError('provider fleet process was killed by SIGINT', 'SIGINT');
}

describe('startInterruptReason', () => {
  it('waits for a signal that comes later', async () => {
    const controller = new AbortController();
    const reason = new Error('interrupted by SIGINT');
    // The fleet's exit reached the start first, and this process's own handler runs after.
    setTimeout(() => controller.abort(reason), 50);
    assert.equal(await startInterruptReason(killedFleet(), controller.signal), reason);
  });

  it('returns the reason of an earlier signal', async () => {
    const controller = new AbortController();
    const reason = new Error('interrupted by SIGTERM');
    controller.abort(reason);
    assert.equal(await startInterruptReason(new Error('bind failed'), controller.signal), reason);
  });

  it('returns undefined without a signal', async () => {
    const controller = new AbortController();
    assert.equal(await startInterruptReason(killedFleet(), controller.signal), undefined);
    assert.equal(controller.signal.aborted, false);
  });

  it('returns undefined for another start failure', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('late')), 50);
    assert.equal(
      await startInterruptReason(new Error('bind failed'), controller.signal),
      undefined,
    );
  });
});
