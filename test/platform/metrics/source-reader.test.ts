import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import FakeTimers from '@sinonjs/fake-timers';

import {
  ABANDON_AFTER_TIMEOUTS,
  MAX_ABANDONED_READS,
  SourceReader,
  TimeLimitedReader,
} from '../../../src/platform/metrics/source-reader.js';
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

/** Reads of one source that end only when the test resolves them, in start order. */
class ControlledReads {
  readonly ends: Array<(value: number) => void> = [];
  /** Count of reads started and not yet resolved. */
  pending = 0;

  readonly read = (): Promise<number> =>
    new Promise<number>((resolve) => {
      this.pending += 1;
      this.ends.push((value) => {
        this.pending -= 1;
        resolve(value);
      });
    });

  /** Resolves read `index`, counted from 0, with `value`. */
  end(index: number, value: number): void {
    const end = this.ends[index];
    assert.ok(end, `read ${index} was never started`);
    end(value);
  }
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

  it('returns no abandoned read to its starter', async () => {
    const timeoutMs = 20;
    const reader = new TimeLimitedReader<number>(timeoutMs);
    const reads = new ControlledReads();
    const first = reader.read('queue', reads.read, 'queue read');
    // The event loop stalls past the abandon age before the first sample's timer runs.
    const stalledUntil = performance.now() + ABANDON_AFTER_TIMEOUTS * timeoutMs + 10;
    while (performance.now() < stalledUntil) {
      // Busy wait, as a loaded machine stalls the event loop.
    }
    const second = reader.read('queue', reads.read, 'queue read');
    assert.equal(reads.ends.length, 2, 'the second sample did not abandon the first read');

    // The new read ends first, then the abandoned one, before the first sample's timer runs.
    reads.end(1, 2);
    reads.end(0, 1);
    assert.deepEqual(await second, { sample: 2, sequence: 2 });
    await assert.rejects(first, isOperationTimeoutError);
  });
});

describe('TimeLimitedReader with a read that never ends', () => {
  const timeoutMs = 100;
  const abandonAfterMs = ABANDON_AFTER_TIMEOUTS * timeoutMs;
  let clock: ReturnType<typeof FakeTimers.install>;

  beforeEach(() => {
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });

  afterEach(() => {
    clock.uninstall();
  });

  /** Runs a read of `key` that must time out, advancing the fake clock by `timeoutMs`. */
  async function expectTimeout(
    reader: TimeLimitedReader<number>,
    key: string,
    read: () => Promise<number>,
  ) {
    const result = reader.read(key, read, 'queue read');
    const rejected = assert.rejects(result, isOperationTimeoutError);
    await clock.tickAsync(timeoutMs);
    await rejected;
  }

  it('starts a new read after the abandon age', async () => {
    const reader = new TimeLimitedReader<number>(timeoutMs);
    const reads = new ControlledReads();
    await expectTimeout(reader, 'queue', reads.read);
    assert.equal(reads.ends.length, 1);

    // Younger than the abandon age, the hung read still blocks the source.
    await expectTimeout(reader, 'queue', reads.read);
    assert.equal(reads.ends.length, 1, 'a sample started a read before the abandon age');

    await clock.tickAsync(abandonAfterMs - 2 * timeoutMs);
    const fresh = reader.read('queue', reads.read, 'queue read');
    assert.equal(reads.ends.length, 2, 'the sample did not start a read of its own');
    reads.end(1, 5);
    assert.deepEqual(await fresh, { sample: 5, sequence: 2 });
  });

  it('wakes a waiting sample at the abandon age', async () => {
    const reader = new TimeLimitedReader<number>(timeoutMs);
    const reads = new ControlledReads();
    await expectTimeout(reader, 'queue', reads.read);

    // This sample's time limit ends after the abandon age of the hung read it joins.
    await clock.tickAsync(abandonAfterMs - timeoutMs - timeoutMs / 2);
    const waiting = reader.read('queue', reads.read, 'queue read');
    await clock.tickAsync(timeoutMs / 2 - 1);
    assert.equal(reads.ends.length, 1, 'a read started before the abandon age');
    await clock.tickAsync(1);
    assert.equal(reads.ends.length, 2, 'no read started at the abandon age');
    reads.end(1, 8);
    assert.deepEqual(await waiting, { sample: 8, sequence: 2 });
  });

  it('drops the result of an abandoned read', async () => {
    const sets: Array<[string, number]> = [];
    const failures: string[] = [];
    const reader = new SourceReader<number>({
      set: (key, sample) => sets.push([key, sample]),
      timeoutMs,
      onFailure: (_key, reason) => failures.push(reason),
      operation: (key) => `${key} read`,
    });
    const reads = new ControlledReads();
    const sources = new Map([['queue', reads.read]]);
    const first = reader.readAll(sources);
    await clock.tickAsync(timeoutMs);
    await first;
    assert.deepEqual(failures, ['timeout']);

    await clock.tickAsync(abandonAfterMs);
    const second = reader.readAll(sources);
    assert.equal(reads.ends.length, 2);
    reads.end(1, 5);
    await second;
    assert.deepEqual(sets, [['queue', 5]]);

    // The abandoned first read ends after the second set the gauges.
    reads.end(0, 1);
    await clock.tickAsync(0);
    assert.deepEqual(sets, [['queue', 5]], 'the abandoned read set the gauges');

    // The source is free again, so the next sample starts a read at once.
    const third = reader.readAll(sources);
    assert.equal(reads.ends.length, 3);
    reads.end(2, 9);
    await third;
    assert.deepEqual(sets, [
      ['queue', 5],
      ['queue', 9],
    ]);
    assert.deepEqual(failures, ['timeout']);
  });

  it('bounds the pending reads of a hung source', async () => {
    const reader = new TimeLimitedReader<number>(timeoutMs);
    const reads = new ControlledReads();
    const maxPending = MAX_ABANDONED_READS + 1;
    for (let sample = 0; sample < 10; sample += 1) {
      await expectTimeout(reader, 'queue', reads.read);
      assert.ok(reads.pending <= maxPending, `${reads.pending} reads pending`);
      await clock.tickAsync(abandonAfterMs);
    }
    assert.equal(reads.pending, maxPending);
    assert.equal(reads.ends.length, maxPending);

    // Another source has a limit of its own.
    const other = new ControlledReads();
    const otherRead = reader.read('store', other.read, 'store read');
    other.end(0, 4);
    assert.deepEqual(await otherRead, { sample: 4, sequence: maxPending + 1 });

    // An abandoned read that ends frees its place, so the next sample abandons the hung one.
    reads.end(0, 1);
    await clock.tickAsync(0);
    const fresh = reader.read('queue', reads.read, 'queue read');
    assert.equal(reads.ends.length, maxPending + 1);
    reads.end(maxPending, 6);
    assert.deepEqual(await fresh, { sample: 6, sequence: maxPending + 2 });
    assert.equal(reads.pending, maxPending - 1);
  });
});
