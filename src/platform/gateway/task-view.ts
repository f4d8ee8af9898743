import type { TaskRecord } from '../task.js';

/** Body of `GET /v1/tasks/:id`. */
export interface TaskView {
  id: string;
  state: TaskRecord['state'];
  result?: TaskRecord['result'];
  error?: TaskRecord['error'];
  costUsd?: number;
  createdAt: number;
  finishedAt?: number;
}

/** Picks the fields a tenant may read; the admission ticket and tenant id stay inside. */
export function toTaskView(record: TaskRecord): TaskView {
  const view: TaskView = { id: record.id, state: record.state, createdAt: record.createdAt };
  if (record.result !== undefined) view.result = record.result;
  if (record.error !== undefined) view.error = record.error;
  if (record.costUsd !== undefined) view.costUsd = record.costUsd;
  if (record.finishedAt !== undefined) view.finishedAt = record.finishedAt;
  return view;
}
