import { isLoopbackUrlHost, LOOPBACK_HOSTS } from '../../faults/loopback.js';
import { ScenarioValidationError } from './errors.js';
import { IssueList } from './field-checks.js';
import type { ScenarioSpec } from './types.js';

const ARRIVAL_KINDS = ['constant', 'ramp', 'burst', 'trace'] as const;
const DISTRIBUTION_KINDS = ['constant', 'uniform', 'lognormal'] as const;
const SLO_LATENCY_FIELDS = ['p50LatencyMs', 'p95LatencyMs', 'p99LatencyMs'] as const;
const SLO_LIMIT_FIELDS = ['successRate', ...SLO_LATENCY_FIELDS] as const;

/** Fields of each object in a scenario spec; any other field is rejected as unknown. */
const FIELDS = {
  spec: [
    'name',
    'description',
    'target',
    'durationSec',
    'arrival',
    'tenants',
    'routes',
    'tasks',
    'modes',
    'slo',
  ],
  constant: ['kind', 'ratePerSec'],
  ramp: ['kind', 'startRatePerSec', 'stages'],
  rampStage: ['durationSec', 'targetRatePerSec'],
  burst: ['kind', 'baseRatePerSec', 'burstRatePerSec', 'windows'],
  window: ['startSec', 'durationSec'],
  trace: ['kind', 'file', 'speedUp', 'window', 'limit'],
  traceTasks: ['source'],
  distributionTasks: ['source', 'kinds'],
  taskKind: ['name', 'weight', 'inputTokens', 'outputTokens', 'steps', 'toolWaitMs'],
  constantDistribution: ['kind', 'value'],
  uniformDistribution: ['kind', 'min', 'max'],
  lognormalDistribution: ['kind', 'median', 'p95'],
  modes: ['sync', 'async'],
  tenantShare: ['tenantId', 'weight', 'tasks', 'modes'],
  slo: [...SLO_LIMIT_FIELDS, 'perTenant'],
  sloLimits: SLO_LIMIT_FIELDS,
} as const;

/**
 * Checks a scenario spec field by field and returns it typed.
 * @throws ScenarioValidationError naming each invalid field path, such as
 *   `scenario.arrival.stages[1].durationSec: expected a positive number, got -5`.
 */
export function validateScenario(spec: unknown, root = 'scenario'): ScenarioSpec {
  const issues = new IssueList();
  if (issues.record(root, spec)) checkSpec(issues, root, spec);
  if (issues.items.length > 0) throw new ScenarioValidationError(issues.items);

  return spec as unknown as ScenarioSpec;
}

function checkSpec(issues: IssueList, root: string, spec: Record<string, unknown>): void {
  issues.knownFields(root, spec, FIELDS.spec);
  issues.nonEmptyString(`${root}.name`, spec.name);
  if (typeof spec.description !== 'string') {
    issues.add(`${root}.description`, 'a string', spec.description);
  }
  checkTarget(issues, `${root}.target`, spec.target);
  issues.positive(`${root}.durationSec`, spec.durationSec);
  if (issues.record(`${root}.arrival`, spec.arrival)) {
    checkArrival(issues, `${root}.arrival`, spec.arrival);
  }
  const tenantIds = checkShares(issues, `${root}.tenants`, spec.tenants, 'tenantId');
  checkTenantWorkloads(issues, `${root}.tenants`, spec.tenants);
  checkShares(issues, `${root}.routes`, spec.routes, 'route');
  checkTasks(issues, root, spec);
  checkModes(issues, `${root}.modes`, spec.modes);
  checkSlo(issues, `${root}.slo`, spec.slo, tenantIds);
}

/**
 * Checks a load target given as `--target`, where `option` names it in the message.
 * @throws ScenarioValidationError as {@link validateScenario} does.
 */
export function validateTarget(option: string, value: unknown): string {
  const issues = new IssueList();
  checkTarget(issues, option, value);
  if (issues.items.length > 0) throw new ScenarioValidationError(issues.items);
  return value as string;
}

/** Masks the user name and password of a URL-like text, parseable or not. */
function withoutCredentials(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***:***@');
}

/**
 * Accepts an http or https origin on a loopback host: load is never aimed at another machine.
 * A user name or password is rejected, because the target is printed in the summary and
 * the JSON, and so is a path, query or fragment, because requests go to absolute paths
 * such as /v1/tasks on the origin.
 */
function checkTarget(issues: IssueList, path: string, value: unknown): void {
  if (!issues.nonEmptyString(path, value)) return;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    issues.add(path, 'an http or https URL', withoutCredentials(value));
    return;
  }
  const loopback = isLoopbackUrlHost(url);
  if (url.username !== '' || url.password !== '') {
    url.username = url.username === '' ? '' : '***';
    url.password = url.password === '' ? '' : '***';
    issues.items.push({
      path,
      expected: 'a URL without a user name or password',
      received: JSON.stringify(url.href),
      hint: loopback
        ? `the gateway authenticates with tenant API keys, so pass ${url.origin}`
        : `the gateway authenticates with tenant API keys; pass a loopback origin such as http://127.0.0.1:${url.port || '8080'}`,
    });
  } else if (!loopback) {
    issues.items.push({
      path,
      expected: `a URL on a loopback host (${LOOPBACK_HOSTS})`,
      received: JSON.stringify(value),
      hint: `load sends only to this machine, so pass a gateway on loopback, such as http://127.0.0.1:${url.port || '8080'}`,
    });
  } else if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    issues.items.push({
      path,
      expected: 'a URL with no path, query or fragment',
      received: JSON.stringify(value),
      hint: `only the origin is used, because request paths are absolute (/v1/tasks); pass ${url.origin}`,
    });
  }
}

function checkArrival(issues: IssueList, path: string, arrival: Record<string, unknown>): void {
  if (!issues.oneOf(`${path}.kind`, arrival.kind, ARRIVAL_KINDS)) return;
  switch (arrival.kind) {
    case 'constant':
      issues.knownFields(path, arrival, FIELDS.constant);
      issues.positive(`${path}.ratePerSec`, arrival.ratePerSec);
      return;
    case 'ramp':
      issues.knownFields(path, arrival, FIELDS.ramp);
      checkRamp(issues, path, arrival);
      return;
    case 'burst':
      issues.knownFields(path, arrival, FIELDS.burst);
      checkBurst(issues, path, arrival);
      return;
    default:
      issues.knownFields(path, arrival, FIELDS.trace);
      checkTraceArrival(issues, path, arrival);
  }
}

function checkRamp(issues: IssueList, path: string, arrival: Record<string, unknown>): void {
  const before = issues.items.length;
  issues.nonNegative(`${path}.startRatePerSec`, arrival.startRatePerSec);
  if (!issues.nonEmptyArray(`${path}.stages`, arrival.stages)) return;
  arrival.stages.forEach((stage, i) => {
    const at = `${path}.stages[${i}]`;
    if (!issues.record(at, stage)) return;
    issues.knownFields(at, stage, FIELDS.rampStage);
    issues.positive(`${at}.durationSec`, stage.durationSec);
    issues.nonNegative(`${at}.targetRatePerSec`, stage.targetRatePerSec);
  });
  if (issues.items.length > before) return;
  // Every rate of 0 schedules no request, and the run's objectives then fail for lack of samples.
  const stages = arrival.stages as { targetRatePerSec: number }[];
  if (arrival.startRatePerSec === 0 && stages.every((stage) => stage.targetRatePerSec === 0)) {
    issues.items.push({
      path: `${path}.stages`,
      expected: 'a stage with a targetRatePerSec above 0',
      received: 'a startRatePerSec and every targetRatePerSec of 0',
      hint: "raise a stage's targetRatePerSec, because a ramp that stays at 0 sends no request",
    });
  }
}

function checkBurst(issues: IssueList, path: string, arrival: Record<string, unknown>): void {
  issues.nonNegative(`${path}.baseRatePerSec`, arrival.baseRatePerSec);
  issues.positive(`${path}.burstRatePerSec`, arrival.burstRatePerSec);
  if (!issues.nonEmptyArray(`${path}.windows`, arrival.windows)) return;
  arrival.windows.forEach((window, i) => {
    const at = `${path}.windows[${i}]`;
    if (!issues.record(at, window)) return;
    issues.knownFields(at, window, FIELDS.window);
    issues.nonNegative(`${at}.startSec`, window.startSec);
    issues.positive(`${at}.durationSec`, window.durationSec);
  });
}

function checkTraceArrival(
  issues: IssueList,
  path: string,
  arrival: Record<string, unknown>,
): void {
  issues.nonEmptyString(`${path}.file`, arrival.file);
  issues.positive(`${path}.speedUp`, arrival.speedUp);
  if (arrival.limit !== undefined) issues.positiveInteger(`${path}.limit`, arrival.limit);
  if (arrival.window === undefined) return;
  if (!issues.record(`${path}.window`, arrival.window)) return;
  issues.knownFields(`${path}.window`, arrival.window, FIELDS.window);
  issues.nonNegative(`${path}.window.startSec`, arrival.window.startSec);
  issues.positive(`${path}.window.durationSec`, arrival.window.durationSec);
}

/** Checks a weighted list and returns the names it contains. */
function checkShares(issues: IssueList, path: string, value: unknown, key: string): string[] {
  if (!issues.nonEmptyArray(path, value)) return [];
  const names: string[] = [];
  value.forEach((share, i) => {
    const at = `${path}[${i}]`;
    if (!issues.record(at, share)) return;
    issues.knownFields(at, share, key === 'tenantId' ? FIELDS.tenantShare : [key, 'weight']);
    const name = share[key];
    if (issues.nonEmptyString(`${at}.${key}`, name)) {
      if (names.includes(name)) issues.add(`${at}.${key}`, 'a name not listed before', name);
      names.push(name);
    }
    issues.positive(`${at}.weight`, share.weight);
  });
  return names;
}

function checkTasks(issues: IssueList, root: string, spec: Record<string, unknown>): void {
  const path = `${root}.tasks`;
  const tasks = spec.tasks;
  if (!issues.record(path, tasks)) return;
  if (!issues.oneOf(`${path}.source`, tasks.source, ['trace', 'distribution'])) return;
  if (tasks.source === 'trace') {
    issues.knownFields(path, tasks, FIELDS.traceTasks);
    const arrival = spec.arrival as Record<string, unknown> | undefined;
    if (arrival?.kind !== 'trace') {
      issues.add(`${path}.source`, '"distribution" unless arrival.kind is "trace"', 'trace');
    }
    return;
  }
  checkDistributionTasks(issues, path, tasks);
}

function checkDistributionTasks(
  issues: IssueList,
  path: string,
  tasks: Record<string, unknown>,
): void {
  issues.knownFields(path, tasks, FIELDS.distributionTasks);
  if (!issues.nonEmptyArray(`${path}.kinds`, tasks.kinds)) return;
  tasks.kinds.forEach((kind, i) => {
    checkTaskKind(issues, `${path}.kinds[${i}]`, kind);
  });
}

/** Checks the optional `tasks` and `modes` of each tenant share. */
function checkTenantWorkloads(issues: IssueList, path: string, tenants: unknown): void {
  if (!Array.isArray(tenants)) return;
  tenants.forEach((share: unknown, i) => {
    if (typeof share !== 'object' || share === null) return;
    const { tasks, modes } = share as Record<string, unknown>;
    const at = `${path}[${i}]`;
    if (modes !== undefined) checkModes(issues, `${at}.modes`, modes);
    if (tasks === undefined || !issues.record(`${at}.tasks`, tasks)) return;
    if (tasks.source !== 'distribution') {
      const expected = '"distribution", because trace rows size the tasks of every tenant';
      issues.add(`${at}.tasks.source`, expected, tasks.source);
      return;
    }
    checkDistributionTasks(issues, `${at}.tasks`, tasks);
  });
}

function checkTaskKind(issues: IssueList, path: string, kind: unknown): void {
  if (!issues.record(path, kind)) return;
  issues.knownFields(path, kind, FIELDS.taskKind);
  issues.nonEmptyString(`${path}.name`, kind.name);
  issues.positive(`${path}.weight`, kind.weight);
  checkDistribution(issues, `${path}.inputTokens`, kind.inputTokens);
  checkDistribution(issues, `${path}.outputTokens`, kind.outputTokens);
  if (kind.steps !== undefined) checkDistribution(issues, `${path}.steps`, kind.steps);
  if (kind.toolWaitMs !== undefined)
    checkDistribution(issues, `${path}.toolWaitMs`, kind.toolWaitMs);
}

function checkDistribution(issues: IssueList, path: string, value: unknown): void {
  if (!issues.record(path, value)) return;
  if (!issues.oneOf(`${path}.kind`, value.kind, DISTRIBUTION_KINDS)) return;
  if (value.kind === 'constant') {
    issues.knownFields(path, value, FIELDS.constantDistribution);
    issues.nonNegative(`${path}.value`, value.value);
    return;
  }
  if (value.kind === 'uniform') {
    issues.knownFields(path, value, FIELDS.uniformDistribution);
    if (
      issues.nonNegative(`${path}.min`, value.min) &&
      issues.nonNegative(`${path}.max`, value.max)
    ) {
      if (value.max < value.min)
        issues.add(`${path}.max`, `a number >= min (${value.min})`, value.max);
    }
    return;
  }
  issues.knownFields(path, value, FIELDS.lognormalDistribution);
  if (
    issues.positive(`${path}.median`, value.median) &&
    issues.positive(`${path}.p95`, value.p95)
  ) {
    if (value.p95 < value.median) {
      issues.add(`${path}.p95`, `a number >= median (${value.median})`, value.p95);
    }
  }
}

function checkModes(issues: IssueList, path: string, value: unknown): void {
  if (!issues.record(path, value)) return;
  issues.knownFields(path, value, FIELDS.modes);
  const sync = issues.nonNegative(`${path}.sync`, value.sync);
  const async = issues.nonNegative(`${path}.async`, value.async);
  if (sync && async && Number(value.sync) + Number(value.async) <= 0) {
    issues.add(path, 'a positive sync or async weight', value);
  }
}

function checkSlo(issues: IssueList, path: string, value: unknown, tenantIds: string[]): void {
  if (!issues.record(path, value)) return;
  issues.knownFields(path, value, FIELDS.slo);
  checkSloLimits(issues, path, value);
  if (value.perTenant === undefined) return;
  if (!issues.record(`${path}.perTenant`, value.perTenant)) return;
  for (const [tenantId, limits] of Object.entries(value.perTenant)) {
    const at = `${path}.perTenant.${tenantId}`;
    if (!tenantIds.includes(tenantId)) issues.add(at, 'a tenant listed in tenants', tenantId);
    if (!issues.record(at, limits)) continue;
    issues.knownFields(at, limits, FIELDS.sloLimits);
    checkSloLimits(issues, at, limits);
  }
}

function checkSloLimits(issues: IssueList, path: string, limits: Record<string, unknown>): void {
  if (limits.successRate !== undefined) issues.fraction(`${path}.successRate`, limits.successRate);
  for (const field of SLO_LATENCY_FIELDS) {
    if (limits[field] !== undefined) issues.positive(`${path}.${field}`, limits[field]);
  }
}
