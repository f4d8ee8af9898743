export type { TaskAccounting, TaskCompletion, TaskStore } from './task-store.js';
export { isTerminal } from './task-store.js';
export type { MemoryTaskStoreOptions } from './memory.js';
export { MemoryTaskStore } from './memory.js';
export type { RedisTaskStoreOptions } from './redis.js';
export { RedisTaskStore } from './redis.js';
