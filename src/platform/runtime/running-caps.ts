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
  /** Worker slots the cap was compared with: this process's and the others' counted. */
  workerSlots: number;
  message: string;
}

/** The key prefix of a process that other platform processes may share, and theirs. */
export interface SharedPrefix {
  keyPrefix: string;
  /**
   * Worker slots of each other platform process running on the prefix, or undefined for
   * one whose entry does not record them, as an earlier version's does not.
   */
  otherSlots: readonly (number | undefined)[];
}

/**
 * Returns one entry per tenant whose `maxRunning` is at or above the worker slots: the
 * tenant can never run more tasks than the platform has slots, so its cap defers no task.
 * `slots` are this process's. With `shared`, the cap counts the tenant's tasks in every
 * process on the prefix, so the slots of the others running now add to `slots`. When none
 * runs, or one does not record its slots, the message states that others may add theirs.
 * NOTE: processes that start later are not counted, so a warning logged at start can name
 * a cap that a process started afterwards makes effective.
 */
export function ineffectiveRunningCaps(
  tenants: readonly Tenant[],
  slots: number,
  tenantsFile: string,
  shared?: SharedPrefix,
): IneffectiveRunningCap[] {
  const counted = shared === undefined ? [] : shared.otherSlots;
  const known = counted.every((other) => other !== undefined);
  const total = known ? counted.reduce<number>((sum, other) => sum + (other ?? 0), slots) : slots;
  const found: IneffectiveRunningCap[] = [];
  for (const { id, maxRunning } of tenants) {
    if (maxRunning === undefined || maxRunning < total) continue;
    let message: string;
    if (shared === undefined) {
      message = platformMessage(id, maxRunning, slots, tenantsFile);
    } else if (counted.length === 0 || !known) {
      message = sharedPrefixMessage(id, maxRunning, slots, tenantsFile, shared.keyPrefix);
    } else {
      const processes = { count: counted.length + 1, total, keyPrefix: shared.keyPrefix };
      message = runningProcessesMessage(id, maxRunning, slots, tenantsFile, processes);
    }
    found.push({ tenant: id, maxRunning, workerSlots: total, message });
  }
  return found;
}

/** Returns the warning for a process that counted the slots of every process on its prefix. */
function runningProcessesMessage(
  id: string,
  maxRunning: number,
  slots: number,
  file: string,
  processes: { count: number; total: number; keyPrefix: string },
): string {
  const { count, total, keyPrefix } = processes;
  return (
    `tenant ${id} has maxRunning ${maxRunning}, at or above the ${total} worker slots of the ` +
    `${count} platform processes running on key prefix ${keyPrefix} (${slots} in this one), ` +
    `so the cap holds back no task unless more processes join; set it below ${total} in ` +
    `${file}, or remove it`
  );
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
