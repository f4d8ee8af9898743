import type { Tenant } from '../tenants/tenant.js';

/** Returns the running cap of each tenant that has one. */
export function maxRunningByTenant(tenants: readonly Tenant[]): Record<string, number> {
  const caps: Record<string, number> = {};
  for (const tenant of tenants) {
    if (tenant.maxRunning !== undefined) caps[tenant.id] = tenant.maxRunning;
  }
  return caps;
}

/**
 * Returns the async tasks a platform runs at once: `workers` in this process, or, with
 * worker processes, ceil(workers / processes) in each of them.
 */
export function workerSlots(workers: number, processes: number): number {
  if (processes === 0) return workers;
  return processes * Math.ceil(workers / processes);
}

/** A tenant whose `maxRunning` can never hold back a task. */
export interface IneffectiveRunningCap {
  tenant: string;
  maxRunning: number;
  workerSlots: number;
  message: string;
}

/**
 * Returns one entry per tenant whose `maxRunning` is at or above `slots`: the tenant can
 * never run more tasks than the platform has slots, so its cap defers no task.
 * NOTE: on Redis, other platform processes on the same key prefix add their slots, so the
 * cap may still hold across all of them.
 */
export function ineffectiveRunningCaps(
  tenants: readonly Tenant[],
  slots: number,
  tenantsFile: string,
): IneffectiveRunningCap[] {
  const found: IneffectiveRunningCap[] = [];
  for (const { id, maxRunning } of tenants) {
    if (maxRunning === undefined || maxRunning < slots) continue;
    // maxRunning is at least 1, so with one slot only removing the cap ends the warning.
    const fix =
      slots > 1
        ? `set it below ${slots} in ${tenantsFile}, or remove it`
        : `remove it from ${tenantsFile}, as a cap needs at least 2 worker slots to hold back a task`;
    found.push({
      tenant: id,
      maxRunning,
      workerSlots: slots,
      message:
        `tenant ${id} has maxRunning ${maxRunning}, at or above the platform's ${slots} worker ` +
        `slots, so the cap never holds back a task; ${fix}`,
    });
  }
  return found;
}
