/** The queue-backlog incident, from the evidence of a drill's worker pause. */
import { shedThresholds } from '../../platform/admission/index.js';
import { pointsIn } from '../drill/measures.js';
import { count, percent, seconds } from '../report/format.js';
import { type QueuePeak, queuePeaks } from '../report/queue-series.js';
import type {
  BackpressureRecord,
  PriorityClassName,
  SeriesPoint,
  ShedCount,
  WorkerPauseRecord,
} from '../report/types.js';
import { p95Of, READ_GAP_S, sumRate, twoReads } from './commands.js';
import { injectedSettingsText } from './fault-settings.js';
import {
  type Evidence,
  type Incident,
  orNa,
  pointsBeforeFaults,
  probe,
  probeLine,
  successSignal,
  windowOf,
} from './evidence.js';

/**
 * Backpressure's `limit` labels on `scalegate_gateway_rejections_total`: `queue_depth` and
 * `queue_oldest_age_ms`, the only ones that start with `queue_`. The pattern has no `|`,
 * which a Markdown table cell would need escaped, so the query copies as written.
 */
const SHED_SELECTOR = 'scalegate_gateway_rejections_total{limit=~"queue_.+"}';

/** Classes from the first the gateway sheds to the last. */
const CLASSES: readonly PriorityClassName[] = ['batch', 'standard', 'critical'];

function tasks(n: number): string {
  return n === 1 ? '1 task' : `${count(n)} tasks`;
}

/** Queue limits of one class: where backpressure starts to shed it. */
interface ClassLimit {
  depth: number;
  ageS: number;
}

function classLimit(limits: BackpressureRecord, priorityClass: PriorityClassName): ClassLimit {
  const thresholds = shedThresholds(limits, priorityClass);
  return { depth: thresholds.depth, ageS: thresholds.oldestAgeMs / 1000 };
}

/** Rounds a limit for text, so 0.8 * 60 s prints as 48 rather than 48.00000000000001. */
function limitNumber(value: number): number {
  return Number(value.toFixed(3));
}

/** Describes the depth or age at which backpressure sheds each class. */
function limitsText(limits: BackpressureRecord, gauge: 'depth' | 'ageS'): string {
  const unit = gauge === 'depth' ? ' tasks' : ' s';
  const at = (priorityClass: PriorityClassName): string =>
    `${limitNumber(classLimit(limits, priorityClass)[gauge])}${unit}`;
  return (
    `from ${at('batch')} batch requests get 429, from ${at('standard')} standard ones too, ` +
    `and from ${at('critical')} every class gets 503`
  );
}

/** Sums shed requests per class, in shedding order, zeros included. */
function shedByClass(
  shed: readonly ShedCount[],
): { priorityClass: PriorityClassName; requests: number }[] {
  return CLASSES.map((priorityClass) => ({
    priorityClass,
    requests: shed
      .filter((entry) => entry.priorityClass === priorityClass)
      .reduce((total, entry) => total + entry.requests, 0),
  }));
}

function shedText(pause: WorkerPauseRecord): string {
  const classes = shedByClass(pause.shed)
    .map(({ priorityClass, requests }) => `${priorityClass} ${count(requests)}`)
    .join(', ');
  const detail = pause.shed
    .map(
      (entry) =>
        `${entry.tenant} (${entry.priorityClass}) ${count(entry.requests)} x ${entry.status}`,
    )
    .join(', ');
  return detail === '' ? `${classes}; none shed` : `${classes} (${detail})`;
}

/**
 * Returns when the first read from `fromS` on whose gauge passes `test` was taken, the end
 * of its second, or null when none passes.
 */
function firstRead(
  points: readonly SeriesPoint[],
  fromS: number,
  pick: (point: SeriesPoint) => number | undefined,
  test: (value: number) => boolean,
): number | null {
  const found = points.find((point) => {
    const value = pick(point);
    return point.t + 1 >= fromS && value !== undefined && test(value);
  });
  return found === undefined ? null : found.t + 1;
}

/** Describes when a read at `atS` was taken, counted from the resume at `resumedS`. */
function afterResume(atS: number, resumedS: number): string {
  return `at ${seconds(atS)}, ${seconds(Math.max(0, atS - resumedS))} after the workers resumed`;
}

/** Seconds of the drill's queue series that the incident reads. */
interface BacklogNumbers {
  pausedS: number;
  resumedS: number;
  /** Highest depth and age before the pause, the level a drained queue returns to. */
  baselineDepth: number | null;
  baselineAgeS: number | null;
  peakDepth: string;
  peakAge: string;
  /**
   * First read after the resume with the oldest age and the depth both under their batch
   * limits, from which backpressure sheds no class.
   */
  admittedS: number | null;
  /** First read after the resume with the depth back at its level before the pause. */
  depthBackS: number | null;
}

/**
 * Returns 1 when a read's oldest age and depth are both under their batch limits, 0 when
 * either is not, or undefined when the read lacks one of them.
 */
function belowBatchLimits(point: SeriesPoint, batch: ClassLimit): number | undefined {
  const { queueOldestAgeS, queueDepth } = point;
  if (queueOldestAgeS === undefined || queueDepth === undefined) return undefined;
  return queueOldestAgeS < batch.ageS && queueDepth < batch.depth ? 1 : 0;
}

function backlogNumbers(evidence: Evidence, limits: BackpressureRecord): BacklogNumbers {
  const { report, result } = evidence;
  const [pausedS, resumedS] = windowOf(evidence.fault);
  const before = queuePeaks(pointsBeforeFaults(report, result));
  const since = queuePeaks(pointsIn(result.timeSeries, Math.floor(pausedS), Infinity));
  const peak = (value: QueuePeak | null, format: (n: number) => string) =>
    value === null
      ? 'not recorded'
      : `${format(value.value)}, read at ${seconds(value.readAtS)}, ${seconds(value.readAtS - pausedS)} after the pause started`;
  const baselineDepth = before.depth?.value ?? null;
  const batch = classLimit(limits, 'batch');
  return {
    pausedS,
    resumedS,
    baselineDepth,
    baselineAgeS: before.oldestAgeS?.value ?? null,
    peakDepth: peak(since.depth, tasks),
    peakAge: peak(since.oldestAgeS, seconds),
    admittedS: firstRead(
      result.timeSeries,
      resumedS,
      (point) => belowBatchLimits(point, batch),
      (below) => below === 1,
    ),
    depthBackS:
      baselineDepth === null
        ? null
        : firstRead(
            result.timeSeries,
            resumedS,
            (point) => point.queueDepth,
            (value) => value <= baselineDepth,
          ),
  };
}

function signals(evidence: Evidence, pause: WorkerPauseRecord, numbers: BacklogNumbers) {
  const limits = pause.backpressure;
  return [
    {
      metric: '`max(scalegate_queue_oldest_age_seconds)`',
      threshold: limitsText(limits, 'ageS'),
      measured: `peak ${numbers.peakAge}; at most ${orNa(numbers.baselineAgeS, seconds)} before the pause`,
    },
    {
      metric: '`sum(scalegate_queue_depth)`',
      threshold: limitsText(limits, 'depth'),
      measured: `peak ${numbers.peakDepth}; at most ${orNa(numbers.baselineDepth, tasks)} before the pause`,
    },
    {
      metric: `Tasks workers take: \`${sumRate('scalegate_queue_wait_seconds_count')}\``,
      threshold: 'at 0 while `scalegate_queue_depth` is above 0: no worker takes tasks',
      measured: `${count(pause.slots)} worker slots paused from ${seconds(numbers.pausedS)} to ${seconds(numbers.resumedS)}`,
    },
    {
      metric: `Requests backpressure sheds: \`${sumRate(SHED_SELECTOR)}\``,
      threshold: 'above 0',
      measured: `${count(pause.shed.reduce((total, entry) => total + entry.requests, 0))} shed from the pause to the drill's end, by class: ${shedText(pause)}`,
    },
    successSignal(probe(evidence, 'during', 'successRate')),
  ];
}

function systemActions(pause: WorkerPauseRecord, numbers: BacklogNumbers): string[] {
  const byClass = shedByClass(pause.shed);
  const notShed = byClass
    .filter((entry) => entry.requests === 0)
    .map((entry) => entry.priorityClass);
  const notShedText =
    notShed.length === 0 ? 'every class was shed' : `${notShed.join(' and ')} not shed`;
  return [
    `With every async worker paused (${count(pause.slots)} slots, from ${seconds(numbers.pausedS)} to ${seconds(numbers.resumedS)}), running tasks finished and queued ones waited: the queue peaked at ${numbers.peakDepth}, and its oldest task at ${numbers.peakAge}. Sync requests do not use these workers.`,
    `Backpressure shed by class, lowest first: ${shedText(pause)}; ${notShedText}. A shed request gets a \`Retry-After\` of the oldest task's age in whole seconds, from ${pause.backpressure.retryAfterS.min} to ${pause.backpressure.retryAfterS.max}.`,
    'The gateway admitted the other requests and the queue kept them: once the workers resumed they took the waiting tasks, critical first, then standard, then batch.',
    'No task was redelivered: a paused worker finishes the tasks it runs, so none stalled. This drill does not exercise a worker that dies. On Redis the platform starts a replacement for a worker process that exits, and the queue redelivers its running tasks once their lock is older than `--stall-interval-ms`.',
  ];
}

/**
 * Returns the `--topology` option of a restart with more workers, as in the drill. It keeps
 * the drill's `serverless_burst` part, because that part moves sync requests between the
 * gateway and the serverless emulator, which adding async workers must not change. A
 * topology label without that part gives both values to choose from.
 */
function restartTopology(topology: string): string {
  const burst = /(?:^|\s)serverless_burst=(enabled|disabled)(?:\s|$)/.exec(topology)?.[1];
  return burst === undefined
    ? '`--topology "workers=N serverless_burst=enabled|disabled"`'
    : `\`--topology "workers=N serverless_burst=${burst}"\` for the drill's topology`;
}

function operatorSteps(limits: BackpressureRecord, topology: string): string[] {
  const batchAge = limitNumber(classLimit(limits, 'batch').ageS);
  return [
    `Check whether workers take tasks. This command reads the queue gauges, the count of tasks that workers took and the count of tasks they put back at a tenant's running cap twice, ${READ_GAP_S} s apart: ${twoReads(
      'scalegate_queue_depth',
      'scalegate_queue_oldest_age_seconds',
      'scalegate_queue_wait_seconds_count',
      'scalegate_running_cap_deferrals_total',
    )}. A depth above 0 with \`scalegate_queue_wait_seconds_count\` and \`scalegate_running_cap_deferrals_total\` lines that did not change, or that the command does not print because no worker took or put back a task since the platform started, means no worker takes tasks. The count also stays still while each worker runs a task longer than ${READ_GAP_S} s, such as an agent task with long tool waits, because a worker takes its next task only once its task ends, so read it again after the longest task's run time before you look for lost workers. A count that rises while the depth rises too means the workers run but too few of them. A deferral line that rises means workers take that tenant's tasks and put them back because it already runs its \`maxRunning\` tasks: its queued tasks wait by its cap, not for lost workers, and each deferral restarts the oldest-age gauge, so the gauge reads below their real wait.`,
    `On Redis, check for worker processes that die: a line that changes between the two reads of ${twoReads('scalegate_worker_process_exits_total')} counts exits the platform did not request, by reason. No line means none exited since the platform started, and memory drivers run no worker processes, so there the command prints nothing. Their running tasks return to the queue after the stall interval.`,
    `See which tenants are shed and with which status: ${twoReads('scalegate_gateway_rejections_total\\{.*limit="queue_(depth|oldest_age_ms)"')}. Each line names a tenant and the status its requests got. A 429 line is a tenant whose requests' class, its tier or the request's \`priority\`, is shed below the hard limit, and a 503 line means every class is shed.`,
    `Find what took the workers away: look in the platform's log for worker processes that exit or fail to start, and at the host for CPU or memory it ran out of. To add workers, restart the platform with the \`topology\` of its \`platform started\` line and a larger \`workers\` part, and keep its \`serverless_burst\` part, as in ${restartTopology(topology)}. Restart only a platform on Redis (REDIS_URL), with the same REDIS_URL and \`--key-prefix\` so it finds the queued tasks: on the embedded memory queue a stop fails every queued task.`,
    `Tell the clients of shed classes to retry after the \`Retry-After\` of the 429; while the oldest task waits ${batchAge} s or more, batch requests keep being shed.`,
  ];
}

/** Words the batch limits of the oldest age and the depth, such as `30 s and 5000 tasks`. */
function batchLimits(limits: BackpressureRecord, conjunction: 'and' | 'or'): string {
  const batch = classLimit(limits, 'batch');
  return `${limitNumber(batch.ageS)} s ${conjunction} ${tasks(limitNumber(batch.depth))}`;
}

function verification(evidence: Evidence, numbers: BacklogNumbers, limits: BackpressureRecord) {
  const ageProbe = probe(evidence, 'recovery', 'queueOldestAgeS');
  const baseline = orNa(numbers.baselineDepth, tasks);
  return [
    numbers.admittedS === null
      ? `The oldest task's age or the queue depth stayed at or above its batch limit, ${batchLimits(limits, 'or')}, until the drill's end, so batch requests were still shed.`
      : `The oldest task's age and the queue depth were both under their batch limits, ${batchLimits(limits, 'and')}, ${afterResume(numbers.admittedS, numbers.resumedS)}, so backpressure admitted every class again.`,
    numbers.depthBackS === null
      ? `The queue depth was not back at its level before the pause (${baseline}) by the drill's end.`
      : `The queue depth was back at its level before the pause (${baseline}) ${afterResume(numbers.depthBackS, numbers.resumedS)}.`,
    `Oldest task's age after settling: ${probeLine(ageProbe, seconds)}.`,
    `Success rate after settling: ${probeLine(probe(evidence, 'recovery', 'successRate'), percent)}.`,
    `Step 1's two reads show \`scalegate_queue_wait_seconds_count\` rising and the depth at or near 0, and step 3's two reads print the same lines: no request is shed any more. The wait of the tasks workers take falls back too: ${p95Of('scalegate_queue_wait_seconds')}.`,
  ];
}

/**
 * Builds the queue-backlog incident from a worker pause: the queue's depth and oldest age
 * from the series, and what backpressure shed by class from the pause record.
 * Returns undefined when the fault carries no pause record, as an aborted drill's may not.
 */
export function queueBacklog(evidence: Evidence): Incident | undefined {
  const pause = evidence.fault.workerPause;
  if (pause === undefined) return undefined;
  const numbers = backlogNumbers(evidence, pause.backpressure);
  return {
    key: 'queue-backlog:async-workers',
    title: 'Queue backlog: async worker capacity lost',
    symptom:
      'No async worker takes queued tasks, so the queue grows, its oldest task ages, and ' +
      'backpressure sheds requests by class, lowest first. Sync requests do not use these workers.',
    injected: injectedSettingsText(evidence.fault),
    signals: signals(evidence, pause, numbers),
    systemActions: systemActions(pause, numbers),
    operatorSteps: operatorSteps(pause.backpressure, evidence.result.topology),
    verification: verification(evidence, numbers, pause.backpressure),
  };
}
