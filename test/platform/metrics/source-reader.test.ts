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

  it('starts no read after its time limit', async () => {
    const reader = new TimeLimitedReader<number>(20);
    const ends: Array<(value: number) => void> = [];
    const read = (): Promise<number> =>
      new Promise<number>((resolve) => {
        ends.push(resolve);
      });
    await assert.rejects(reader.read('queue', read, 'queue read'), isOperationTimeoutError);
    assert.equal(ends.length, 1);

    // The second sample waits for the late first read, which ends inside its time limit, but
    // the event loop then stalls past that limit before the sample goes on.
    const second = reader.read('queue', read, 'queue read');
    ends[0]?.(1);
    const stalledUntil = performance.now() + 40;
    while (performance.now() < stalledUntil) {
      // Busy wait, as a loaded machine stalls the event loop.
    }
    await assert.rejects(second, isOperationTimeoutError);

    assert.equal(ends.length, 1, 'a read started after the time limit of its sample');
    // So the next sample starts its own read at once and gets its sample.
    const third = reader.read('queue', read, 'queue read');
    assert.equal(ends.length, 2);
    ends[1]?.(3);
    assert.deepEqual(await third, { sample: 3, sequence: 2 });
  });
});
