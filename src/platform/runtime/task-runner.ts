import type { Clock } from '../clock.js';
import { addUsd } from '../cost/usd.js';
import type { ChatMessage, StepCheckpoint, TaskRequest, TaskResult } from '../task.js';
import { addUsage, billedUsageOf, noUsage } from './billed-usage.js';
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
   * Awaited after each step that a tool wait or another step follows, with the run's token
   * cost so far and the steps finished. A run whose process dies later has then charged
   * those steps, and can record them for the next delivery. @defaultValue none
   */
  afterStep?: (spentUsd: number, done: StepCheckpoint) => Promise<void>;
  /**
   * Steps an earlier delivery finished. The run starts with what is left of the tool wait
   * after them, and their usage and attempts count in the result, but not their cost.
   * @defaultValue none
   */
  resumeFrom?: StepCheckpoint;
}

/** The combined result of every step and its token cost in US dollars. */
export interface TaskRunOutput {
  result: TaskResult;
  tokenCostUsd: number;
}

const SYNTHETIC_PROMPT: ChatMessage[] = [{ role: 'user', content: 'Synthetic load-test prompt.' }];

/**
 * Runs an agent task: `steps` model calls, each followed by a tool wait of
 * `toolWaitMs` on the clock. Usage adds up over the steps; the text, provider and
 * model are the last step's, and the attempts are all steps' attempts. The time to
 * first token and `firstTokenFrom` are the first step's. A run resumed from a
 * checkpoint waits what is left of the checkpoint's tool wait, then makes the calls
 * after its steps only.
 * `tokenCostUsd` is what this run's calls cost, without the checkpoint's steps.
 * `onToken` gets every step's deltas with the step number, so the deltas of step
 * `steps` add up to the result's text.
 * A failed run rejects with a `SpentTokensError` when its finished steps or the
 * failed call had cost money. Its usage is the tokens of this run's finished steps,
 * failed attempts included, and of the failed call's billed attempts.
 * NOTE: a call in progress when its process dies is charged to no task. A drill's providers'
 * bill counts its tokens in the difference from the charged cost.
 */
export async function runAgentTask(
  request: TaskRequest,
  context: TaskRunContext,
): Promise<TaskRunOutput> {
  const steps = request.steps ?? 1;
  if (!Number.isSafeInteger(steps) || steps < 1) {
    throw new RangeError(`steps must be a whole number >= 1, got ${steps}`);
  }
  const toolWaitMs = request.toolWaitMs ?? 0;
  const resumed = context.resumeFrom;
  const first = Math.min(resumed?.steps ?? 0, steps);
  let result = resumed?.result;
  let spentUsd = 0;
  let spentUsage = noUsage();
  try {
    // The tool wait after the checkpoint's last step began in a delivery that ended, so this
    // one waits what is left of it, or all of it when the checkpoint has no end time.
    if (first > 0 && toolWaitMs > 0) {
      const endsAt = resumed?.toolWaitEndsAt ?? context.clock.now() + toolWaitMs;
      await waitForTool(context, endsAt, toolWaitMs);
    }
    for (let step = first; step < steps; step += 1) {
      const output = await context.router.call(modelCall(request, context, step + 1));
      result = result === undefined ? output.result : combine(result, output.result);
      spentUsd = addUsd(spentUsd, output.tokenCostUsd);
      spentUsage = addUsage(spentUsage, billedUsageOf(output.result));
      // The tool wait begins as the step ends, so it runs while the checkpoint is stored.
      const toolWaitEndsAt = toolWaitMs > 0 ? context.clock.now() + toolWaitMs : undefined;
      if (step < steps - 1 || toolWaitEndsAt !== undefined) {
        const done: StepCheckpoint = { steps: step + 1, result };
        if (toolWaitEndsAt !== undefined) done.toolWaitEndsAt = toolWaitEndsAt;
        await context.afterStep?.(spentUsd, done);
      }
      if (toolWaitEndsAt !== undefined) await waitForTool(context, toolWaitEndsAt, toolWaitMs);
    }
  } catch (error) {
    // The steps that finished were billed even though the task fails.
    throw withSpentTokens(error, spentUsd, spentUsage);
  }
  if (result === undefined) throw new RangeError(`no step of the ${request.route} task ran`);
  return { result, tokenCostUsd: spentUsd };
}

/**
 * Sleeps until `endsAt` on the context's clock, but never longer than `toolWaitMs`, because
 * an end time stored under a clock with another origin, such as the scaled clock of a
 * platform run before a restart, may lie further ahead. A past end time still sleeps 0 ms,
 * so an aborted signal ends the run here as it does in any wait.
 */
async function waitForTool(context: TaskRunContext, endsAt: number, toolWaitMs: number) {
  const remainingMs = Math.min(toolWaitMs, Math.max(0, endsAt - context.clock.now()));
  await context.clock.sleep(remainingMs, context.signal);
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

function combine(total: TaskResult, next: TaskResult): TaskResult {
  const usage = {
    inputTokens: total.usage.inputTokens + next.usage.inputTokens,
    outputTokens: total.usage.outputTokens + next.usage.outputTokens,
  };
  return {
    ...next,
    usage,
    attempts: [...total.attempts, ...next.attempts],
    timeToFirstTokenMs: total.timeToFirstTokenMs,
    firstTokenFrom: total.firstTokenFrom ?? { provider: total.provider, model: total.model },
  };
}
