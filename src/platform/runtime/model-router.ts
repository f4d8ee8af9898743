import type { ChatMessage, PriorityClass, TaskResult } from '../task.js';

/** One model call as a task step makes it. */
export interface ModelCallInput {
  tenantId: string;
  route: string;
  priority: PriorityClass;
  messages: ChatMessage[];
  inputTokens?: number;
  maxOutputTokens: number;
  forcedOutputTokens?: number;
  signal?: AbortSignal;
  /** Set for streamed calls; receives each text delta. */
  onToken?: (text: string) => void;
}

/** A finished model call with its token cost in US dollars. */
export interface ModelCallOutput {
  result: TaskResult;
  tokenCostUsd: number;
}

/**
 * Model router interface used by task execution. The runtime adapts the model router
 * to this shape; tests pass a fake.
 */
export interface ModelRouterPort {
  call(input: ModelCallInput): Promise<ModelCallOutput>;
}
