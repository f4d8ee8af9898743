/**
 * Console output of `scalegate drill`: a live progress line on a terminal, plain lines
 * every few seconds otherwise, and the closing summary.
 */
import type { DrillEvent } from '../harness/drill/deps.js';
import {
  fallbackOnlyReason,
  fallbackOnlyRoutes,
  type PolicyChange,
  unexercisedChangedRoutes,
} from '../harness/drill/policy-change.js';
import type { Report, SeriesPoint } from '../harness/report/types.js';
import { explicitlySignedUsd, percent, usd } from '../harness/report/format.js';
import { signedDifferenceShare } from '../harness/report/provider-bill-text.js';
import { queuePeaks } from '../harness/report/queue-series.js';
import type { RunbookOutcome } from '../harness/runbook/write.js';
import type { TaskAccounting } from '../platform/store/task-store.js';

/** Seconds between plain progress lines when stderr is not a terminal. */
const PLAIN_LINE_INTERVAL_S = 5;

export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** Prints drill events: tick lines, fault changes, abort and rollback notices. */
export class DrillProgress {
  readonly #out: ProgressStream;
  readonly #activeFaults = new Set<string>();
  #lastTickS = -1;
  #lastPlainS = Number.NEGATIVE_INFINITY;
  #liveLineOpen = false;

  constructor(out: ProgressStream) {
    this.#out = out;
  }

  /** Handles one drill event; pass it as the drill's `onEvent`. */
  readonly onEvent = (event: DrillEvent): void => {
    switch (event.type) {
      case 'tick':
        this.#tick(event.atS, event.point);
        return;
      case 'fault-applied':
        this.#activeFaults.add(event.stepId);
        this.#line(`[t=${seconds(event.atS)}] fault applied: ${event.stepId}`);
        return;
      case 'fault-removed':
        this.#activeFaults.delete(event.stepId);
        this.#line(`[t=${seconds(event.atS)}] fault removed: ${event.stepId}`);
        return;
      case 'fault-failed':
        this.#line(
          `[t=${seconds(event.atS)}] fault failed: ${event.stepId}: ${String(event.error)}`,
        );
        return;
      case 'aborting':
        this.#line(`[t=${seconds(event.atS)}] aborting: ${event.detail}; rolling back`);
        return;
      case 'rolled-back': {
        const outcome = event.clean ? 'clean' : `left ${event.leftovers.join(', ')}`;
        this.#line(`rollback ${outcome}`);
        return;
      }
      case 'warning':
        this.#line(`[warning] ${event.detail}`);
        return;
    }
  };

  /** Ends the live line so that later output starts on a fresh line. */
  finish(): void {
    if (this.#liveLineOpen) this.#out.write('\n');
    this.#liveLineOpen = false;
  }

  #tick(atS: number, point: SeriesPoint | undefined): void {
    // The runner reports a tick at each fault boundary too; one line per second is enough.
    if (point === undefined || Math.floor(atS) === this.#lastTickS) return;
    this.#lastTickS = Math.floor(atS);
    const faults = this.#activeFaults.size === 0 ? 'none' : [...this.#activeFaults].join(',');
    const queue =
      point.queueDepth === undefined || point.queueOldestAgeS === undefined
        ? ''
        : `queue=${point.queueDepth} oldest=${point.queueOldestAgeS.toFixed(1)}s `;
    const text =
      `[t=${seconds(atS)}] rps=${(point.throughputRpm / 60).toFixed(1)} ` +
      `success=${successText(point.requests, point.successRate)} p95=${p95Text(point)} ` +
      `${queue}faults=${faults}`;
    if (this.#out.isTTY === true) {
      this.#out.write(`\r\u001b[2K${text}`);
      this.#liveLineOpen = true;
    } else if (atS - this.#lastPlainS >= PLAIN_LINE_INTERVAL_S) {
      this.#lastPlainS = atS;
      this.#out.write(`${text}\n`);
    }
  }

  #line(text: string): void {
    this.finish();
    this.#out.write(`${text}\n`);
  }
}

/** Formats a success rate as `percent` does, or `n/a` when no request was counted. */
function successText(requests: number, successRate: number): string {
  return requests === 0 ? 'n/a' : percent(successRate);
}

/**
 * Formats a second's p95, or `n/a` when no request succeeded in it: the latency histogram
 * counts succeeded requests only, so such a second has no latency to show, not one of 0 s.
 */
function p95Text(point: SeriesPoint): string {
  return point.successes === 0 ? 'n/a' : `${point.p95S.toFixed(1)}s`;
}

function seconds(atS: number): string {
  return `${atS.toFixed(1)}s`;
}

/**
 * Formats the task store's counts at the stop, such as
 * `[tasks] accepted=4777 succeeded=4777 failed=0 dead_lettered=0`. Tasks still queued or
 * running after the drain, which only Redis keeps, are added as `queued=` and `running=`;
 * the drill's purge then deletes them.
 */
export function taskCountsLine(counts: TaskAccounting): string {
  const line =
    `[tasks] accepted=${counts.accepted} succeeded=${counts.succeeded} ` +
    `failed=${counts.failed} dead_lettered=${counts.dead_lettered}`;
  const left = counts.queued + counts.running;
  return left === 0 ? line : `${line} queued=${counts.queued} running=${counts.running}`;
}

/** The policy that the drilled one replaces, and what the drilled one changes in it. */
export interface PolicyComparison {
  basePath: string;
  changes: readonly PolicyChange[];
}

/**
 * Formats the closing summary. Failover activations are summed per provider that took
 * over traffic; a retry on the same provider is not a failover and is left out. With a
 * `comparison`, `[change]` lines list what the policy changes and which changes the drill
 * did not exercise. With `taskCounts`, a `[tasks]` line gives the task store's counts at
 * the platform's stop.
 */
export function summaryLines(
  report: Report,
  runbook: RunbookOutcome,
  runDir: string,
  comparison?: PolicyComparison,
  taskCounts?: TaskAccounting,
): string[] {
  const { environment, scenario } = report;
  const fallbackOnly = fallbackOnlyRoutes(scenario.routes, report.topologies);
  const lines = [
    `[drill] ${report.drill?.name ?? scenario.name} verdict=${report.verdict.status}`,
    `[policy] ${environment.policyPath ?? 'not recorded'} sha256=${environment.policyHash.slice(0, 12)}`,
    `[routes] exercised=${scenario.routes.join(',')}` +
      (fallbackOnly.size === 0 ? '' : ` through_fallback=${[...fallbackOnly.keys()].join(',')}`) +
      ((scenario.unexercisedRoutes ?? []).length === 0
        ? ''
        : ` not_exercised=${(scenario.unexercisedRoutes ?? []).join(',')}`),
    ...changeLines(scenario.routes, fallbackOnly, comparison),
  ];
  for (const result of report.topologies) {
    const success = successText(result.requests, result.successRate);
    lines.push(`[topology] ${result.topology}`);
    // Success and p95 leave out the requests the drill's abort cut, so the line counts them.
    const cut = result.cutByStop ?? 0;
    lines.push(
      `[throughput] rpm=${Math.round(result.throughputRpm)} success=${success} ` +
        `p95=${result.latency.p95S.toFixed(1)}s` +
        (cut === 0 ? '' : ` cut_by_abort=${cut}`),
    );
    for (const [provider, activations] of activationsByTarget(result.failovers)) {
      lines.push(`[failover] ${provider.replaceAll('-', '_')}_activations=${activations}`);
    }
    const unsettled = result.cost.unsettledTasks ?? 0;
    const pool = result.cost.workerPoolUsd;
    lines.push(
      `[cost] avg=${usd(result.cost.meanUsd)}/task` +
        (pool === undefined ? '' : ` worker_pool=${usd(pool)}`) +
        (unsettled > 0 ? ` unsettled=${unsettled}` : ''),
    );
    const bill = result.cost.providerBill;
    if (bill !== undefined) {
      lines.push(
        `[provider_bill] total=${usd(bill.totalUsd)} charged=${usd(bill.chargedUsd)} ` +
          `difference=${explicitlySignedUsd(bill.differenceUsd)} (${signedDifferenceShare(bill)})`,
      );
    }
  }
  if (taskCounts !== undefined) lines.push(taskCountsLine(taskCounts));
  lines.push(...backlogLines(report));
  lines.push(...report.verdict.reasons.map((reason) => `[reason] ${reason}`));
  lines.push(...notCheckedLines(report));
  lines.push(artifactLine(runbook), `[report] ${runDir}/summary.md`);
  return lines;
}

/**
 * Formats the `[change]` lines: a count of the changed routes and those that neither the drill's
 * load nor its failovers reached, then one line per changed route or block. `fallbackOnly` maps
 * each route reached only through `fallbackRoute` to the routes whose tasks reached it.
 */
function changeLines(
  loadRoutes: readonly string[],
  fallbackOnly: ReadonlyMap<string, readonly string[]>,
  comparison?: PolicyComparison,
): string[] {
  if (comparison === undefined) return [];
  const { basePath, changes } = comparison;
  if (changes.length === 0) {
    return [`[change] base=${basePath} none: the drilled policy has the same settings`];
  }
  const routes = changes.flatMap((change) => (change.route === null ? [] : [change.route]));
  const uncovered = unexercisedChangedRoutes(changes, [...loadRoutes, ...fallbackOnly.keys()]);
  const head =
    `[change] base=${basePath} routes=${routes.length === 0 ? 'none' : routes.join(',')}` +
    (uncovered.length === 0 ? '' : ` not_covered=${uncovered.join(',')}`);
  return [head, ...changes.map((change) => changeLine(change, uncovered, fallbackOnly))];
}

function changeLine(
  change: PolicyChange,
  uncovered: readonly string[],
  fallbackOnly: ReadonlyMap<string, readonly string[]>,
): string {
  if (change.route === null) {
    return `[change] throttle, used by every route: ${change.details.join(', ')}`;
  }
  const description = change.kind === 'changed' ? change.details.join(', ') : change.kind;
  const from = fallbackOnly.get(change.route);
  let scope = '';
  if (uncovered.includes(change.route)) {
    scope = '; the drill did not exercise this route, so its verdict does not cover this change';
  } else if (from !== undefined) {
    scope = `; ${fallbackOnlyReason(from)}, so its verdict covers changes of this route's candidates only`;
  }
  return `[change] route ${change.route}: ${description}${scope}`;
}

/** Formats the `[artifact]` line: the runbook written, or why none was and what is there. */
function artifactLine(runbook: RunbookOutcome): string {
  if (runbook.status === 'written') return `[artifact] ${runbook.path}`;
  if (runbook.status === 'unchanged') {
    return `[artifact] runbook unchanged at ${runbook.path}: ${runbook.reason}`;
  }
  return `[artifact] runbook not written, no file at ${runbook.path}: ${runbook.reason}`;
}

/**
 * Lists each probe that was not checked in some windows, with those windows and the reason,
 * so that a passed verdict is not read as covering them.
 */
function notCheckedLines(report: Report): string[] {
  const windows = new Map<string, { probe: string; reason: string; windows: string[] }>();
  for (const check of report.drill?.steadyState ?? []) {
    const window = `${check.phase} ${roundS(check.fromS)}-${roundS(check.toS)} s`;
    for (const probe of check.probes) {
      if (probe.passed !== null) continue;
      const reason = probe.notChecked ?? 'no reason recorded';
      const key = JSON.stringify([probe.name, reason]);
      const entry = windows.get(key) ?? { probe: probe.name, reason, windows: [] };
      entry.windows.push(window);
      windows.set(key, entry);
    }
  }
  return [...windows.values()].map(
    (entry) => `[not_checked] ${entry.probe} in ${entry.windows.join(', ')}: ${entry.reason}`,
  );
}

/**
 * Describes each worker pause: the queue's peaks from the pause on, and the requests
 * backpressure shed by class, lowest class first.
 */
function backlogLines(report: Report): string[] {
  const result = report.topologies[0];
  if (result === undefined) return [];
  return (report.drill?.faults ?? []).flatMap((fault) => {
    const pause = fault.workerPause;
    if (pause === undefined) return [];
    const since = result.timeSeries.filter((point) => point.t >= Math.floor(fault.startS));
    const peaks = queuePeaks(since);
    const shed = (['batch', 'standard', 'critical'] as const).map((priorityClass) => {
      const requests = pause.shed
        .filter((entry) => entry.priorityClass === priorityClass)
        .reduce((total, entry) => total + entry.requests, 0);
      return `shed_${priorityClass}=${requests}`;
    });
    const depth = peaks.depth === null ? 'n/a' : String(peaks.depth.value);
    const age = peaks.oldestAgeS === null ? 'n/a' : `${peaks.oldestAgeS.value.toFixed(1)}s`;
    return [`[backlog] ${fault.id} peak_depth=${depth} peak_oldest_age=${age} ${shed.join(' ')}`];
  });
}

function roundS(value: number): number {
  return Number(value.toFixed(2));
}

function activationsByTarget(failovers: Report['topologies'][number]['failovers']) {
  const totals = new Map<string, number>();
  for (const pair of failovers) {
    if (pair.fromProvider === pair.toProvider) continue;
    totals.set(pair.toProvider, (totals.get(pair.toProvider) ?? 0) + pair.activations);
  }
  return [...totals].sort(([a], [b]) => a.localeCompare(b));
}
