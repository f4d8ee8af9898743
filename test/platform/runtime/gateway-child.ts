/**
 * A gateway process for the two-process admission test: Redis admission
 * under the key prefix from ADMISSION_PREFIX, a clock frozen at FROZEN_NOW
 * (so no tokens refill during the test) and a queue that accepts every task.
 * It sends `{ url }` to the parent once listening and stops on `stop`.
 */
import { Redis } from 'ioredis';

import { RedisAdmissionBackend } from '../../../src/platform/admission/redis-backend.js';
import { systemClock } from '../../../src/platform/clock.js';
import { startGateway } from '../../../src/platform/gateway/server.js';
import { BackendAdmissionGate } from '../../../src/platform/runtime/admission-gate.js';
import { DirectExecutor } from '../../../src/platform/runtime/direct-executor.js';
import { TaskFinisher } from '../../../src/platform/runtime/task-finisher.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';
import { hashApiKey } from '../../../src/platform/tenants/api-key.js';
import { TenantRegistry } from '../../../src/platform/tenants/registry.js';

const frozenNow = Number(process.env.FROZEN_NOW);
const clock = { ...systemClock, now: () => frozenNow };
const redis = new Redis('redis://127.0.0.1:6379');
const admission = new RedisAdmissionBackend({
  redis,
  keyPrefix: String(process.env.ADMISSION_PREFIX),
  clock,
});
const store = new MemoryTaskStore();
const tenant = {
  id: 'tenant-limited',
  keySha256: hashApiKey(String(process.env.TENANT_KEY)),
  requestsPerMinute: 100,
  tokensPerMinute: 10_000_000,
  maxInFlight: 10_000,
  tier: 'standard' as const,
  budgetUsd: 1_000,
};
const finisher = new TaskFinisher({ store, admission, clock });
const gateway = await startGateway({
  tenants: new TenantRegistry([tenant]),
  store,
  admission: new BackendAdmissionGate(admission, () => 0),
  executor: new DirectExecutor({
    router: { call: () => Promise.reject(new Error('sync path unused in this test')) },
    finisher,
    clock,
  }),
  queue: { enqueue: async (id) => ({ id, duplicate: false }) },
  routes: { names: () => ['default'] },
});
process.send?.({ url: gateway.url });
process.on('message', (message) => {
  if (message !== 'stop') return;
  void gateway
    .close()
    .then(() => redis.quit())
    .then(() => process.exit(0));
});
