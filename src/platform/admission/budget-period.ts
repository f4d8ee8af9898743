/**
 * Calendar periods of tenant budgets. Each period has a key, such as `day:2026-12-06`,
 * that both backends store with the tickets it admitted and that the Redis backend puts
 * in the name of the period's spend hash.
 */
import type { BudgetPeriod, TenantLimits } from '../tenants/tenant.js';

const MS_PER_DAY = 86_400_000;

/** Key of the one period of a `total` budget. */
export const TOTAL_PERIOD_KEY = 'total';

/** One period of a budget: spend admitted from `startMs` up to `endMs` counts together. */
export interface PeriodWindow {
  /** `total`, `day:YYYY-MM-DD` or `month:YYYY-MM`, in UTC. */
  key: string;
  /** Start in ms since the Unix epoch, inclusive; -Infinity for `total`. */
  startMs: number;
  /** End in ms since the Unix epoch, exclusive; Infinity for `total`. */
  endMs: number;
}

/** Returns the tenant's budget period, `total` when it names none. */
export function budgetPeriodOf(tenant: Pick<TenantLimits, 'budgetPeriod'>): BudgetPeriod {
  return tenant.budgetPeriod ?? 'total';
}

/** Returns the period of kind `period` that contains `nowMs`. */
export function periodAt(period: BudgetPeriod, nowMs: number): PeriodWindow {
  if (period === 'total') {
    return { key: TOTAL_PERIOD_KEY, startMs: -Infinity, endMs: Infinity };
  }
  const date = new Date(nowMs);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  if (period === 'month') {
    const startMs = Date.UTC(year, month, 1);
    return { key: `month:${year}-${pad(month + 1)}`, startMs, endMs: Date.UTC(year, month + 1, 1) };
  }
  const startMs = Date.UTC(year, month, date.getUTCDate());
  const key = `day:${year}-${pad(month + 1)}-${pad(date.getUTCDate())}`;
  return { key, startMs, endMs: startMs + MS_PER_DAY };
}

/** Returns the period just before `window`, or `window` itself for `total`. */
export function previousPeriod(window: PeriodWindow): PeriodWindow {
  const period = periodKindOf(window.key);
  if (period === 'total') return window;
  return periodAt(period, window.startMs - 1);
}

/**
 * Parses a period key as {@link periodAt} builds it.
 * @throws RangeError naming the key when it is not one.
 */
export function parsePeriodKey(key: string): PeriodWindow {
  if (key === TOTAL_PERIOD_KEY) return periodAt('total', 0);
  const match = /^(day|month):(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(key);
  const [, kind, year, month, day] = match ?? [];
  if (kind === 'day' && day !== undefined) {
    const window = periodAt('day', Date.UTC(Number(year), Number(month) - 1, Number(day)));
    if (window.key === key) return window;
  }
  if (kind === 'month' && day === undefined) {
    const window = periodAt('month', Date.UTC(Number(year), Number(month) - 1, 1));
    if (window.key === key) return window;
  }
  throw new RangeError(
    `invalid budget period key ${JSON.stringify(key)}; expected total, day:YYYY-MM-DD or month:YYYY-MM`,
  );
}

/** Returns the kind of period a key such as `day:2026-12-06` names. */
export function periodKindOf(key: string): BudgetPeriod {
  if (key.startsWith('day:')) return 'day';
  if (key.startsWith('month:')) return 'month';
  return 'total';
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
