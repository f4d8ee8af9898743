/**
 * Conformance suite every TaskQueue driver passes. A harness supplies the
 * driver and the passage of time: fake-clock ticks for the in-memory driver,
 * real sleeps for BullMQ on Redis.
 */
import assert from 'node:assert/strict';

import type { Clock } from '../../../src/platform/clock.js';
import {
  DeferError,
  NonRetryableError,
  type QueueJob,
  type QueueOptions,
  type RetriedEvent,
  type TaskQueue,
} from '../../../src/platform/queue/index.js';

export type HarnessQueueOptions = Omit<QueueOptions, 'name' | 'clock'>;

export interface QueueHarness {
  /** Creates a queue with a unique name; the harness deletes it in cleanup. */
  create<T>(options?: HarnessQueueOptions): TaskQueue<T>;
  /** Clock of the queues this harness creates; handlers sleep on it. */
  clock: Clock;
  /** Lets `ms` of queue time pass. */
  advance(ms: number): Promise<void>;
  /** Polling step and budget of waitFor, in queue time. */
  stepMs: number;
  budgetMs: number;
  cleanup(): Promise<void>;
}

/** Registers the conformance tests for one driver. */
export function runQueueConformance(driver: string, makeHarness: () => QueueHarness): void {
  describe(`TaskQueue conformance: ${driver}`, () => {
    let harness: QueueHarness;

    beforeEach(() => {
      harness = makeHarness();
    });

    afterEach(async () => {
      await harness.cleanup();
    });

    async function waitFor(
      condition: () => Promise<boolean> | boolean,
      what: string,
    ): Promise<void> {
      for (let waited = 0; waited <= harness.budgetMs; waited += harness.stepMs) {
        if (await condition()) {
          return;
        }
        await harness.advance(harness.stepMs);
      }
      assert.fail(`timed out after ${harness.budgetMs} ms waiting for ${what}`);
    }

    async function waitForTerminal(queue: TaskQueue<unknown>, expected: number): Promise<void> {
      await waitFor(async () => {
        const counts = await queue.counts();
        return counts.completed + counts.failed + counts.deadLettered >= expected;
      }, `${expected} terminal jobs`);
    }

    it('delivers jobs in FIFO order', async () => {
      const queue = harness.create<number>();
      for (let index = 0; index < 5; index += 1) {
        await queue.enqueue(`job-${index}`, index);
      }
      const seen: number[] = [];
      queue.consume(
        async (job) => {
          seen.push(job.data);
        },
        { concurrency: 1 },
      );
      await waitForTerminal(queue, 5);
      assert.deepEqual(seen, [0, 1, 2, 3, 4]);
    });

    it('runs lower priority numbers first', async () => {
      const queue = harness.create<string>();
      await queue.enqueue('low', 'low', { priority: 3 });
      await queue.enqueue('high', 'high', { priority: 1 });
      await queue.enqueue('middle', 'middle', { priority: 2 });
      const seen: string[] = [];
      queue.consume(
        async (job) => {
          seen.push(job.data);
        },
        { concurrency: 1 },
      );
      await waitForTerminal(queue, 3);
      assert.deepEqual(seen, ['high', 'middle', 'low']);
    });

    it('honours the consumer concurrency limit', async () => {
      const queue = harness.create<number>();
      const tracker = overlapTracker();
      for (let index = 0; index < 8; index += 1) {
        await queue.enqueue(`job-${index}`, index);
      }
      queue.consume(tracker.wrap(harness.clock, 50), { concurrency: 3 });
      await waitForTerminal(queue, 8);
      assert.equal(tracker.max, 3);
    });

    it('honours the global cap across consumers', async () => {
      const queue = harness.create<number>({ globalConcurrency: 1 });
      const tracker = overlapTracker();
      for (let index = 0; index < 6; index += 1) {
        await queue.enqueue(`job-${index}`, index);
      }
      queue.consume(tracker.wrap(harness.clock, 30), { concurrency: 2 });
      queue.consume(tracker.wrap(harness.clock, 30), { concurrency: 2 });
      await waitForTerminal(queue, 6);
      assert.equal(tracker.max, 1);
      assert.equal((await queue.counts()).completed, 6);
    });

    it('retries with capped exponential backoff', async () => {
      const queue = harness.create<null>({
        maxAttempts: 4,
        backoffBaseMs: 20,
        backoffMaxMs: 60,
        random: () => 0.5,
      });
      const retried: RetriedEvent[] = [];
      queue.on('retried', (event) => retried.push(event));
      const attempts: number[] = [];
      await queue.enqueue('flaky', null);
      queue.consume(
        async (job) => {
          attempts.push(job.attempt);
          if (job.attempt < 4) {
            throw new Error(`attempt ${job.attempt} failed`);
          }
        },
        { concurrency: 1 },
      );
      await waitForTerminal(queue, 1);
      assert.deepEqual(attempts, [1, 2, 3, 4]);
      // Equal jitter at random 0.5: 3/4 of min(60, 20 * 2^(n-1)).
      assert.deepEqual(
        retried.map((event) => event.delayMs),
        [15, 30, 45],
      );
      assert.equal((await queue.counts()).completed, 1);
    });

    it('dead-letters after maxAttempts', async () => {
      const queue = harness.create<{ payload: string }>({ maxAttempts: 3, backoffBaseMs: 5 });
      const events: { id: string; attempts: number; data: unknown }[] = [];
      queue.on('deadLettered', ({ id, attempts, data }) => events.push({ id, attempts, data }));
      let deliveries = 0;
      await queue.enqueue('doomed', { payload: 'kept' });
      queue.consume(
        async () => {
          deliveries += 1;
          throw new Error('always broken');
        },
        { concurrency: 1 },
      );
      await waitFor(async () => (await queue.counts()).deadLettered === 1, 'a dead letter');
      const dead = await queue.listDeadLettered();
      assert.equal(deliveries, 3);
      assert.equal(dead.length, 1);
      assert.equal(dead[0]?.id, 'doomed');
      assert.deepEqual(dead[0]?.data, { payload: 'kept' });
      assert.equal(dead[0]?.attempts, 3);
      assert.equal(dead[0]?.error, 'always broken');
      assert.equal((await queue.counts()).failed, 0);
      await waitFor(() => events.length === 1, 'the deadLettered event');
      assert.deepEqual(events, [{ id: 'doomed', attempts: 3, data: { payload: 'kept' } }]);
    });

    it('fails a non-retryable error at once', async () => {
      const queue = harness.create<{ ticket: string }>({ maxAttempts: 5, backoffBaseMs: 5 });
      const failedAttempts: number[] = [];
      const failedData: unknown[] = [];
      queue.on('failed', (event) => {
        failedAttempts.push(event.attempt);
        failedData.push(event.data);
      });
      let deliveries = 0;
      await queue.enqueue('bad-input', { ticket: 't-1' });
      queue.consume(
        async () => {
          deliveries += 1;
          throw new NonRetryableError('input rejected');
        },
        { concurrency: 1 },
      );
      await waitForTerminal(queue, 1);
      const counts = await queue.counts();
      assert.equal(deliveries, 1);
      assert.equal(counts.failed, 1);
      assert.equal(counts.deadLettered, 0);
      assert.deepEqual(failedAttempts, [1]);
      assert.deepEqual(failedData, [{ ticket: 't-1' }]);
    });

    it('defers a job without using an attempt', async () => {
      const queue = harness.create<null>({ maxAttempts: 2, backoffBaseMs: 5 });
      const retried: RetriedEvent[] = [];
      queue.on('retried', (event) => retried.push(event));
      const seen: { attempt: number; deliveries: number }[] = [];
      await queue.enqueue('capped', null);
      queue.consume(
        async (job) => {
          seen.push({ attempt: job.attempt, deliveries: job.deliveries });
          // Three deferrals, more than maxAttempts, then the job runs.
          if (seen.length <= 3) throw new DeferError(20);
        },
        { concurrency: 1 },
      );
      await waitForTerminal(queue, 1);
      assert.deepEqual(
        seen.map((delivery) => delivery.attempt),
        [1, 1, 1, 1],
      );
      assert.deepEqual(
        seen.map((delivery) => delivery.deliveries),
        [1, 2, 3, 4],
      );
      const counts = await queue.counts();
      assert.equal(counts.completed, 1);
      assert.equal(counts.deadLettered, 0);
      assert.deepEqual(retried, []);
    });

    it('holds a deferred job for its delay', async () => {
      const queue = harness.create<null>();
      const startedAt: number[] = [];
      await queue.enqueue('later', null);
      queue.consume(
        async () => {
          startedAt.push(harness.clock.now());
          if (startedAt.length === 1) throw new DeferError(300);
        },
        { concurrency: 1 },
      );
      await waitForTerminal(queue, 1);
      const waited = (startedAt[1] ?? 0) - (startedAt[0] ?? 0);
      assert.ok(waited >= 300, `delivered again after ${waited} ms`);
      assert.equal((await queue.gauges()).depth, 0);
    });

    it('ages a deferred job from its return', async () => {
      const queue = harness.create<null>();
      const releases = new Map<string, () => void>();
      await queue.enqueue('capped', null);
      await harness.advance(2000);
      await queue.enqueue('blocker-1', null);
      await queue.enqueue('blocker-2', null);
      queue.consume(
        async (job) => {
          if (job.id === 'capped' && job.deliveries === 1) throw new DeferError(50);
          await new Promise<void>((resolve) => releases.set(job.id, resolve));
        },
        { concurrency: 1 },
      );
      await waitFor(() => releases.has('blocker-1'), 'blocker-1 to start');
      await harness.advance(100);
      releases.get('blocker-1')?.();
      await waitFor(() => releases.has('blocker-2'), 'blocker-2 to start');

      // The deferred job waits behind blocker-2, 2 s after its enqueue but only about
      // 100 ms after its return.
      const gauges = await queue.gauges();
      assert.equal(gauges.depth, 1);
      assert.ok(gauges.oldestAgeMs < 1000, `oldestAgeMs ${gauges.oldestAgeMs} counts the deferral`);
      releases.get('blocker-2')?.();
      await waitFor(() => releases.has('capped'), 'the deferred job to start');
      releases.get('capped')?.();
      await waitForTerminal(queue, 3);
    });

    it('executes a duplicate id once', async () => {
      const queue = harness.create<string>();
      const first = await queue.enqueue('same-key', 'first');
      const second = await queue.enqueue('same-key', 'second');
      const runs: string[] = [];
      queue.consume(
        async (job) => {
          runs.push(job.data);
        },
        { concurrency: 2 },
      );
      await waitForTerminal(queue, 1);
      const third = await queue.enqueue('same-key', 'third');
      await harness.advance(harness.stepMs * 5);
      assert.equal(first.duplicate, false);
      assert.equal(second.duplicate, true);
      assert.equal(third.duplicate, true);
      assert.deepEqual(runs, ['first']);
      assert.equal((await queue.counts()).accepted, 1);
    });

    it('reports one concurrent enqueue as new', async () => {
      const queue = harness.create<string>();
      const results = await Promise.all([
        queue.enqueue('racing', 'first'),
        queue.enqueue('racing', 'second'),
        queue.enqueue('racing', 'third'),
      ]);
      const runs: string[] = [];
      queue.consume(
        async (job) => {
          runs.push(job.id);
        },
        { concurrency: 2 },
      );
      await waitForTerminal(queue, 1);
      await harness.advance(harness.stepMs * 5);

      const fresh = results.filter((result) => !result.duplicate);
      assert.equal(fresh.length, 1, `${fresh.length} of 3 enqueues reported as new`);
      assert.deepEqual(runs, ['racing']);
      assert.equal((await queue.counts()).accepted, 1);
    });

    it('detects a duplicate within the retention', async () => {
      const queue = harness.create<string>({ retentionMs: 1000 });
      const runs: string[] = [];
      queue.consume(
        async (job) => {
          runs.push(job.data);
        },
        { concurrency: 1 },
      );
      await queue.enqueue('kept', 'first');
      await waitForTerminal(queue, 1);
      await harness.advance(500);
      // A finish is when each driver deletes the jobs past their retention.
      await queue.enqueue('trigger', 'trigger');
      await waitForTerminal(queue, 2);

      const again = await queue.enqueue('kept', 'second');
      await harness.advance(harness.stepMs * 5);

      assert.equal(again.duplicate, true);
      assert.equal(await queue.hasJob('kept'), true);
      assert.deepEqual(runs, ['first', 'trigger']);
      assert.equal((await queue.counts()).accepted, 2);
    });

    it('accepts an id again after its retention', async () => {
      const queue = harness.create<string>({ retentionMs: 1000 });
      const runs: string[] = [];
      queue.consume(
        async (job) => {
          runs.push(job.data);
        },
        { concurrency: 1 },
      );
      await queue.enqueue('expiring', 'first');
      await waitForTerminal(queue, 1);
      await harness.advance(1100);
      await queue.enqueue('trigger', 'trigger');
      await waitForTerminal(queue, 2);
      assert.equal(await queue.hasJob('expiring'), false, 'deleted at the finish after retention');

      const again = await queue.enqueue('expiring', 'second');
      await waitForTerminal(queue, 3);

      assert.equal(again.duplicate, false);
      assert.deepEqual(runs, ['first', 'trigger', 'second']);
      const counts = await queue.counts();
      assert.deepEqual(counts, { accepted: 3, completed: 3, failed: 0, deadLettered: 0 });
    });

    it('reports whether it holds a job', async () => {
      const queue = harness.create<number>();
      // A ':' exercises the id encoding of drivers whose store forbids it.
      await queue.enqueue('task:1', 1);

      assert.equal(await queue.hasJob('task:1'), true);
      assert.equal(await queue.hasJob('task:2'), false);

      queue.consume(async () => undefined, { concurrency: 1 });
      await waitForTerminal(queue, 1);
      assert.equal(await queue.hasJob('task:1'), true, 'a finished job within its retention');
    });

    it('redelivers the jobs of a stopped consumer', async () => {
      const queue = harness.create<null>({ stallIntervalMs: 500, maxStalls: 1 });
      const stalled: string[] = [];
      queue.on('stalled', (event) => stalled.push(event.id));
      const deliveries: number[] = [];
      await queue.enqueue('orphan', null);
      const doomed = queue.consume(
        async (job) => {
          deliveries.push(job.deliveries);
          await new Promise<void>(() => undefined);
        },
        { concurrency: 1 },
      );
      await waitFor(() => deliveries.length === 1, 'the first delivery');
      await doomed.close();
      queue.consume(
        async (job) => {
          deliveries.push(job.deliveries);
        },
        { concurrency: 1 },
      );
      await waitForTerminal(queue, 1);
      assert.deepEqual(deliveries, [1, 2]);
      assert.deepEqual(stalled, ['orphan']);
      assert.equal((await queue.counts()).completed, 1);
    });

    it('reports gauges', async () => {
      const queue = harness.create<null>();
      for (let index = 0; index < 3; index += 1) {
        await queue.enqueue(`job-${index}`, null);
      }
      await harness.advance(200);
      const before = await queue.gauges();
      assert.equal(before.depth, 3);
      assert.equal(before.active, 0);
      assert.ok(before.oldestAgeMs >= 200, `oldestAgeMs ${before.oldestAgeMs} < 200`);
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      queue.consume(() => held, { concurrency: 3 });
      await waitFor(async () => (await queue.gauges()).active === 3, 'three active jobs');
      const during = await queue.gauges();
      assert.equal(during.depth, 0);
      assert.equal(during.oldestAgeMs, 0);
      release();
      await waitForTerminal(queue, 3);
      const after = await queue.gauges();
      assert.deepEqual(
        { depth: after.depth, active: after.active, completed: after.completed },
        { depth: 0, active: 0, completed: 3 },
      );
    });

    it('drains active handlers and takes no new jobs', async () => {
      const queue = harness.create<null>();
      let finished = 0;
      await queue.enqueue('slow', null);
      const consumer = queue.consume(
        async () => {
          await harness.clock.sleep(100);
          finished += 1;
        },
        { concurrency: 1 },
      );
      await waitFor(() => consumer.active === 1, 'an active handler');
      const drained = consumer.drain();
      await waitFor(() => finished === 1, 'the handler to finish');
      await drained;
      await queue.enqueue('late', null);
      await harness.advance(harness.stepMs * 5);
      const gauges = await queue.gauges();
      assert.equal(gauges.completed, 1);
      assert.equal(gauges.depth, 1);
    });

    it('pauses a consumer until resumed', async () => {
      const queue = harness.create<null>();
      let finished = 0;
      await queue.enqueue('running', null);
      // Concurrency 1 with one active job leaves a BullMQ worker no fetch under way, which
      // could still start one job after the pause.
      const consumer = queue.consume(
        async () => {
          await harness.clock.sleep(100);
          finished += 1;
        },
        { concurrency: 1 },
      );
      await waitFor(() => consumer.active === 1, 'an active handler');
      await consumer.pause();
      assert.equal(consumer.paused, true);
      await queue.enqueue('held-1', null);
      await queue.enqueue('held-2', null);
      // The running job ends while paused, and the new ones wait.
      await waitFor(() => finished === 1, 'the running handler to finish');
      await harness.advance(harness.stepMs * 5);
      const paused = await queue.gauges();
      assert.equal(paused.depth, 2);
      assert.equal(paused.active, 0);
      assert.ok(paused.oldestAgeMs > 0, `oldestAgeMs ${paused.oldestAgeMs} is 0 while paused`);
      await consumer.resume();
      assert.equal(consumer.paused, false);
      await waitForTerminal(queue, 3);
      assert.equal((await queue.gauges()).depth, 0);
    });

    it('ends every accepted job in a terminal state', async () => {
      const queue = harness.create<number>({ maxAttempts: 2, backoffBaseMs: 5 });
      for (let index = 0; index < 30; index += 1) {
        await queue.enqueue(`job-${index}`, index);
        await queue.enqueue(`job-${index}`, index);
      }
      queue.consume(mixedOutcomeHandler, { concurrency: 4 });
      await waitFor(async () => {
        const counts = await queue.counts();
        return counts.completed === 10 && counts.failed === 10 && counts.deadLettered === 10;
      }, '10 completed, 10 failed and 10 dead-lettered jobs');
      const counts = await queue.counts();
      assert.equal(counts.accepted, 30);
      assert.equal(counts.accepted, counts.completed + counts.failed + counts.deadLettered);
      assert.equal((await queue.gauges()).depth, 0);
    });

    it('counts finished jobs past retention', async () => {
      const queue = harness.create<string>({ maxAttempts: 1, retentionMs: 1000 });
      const outcome: Record<string, () => void> = {
        done: () => undefined,
        bad: () => {
          throw new NonRetryableError('input rejected');
        },
        broken: () => {
          throw new Error('always broken');
        },
      };
      queue.consume(async (job) => outcome[job.data]?.(), { concurrency: 1 });

      await queue.enqueue('old-done', 'done');
      await queue.enqueue('old-bad', 'bad');
      await queue.enqueue('old-dead', 'broken');
      await waitForTerminal(queue, 3);
      await harness.advance(1100);

      // Finishes after the retention make each driver drop the old jobs.
      await queue.enqueue('new-done', 'done');
      await queue.enqueue('new-bad', 'bad');
      await queue.enqueue('new-dead', 'broken');
      await waitForTerminal(queue, 6);

      const dead = await queue.listDeadLettered();
      assert.deepEqual(
        dead.map((entry) => entry.id),
        ['new-dead'],
      );
      assert.deepEqual(await queue.counts(), {
        accepted: 6,
        completed: 2,
        failed: 2,
        deadLettered: 2,
      });
    });

    it('rejects invalid options at construction', () => {
      assert.throws(() => harness.create({ maxAttempts: 0 }), {
        name: 'RangeError',
        message: 'maxAttempts must be an integer >= 1, got 0',
      });
      assert.throws(() => harness.create({ retentionMs: 999 }), {
        name: 'RangeError',
        message: 'retentionMs must be an integer >= 1000, got 999',
      });
      assert.throws(() => harness.create({ backoffBaseMs: 100, backoffMaxMs: 10 }), RangeError);
    });
  });
}

/** Succeeds for data % 3 === 0, fails at once for 1, always throws for 2. */
async function mixedOutcomeHandler(job: QueueJob<number>): Promise<void> {
  if (job.data % 3 === 1) {
    throw new NonRetryableError('non-retryable');
  }
  if (job.data % 3 === 2) {
    throw new Error('retryable');
  }
}

/** Counts the most handlers that `wrap` saw running at once. */
export function overlapTracker() {
  let running = 0;
  const tracker = {
    max: 0,
    wrap(clock: Clock, holdMs: number) {
      return async (): Promise<void> => {
        running += 1;
        tracker.max = Math.max(tracker.max, running);
        await clock.sleep(holdMs);
        running -= 1;
      };
    },
  };
  return tracker;
}
