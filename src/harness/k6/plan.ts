/**
 * The k6 plan: k6 options plus the workload data that the entry script
 * (scenarios/k6/entry.ts) reads. This file contains types only, so the entry
 * script can import it under the k6 type definitions.
 */
import type { Distribution, ModeMix, RouteShare, TaskKind } from '../scenario/types.js';

/** k6 `constant-arrival-rate` executor settings. */
export interface K6ConstantArrivalRate {
  executor: 'constant-arrival-rate';
  rate: number;
  timeUnit: string;
  duration: string;
  preAllocatedVUs: number;
  maxVUs: number;
  exec: string;
  env: Record<string, string>;
  tags: Record<string, string>;
  gracefulStop: string;
}

/** k6 `ramping-arrival-rate` executor settings. */
export interface K6RampingArrivalRate {
  executor: 'ramping-arrival-rate';
  startRate: number;
  timeUnit: string;
  stages: { duration: string; target: number }[];
  preAllocatedVUs: number;
  maxVUs: number;
  exec: string;
  env: Record<string, string>;
  tags: Record<string, string>;
  gracefulStop: string;
}

export type K6Scenario = K6ConstantArrivalRate | K6RampingArrivalRate;

/** The subset of k6 options the compiler sets. */
export interface K6Options {
  scenarios: Record<string, K6Scenario>;
  thresholds: Record<string, string[]>;
  summaryTrendStats: string[];
}

/** Task sizes the entry script draws from. */
export type K6TaskSizes =
  | { source: 'distribution'; kinds: TaskKind[] }
  /**
   * Input and output token pairs of the first trace rows, at most 2000. The entry script picks
   * one at random per iteration, so k6 keeps neither each row's sizes nor their order.
   */
  | { source: 'samples'; samples: { inputTokens: number; outputTokens: number }[] };

/** A tenant's own task sizes and modes, each in place of the workload's when present. */
export interface K6TenantWorkload {
  modes?: ModeMix;
  tasks?: K6TaskSizes;
}

/** Workload data for the entry script; API keys are added only when the plan is written for a run. */
export interface K6Workload {
  scenario: string;
  target: string;
  routes: RouteShare[];
  modes: ModeMix;
  tasks: K6TaskSizes;
  /** Tenants with their own task sizes or modes, by tenant id. */
  tenants?: Record<string, K6TenantWorkload>;
  /**
   * Largest `maxOutputTokens` the models of a route accept, by route. The entry script clamps
   * a larger output length to it. A route without an entry, or a plan without this field, as
   * against `--target`, sends its lengths unclamped.
   */
  outputLimits?: Record<string, number>;
  asyncPollIntervalMs: number;
  asyncTimeoutMs: number;
  keys?: Record<string, string>;
}

export interface K6Plan {
  options: K6Options;
  workload: K6Workload;
}

/** Names of the custom metrics the entry script records and the converter reads. */
export const K6_METRICS = {
  latency: 'scalegate_latency',
  success: 'scalegate_success',
  asyncAccepted: 'scalegate_async_accepted',
  asyncSucceeded: 'scalegate_async_succeeded',
  asyncFailed: 'scalegate_async_failed',
  asyncTimedOut: 'scalegate_async_timeouts',
  asyncLatency: 'scalegate_async_latency',
} as const;

export type { Distribution };
