import type { ServerResponse } from 'node:http';

import type { Clock } from '../../platform/clock.js';
import { sleepInSteps } from '../limits.js';
import {
  type CompletionPlan,
  completionText,
  tokenDueMs,
  tokenText,
  totalGenerationMs,
} from './completion-plan.js';
import type { FaultSettings } from './fault-config.js';
import { cutConnection, SSE_HEADERS, sendJson } from './http-io.js';
import type { ResponseMeta, WireFormat } from './wire-format.js';
import { errorKindForStatus } from './wire-format.js';

/** Everything needed to send one accepted completion. */
export interface CompletionResponse {
  format: WireFormat;
  meta: ResponseMeta;
  plan: CompletionPlan;
  faults: FaultSettings;
  stream: boolean;
  /** Rate-limit and request-id headers. */
  headers: Record<string, string>;
  /** `clock.monotonic()` when the request arrived; token times count from here. */
  startedAt: number;
  clock: Clock;
  /** Returns a signal aborted when the client disconnects; created on first use. */
  abortSignal(): AbortSignal;
}

/** Fault modes as they appear in the `fault` label of the faults counter. */
export type FaultName =
  | 'hang'
  | 'rate_limit_storm'
  | 'error_status'
  | 'stream_error'
  | 'stream_cut'
  | 'stall'
  | 'malformed_sse';

/** End state of a response, for metrics: the fault that fired, if any, and the tokens sent. */
export interface ResponseOutcome {
  /** HTTP status sent, or `none` when no status line was sent. */
  status: number | 'none';
  fault: FaultName | undefined;
  outputTokensSent: number;
}

/** Outcome of a request whose client disconnected before the response was complete. */
function closedByClient(res: ServerResponse, outputTokensSent: number): ResponseOutcome {
  return { status: res.headersSent ? res.statusCode : 'none', fault: undefined, outputTokensSent };
}

/** Status of the non-streaming response that replaces an in-stream error event. */
function midStreamErrorStatus(format: WireFormat): number {
  return format.name === 'anthropic' ? 529 : 500;
}

/** Points, in content tokens, where each stream fault fires; a point past the end fires at the end. */
function faultPoints(faults: FaultSettings, tokens: number): Record<string, number | undefined> {
  const clamp = (value: number | undefined) =>
    value === undefined ? undefined : Math.min(value, tokens);
  return {
    error: clamp(faults.streamErrorAfterTokens),
    cut: clamp(faults.streamCutAfterTokens),
    malformed: clamp(faults.malformedSseAfterTokens),
    stall: faults.stallAfterFirstToken === true ? Math.min(1, tokens) : undefined,
  };
}

/** Returns whether `offsetMs` after the request start is less than a millisecond away. */
function isDue(response: CompletionResponse, offsetMs: number): boolean {
  // Timers cannot wait under a millisecond, so tokens due that soon go out at once.
  return response.startedAt + offsetMs - response.clock.monotonic() < 1;
}

/** Waits until `offsetMs` after the request start; returns false if the client disconnected. */
async function waitUntil(response: CompletionResponse, offsetMs: number): Promise<boolean> {
  if (isDue(response, offsetMs)) {
    return true;
  }
  const delay = response.startedAt + offsetMs - response.clock.monotonic();
  const signal = response.abortSignal();
  try {
    await sleepInSteps((step) => response.clock.sleep(step, signal), delay);
  } catch (error) {
    if (signal.aborted) {
      return false;
    }
    throw error;
  }
  return !signal.aborted;
}

/**
 * Sends a non-streaming completion after the full generation time. Stream faults apply at the
 * same instant they would mid-stream: a cut closes the socket with no response, an error sends
 * 500 (OpenAI) or 529 (Anthropic), a stall never sends a response, a malformed line truncates the JSON.
 */
export async function sendJsonCompletion(
  res: ServerResponse,
  response: CompletionResponse,
): Promise<ResponseOutcome> {
  const { format, meta, plan } = response;
  const points = faultPoints(response.faults, plan.outputTokens);
  if (points.stall !== undefined) {
    if (!(await waitUntil(response, tokenDueMs(plan, 0)))) {
      return closedByClient(res, 0);
    }
    return { status: 'none', fault: 'stall', outputTokensSent: 0 };
  }
  if (points.cut !== undefined) {
    if (!(await waitUntil(response, tokenDueMs(plan, points.cut)))) {
      return closedByClient(res, 0);
    }
    res.destroy();
    return { status: 'none', fault: 'stream_cut', outputTokensSent: 0 };
  }
  if (points.error !== undefined) {
    if (!(await waitUntil(response, tokenDueMs(plan, points.error)))) {
      return closedByClient(res, 0);
    }
    const status = midStreamErrorStatus(format);
    const requestId = response.headers[format.requestIdHeader] ?? '';
    const body = format.errorBody(
      { status, kind: errorKindForStatus(status), message: 'Overloaded' },
      requestId,
    );
    sendJson(res, status, body, response.headers);
    return { status, fault: 'stream_error', outputTokensSent: 0 };
  }
  if (!(await waitUntil(response, totalGenerationMs(plan)))) {
    return closedByClient(res, 0);
  }
  const body = format.completionBody(meta, completionText(plan.outputTokens));
  const malformed = points.malformed !== undefined;
  sendJson(
    res,
    200,
    malformed ? body.slice(0, Math.floor(body.length / 2)) : body,
    response.headers,
  );
  const fault = malformed ? 'malformed_sse' : undefined;
  return { status: 200, fault, outputTokensSent: plan.outputTokens };
}

/**
 * Streams a completion as server-sent events: the head at once, then each content token at
 * its due time, then the tail. Stream faults fire after their token count.
 */
export async function sendStreamCompletion(
  res: ServerResponse,
  response: CompletionResponse,
): Promise<ResponseOutcome> {
  const { format, meta, plan } = response;
  const points = faultPoints(response.faults, plan.outputTokens);
  res.writeHead(200, { ...response.headers, ...SSE_HEADERS });
  // Events due together leave in one write, as a provider's do when it generates
  // tokens faster than they can be sent. The socket is uncorked before every wait,
  // cut, stall and end.
  const burst = corkedBurst(res);
  res.write(format.streamHead(meta));
  let fault: ResponseOutcome['fault'];
  for (let sent = 0; ; sent += 1) {
    if (sent === points.error) {
      burst.flush();
      res.end(format.streamError());
      return { status: 200, fault: 'stream_error', outputTokensSent: sent };
    }
    if (sent === points.cut) {
      burst.flush();
      cutConnection(res);
      return { status: 200, fault: 'stream_cut', outputTokensSent: sent };
    }
    if (sent === points.malformed && fault === undefined) {
      res.write(format.malformedEvent(meta));
      fault = 'malformed_sse';
    }
    if (sent === points.stall) {
      burst.flush();
      return { status: 200, fault: 'stall', outputTokensSent: sent };
    }
    if (sent === plan.outputTokens) {
      break;
    }
    const due = tokenDueMs(plan, sent);
    if (!isDue(response, due)) {
      burst.flush();
      if (!(await waitUntil(response, due))) {
        return closedByClient(res, sent);
      }
      burst.cork();
    }
    res.write(format.streamToken(meta, tokenText(sent)));
  }
  burst.flush();
  res.end(format.streamTail(meta));
  return { status: 200, fault, outputTokensSent: plan.outputTokens };
}

/** Corks a response until `flush`, and `cork` starts the next burst. */
function corkedBurst(res: ServerResponse): { cork(): void; flush(): void } {
  let corked = false;
  const burst = {
    cork: () => {
      if (!corked) res.cork();
      corked = true;
    },
    flush: () => {
      if (corked) res.uncork();
      corked = false;
    },
  };
  burst.cork();
  return burst;
}
