import type { Logger } from 'pino';

import type { QueueGauges } from '../admission/backpressure.js';
import { budgetPeriodOf } from '../admission/budget-period.js';
import type { AdmissionBackend } from '../admission/types.js';
import type { CostEntry } from '../cost/ledger.js';
import type { BreakerState, PlatformMetrics, RequestOutcome } from '../metrics/index.js';
import { type BreakerTransition, transitionReason } from '../router/breaker-state.js';
import type { Policy } from '../router/policy-types.js';
import type { Router } from '../router/router.js';
import type { TaskStore } from '../store/task-store.js';
import type { TaskRecord, TokenUsage } from '../task.js';
import type { TenantLimits } from '../tenants/tenant.js';
import { costEntryOf } from './cost-entry.js';
import type { MetricSink } from './metric-relay.js';

/** Gauge state of a router breaker kind. */
const BREAKER_STATES: Record<BreakerTransition['to']['kind'], BreakerState> = {
  closed: 'closed',
  open: 'open',
  half_open: 'half-open',
};

/**
 * Feeds router events to the metrics: breaker transitions, with their reason,
 * to the breaker gauge, failovers (or same-provider retries) and every attempt's outcome, also
 * by fallback route for a call to a candidate that the task's route takes from a fallback route.
 * Every candidate of the policy starts with a closed breaker sample.
 */
export function wireRouterMetrics(router: Router, metrics: MetricSink, policy: Policy): void {
  for (const route of Object.values(policy.routes)) {
    for (const candidate of route.candidates) {
      metrics.setBreakerState({ provider: candidate.provider, model: candidate.model }, 'closed');
    }
  }
  router.on('breaker_transition', (transition) => {
    const { provider, model, to } = transition;
    metrics.setBreakerState(
      { provider, model },
      BREAKER_STATES[to.kind],
      transitionReason(transition),
    );
  });
  router.on('failover', ({ from, to }) => metrics.recordFailover(from.provider, to.provider));
  // A call the caller aborted says nothing about the provider, so it is not counted as failed.
  router.on('attempt_end', ({ route, candidateRoute, provider, model, outcome, errorClass }) => {
    const counted = errorClass === 'aborted' ? 'aborted' : outcome;
    metrics.recordAttempt({ provider, model }, counted, errorClass);
    if (candidateRoute !== route) {
      metrics.recordFallbackAttempt({ route, fallbackRoute: candidateRoute }, counted);
    }
  });
}

/**
 * Samples the queue gauges on every scrape and every `intervalMs` on a timer
 * that does not keep the process alive. Returns the function that stops it.
 */
export function startQueueSampler(
  queue: { name: string; gauges(): Promise<QueueGauges> },
  metrics: PlatformMetrics,
  intervalMs = 1000,
): () => void {
  metrics.setQueueGaugeSource(queue.name, () => queue.gauges());
  const timer = setInterval(() => void metrics.sampleQueues(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Feeds `scalegate_tasks` from the task store's per-state counts on each scrape. `accepted`
 * is left out, because it equals the sum of the states.
 */
export function wireTaskCounts(
  store: Pick<TaskStore, 'accounting'>,
  metrics: Pick<PlatformMetrics, 'setTaskCountSource'>,
): void {
  metrics.setTaskCountSource(async () => {
    const { accepted: _accepted, ...byState } = await store.accounting();
    return byState;
  });
}

/**
 * Feeds the tenant budget gauges from admission on each scrape: every tenant's budget, and
 * the spend and reservations of its current budget period, all in one `usageOf` read. The
 * first failed read is logged at warn, and the next one only after a read succeeded.
 */
export function wireTenantUsage(
  admission: Pick<AdmissionBackend, 'usageOf'>,
  tenants: readonly TenantLimits[],
  metrics: Pick<PlatformMetrics, 'setTenantUsageSource'>,
  logger?: Logger,
): void {
  // Ids, budgets and periods only, so an API key hash cannot reach a label.
  const limits = tenants.map(({ id, budgetUsd, budgetPeriod }) => ({
    id,
    budgetUsd,
    period: budgetPeriodOf({ budgetPeriod }),
  }));
  const queries = limits.map(({ id, period }) => ({ id, budgetPeriod: period }));
  let failing = false;
  metrics.setTenantUsageSource({
    read: async () => {
      const usage = await admission.usageOf(queries);
      failing = false;
      return limits.map(({ id, budgetUsd, period }, index) => ({
        tenant: id,
        period,
        budgetUsd,
        spentUsd: usage[index]?.spentUsd ?? 0,
        reservedUsd: usage[index]?.reservedUsd ?? 0,
      }));
    },
    onFailure: (error) => {
      if (failing) return;
      failing = true;
      logger?.warn(
        { err: error, tenants: limits.length },
        'reading tenant usage for /metrics failed, so the scalegate_tenant_ gauges are left out of each scrape until a read succeeds',
      );
    },
  });
}

/**
 * Observes the time to first token of a finished task that has a result, labelled with the
 * provider and model whose stream delivered that token.
 */
export function observeFirstToken(metrics: MetricSink, record: TaskRecord): void {
  const { result } = record;
  if (result === undefined) return;
  const source = result.firstTokenFrom ?? result;
  const labels = { provider: source.provider, model: source.model };
  metrics.observeTimeToFirstToken(labels, result.timeToFirstTokenMs / 1000);
}

/**
 * Records a task that reached its terminal state: the request outcome and latency, the
 * time to first token, and its cost in the metrics and the ledger when it has one.
 * `spentUsage` is the tokens a failed task's token cost pays for, as the finisher reports them.
 */
export function recordFinished(
  metrics: MetricSink,
  ledger: { record(entry: CostEntry): Promise<unknown> },
  record: TaskRecord,
  executorCostUsd: number,
  spentUsage?: TokenUsage,
): void {
  const outcome = requestOutcomeOf(record);
  const seconds = ((record.finishedAt ?? record.createdAt) - record.createdAt) / 1000;
  metrics.recordRequest({ tenant: record.tenantId, route: record.request.route, outcome }, seconds);
  observeFirstToken(metrics, record);
  const entry = costEntryOf(record, executorCostUsd, spentUsage);
  if (entry === undefined) return;
  metrics.recordCost(
    record.tenantId,
    record.request.route,
    record.costUsd ?? 0,
    entry.tokenCostUsd,
  );
  void ledger.record(entry);
}

/** Returns the request outcome of a finished task: its terminal state, else `failed`. */
function requestOutcomeOf(record: TaskRecord): RequestOutcome {
  const { state } = record;
  return state === 'succeeded' || state === 'dead_lettered' ? state : 'failed';
}
