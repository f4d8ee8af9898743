import type { Clock } from '../clock.js';
import type { ChatMessage, TaskRequest, TaskResult } from '../task.js';
import { type ModelCallInput, type ModelRouterPort, withSpentTokens } from './model-router.js';

/** Dependencies of a task run. */
export interface TaskRunContext {
  tenantId: string;
  router: ModelRouterPort;
  clock: Clock;
  signal?: AbortSignal;
  /** Receives each text delta with its 1-based step number. @defaultValue none */
  onToken?: (text: string, step: number) => void;
  /** Passed to every model call; see {@link ModelCallInput.beforeRetry}. @defaultValue none */
  beforeRetry?: (spentUsd: number) => Promise<void>;
  /**
   * Awaited after each step but the last with the run's token cost so far, so a
   * run whose process dies in a later step has charged the steps it finished.
   * @defaultValue none
   */
  afterStep?: (spentUsd: number) => Promise<void>;
}

/** The combined result of every step and its token cost in US dollars. */
export interface TaskRunOutput {
  result: TaskResult;
  tokenCostUsd: number;
}

const SYNTHETIC_PROMPT: ChatMessage[] = [{ role: 'user', content: 'Synthetic load-test prompt.' }];

/**
 * Runs an agent task: `steps` model calls, each followed by a tool wait of
 * `toolWaitMs` on the clock. Usage and cost add up over the steps; the text,
 * provider and model are the last step's, and the attempts are all steps' attempts.
 * `onToken` gets every step's deltas with the step number, so the deltas of step
 * `steps` add up to the result's text.
 * A failed run rejects with a `SpentTokensError` when its finished steps or the
 * failed call had cost money.
 */
export async function runAgentTask(
  request: TaskRequest,
  context: TaskRunContext,
): Promise<TaskRunOutput> {
  const steps = request.steps ?? 1;
  let total: TaskRunOutput | undefined;
  try {
    for (let step = 0; step < steps; step += 1) {
      const output = await context.router.call(modelCall(request, context, step + 1));
      total = total === undefined ? output : combine(total, output);
      if (step < steps - 1) await context.afterStep?.(total.tokenCostUsd);
      if ((request.toolWaitMs ?? 0) > 0) {
        await context.clock.sleep(request.toolWaitMs ?? 0, context.signal);
      }
    }
  } catch (error) {
    // The steps that finished were billed even though the task fails.
    throw withSpentTokens(error, total?.tokenCostUsd ?? 0);
  }
  if (total === undefined) throw new RangeError(`steps must be >= 1, got ${steps}`);
  return total;
}

function modelCall(request: TaskRequest, context: TaskRunContext, step: number): ModelCallInput {
  const call: ModelCallInput = {
    tenantId: context.tenantId,
    route: request.route,
    priority: request.priority,
    messages: request.messages ?? SYNTHETIC_PROMPT,
    maxOutputTokens: request.maxOutputTokens,
  };
  if (request.inputTokens !== undefined) call.inputTokens = request.inputTokens;
  if (request.forcedOutputTokens !== undefined)
    call.forcedOutputTokens = request.forcedOutputTokens;
  if (context.signal !== undefined) call.signal = context.signal;
  const { onToken } = context;
  if (onToken !== undefined) call.onToken = (text) => onToken(text, step);
  if (context.beforeRetry !== undefined) call.beforeRetry = context.beforeRetry;
  return call;
}

function combine(total: TaskRunOutput, next: TaskRunOutput): TaskRunOutput {
  const usage = {
    inputTokens: total.result.usage.inputTokens + next.result.usage.inputTokens,
    outputTokens: total.result.usage.outputTokens + next.result.usage.outputTokens,
  };
  return {
    tokenCostUsd: total.tokenCostUsd + next.tokenCostUsd,
    result: {
      ...next.result,
      usage,
      attempts: [...total.result.attempts, ...next.result.attempts],
      timeToFirstTokenMs: total.result.timeToFirstTokenMs,
    },
  };
}
