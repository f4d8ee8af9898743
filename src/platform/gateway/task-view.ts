import type { TaskRecord } from '../task.js';

/**
 * Response header with the id of the task a response is about. It goes out before
 * the body, so a streaming client learns the id with the first event.
 */
export const TASK_ID_HEADER = 'x-task-id';

/** Body of `GET /v1/tasks/:id`. */
export interface TaskView {
  id: string;
  state: TaskRecord['state'];
  result?: TaskRecord['result'];
  error?: TaskRecord['error'];
  costUsd?: number;
  createdAt: number;
  finishedAt?: number;
  /**
   * Number of runs an executor started: 0 while the task waits for its first, 1 once it
   * ran, and one more for each retry, stall or graceful stop that put it back in the queue.
   */
  deliveries: number;
}

/** Picks the fields a tenant may read; the admission ticket and tenant id stay inside. */
export function toTaskView(record: TaskRecord): TaskView {
  const view: TaskView = {
    id: record.id,
    state: record.state,
    createdAt: record.createdAt,
    deliveries: record.deliveries,
  };
  if (record.result !== undefined) view.result = record.result;
  if (record.error !== undefined) view.error = record.error;
  if (record.costUsd !== undefined) view.costUsd = record.costUsd;
  if (record.finishedAt !== undefined) view.finishedAt = record.finishedAt;
  return view;
}
