import type { BudgetPeriod, Tenant } from './tenant.js';

/** A tenant setting that the loader accepts but that works against what it seems to set. */
export interface TenantWarning {
  tenantId: string;
  field: 'budgetUsd' | 'maxRunning';
  value: number;
  /** The problem and its fix, without the tenant or the file, for a line that names both. */
  detail: string;
  /** The problem and its fix, naming the tenant and the file. */
  message: string;
}

/**
 * Returns a warning for each tenant whose `budgetUsd` is 0 or whose `maxRunning` is above
 * its `maxInFlight`. Both are valid settings, so the file still loads. `file` names the
 * tenants file in the messages.
 */
export function tenantWarnings(tenants: readonly Tenant[], file: string): TenantWarning[] {
  const warnings: TenantWarning[] = [];
  for (const tenant of tenants) {
    if (tenant.budgetUsd === 0) {
      const detail = zeroBudgetDetail(tenant.budgetPeriod ?? 'total');
      warnings.push(warning(tenant, 'budgetUsd', 0, detail, file));
    }
    const { maxRunning, maxInFlight } = tenant;
    if (maxRunning !== undefined && maxRunning > maxInFlight) {
      const detail = unboundRunningCapDetail(maxRunning, maxInFlight);
      warnings.push(warning(tenant, 'maxRunning', maxRunning, detail, file));
    }
  }
  return warnings;
}

function warning(
  tenant: Tenant,
  field: TenantWarning['field'],
  value: number,
  detail: string,
  file: string,
): TenantWarning {
  const message = `tenant ${tenant.id} in ${file}: ${detail}`;
  return { tenantId: tenant.id, field, value, detail, message };
}

/**
 * Describes a budget of 0. The loader accepts it, because it stops a tenant's paid tasks,
 * but it also looks like a budget left unset. Admission still accepts a task whose route has
 * only free models.
 */
function zeroBudgetDetail(period: BudgetPeriod): string {
  return (
    "budgetUsd is 0, so admission rejects each of the tenant's tasks with 429 " +
    "budget_exhausted unless every model of the task's route costs nothing, as instant " +
    "does; keep 0 only to stop the tenant's paid tasks, otherwise set budgetUsd to the " +
    `US dollars the tenant may spend ${BUDGET_PERIOD_PHRASES[period]}`
  );
}

/** The span of each budget period, as a warning names it. */
const BUDGET_PERIOD_PHRASES: Record<BudgetPeriod, string> = {
  total: 'in total (budgetPeriod total, which never resets)',
  day: 'per UTC day (budgetPeriod day)',
  month: 'per UTC calendar month (budgetPeriod month)',
};

/**
 * Describes a `maxRunning` above `maxInFlight`. Admission keeps at most `maxInFlight` of a
 * tenant's tasks open, and a running task is one of them, so a higher cap is never reached.
 */
function unboundRunningCapDetail(maxRunning: number, maxInFlight: number): string {
  const fix =
    maxInFlight > 1
      ? `set maxRunning below ${maxInFlight}, or remove it`
      : 'remove maxRunning, as no cap below maxInFlight 1 exists';
  return (
    `maxRunning ${maxRunning} is above maxInFlight ${maxInFlight}, so the cap never holds ` +
    `back a task, because admission lets at most ${maxInFlight} of the tenant's tasks be ` +
    `in flight, running ones included; ${fix}`
  );
}
