/**
 * The task model shared by the gateway, the queue, the executors, the router
 * and the harness. Each module owns its behaviour; this file owns only the
 * shapes that cross module boundaries.
 */

export type TaskMode = 'sync' | 'async';

/** Priority classes, highest first; backpressure sheds from the end of this list. */
export const PRIORITY_CLASSES = ['critical', 'standard', 'batch'] as const;
export type PriorityClass = (typeof PRIORITY_CLASSES)[number];

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
}

/** Task request a tenant submits to `POST /v1/tasks`, after validation. */
export interface TaskRequest {
  route: string;
  /** Prompt messages; when absent, `inputTokens` sizes a synthetic prompt. */
  messages?: ChatMessage[];
  inputTokens?: number;
  maxOutputTokens: number;
  mode: TaskMode;
  priority: PriorityClass;
  stream?: boolean;
  /**
   * Agent steps: each step is one model call followed by a tool wait. A plain
   * completion is one step with no tool wait.
   * @defaultValue one step, no tool wait
   */
  steps?: number;
  toolWaitMs?: number;
  /** Forces the mock provider's completion length, so a trace replay reproduces it. */
  forcedOutputTokens?: number;
}

/** Terminal states; every accepted task ends in exactly one of them. */
export const TERMINAL_STATES = ['succeeded', 'failed', 'dead_lettered'] as const;
export type TerminalState = (typeof TERMINAL_STATES)[number];
export type TaskState = 'queued' | 'running' | TerminalState;

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** One provider attempt made by the router for a task. */
export interface AttemptRecord {
  provider: string;
  model: string;
  outcome: 'success' | 'failed' | 'skipped';
  /** Error class that ended the attempt, such as `http_5xx` or `first_token_timeout`. */
  errorClass?: string;
  latencyMs: number;
  /**
   * Tokens a failed attempt used before it failed, which the provider bills: the
   * prompt once the provider accepted the call with a 2xx status, and one output token
   * per text delta. Absent when the provider returned an error status or no response.
   */
  usage?: TokenUsage;
}

export interface TaskResult {
  text: string;
  usage: TokenUsage;
  provider: string;
  model: string;
  attempts: AttemptRecord[];
  /** Time from the first attempt's start to the first output token. */
  timeToFirstTokenMs: number;
  /**
   * Provider and model of the attempt that delivered the first output token, the serving
   * attempt of the first step. Set on the result of several steps, whose `provider` and
   * `model` are the last step's. When absent, `provider` and `model` name that attempt.
   */
  firstTokenFrom?: { provider: string; model: string };
}

export interface TaskError {
  /** Stable machine-readable code, such as `provider_unavailable` or `budget_exhausted`. */
  code: string;
  message: string;
  /** Provider attempts made before the task failed, when the router made any. */
  attempts?: AttemptRecord[];
  /** Seconds the client should wait before a retry, the failure's Retry-After header. */
  retryAfterSeconds?: number;
}

/** Cost of one delivery of a task that went back to the queue. */
export interface DeliveryCost {
  /** The delivery's number, from 1, as `deliveries` counted it when the delivery started. */
  delivery: number;
  /** Spend of the delivery, in US dollars. */
  costUsd: number;
  /**
   * Time the delivery ran on a worker, from its start until it went back to the queue, in ms.
   * @defaultValue none, when the busy time is not known
   */
  busyMs?: number;
}

/** The steps of an agent task that one delivery finished, so that a later delivery goes on after them. */
export interface StepCheckpoint {
  /** Steps finished, counted from the first. */
  steps: number;
  /** The finished steps' combined result: usage and attempts of all of them, the last one's text. */
  result: TaskResult;
  /**
   * End of the tool wait that follows the last finished step, in ms since the Unix epoch on
   * the platform clock (`Clock.now()`). A later delivery waits only until then. Absent when
   * no tool wait follows that step.
   */
  toolWaitEndsAt?: number;
}

export interface TaskRecord {
  id: string;
  tenantId: string;
  request: TaskRequest;
  state: TaskState;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  deliveries: number;
  result?: TaskResult;
  error?: TaskError;
  /**
   * Token cost plus executor cost, in US dollars. Before the task ends it is
   * what its failed deliveries spent, when they spent anything.
   */
  costUsd?: number;
  /**
   * The deliveries that went back to the queue with a cost or a busy time, by delivery
   * number, each with its whole cost and busy time. `costUsd` includes their costs. Absent
   * when no delivery did.
   */
  deliveryCosts?: DeliveryCost[];
  /** The largest number of steps that a delivery finished, while the task runs. Absent before one finished a step. */
  checkpoint?: StepCheckpoint;
}
