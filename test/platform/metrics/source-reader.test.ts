import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { TimeLimitedReader } from '../../../src/platform/metrics/source-reader.js';
import { isOperationTimeoutError } from '../../../src/platform/timeout.js';

setFlagsFromString('--expose-gc');
/** V8's full garbage collection, from a context created after `--expose-gc` was set. */
const collectGarbage = runInNewContext('gc') as () => void;

/** Returns a promise that never settles, as a Redis command without a reply. */
function hungRead(): Promise<number> {
  return new Promise<number>(() => undefined);
}

/** Runs one read of `key` that times out, and returns a weak reference to its error. */
async function timedOutError(
  reader: TimeLimitedReader<number>,
  key: string,
): Promise<WeakRef<object>> {
  const error: unknown = await reader.read(key, hungRead, 'hung read').then(
    () => undefined,
    (reason: unknown) => reason,
  );
  assert.ok(isOperationTimeoutError(error), String(error));
  return new WeakRef(error);
}

describe('TimeLimitedReader', () => {
  it('keeps no timed-out wait of a hung read', async () => {
    const reader = new TimeLimitedReader<number>(5);
    const first = await timedOutError(reader, 'queue');
    // The second sample waits for the hung first read, which is still in flight.
    const second = await timedOutError(reader, 'queue');
    // A WeakRef keeps its target until the job that created it ends.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();

    assert.equal(first.deref(), undefined, 'the first sample is still referenced');
    assert.equal(second.deref(), undefined, 'the second sample is still referenced');
  });
});
