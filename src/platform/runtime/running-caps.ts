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
 * `sharedKeyPrefix` is the Redis key prefix that other platform processes may join. Their
 * slots then add to `slots`, and the cap counts the tenant's tasks in all of them, so the
 * message names the slots as this process's.
 * NOTE: a process cannot tell how many others share its key prefix, so on a shared prefix
 * the entry can name a cap that is enforced across them.
 */
export function ineffectiveRunningCaps(
  tenants: readonly Tenant[],
  slots: number,
  tenantsFile: string,
  sharedKeyPrefix?: string,
): IneffectiveRunningCap[] {
  const found: IneffectiveRunningCap[] = [];
  for (const { id, maxRunning } of tenants) {
    if (maxRunning === undefined || maxRunning < slots) continue;
    const message =
      sharedKeyPrefix === undefined
        ? platformMessage(id, maxRunning, slots, tenantsFile)
        : sharedPrefixMessage(id, maxRunning, slots, tenantsFile, sharedKeyPrefix);
    found.push({ tenant: id, maxRunning, workerSlots: slots, message });
  }
  return found;
}

/** Returns the warning for a platform whose slots are all in this process or its workers. */
function platformMessage(id: string, maxRunning: number, slots: number, file: string): string {
  // maxRunning is at least 1, so with one slot only removing the cap ends the warning.
  const fix =
    slots > 1
      ? `set it below ${slots} in ${file}, or remove it`
      : `remove it from ${file}, as a cap needs at least 2 worker slots to hold back a task`;
  return (
    `tenant ${id} has maxRunning ${maxRunning}, at or above the platform's ${slots} worker ` +
    `slots, so the cap never holds back a task; ${fix}`
  );
}

/** Returns the warning for a process whose key prefix other platform processes may share. */
function sharedPrefixMessage(
  id: string,
  maxRunning: number,
  slots: number,
  file: string,
  keyPrefix: string,
): string {
  return (
    `tenant ${id} has maxRunning ${maxRunning}, at or above the ${slots} worker slots of ` +
    `this platform process, so the cap holds back no task unless other platform processes ` +
    `on key prefix ${keyPrefix} add their slots, because it counts the tenant's running ` +
    `tasks in all of them; set it below the worker slots of all processes on the prefix ` +
    `together (${slots} for each process like this one) in ${file}, or remove it`
  );
}
