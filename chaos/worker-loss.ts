/**
 * Drill of lost executor capacity: every async worker pauses for 35 s while async chat
 * tasks keep arriving, so the queue backs up until backpressure sheds the batch class.
 * Once the workers resume, the queue must drain and the steady state hold again.
 *
 * Two runs on 2 cores (AMD EPYC, Node.js 20.20.2) measured a queue oldest age of at most
 * 39.9 s, 5 s after the resume, because batch tasks run last. That is 8 s under the 48 s
 * at which standard requests are shed, so the 35 s pause sheds batch only: 13 requests in
 * each run. The queue was empty 9 s after the resume, within `settleS`. Before and after
 * the pause the success rate was 100%, the p95 3.8 to 4.3 s and the oldest age 0 s.
 */
import type { DrillSpec } from '../src/harness/drill/spec.js';

export const workerLossDrill: DrillSpec = {
  name: 'worker-loss',
  description:
    'Every async worker pauses for 35 s under async chat traffic of a critical, a standard ' +
    'and a batch tenant; the queue backs up and backpressure sheds the lowest class.',
  scenario: 'async-chat',
  durationS: 120,
  probeIntervalS: 1,
  steadyState: {
    settleS: 20,
    probes: [
      {
        name: 'success-rate',
        source: 'series',
        measure: 'successRate',
        comparator: 'min',
        threshold: 0.99,
        tolerance: 0.005,
        checkDuring: false,
      },
      {
        name: 'p95-latency',
        source: 'series',
        measure: 'p95S',
        comparator: 'max',
        threshold: 8,
        tolerance: 1,
        checkDuring: false,
      },
      {
        name: 'queue-oldest-age',
        source: 'series',
        measure: 'queueOldestAgeS',
        comparator: 'max',
        threshold: 5,
        tolerance: 0,
        checkDuring: false,
      },
    ],
  },
  faults: [{ kind: 'worker-pause', id: 'workers-lost', atS: 30, durationS: 35 }],
  abortRules: [
    {
      // From 60 s of wait the gateway sheds every class, critical included.
      name: 'queue-oldest-age-above-55s-for-5s',
      measure: 'queueOldestAgeS',
      comparator: 'above',
      threshold: 55,
      forS: 5,
    },
  ],
};
