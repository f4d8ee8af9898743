/**
 * A gateway process for the orphaned-admission tests: the platform's Redis drivers and
 * owner record under KEY_PREFIX, tenants from TENANTS_PATH, and an async admission that
 * stops for good at HANG_AT:
 * - `create`: before the task record is written;
 * - `enqueue`: after the record is written, before the job is added;
 * - `queued`: after the job is added, before the owner record is dropped.
 * It sends `{ url, ownerId }` to the parent once listening, then `{ hung, taskId }` when
 * a request reaches HANG_AT, so that the parent can kill it there with SIGKILL.
 */
import { systemClock } from '../../../src/platform/clock.js';
import type { TaskEnqueuer } from '../../../src/platform/gateway/ports.js';
import { startGateway } from '../../../src/platform/gateway/server.js';
import { BackendAdmissionGate } from '../../../src/platform/runtime/admission-gate.js';
import { DirectExecutor } from '../../../src/platform/runtime/direct-executor.js';
import { createDrivers } from '../../../src/platform/runtime/drivers.js';
import { startSyncTaskOwners } from '../../../src/platform/runtime/sync-task-owners.js';
import { TaskFinisher } from '../../../src/platform/runtime/task-finisher.js';
import type { TaskStore } from '../../../src/platform/store/task-store.js';
import { loadTenants } from '../../../src/platform/tenants/index.js';

const HANG_POINTS = ['create', 'enqueue', 'queued'] as const;
const hangAt = String(process.env.HANG_AT);
if (!(HANG_POINTS as readonly string[]).includes(hangAt)) {
  throw new TypeError(`HANG_AT must be one of ${HANG_POINTS.join(', ')}, got ${hangAt}`);
}
const redisUrl = 'redis://127.0.0.1:6379';
const keyPrefix = String(process.env.KEY_PREFIX);
const clock = systemClock;

/** Tells the parent that the admission of `taskId` reached `point`, then never resolves. */
function hang(point: string, taskId: string): Promise<never> {
  process.send?.({ hung: point, taskId });
  return new Promise<never>(() => undefined);
}

const drivers = createDrivers({ redisUrl }, keyPrefix, clock);
const store = new Proxy(drivers.store, {
  get(target, property) {
    if (property === 'create' && hangAt === 'create') {
      return (record: { id: string }) => hang('create', record.id);
    }
    const value: unknown = Reflect.get(target, property);
    return typeof value === 'function' ? value.bind(target) : value;
  },
}) as TaskStore;
const queue: TaskEnqueuer = {
  enqueue: async (id, data, options) => {
    if (hangAt === 'enqueue') return hang('enqueue', id);
    const result = await drivers.queue.enqueue(id, data, options);
    if (hangAt === 'queued') return hang('queued', id);
    return result;
  },
};
const owners = await startSyncTaskOwners({
  redisUrl,
  keyPrefix,
  leaseMs: Number(process.env.LEASE_MS),
  store: drivers.store,
  admission: drivers.admission,
  queue: drivers.queue,
  clock,
  onEnded: () => undefined,
});
const finisher = new TaskFinisher({ store: drivers.store, admission: drivers.admission, clock });
const gateway = await startGateway({
  tenants: await loadTenants(process.env.TENANTS_PATH),
  store,
  admission: new BackendAdmissionGate(drivers.admission, () => 0.01),
  executor: new DirectExecutor({
    router: { call: () => Promise.reject(new Error('sync path unused in this test')) },
    finisher,
    clock,
  }),
  queue,
  routes: { names: () => ['chat'] },
  clock,
  syncOwners: owners,
});
process.send?.({ url: gateway.url, ownerId: owners.instanceId });
// A child whose test runner died must not stay behind.
process.on('disconnect', () => process.exit(1));
