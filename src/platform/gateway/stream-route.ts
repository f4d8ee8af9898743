import type { FastifyReply } from 'fastify';

import {
  describeFailure,
  type FailureDescription,
  logWithheldAddresses,
} from '../runtime/failure.js';
import type { TaskRecord } from '../task.js';
import { SseWriter } from './sse.js';
import type { AdmittedTask, TaskService } from './task-service.js';
import { TASK_ID_HEADER } from './task-view.js';

/**
 * Serves a `stream: true` task as SSE: `token` events, then `done` or
 * `error`. Each token event carries its 1-based `step`, and the stored
 * result's text is the text of the last step's events. Router failover stays
 * invisible until the first token; a failure after it becomes an `error`
 * event, and the task is stored as failed.
 */
export async function streamTask(
  reply: FastifyReply,
  service: TaskService,
  admitted: AdmittedTask,
): Promise<void> {
  reply.hijack();
  // After hijack Fastify sends no headers, so the id goes on the raw response.
  reply.raw.setHeader(TASK_ID_HEADER, admitted.task.id);
  const sse = new SseWriter(reply);
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableEnded) controller.abort();
  });
  const onToken = (text: string, step: number) => sse.send('token', { text, step });
  try {
    const outcome = await service.execute(admitted, { signal: controller.signal, onToken });
    if (outcome.failure === undefined) {
      sse.send('done', doneEvent(outcome.record));
      sse.end();
      return;
    }
    fail(reply, sse, admitted.task.id, outcome.failure);
  } catch (error) {
    fail(reply, sse, admitted.task.id, describeFailure(error));
  }
}

function doneEvent(record: TaskRecord) {
  return {
    id: record.id,
    state: record.state,
    costUsd: record.costUsd,
    usage: record.result?.usage,
  };
}

function fail(reply: FastifyReply, sse: SseWriter, id: string, failure: FailureDescription) {
  logWithheldAddresses(reply.log, id, failure);
  const error = { code: failure.code, message: failure.message };
  if (!sse.started) {
    sse.sendJsonError(failure.status, { id, error }, failure.retryAfterSeconds);
    return;
  }
  sse.send('error', { id, ...error });
  sse.end();
}
