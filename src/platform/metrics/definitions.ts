import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  QUEUE_WAIT_BUCKETS,
  TIME_TO_FIRST_TOKEN_BUCKETS,
  TOTAL_LATENCY_BUCKETS,
} from './buckets.js';
import { SOURCE_READ_FAILURES } from './source-reader.js';

/** Functions that read gauge sources before a scrape of their gauges. */
export interface GaugeCollectors {
  /** Runs before each scrape of the queue gauges. */
  collectQueues?: () => Promise<void>;
  /** Runs before each scrape of `scalegate_tasks`. */
  collectTasks?: () => Promise<void>;
  /** Runs before each scrape of the tenant budget gauges. */
  collectTenants?: () => Promise<void>;
}

/** Registers every platform metric on `registry`, each named with the `scalegate_` prefix. */
export function defineMetrics(registry: Registry, collectors: GaugeCollectors = {}) {
  const { collectQueues, collectTasks, collectTenants } = collectors;
  const registers = [registry];
  const requests = new Counter({
    name: 'scalegate_requests_total',
    help: 'Admitted tasks that reached a terminal state, by tenant id, route and outcome: succeeded, failed or dead_lettered.',
    labelNames: ['tenant', 'route', 'outcome'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'scalegate_request_duration_seconds',
    help: 'Total latency of a request, from arrival to its last byte, in seconds.',
    labelNames: ['route', 'outcome'] as const,
    buckets: TOTAL_LATENCY_BUCKETS,
    registers,
  });
  const queueWait = new Histogram({
    name: 'scalegate_queue_wait_seconds',
    help: 'Time a task waited in the queue before an executor took it, in seconds.',
    labelNames: ['priority'] as const,
    buckets: QUEUE_WAIT_BUCKETS,
    registers,
  });
  const timeToFirstToken = new Histogram({
    name: 'scalegate_time_to_first_token_seconds',
    help: 'Time from the first provider attempt to the first output token, in seconds.',
    labelNames: ['provider', 'model'] as const,
    buckets: TIME_TO_FIRST_TOKEN_BUCKETS,
    registers,
  });
  const failovers = new Counter({
    name: 'scalegate_failover_activations_total',
    help: 'Failovers from one provider to another.',
    labelNames: ['from_provider', 'to_provider'] as const,
    registers,
  });
  const retries = new Counter({
    name: 'scalegate_provider_retries_total',
    help: 'Repeated calls to the same provider within one task, after a failure.',
    labelNames: ['provider'] as const,
    registers,
  });
  const attempts = new Counter({
    name: 'scalegate_provider_attempts_total',
    help: 'Provider calls by provider, model and outcome (success, failed, or aborted by the caller).',
    labelNames: ['provider', 'model', 'outcome'] as const,
    registers,
  });
  const fallbackAttempts = new Counter({
    name: 'scalegate_fallback_route_attempts_total',
    help: "Provider calls of a route's tasks to candidates of one of its fallback routes, by the task's route, the fallback route and outcome (success, failed, or aborted by the caller).",
    labelNames: ['route', 'fallback_route', 'outcome'] as const,
    registers,
  });
  const providerErrors = new Counter({
    name: 'scalegate_provider_errors_total',
    help: 'Failed provider calls by provider, model and error class, such as status_429 for a call the provider rate-limited or status_5xx.',
    labelNames: ['provider', 'model', 'error_class'] as const,
    registers,
  });
  const breakerState = new Gauge({
    name: 'scalegate_breaker_state',
    help: 'Circuit breaker state per provider and model: 0 closed, 1 half-open, 2 open.',
    labelNames: ['provider', 'model'] as const,
    registers,
  });
  const queueDepth = new Gauge({
    name: 'scalegate_queue_depth',
    help: 'Tasks waiting in the queue.',
    labelNames: ['queue'] as const,
    registers,
    collect: collectQueues,
  });
  const queueOldestAge = new Gauge({
    name: 'scalegate_queue_oldest_age_seconds',
    help: 'Maximum time a waiting task has waited since it last entered the queue (at its enqueue, or on its return after a deferral, retry backoff or stall), in seconds; 0 when none waits.',
    labelNames: ['queue'] as const,
    registers,
    collect: collectQueues,
  });
  const queueGaugeReadFailures = new Counter({
    name: 'scalegate_queue_gauge_read_failures_total',
    help: 'Queue gauge reads that failed or timed out, by queue and reason (error or timeout). The queue gauges keep their last sample after each.',
    labelNames: ['queue', 'reason'] as const,
    registers,
  });
  const tasks = new Gauge({
    name: 'scalegate_tasks',
    help: "Tasks in the task store by state, read on each scrape: queued and running now, and succeeded, failed and dead_lettered since the key prefix's first task on Redis, or since the platform started in memory. Every platform process on one Redis key prefix shows the same values.",
    labelNames: ['state'] as const,
    registers,
    collect: collectTasks,
  });
  const taskCountReadFailures = new Counter({
    name: 'scalegate_task_count_read_failures_total',
    help: 'Task count reads for scalegate_tasks that failed or timed out, by reason (error or timeout). The gauge keeps its last sample after each.',
    labelNames: ['reason'] as const,
    registers,
  });
  const rejections = new Counter({
    name: 'scalegate_admission_rejections_total',
    help: 'Requests rejected by admission, by tenant id and the limit reached.',
    labelNames: ['tenant', 'reason'] as const,
    registers,
  });
  const capDeferrals = new Counter({
    name: 'scalegate_running_cap_deferrals_total',
    help: 'Times an async task was put off because its tenant already ran its maxRunning tasks, by tenant id. A waiting task counts once per try; its tries start 250 to 500 ms apart and slow to 2 to 4 s apart.',
    labelNames: ['tenant'] as const,
    registers,
  });
  const resumedSteps = new Counter({
    name: 'scalegate_resumed_steps_total',
    help: 'Agent task steps that a delivery skipped because an earlier delivery of the task had finished them, by tenant id.',
    labelNames: ['tenant'] as const,
    registers,
  });
  const workerExits = new Counter({
    name: 'scalegate_worker_process_exits_total',
    help: 'Worker process exits that the platform did not request, by reason: signal (killed, as by SIGKILL or the OOM killer), error (non-zero exit code) or clean (exit code 0).',
    labelNames: ['reason'] as const,
    registers,
  });
  const cost = new Counter({
    name: 'scalegate_cost_usd_total',
    help: 'Cost of finished tasks in US dollars, tokens plus executor, by tenant id and route.',
    labelNames: ['tenant', 'route'] as const,
    registers,
  });
  const tokenCost = new Counter({
    name: 'scalegate_token_cost_usd_total',
    help: 'Token cost of finished tasks in US dollars, the provider calls alone, by tenant id and route.',
    labelNames: ['tenant', 'route'] as const,
    registers,
  });
  const tenantBudget = new Gauge({
    name: 'scalegate_tenant_budget_usd',
    help: "A tenant's budgetUsd from the tenants file, the budget of each period of its budgetPeriod (total, day or month in UTC), in US dollars, by tenant id and period. Absent from a scrape whose usage read failed.",
    labelNames: ['tenant', 'period'] as const,
    registers,
    collect: collectTenants,
  });
  const tenantSpend = new Gauge({
    name: 'scalegate_tenant_spend_usd',
    help: "A tenant's spend in its current budget period as admission records it, settled tasks and the charges of running ones, in US dollars, by tenant id and period. Read from admission on each scrape.",
    labelNames: ['tenant', 'period'] as const,
    registers,
    collect: collectTenants,
  });
  const tenantReserved = new Gauge({
    name: 'scalegate_tenant_reserved_usd',
    help: "Reservations of a tenant's open admission tickets in its current budget period, in US dollars, by tenant id and period. Read from admission on each scrape. Admission rejects a task with budget when spend plus reservations plus the task's reservation exceed the budget.",
    labelNames: ['tenant', 'period'] as const,
    registers,
    collect: collectTenants,
  });
  const tenantUsageReadFailures = new Counter({
    name: 'scalegate_tenant_usage_read_failures_total',
    help: 'Tenant usage reads for the scalegate_tenant_ gauges that failed or timed out, by reason (error or timeout). The tenant gauges are absent from the scrape of each.',
    labelNames: ['reason'] as const,
    registers,
  });
  for (const reason of SOURCE_READ_FAILURES) {
    startAtZero(taskCountReadFailures, { reason });
    startAtZero(tenantUsageReadFailures, { reason });
  }

  return {
    requests,
    latency,
    queueWait,
    timeToFirstToken,
    failovers,
    retries,
    attempts,
    fallbackAttempts,
    providerErrors,
    breakerState,
    queueDepth,
    queueOldestAge,
    queueGaugeReadFailures,
    tasks,
    taskCountReadFailures,
    rejections,
    capDeferrals,
    resumedSteps,
    workerExits,
    cost,
    tokenCost,
    tenantBudget,
    tenantSpend,
    tenantReserved,
    tenantUsageReadFailures,
  };
}

export type MetricSet = ReturnType<typeof defineMetrics>;

/**
 * Creates the series of `labels` at 0 unless it exists. Prometheus `increase()` and `rate()`
 * see no increment in a series whose first sample is already 1, so a counter with a known,
 * finite label set shows each series from its start.
 */
export function startAtZero<T extends string>(
  counter: Counter<T>,
  labels: Partial<Record<T, string>>,
): void {
  counter.inc(labels, 0);
}
