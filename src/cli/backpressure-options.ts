import { type Command, InvalidArgumentError } from 'commander';

import { MAX_TIMER_MS } from '../faults/limits.js';
import {
  type BackpressureLimits,
  DEFAULT_BACKPRESSURE,
} from '../platform/admission/backpressure.js';

export { formatBackpressure } from '../platform/admission/backpressure.js';

/** The values of the options that {@link addBackpressureOptions} registers. */
export interface BackpressureCommandOptions {
  maxQueueDepth?: number;
  maxQueueAgeMs?: number;
  shedWatermarks?: { batch: number; standard: number };
}

/** `--shed-watermarks` as the help and the errors write it. */
const DEFAULT_WATERMARKS_TEXT = `${DEFAULT_BACKPRESSURE.watermarks.batch},${DEFAULT_BACKPRESSURE.watermarks.standard}`;

/**
 * Adds `--max-queue-depth`, `--max-queue-age-ms` and `--shed-watermarks` to `command`.
 * `scope` starts each help text, such as `with --platform: `.
 */
export function addBackpressureOptions(command: Command, scope = ''): Command {
  return command
    .option(
      '--max-queue-depth <tasks>',
      `${scope}queued tasks at which the gateway answers every request 503 overloaded; ` +
        `--shed-watermarks sets where batch and standard requests get 429 before that ` +
        `(default: ${DEFAULT_BACKPRESSURE.maxQueueDepth})`,
      parseMaxQueueDepth,
    )
    .option(
      '--max-queue-age-ms <ms>',
      `${scope}wait of the oldest queued task, in ms, at which the gateway answers every ` +
        `request 503 overloaded; --shed-watermarks applies to it too ` +
        `(default: ${DEFAULT_BACKPRESSURE.maxOldestAgeMs})`,
      parseMaxQueueAgeMs,
    )
    .option(
      '--shed-watermarks <batch,standard>',
      `${scope}fractions of --max-queue-depth and --max-queue-age-ms at which batch, then ` +
        `standard requests get 429, each above 0 and at most 1 (default: ${DEFAULT_WATERMARKS_TEXT})`,
      parseShedWatermarks,
    );
}

/** Returns the backpressure limits the options set, with the defaults for those left out. */
export function backpressureLimits(options: BackpressureCommandOptions): BackpressureLimits {
  return {
    maxQueueDepth: options.maxQueueDepth ?? DEFAULT_BACKPRESSURE.maxQueueDepth,
    maxOldestAgeMs: options.maxQueueAgeMs ?? DEFAULT_BACKPRESSURE.maxOldestAgeMs,
    watermarks: options.shedWatermarks ?? { ...DEFAULT_BACKPRESSURE.watermarks },
  };
}

/** Returns true when any of the options was given. */
export function hasBackpressureOptions(options: BackpressureCommandOptions): boolean {
  return (
    options.maxQueueDepth !== undefined ||
    options.maxQueueAgeMs !== undefined ||
    options.shedWatermarks !== undefined
  );
}

/** Parses `--max-queue-depth`: a whole number of tasks of 1 or more. */
export function parseMaxQueueDepth(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError(
      `expected a whole number of queued tasks of 1 or more, such as ${DEFAULT_BACKPRESSURE.maxQueueDepth} (the default).`,
    );
  }
  return parsed;
}

/** Parses `--max-queue-age-ms`: an integer number of ms from 1 to the timer maximum. */
export function parseMaxQueueAgeMs(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || parsed < 1 || parsed > MAX_TIMER_MS) {
    throw new InvalidArgumentError(
      `expected an integer number of ms from 1 to ${MAX_TIMER_MS}, such as ${DEFAULT_BACKPRESSURE.maxOldestAgeMs} (the default).`,
    );
  }
  return parsed;
}

/**
 * Parses `--shed-watermarks batch,standard`: two fractions above 0 and at most 1, batch at
 * or below standard, because the gateway sheds batch requests first.
 */
export function parseShedWatermarks(value: string): { batch: number; standard: number } {
  const parts = value.split(',').map((part) => part.trim());
  const fractions = parts.map(Number);
  const [batch, standard] = fractions;
  const valid = (fraction: number): boolean => fraction > 0 && fraction <= 1;
  if (
    parts.length !== 2 ||
    parts.includes('') ||
    batch === undefined ||
    standard === undefined ||
    !valid(batch) ||
    !valid(standard)
  ) {
    throw new InvalidArgumentError(
      `expected two fractions batch,standard, each above 0 and at most 1, such as ${DEFAULT_WATERMARKS_TEXT} (the default).`,
    );
  }
  if (batch > standard) {
    throw new InvalidArgumentError(
      `the batch fraction ${batch} is above the standard fraction ${standard}, but batch requests are shed first; put the lower fraction first, such as ${standard},${batch}.`,
    );
  }
  return { batch, standard };
}
