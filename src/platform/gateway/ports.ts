/**
 * Small interfaces through which the gateway reaches the rest of the platform.
 * The runtime passes the real admission, queue, executor and metrics modules;
 * tests pass fakes.
 */
import type { AdmissionResult, AdmissionTicket, Rejection } from '../admission/types.js';
import type { FailureDescription } from '../runtime/failure.js';
import type { Tenant } from '../tenants/tenant.js';
import type { PriorityClass, TaskRecord, TaskRequest } from '../task.js';

/** Maps a bearer key to its tenant; the registry compares key hashes only. */
export interface TenantAuthenticator {
  authenticate(bearerKey: string): Tenant | undefined;
}

/** Sheds load from queue gauges before any tenant limit is taken. */
export interface BackpressureGate {
  /** Returns the rejection of a task of class `priority`, or undefined to let it pass. */
  check(priority: PriorityClass): Promise<Rejection | undefined>;
  /**
   * Checks an async task as `check` does. A task that passes counts in the queue depth the
   * gate uses until the caller settles the returned hold. @defaultValue absent: `check` is used
   */
  checkQueued?(priority: PriorityClass): Promise<Rejection | QueuedTaskHold>;
}

/** An async task that backpressure let pass, which counts in its queue depth. */
export interface QueuedTaskHold {
  admitted: true;
  /** Records that the task's job is in the queue. */
  enqueued(): void;
  /** Records that the task did not reach the queue, so it no longer counts. */
  abandon(): void;
}

/** Tenant limits: reserve before execution, settle or release after it. */
export interface AdmissionGate {
  /** `ticketId`, when given, is the id of the ticket the admission opens. */
  admit(tenant: Tenant, request: TaskRequest, ticketId?: string): Promise<AdmissionResult>;
  release(ticket: AdmissionTicket): Promise<void>;
  /**
   * Closes the ticket `ticketId` if an admission whose reply never arrived opened it,
   * and does nothing otherwise. @defaultValue absent: such a ticket stays open until it expires
   */
  abandon?(tenantId: string, ticketId: string): Promise<void>;
}

/** A sync execution request; the executor settles or releases the ticket itself. */
export interface ExecutionJob {
  task: TaskRecord;
  ticket: AdmissionTicket;
  /** Receives each text delta and its 1-based step number when the client requested a stream. */
  onToken?: (text: string, step: number) => void;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
  /**
   * Called once when the task has ended, or when `execute` fails without running it. A task
   * past the integration timeout ends after `execute` rejected. `stored` is false when the
   * executor could not store the task's end, as when the store did not reply.
   */
  onEnded?: (stored: boolean) => void;
}

/** The final record of a sync task and, when it failed, the response to send. */
export interface ExecutionOutcome {
  record: TaskRecord;
  failure?: FailureDescription;
}

/**
 * Runs a sync task to a terminal state.
 * @throws when the client stopped waiting before the task ended, such as at
 *   an integration timeout; the task still reaches a terminal state later.
 */
export interface SyncExecutor {
  readonly name: string;
  /**
   * Time a sync client waits for the response before the executor sends it a 504.
   * The task runs on after it. Undefined when the client waits until the task ends.
   */
  readonly integrationTimeoutMs?: number;
  execute(job: ExecutionJob): Promise<ExecutionOutcome>;
}

/** Job data that travels with an async task id through the queue. */
export interface QueuedTaskData {
  ticket: AdmissionTicket;
}

/**
 * The record of which platform process runs each sync task, or admits each async task
 * until its job is in the queue, so that another process can end the tasks of a killed
 * process. In memory, tasks end with the process, so the gateway runs without one.
 */
export interface SyncTaskOwnership {
  /** Records that this process owns the task; called before its admission. */
  hold(tenantId: string, taskId: string): Promise<void>;
  /**
   * Deletes the record once the task is terminal, an async task is in the queue, or the
   * admission failed and was undone.
   */
  drop(taskId: string): Promise<void>;
  /**
   * Stops holding a task whose end this process could not store, and keeps its record, so
   * that this process's next sweep ends the task unless it is terminal by then.
   */
  forget(taskId: string): void;
}

/** The enqueue side of the task queue. */
export interface TaskEnqueuer {
  enqueue(
    id: string,
    data: QueuedTaskData,
    options?: { priority?: number },
  ): Promise<{ id: string; duplicate: boolean }>;
}

/** Prometheus exposition for `GET /metrics`; a prom-client Registry fits. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** Names of the route policies a task may request, and the tokens each can serve. */
export interface RouteCatalog {
  names(): readonly string[];
  /**
   * Returns the largest `maxOutputTokens` some candidate model of the route accepts. The
   * gateway rejects a task above it with 400. @defaultValue no limit but the request schema's
   */
  maxOutputTokens?(route: string): number | undefined;
  /**
   * Returns the most input tokens a task with `maxOutputTokens` may send on the route: the
   * largest context window among its candidate models that accept `maxOutputTokens`, minus
   * it. The gateway rejects a task above it with 400. @defaultValue no limit
   */
  maxInputTokens?(route: string, maxOutputTokens: number): number | undefined;
}

/** Outcome of one readiness check, such as a PING of Redis. */
export type ReadinessResult =
  { status: 'ok'; latencyMs?: number } | { status: 'failed'; message: string };

/**
 * A dependency that `GET /readyz` checks. `check` bounds its own wait, so that
 * the endpoint returns while the dependency does not reply.
 */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<ReadinessResult>;
  /** The latest result, without checking again, for `GET /healthz`. */
  lastResult(): ReadinessResult;
}
