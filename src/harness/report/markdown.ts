import { fallbackOnlyReason, fallbackOnlyRoutes } from '../drill/policy-change.js';
import { count, percent, seconds, table, usd } from './format.js';
import { providerBillText } from './provider-bill-text.js';
import { queuePeaks } from './queue-series.js';
import type {
  DrillJournal,
  FaultRecord,
  PolicyChange,
  PolicyChangeRecord,
  ProbeResult,
  ProviderBill,
  Report,
  TopologyResult,
  WorkerPauseRecord,
} from './types.js';

function environmentSection(report: Report): string {
  const env = report.environment;
  const machine = env.machine;
  const gib = (machine.memoryBytes / 2 ** 30).toFixed(1);
  return [
    '## Environment',
    '',
    table(
      ['commit', 'policy', 'policy hash', 'engine', 'seed', 'time scale', 'machine'],
      [
        [
          env.commit,
          env.policyPath ?? 'not recorded',
          env.policyHash.slice(0, 12),
          env.engine,
          String(env.seed),
          `${env.timeScale}x`,
          `${machine.cpus} CPUs, ${gib} GiB, node ${machine.nodeVersion}, ${machine.platform}`,
        ],
      ],
    ),
    ...platformFilesNote(env),
  ].join('\n');
}

/**
 * Names the price table that the costs come from and the tenants file that set the tenants'
 * limits, or nothing for a report that predates their record.
 */
function platformFilesNote(env: Report['environment']): string[] {
  const { pricesPath, pricesHash, pricesEffectiveDate, tenantsPath, tenantsHash } = env;
  if (pricesPath === undefined || pricesHash === undefined) return [];
  if (tenantsPath === undefined || tenantsHash === undefined) return [];
  const effective = pricesEffectiveDate === undefined ? '' : `, effective ${pricesEffectiveDate}`;
  return [
    '',
    `Costs are priced with the price table ${pricesPath} (sha256 ${pricesHash.slice(0, 12)}` +
      `${effective}). Tenant limits come from ${tenantsPath} ` +
      `(sha256 ${tenantsHash.slice(0, 12)}).`,
  ];
}

/** Names the policy's routes the run did not exercise; empty when it exercised all of them. */
function unexercisedNote(report: Report): string[] {
  const routes = report.scenario.unexercisedRoutes ?? [];
  if (routes.length === 0) return [];
  return [
    '',
    `Routes of the policy that this run did not exercise: ${routes.join(', ')}. ` +
      'The verdict does not cover them.',
  ];
}

/**
 * Lists what the drilled policy changes in the base policy, one item per change, and marks each
 * changed route that the run did not exercise as not covered by the verdict.
 */
function policyChangeSection(report: Report, change: PolicyChangeRecord): string[] {
  const fallbackOnly = fallbackOnlyRoutes(report.scenario.routes, report.topologies);
  const base = `base policy ${change.basePolicyPath} (sha256 ${change.basePolicySha256.slice(0, 12)})`;
  if (change.changes.length === 0) {
    return ['## Policy change', '', `The drilled policy has the same settings as the ${base}.`, ''];
  }
  return [
    '## Policy change',
    '',
    `Settings the drilled policy changes from the ${base}:`,
    '',
    ...change.changes.map(
      (entry) => `- ${policyChangeItem(entry, change.unexercisedRoutes, fallbackOnly)}`,
    ),
    '',
  ];
}

/**
 * Describes one policy change for a Markdown list item. A changed route that the run did not
 * exercise is marked as not covered by the verdict. A route in `fallbackOnly`, which maps each
 * route that tasks reached only through `fallbackRoute` to the routes of those tasks, is marked
 * as covered for its candidates only.
 */
export function policyChangeItem(
  change: PolicyChange,
  unexercised: readonly string[],
  fallbackOnly: ReadonlyMap<string, readonly string[]> = new Map(),
): string {
  if (change.route === null) return `throttle, used by every route: ${change.details.join(', ')}`;
  const description = change.kind === 'changed' ? change.details.join(', ') : change.kind;
  const from = fallbackOnly.get(change.route);
  let scope = '';
  if (unexercised.includes(change.route)) {
    scope =
      '. **Not covered:** the drill did not exercise this route, so the verdict does not cover this change.';
  } else if (from !== undefined) {
    scope =
      `. **Reached through fallback only:** ${fallbackOnlyReason(from, (name) => `\`${name}\``)}, ` +
      "so the verdict covers changes of this route's candidates only.";
  }
  return `route ${change.route}: ${description}${scope}`;
}

function resultsSection(results: readonly TopologyResult[], timeScale: number): string {
  const rows = results.map((result) => [
    result.topology,
    count(result.throughputRpm),
    count(result.requests),
    percent(result.successRate),
    seconds(result.latency.p50S),
    seconds(result.latency.p95S),
    seconds(result.latency.p99S),
    usd(result.cost.meanUsd),
    usd(result.cost.p95Usd),
    result.harness.valid ? 'valid' : `invalid: ${result.harness.reasons.join('; ')}`,
  ]);
  const header = ['topology', 'completed rpm', 'requests', 'success', 'p50', 'p95', 'p99'];
  const minute = timeScale === 1 ? 'minute' : `simulated minute (the drill ran at ${timeScale}x)`;
  const rpmNote = [
    '',
    `Completed rpm counts requests that succeeded or failed within the send window, per ${minute}. ` +
      'Requests counts every request sent, and success is over the requests that ended.',
  ];
  const cut = results
    .filter((result) => (result.cutByStop ?? 0) > 0)
    .map((result) => `${count(result.cutByStop ?? 0)} on ${result.topology}`);
  const cutNote =
    cut.length === 0
      ? []
      : [
          '',
          `Requests in flight that the drill's abort cut: ${cut.join(', ')}. ` +
            'Requests counts them, but success and the p50, p95 and p99 columns cover only ' +
            'the requests that ended on their own, here and per tenant and route.',
        ];
  const unsettled = results
    .filter((result) => (result.cost.unsettledTasks ?? 0) > 0)
    .map((result) => `${result.cost.unsettledTasks} on ${result.topology}`);
  const note =
    unsettled.length === 0
      ? []
      : [
          '',
          `Tasks still queued or running when the cost was read: ${unsettled.join(', ')}. ` +
            'The cost columns lack theirs.',
        ];
  const pools = results
    .filter((result) => result.cost.workerPoolUsd !== undefined)
    .map((result) => `${usd(result.cost.workerPoolUsd ?? 0)} on ${result.topology}`);
  const poolNote =
    pools.length === 0
      ? []
      : [
          '',
          `Worker pool bill over the run: ${pools.join(', ')}. ` +
            'The cost columns include it, shared over the tasks by the time each ran on a worker.',
        ];
  return [
    '## Results per topology',
    '',
    table([...header, 'cost mean', 'cost p95', 'harness'], rows),
    ...rpmNote,
    ...cutNote,
    ...note,
    ...poolNote,
  ].join('\n');
}

/** Describes the queue gauges of a topology's series, or notes that it has none. */
function queueLines(result: TopologyResult): string[] {
  const heading = `### ${result.topology}`;
  const peaks = queuePeaks(result.timeSeries);
  if (peaks.depth === null || peaks.oldestAgeS === null) {
    return [
      heading,
      '',
      'Queue: not recorded; reports before schema version 3 and load runs carry no queue gauges.',
      '',
    ];
  }
  const reads = `reads at the end of ${peaks.reads} of the series' ${result.timeSeries.length} seconds`;
  if (peaks.depth.value === 0 && peaks.oldestAgeS.value === 0) {
    return [heading, '', `Queue: no task waited. Depth and oldest age were 0 in all ${reads}.`, ''];
  }
  const oldestAge =
    peaks.oldestAgeS.value === 0
      ? `oldest age ${seconds(0)} in every read`
      : `peak oldest age ${seconds(peaks.oldestAgeS.value)} read at ${seconds(peaks.oldestAgeS.readAtS)}`;
  return [
    heading,
    '',
    `Queue: peak depth ${count(peaks.depth.value)} tasks read at ${seconds(peaks.depth.readAtS)}, ` +
      `${oldestAge}, from ${reads}.`,
    '',
  ];
}

function breakdownSection(result: TopologyResult): string {
  const slices = [
    ...result.perTenant.map((slice) => ({ by: 'tenant', ...slice })),
    ...result.perRoute.map((slice) => ({ by: 'route', ...slice })),
  ];
  const rows = slices.map((slice) => [
    slice.by,
    slice.key,
    count(slice.requests),
    percent(slice.successRate),
    seconds(slice.latency.p95S),
    seconds(slice.latency.p99S),
  ]);
  const costs = [
    ...result.cost.byTenant.map((slice) => ({ by: 'tenant', ...slice })),
    ...result.cost.byRoute.map((slice) => ({ by: 'route', ...slice })),
  ].map((slice) => [
    slice.by,
    slice.key,
    usd(slice.meanUsd),
    usd(slice.p95Usd),
    usd(slice.totalUsd),
  ]);
  const failovers = result.failovers.map((pair) => [
    pair.fromProvider,
    pair.toProvider,
    count(pair.activations),
  ]);
  const health = result.harness;
  return [
    ...queueLines(result),
    table(['by', 'key', 'requests', 'success', 'p95', 'p99'], rows),
    '',
    responsesLine(result),
    '',
    table(['cost by', 'key', 'mean', 'p95', 'total'], costs),
    '',
    ...providerBillLines(result.cost.providerBill),
    failovers.length > 0
      ? table(['from', 'to', 'failover activations'], failovers)
      : 'No failovers.',
    '',
    `Harness: lag p99 ${health.lagP99Ms.toFixed(1)} ms, dropped sends ${health.droppedSends}, ` +
      `late sends ${health.lateSends}.`,
  ].join('\n');
}

/**
 * Lists the responses by status, such as `Responses: 200 x 1276, 202 x 162; 220 requests cut
 * by the drill's abort before a response.`. In a run the drill's abort ended, the two add up
 * to the requests sent unless some request failed without a response, such as in transport.
 */
function responsesLine(result: TopologyResult): string {
  const statuses = Object.entries(result.statusCounts)
    .sort(([left], [right]) => left.localeCompare(right))
    .map(([status, responses]) => `${status} x ${count(responses)}`);
  const listed = statuses.length === 0 ? 'none' : statuses.join(', ');
  const cut = result.cutByStop ?? 0;
  if (cut === 0) return `Responses: ${listed}.`;
  const accepted = result.cutAfterAccepted ?? 0;
  const beforeResponse = cut - accepted;
  const requests = beforeResponse === 1 ? '1 request' : `${count(beforeResponse)} requests`;
  const line = `Responses: ${listed}; ${requests} cut by the drill's abort before a response`;
  if (accepted === 0) return `${line}.`;
  const tasks = accepted === 1 ? '1 async task' : `${count(accepted)} async tasks`;
  return `${line}, and ${tasks} cut after ${accepted === 1 ? 'its' : 'their'} 202.`;
}

/** Renders the providers' bill of a drill: a row per provider and model, then the comparison. */
function providerBillLines(bill: ProviderBill | undefined): string[] {
  if (bill === undefined) return [];
  const rows = bill.lines.map((line) => [
    line.provider,
    line.model,
    count(line.inputTokens),
    count(line.outputTokens),
    usd(line.usd),
  ]);
  return [
    ...(rows.length === 0
      ? []
      : [table(['provider', 'model', 'input tokens', 'output tokens', 'bill'], rows), '']),
    providerBillText(bill),
    '',
  ];
}

/** Renders the breaker tables of a drill: each target's summary, then every transition. */
function breakerLines(breakers: DrillJournal['breakers']): string[] {
  if (breakers === undefined) {
    return ['Breakers: not recorded, as schema version 1 reports predate breaker records.'];
  }
  if (breakers === null) {
    return ['Breakers: not recorded, as the platform of this drill reports no breakers.'];
  }
  const targets = breakers.targets.map((target) => [
    `${target.provider}/${target.model}`,
    target.startState,
    count(target.transitions.length),
    seconds(target.openS),
    target.endState,
  ]);
  const transitions = breakers.targets.flatMap((target) =>
    target.transitions.map((transition) => [
      `${target.provider}/${target.model}`,
      seconds(transition.atS),
      `${transition.from} -> ${transition.to}`,
      transition.reason ?? 'not recorded',
    ]),
  );
  const until = `Breakers from the load start to the drill end at ${seconds(breakers.untilS)}.`;
  return [
    until,
    '',
    table(['breaker', 'at start', 'transitions', 'open', 'at end'], targets),
    ...(transitions.length === 0
      ? []
      : ['', table(['breaker', 'at', 'transition', 'reason'], transitions)]),
  ];
}

/** Rows of the worker pause table: one per tenant and status shed, or one saying none was. */
function workerPauseRows(id: string, pause: WorkerPauseRecord): string[][] {
  if (pause.shed.length === 0) return [[id, String(pause.slots), 'none shed', '', '', '0']];
  return pause.shed.map((shed) => [
    id,
    String(pause.slots),
    shed.tenant,
    shed.priorityClass,
    String(shed.status),
    count(shed.requests),
  ]);
}

/** Names a probe's outcome; a probe that could not fail in its window is not called a pass. */
function probeOutcome(probe: ProbeResult): string {
  if (probe.passed === null) return `not checked: ${probe.notChecked ?? 'no reason recorded'}`;
  return probe.passed ? 'pass' : 'FAIL';
}

/**
 * Words what a fault injected: its description, and for a toxic the stream and the share of
 * connections it acted on, such as `slicer {...} (upstream, toxicity 0.5)`. Reports written
 * before those were recorded give the description alone.
 */
function faultWhat(fault: FaultRecord): string {
  if (fault.toxic === undefined) return fault.description;
  return `${fault.description} (${fault.toxic.stream}, toxicity ${fault.toxic.toxicity})`;
}

function drillSection(journal: DrillJournal): string {
  const steady = journal.steadyState.flatMap((check) =>
    check.probes.map((probe) => [
      check.phase,
      `${Number(check.fromS.toFixed(2))}-${Number(check.toS.toFixed(2))} s`,
      probe.name,
      `${probe.comparator} ${probe.threshold} (tolerance ${probe.tolerance})`,
      probe.value === null ? 'no data' : String(Number(probe.value.toFixed(4))),
      probeOutcome(probe),
    ]),
  );
  const faults = journal.faults.map((fault) => [
    fault.id,
    fault.kind,
    fault.target,
    faultWhat(fault),
    `${fault.startS}-${fault.endS} s`,
    fault.appliedAtS === null ? 'not applied' : `${fault.appliedAtS.toFixed(2)} s`,
    fault.removedAtS === null ? 'not removed' : `${fault.removedAtS.toFixed(2)} s`,
    fault.error ?? '',
  ]);
  const timings = journal.timings.map((timing) => [
    timing.faultId,
    `${timing.primary} -> ${timing.fallback}`,
    seconds(timing.detectionS),
    seconds(timing.recoveryS),
  ]);
  const bursts = journal.faults.flatMap((fault) =>
    fault.burst === undefined
      ? []
      : [
          [
            fault.id,
            fault.burst.tenant,
            String(fault.burst.requests),
            String(fault.burst.succeeded),
            String(fault.burst.shed),
          ],
        ],
  );
  const pauses = journal.faults.flatMap((fault) =>
    fault.workerPause === undefined ? [] : workerPauseRows(fault.id, fault.workerPause),
  );
  const rollback = journal.rollback.map((step) => [
    step.step,
    step.ok ? 'ok' : `failed: ${step.error ?? ''}`,
  ]);
  const workersRan = pauses.length === 0 ? '' : ' The async workers ran again.';
  const clean = journal.cleanAfterRollback
    ? `After rollback the proxy listed no toxic and every provider reported no fault.${workersRan}`
    : `After rollback these remained: ${journal.leftovers.join(', ')}.`;
  return [
    `## Drill journal: ${journal.name}`,
    '',
    journal.aborted === null
      ? 'The drill ran to the end.'
      : `The drill was aborted at ${journal.aborted.atS.toFixed(2)} s (${journal.aborted.reason}: ${journal.aborted.detail}).`,
    '',
    table(['phase', 'window', 'probe', 'rule', 'value', 'result'], steady),
    '',
    table(['fault', 'kind', 'target', 'what', 'planned', 'applied', 'removed', 'error'], faults),
    '',
    timings.length === 0
      ? 'No provider fault of this drill names a fallback, so it timed no failover.'
      : table(['fault', 'failover', 'detection', 'recovery'], timings),
    '',
    ...breakerLines(journal.breakers),
    '',
    // Burst requests run beside the main load, so the results tables above leave them out.
    ...(bursts.length === 0
      ? []
      : [table(['burst', 'tenant', 'requests', 'succeeded', 'shed (429/503)'], bursts), '']),
    ...(pauses.length === 0
      ? []
      : [
          'Requests that backpressure shed from each worker pause to the drill end:',
          '',
          table(['pause', 'slots paused', 'tenant', 'class', 'status', 'requests'], pauses),
          '',
        ]),
    table(['rollback step', 'result'], rollback),
    '',
    clean,
  ].join('\n');
}

/** Renders the human summary of a report: environment, verdict, tables, drill journal and charts. */
export function renderMarkdown(report: Report, chartFiles: readonly string[] = []): string {
  const verdict = report.verdict;
  const reasons = verdict.reasons.map((reason) => `- ${reason}`);
  const parts = [
    `# ${report.scenario.name}: ${verdict.status}`,
    '',
    `Run \`${report.runId}\`, ${report.createdAt}. ${report.scenario.description ?? ''}`.trim(),
    '',
    ...(reasons.length > 0 ? [...reasons, ''] : []),
    ...(report.policyChange === undefined ? [] : policyChangeSection(report, report.policyChange)),
    environmentSection(report),
    ...unexercisedNote(report),
    '',
    resultsSection(report.topologies, report.environment.timeScale),
    '',
    ...report.topologies.map((result) => `${breakdownSection(result)}\n`),
    ...(report.drill === null ? [] : [drillSection(report.drill), '']),
    ...chartFiles.map((file) => `![${file}](${file})`),
  ];
  return `${parts.join('\n').trimEnd()}\n`;
}
