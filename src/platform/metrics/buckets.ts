/** Histogram bucket bounds, in seconds. */

/** Queue wait: from a few milliseconds on an idle queue to minutes in a backlog. */
export const QUEUE_WAIT_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];

/** Time to first token: provider profiles put medians near 0.35 s and tails near 1-2 s. */
export const TIME_TO_FIRST_TOKEN_BUCKETS = [
  0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30,
];

/**
 * Total task latency: a short completion to a multi-step agent task. Bounds are 1 s apart
 * from 2 to 12 s, where the interactive objectives (8 s) and drill p95 values lie, so a p95
 * read from the buckets by interpolation is off by less than a bucket's 1 s there.
 */
export const TOTAL_LATENCY_BUCKETS = [
  0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 20, 30, 60, 120, 300,
];
