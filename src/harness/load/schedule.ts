import type { TaskMode } from '../../platform/task.js';
import { loadTrace, type TraceRow } from '../scenario/trace.js';
import type { ModeMix, ScenarioSpec, TaskKind } from '../scenario/types.js';
import { ScenarioValidationError } from '../scenario/errors.js';
import { peakRate, poissonOffsetsMs } from './arrivals.js';
import { createRandom, type Random } from './random.js';

/** One request of a run, planned before the run starts. */
export interface ScheduledRequest {
  index: number;
  /** Planned send time, in milliseconds after the run start. */
  offsetMs: number;
  tenantId: string;
  route: string;
  mode: TaskMode;
  /** Task kind name, or `trace` for sizes taken from a trace row. */
  taskKind: string;
  inputTokens: number;
  maxOutputTokens: number;
  forcedOutputTokens?: number;
  steps?: number;
  toolWaitMs?: number;
}

export interface ScheduleOptions {
  seed: number;
  durationSec: number;
  /** Trace rows for a trace-replay scenario; read from the scenario's file when absent. */
  traceRows?: readonly TraceRow[];
  /**
   * Returns the largest `maxOutputTokens` a route's models accept, or undefined when it is
   * unknown. A drawn or replayed output length above it is clamped to it, because a real
   * model stops at its output limit. @defaultValue no clamp
   */
  outputLimitOf?: (route: string) => number | undefined;
}

/**
 * Maximum of a run's peak rate times its duration, in requests. `buildSchedule` keeps every
 * planned request in memory before the first send. One million requests of steady-chat at
 * 1000 requests/s took 416 MB of heap on Node.js 20.20 (x86-64), so this many take about 2 GB.
 * NOTE: other task kinds differ in size, and a heap smaller than 2 GB can run out first.
 */
export const MAX_PLANNED_REQUESTS = 5_000_000;

/**
 * Checks that a rate-driven scenario plans at most {@link MAX_PLANNED_REQUESTS} requests at its
 * peak rate. A trace replay plans one request per row it has already read, so it is not checked.
 * @throws ScenarioValidationError naming the rate and the duration.
 */
export function checkPlannedRequests(scenario: ScenarioSpec, root = 'scenario'): void {
  const arrival = scenario.arrival;
  if (arrival.kind === 'trace') return;
  const peak = peakRate(arrival);
  const planned = peak * scenario.durationSec;
  if (planned <= MAX_PLANNED_REQUESTS) return;
  throw new ScenarioValidationError([
    {
      path: `${root}.arrival`,
      expected: `a peak rate times durationSec of at most ${MAX_PLANNED_REQUESTS} requests`,
      received: `${planned} (${peak} requests/s for ${scenario.durationSec} s)`,
      hint:
        'lower the rate or durationSec, or split the run, because the embedded engine ' +
        'plans every request in memory before the first send',
    },
  ]);
}

/**
 * Plans every request of a run up front: arrival times (Poisson or trace times),
 * tenant, route, mode and task size. The same scenario and seed give the same schedule.
 */
export async function buildSchedule(
  scenario: ScenarioSpec,
  options: ScheduleOptions,
): Promise<ScheduledRequest[]> {
  const traceRows = await traceRowsFor(scenario, options);
  const arrivalRandom = createRandom(options.seed);
  const mixRandom = createRandom(options.seed ^ 0x5bd1e995);
  const offsets =
    traceRows === undefined
      ? poissonOffsetsMs(rateProfile(scenario), options.durationSec, arrivalRandom)
      : traceRows.map((row) => row.offsetMs).filter((ms) => ms < options.durationSec * 1000);

  return offsets.map((offsetMs, index) => {
    const planned = planRequest(scenario, mixRandom, index, offsetMs, traceRows?.[index]);
    return clampOutput(planned, options.outputLimitOf?.(planned.route));
  });
}

/** Clamps `maxOutputTokens` and `forcedOutputTokens` to `limit` when it is set. */
function clampOutput(request: ScheduledRequest, limit: number | undefined): ScheduledRequest {
  if (limit === undefined || request.maxOutputTokens <= limit) return request;
  const forced = request.forcedOutputTokens;
  return {
    ...request,
    maxOutputTokens: limit,
    ...(forced === undefined ? {} : { forcedOutputTokens: Math.min(forced, limit) }),
  };
}

/**
 * Returns the planned arrivals per minute of a run: the requests `buildSchedule` plans for
 * these options, divided by the run's minutes. It covers Poisson profiles and trace
 * replays alike, so a report of a trace replay shows its real offered rate.
 */
export async function plannedRatePerMinute(
  scenario: ScenarioSpec,
  options: ScheduleOptions,
): Promise<number> {
  const schedule = await buildSchedule(scenario, options);
  return (schedule.length / options.durationSec) * 60;
}

async function traceRowsFor(
  scenario: ScenarioSpec,
  options: ScheduleOptions,
): Promise<readonly TraceRow[] | undefined> {
  const arrival = scenario.arrival;
  if (arrival.kind !== 'trace') return undefined;
  if (options.traceRows !== undefined) return options.traceRows;
  const window = arrival.window ?? {
    startSec: 0,
    durationSec: options.durationSec * arrival.speedUp,
  };
  return loadTrace(arrival.file, { speedUp: arrival.speedUp, window, limit: arrival.limit });
}

function rateProfile(scenario: ScenarioSpec): Exclude<ScenarioSpec['arrival'], { kind: 'trace' }> {
  const arrival = scenario.arrival;
  if (arrival.kind === 'trace') throw new TypeError('a trace arrival has no rate profile');
  return arrival;
}

function planRequest(
  scenario: ScenarioSpec,
  random: Random,
  index: number,
  offsetMs: number,
  traceRow: TraceRow | undefined,
): ScheduledRequest {
  const tenant = random.pickWeighted(scenario.tenants);
  const route = random.pickWeighted(scenario.routes).route;
  const mode = pickMode(tenant.modes ?? scenario.modes, random);
  const base = { index, offsetMs, tenantId: tenant.tenantId, route, mode };
  if (tenant.tasks !== undefined) {
    return { ...base, ...sizeTask(random.pickWeighted(tenant.tasks.kinds), random) };
  }
  if (scenario.tasks.source === 'trace' && traceRow !== undefined) {
    const output = Math.max(1, traceRow.generatedTokens);
    return {
      ...base,
      taskKind: 'trace',
      inputTokens: traceRow.contextTokens,
      maxOutputTokens: output,
      forcedOutputTokens: output,
    };
  }
  const kinds = scenario.tasks.source === 'distribution' ? scenario.tasks.kinds : [];
  return { ...base, ...sizeTask(random.pickWeighted(kinds), random) };
}

function pickMode(modes: ModeMix, random: Random): TaskMode {
  const total = modes.sync + modes.async;
  return random.next() * total < modes.sync ? 'sync' : 'async';
}

function sizeTask(kind: TaskKind, random: Random) {
  const sized = {
    taskKind: kind.name,
    inputTokens: Math.max(1, random.drawInteger(kind.inputTokens)),
    maxOutputTokens: Math.max(1, random.drawInteger(kind.outputTokens)),
  };
  if (kind.steps === undefined && kind.toolWaitMs === undefined) return sized;
  const steps = kind.steps === undefined ? 1 : Math.max(1, random.drawInteger(kind.steps));
  const toolWaitMs = kind.toolWaitMs === undefined ? 0 : random.drawInteger(kind.toolWaitMs);
  return { ...sized, steps, toolWaitMs };
}
