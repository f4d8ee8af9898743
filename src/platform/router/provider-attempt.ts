import { isProviderError, ProviderError } from '../providers/errors.js';
import type { CallOptions, ProviderCall } from '../providers/types.js';
import type { TaskRequest, TokenUsage } from '../task.js';
import { estimatePromptTokens } from '../token-estimate.js';
import type { AttemptLog } from './attempt-log.js';
import { NEUTRAL_ERROR_CLASSES, SLOW_CALL_DEADLINE_SHARE } from './breaker-state.js';
import type { BreakerPermit } from './circuit-breaker.js';
import type { Candidate } from './policy-types.js';
import type { RouterStreamEvent, TaskRunContext } from './task-run-context.js';

/** Outcome of one provider call. */
export type AttemptOutcome =
  | { ok: true; text: string; usage: TokenUsage; firstTokenAt: number | undefined }
  /** `forwardedText` is the text already yielded to the caller, empty when none was. */
  | { ok: false; error: ProviderError; forwardedText: string };

/** One call to one candidate, as the task run starts it. */
export interface AttemptRequest {
  candidate: Candidate;
  /** The candidate breaker's reservation for this call. */
  permit: BreakerPermit;
  call: ProviderCall;
  options: CallOptions;
  /** Whether to yield each text delta to the caller as it arrives. */
  forward: boolean;
}

/**
 * Streams one call to a candidate, yielding text deltas when forwarding. Records
 * the outcome on the candidate's breaker, the provider throttle and the attempt log.
 */
export async function* runAttempt(
  context: TaskRunContext,
  log: AttemptLog,
  request: AttemptRequest,
): AsyncGenerator<RouterStreamEvent, AttemptOutcome> {
  const { candidate, forward } = request;
  const attemptStart = context.clock.monotonic();
  const state = {
    text: '',
    firstTokenAt: undefined as number | undefined,
    opened: false,
    settled: false,
  };
  let forwardedText = '';
  try {
    const events = context
      .clientFor(candidate.provider)
      .stream({ ...request.call, model: candidate.model }, request.options);
    for await (const event of events) {
      if (event.type === 'open') {
        state.opened = true;
        context.throttle.observe(candidate.provider, event.rateLimit);
      } else if (event.type === 'first_token') {
        state.firstTokenAt = context.clock.monotonic();
      } else if (event.type === 'text') {
        state.text += event.text;
        if (forward) {
          forwardedText += event.text;
          yield { type: 'delta', text: event.text };
        }
      } else {
        state.settled = true;
        succeed(context, log, request, attemptStart);
        return { ok: true, text: state.text, usage: event.usage, firstTokenAt: state.firstTokenAt };
      }
    }
    throw new ProviderError('malformed_response', 'stream ended without a done event', {
      ...candidate,
      accepted: state.opened,
    });
  } catch (error) {
    state.settled = true;
    const failure = fail(context, log, request, attemptStart, error);
    return { ok: false, error: failure, forwardedText };
  } finally {
    if (!state.settled) {
      abandon(context, log, request, attemptStart);
    }
  }
}

function succeed(
  context: TaskRunContext,
  log: AttemptLog,
  request: AttemptRequest,
  attemptStart: number,
): void {
  const { candidate, permit } = request;
  const latencyMs = context.clock.monotonic() - attemptStart;
  context.breakerFor(candidate).onSuccess(permit);
  log.succeeded(candidate, latencyMs);
}

function fail(
  context: TaskRunContext,
  log: AttemptLog,
  request: AttemptRequest,
  attemptStart: number,
  error: unknown,
): ProviderError {
  const { candidate } = request;
  const failure = isProviderError(error)
    ? error
    : new ProviderError('connection_error', 'client failed', { ...candidate, cause: error });
  const { clock, breakerFor, throttle } = context;
  breakerFor(candidate).onFailure(
    failure,
    request.permit,
    blamesProvider(context, request, failure),
  );
  // Quota headers count on an error response as on a 200, so a 429 reporting no
  // remaining requests throttles the provider even without Retry-After.
  if (failure.rateLimit !== undefined) {
    throttle.observe(candidate.provider, failure.rateLimit);
  }
  if (failure.errorClass === 'status_429' && failure.retryAfterMs !== undefined) {
    throttle.observeRetryAfter(candidate.provider, failure.retryAfterMs);
  }
  const latencyMs = clock.monotonic() - attemptStart;
  log.failed(candidate, failure.errorClass, latencyMs, partialUsage(request.call, failure));
  return failure;
}

/**
 * Returns whether the failure counts against the candidate's circuit. A deadline ending
 * counts only when the call had at least SLOW_CALL_DEADLINE_SHARE of the route's
 * deadline, because earlier attempts may have left a later call too little time.
 */
function blamesProvider(
  context: TaskRunContext,
  request: AttemptRequest,
  failure: ProviderError,
): boolean {
  if (failure.errorClass === 'deadline_exceeded') {
    const callDeadlineMs = request.options.deadlineMs ?? Number.POSITIVE_INFINITY;
    return callDeadlineMs >= SLOW_CALL_DEADLINE_SHARE * context.route.deadlineMs;
  }
  return !NEUTRAL_ERROR_CLASSES.has(failure.errorClass);
}

/**
 * Returns the tokens a call used before it failed, which its provider bills: the prompt once
 * the provider accepted the call, and one output token per text delta. None for a call
 * that got an error status or no response.
 */
function partialUsage(call: ProviderCall, failure: ProviderError): TokenUsage | undefined {
  if (!failure.accepted && failure.outputTokens === 0) return undefined;
  const inputTokens = call.inputTokens ?? estimatePromptTokens(call.messages);
  return { inputTokens, outputTokens: failure.outputTokens };
}

/** Records a call the caller stopped reading; it does not count for or against the provider's health. */
function abandon(
  context: TaskRunContext,
  log: AttemptLog,
  request: AttemptRequest,
  attemptStart: number,
): void {
  const { candidate, permit } = request;
  context.breakerFor(candidate).release(permit);
  log.failed(candidate, 'aborted', context.clock.monotonic() - attemptStart);
}

/** Builds the provider call; without messages, a short placeholder prompt is sent and `inputTokens` sizes it upstream. */
export function providerCall(request: TaskRequest): ProviderCall {
  const messages = request.messages ?? [
    { role: 'user' as const, content: `Synthetic prompt of ${request.inputTokens ?? 0} tokens.` },
  ];
  return {
    model: '',
    messages,
    maxOutputTokens: request.maxOutputTokens,
    inputTokens: request.inputTokens,
    forcedOutputTokens: request.forcedOutputTokens,
  };
}
