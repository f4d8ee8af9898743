/**
 * Worker handler module of the async bench's stub-router platform: the worker
 * processes' own task handler, with its Redis store, admission and cost ledger,
 * around a router that returns at once.
 */
import type { JobHandler } from '../src/platform/queue/index.js';
import type { QueuedTaskData } from '../src/platform/gateway/ports.js';
import {
  createTaskHandlerAround,
  type TaskHandlerSettings,
} from '../src/platform/runtime/worker-handler.js';
import { STUB_ROUTER } from './stub-router.js';

export { abortHandler, closeHandler } from '../src/platform/runtime/worker-handler.js';

export function createHandler(config: unknown): JobHandler<QueuedTaskData> {
  return createTaskHandlerAround(config as TaskHandlerSettings, STUB_ROUTER, () => 0);
}
