/**
 * k6 entry script for scalegate scenarios. `scalegate load --engine k6` compiles
 * a scenario into a plan file and runs `k6 run scenarios/k6/entry.ts` with
 * SCALEGATE_K6_PLAN (the plan) and SCALEGATE_K6_SUMMARY (where the summary goes).
 * Only type imports reach outside this file, because k6 loads no project modules.
 */
import { check, sleep } from 'k6';
import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';
import type { Distribution, K6_METRICS, K6Plan, K6TaskSizes } from '../../src/harness/k6/plan.js';

const plan = JSON.parse(open(__ENV.SCALEGATE_K6_PLAN ?? 'plan.json')) as K6Plan;
const workload = plan.workload;

export const options = plan.options;

/** The metric names the converter reads; the type keeps them equal to K6_METRICS. */
const METRICS: typeof K6_METRICS = {
  latency: 'scalegate_latency',
  success: 'scalegate_success',
  asyncAccepted: 'scalegate_async_accepted',
  asyncSucceeded: 'scalegate_async_succeeded',
  asyncFailed: 'scalegate_async_failed',
  asyncTimedOut: 'scalegate_async_timeouts',
  asyncLatency: 'scalegate_async_latency',
};

const latency = new Trend(METRICS.latency, true);
const success = new Rate(METRICS.success);
const asyncAccepted = new Counter(METRICS.asyncAccepted);
const asyncSucceeded = new Counter(METRICS.asyncSucceeded);
const asyncFailed = new Counter(METRICS.asyncFailed);
const asyncTimedOut = new Counter(METRICS.asyncTimedOut);
const asyncLatency = new Trend(METRICS.asyncLatency, true);

const TERMINAL = ['succeeded', 'failed', 'dead_lettered'];

interface Weighted {
  weight: number;
}

function pick<T extends Weighted>(items: readonly T[]): T {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  let remaining = Math.random() * total;
  for (const item of items) {
    remaining -= item.weight;
    if (remaining < 0) return item;
  }
  const last = items[items.length - 1];
  if (last === undefined) throw new Error('cannot pick from an empty list');
  return last;
}

function draw(distribution: Distribution): number {
  if (distribution.kind === 'constant') return distribution.value;
  if (distribution.kind === 'uniform') {
    return distribution.min + Math.random() * (distribution.max - distribution.min);
  }
  const mu = Math.log(distribution.median);
  const sigma = (Math.log(distribution.p95) - mu) / 1.6448536269514722;
  const normal =
    Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
  return Math.exp(mu + sigma * normal);
}

/**
 * Clamps an output length to the route's output limit in the plan, because a real model stops
 * at its output limit and the gateway rejects a task above it with 400.
 */
function clampOutput(route: string, tokens: number): number {
  const limit = workload.outputLimits?.[route];
  return limit === undefined ? tokens : Math.min(tokens, limit);
}

function taskBody(mode: 'sync' | 'async', tasks: K6TaskSizes): Record<string, unknown> {
  const route = pick(workload.routes).route;
  if (tasks.source === 'samples') {
    const sample = tasks.samples[Math.floor(Math.random() * tasks.samples.length)];
    const output = clampOutput(route, sample?.outputTokens ?? 1);
    const input = sample?.inputTokens ?? 1;
    return { route, mode, inputTokens: input, maxOutputTokens: output, forcedOutputTokens: output };
  }
  const kind = pick(tasks.kinds);
  const body: Record<string, unknown> = {
    route,
    mode,
    inputTokens: Math.max(1, Math.round(draw(kind.inputTokens))),
    maxOutputTokens: clampOutput(route, Math.max(1, Math.round(draw(kind.outputTokens)))),
  };
  if (kind.steps !== undefined) body.steps = Math.max(1, Math.round(draw(kind.steps)));
  if (kind.toolWaitMs !== undefined)
    body.toolWaitMs = Math.max(0, Math.round(draw(kind.toolWaitMs)));
  return body;
}

/** Polls the task until a terminal state; returns that state, or undefined at the timeout. */
function follow(id: string, headers: Record<string, string>, started: number): string | undefined {
  const deadline = started + workload.asyncTimeoutMs;
  while (Date.now() < deadline) {
    sleep(workload.asyncPollIntervalMs / 1000);
    const reply = http.get(`${workload.target}/v1/tasks/${encodeURIComponent(id)}`, { headers });
    const state = reply.status === 200 ? (reply.json('state') as string | null) : null;
    if (state !== null && TERMINAL.includes(state)) return state;
  }
  return undefined;
}

/** Submits one task as the tenant named in SCALEGATE_TENANT and records its outcome. */
export function task(): void {
  const tenant = __ENV.SCALEGATE_TENANT ?? '';
  const headers = {
    authorization: `Bearer ${workload.keys?.[tenant] ?? ''}`,
    'content-type': 'application/json',
  };
  const own = workload.tenants?.[tenant];
  const modes = own?.modes ?? workload.modes;
  const mode = Math.random() * (modes.sync + modes.async) < modes.sync ? 'sync' : 'async';
  const body = taskBody(mode, own?.tasks ?? workload.tasks);
  const started = Date.now();
  const reply = http.post(`${workload.target}/v1/tasks`, JSON.stringify(body), { headers });
  let ok = reply.status >= 200 && reply.status < 300;
  if (mode === 'async' && reply.status === 202) {
    asyncAccepted.add(1);
    const state = follow(String(reply.json('id')), headers, started);
    ok = state === 'succeeded';
    if (state === undefined) asyncTimedOut.add(1);
    else if (ok) asyncSucceeded.add(1);
    else asyncFailed.add(1);
    asyncLatency.add(Date.now() - started);
  }
  latency.add(Date.now() - started);
  success.add(ok);
  check(ok, { 'task succeeded': (value) => value });
}

/** Writes k6's summary data as JSON where `convertK6Summary` reads it. */
export function handleSummary(data: object): Record<string, string> {
  return { [__ENV.SCALEGATE_K6_SUMMARY ?? 'summary.json']: JSON.stringify(data) };
}
