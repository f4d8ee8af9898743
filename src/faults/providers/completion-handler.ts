import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

import type { Clock } from '../../platform/clock.js';
import { type CompletionPlan, planCompletion } from './completion-plan.js';
import { type FaultConfig, type FaultSettings, resolveFaults } from './fault-config.js';
import { type Exchange, injectFault, sendError, sendRateLimited } from './error-responses.js';
import { isBodyTooLargeError, readBody } from './http-io.js';
import { type ProviderMetrics, UNKNOWN_MODEL_LABEL } from './metrics.js';
import { createPrng, mixSeed, type Prng } from './prng.js';
import type { ModelProfile, ProviderProfile } from './profile.js';
import type { KeyRateLimiter } from './rate-limiter.js';
import {
  type CompletionResponse,
  type ResponseOutcome,
  sendJsonCompletion,
  sendStreamCompletion,
} from './responder.js';
import {
  type CompletionRequest,
  type ProviderError,
  randomId,
  type WireFormat,
} from './wire-format.js';

/** Request header that sets the input token count instead of the 4-characters-per-token estimate. */
export const INPUT_TOKENS_HEADER = 'x-scalegate-input-tokens';
/** Request header that forces the completion length in tokens. */
export const OUTPUT_TOKENS_HEADER = 'x-scalegate-output-tokens';

const CHARS_PER_TOKEN = 4;

/** Server-wide state a completion request reads. */
export interface CompletionContext {
  profile: ProviderProfile;
  models: ReadonlyMap<string, ModelProfile>;
  faults(): FaultConfig;
  limiter: KeyRateLimiter;
  metrics: ProviderMetrics;
  clock: Clock;
  /** Server seed, already mixed with the provider name. */
  seed: number;
  /** Returns the next request's sequence number; each request's PRNG is seeded from it. */
  nextRequestIndex(): number;
  maxBodyBytes: number;
}

/** Result of one completion request, for metrics and events. */
export interface CompletionOutcome extends ResponseOutcome {
  model: string;
  keyFingerprint: string;
}

/** Serves one completion request in `format` and returns what was sent. */
export async function handleCompletion(
  context: CompletionContext,
  format: WireFormat,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<CompletionOutcome> {
  const apiKey = format.readApiKey(req.headers);
  const exchange: Exchange = {
    req,
    res,
    format,
    keyLabel: context.metrics.fingerprint(apiKey),
    modelLabel: UNKNOWN_MODEL_LABEL,
    startedAt: context.clock.monotonic(),
    // Math.random, not the seeded PRNG, so that error ids leave the seeded draws unchanged.
    requestId: `req_${randomId(Math.random, 24)}`,
  };
  const outcome = await serve(context, exchange, apiKey);
  const { metrics } = context;
  metrics.countRequest(exchange.modelLabel, exchange.keyLabel, outcome.status);
  metrics.countTokens(exchange.modelLabel, exchange.keyLabel, 'output', outcome.outputTokensSent);
  if (outcome.fault !== undefined) {
    metrics.countFault(exchange.modelLabel, outcome.fault);
  }
  return { ...outcome, model: exchange.modelLabel, keyFingerprint: exchange.keyLabel };
}

async function serve(
  context: CompletionContext,
  exchange: Exchange,
  apiKey: string | undefined,
): Promise<ResponseOutcome> {
  const { format } = exchange;
  if (apiKey === undefined) {
    return sendError(exchange, format.missingApiKey());
  }
  const headerError = format.checkHeaders(exchange.req.headers);
  if (headerError !== undefined) {
    return sendError(exchange, headerError);
  }
  const request = await readCompletionRequest(context, exchange);
  if ('status' in request) {
    return sendError(exchange, request);
  }
  const model = context.models.get(request.model);
  if (model === undefined) {
    return sendError(exchange, format.unknownModel(request.model));
  }
  exchange.modelLabel = model.name;
  // The APIs check max_tokens and the context window before any work, so faults come after.
  if (request.maxTokens !== undefined && request.maxTokens > model.maxOutputTokens) {
    return sendError(exchange, format.maxTokensAboveLimit(request, model.maxOutputTokens));
  }
  const sizes = readSizes(exchange.req.headers);
  if ('status' in sizes) {
    return sendError(exchange, sizes);
  }
  const inputTokens = sizes.inputTokens ?? Math.ceil(request.promptChars / CHARS_PER_TOKEN);
  // The window must fit the input plus every token max_tokens allows. A request without
  // max_tokens (OpenAI only) is checked on its input alone.
  if (inputTokens + (request.maxTokens ?? 0) > model.contextWindowTokens) {
    const error = format.contextWindowExceeded(request, inputTokens, model.contextWindowTokens);
    return sendError(exchange, error);
  }
  const faults = resolveFaults(context.faults(), model.name);
  const prng = createPrng(mixSeed(context.seed, context.nextRequestIndex()));
  const injected = injectFault(exchange, faults, prng(), {
    now: context.clock.now(),
    limits: context.profile.rateLimits,
  });
  if (injected !== undefined) {
    return injected;
  }
  const accepted = { apiKey, request, model, faults, prng, inputTokens };
  return serveCompletion(context, exchange, { ...accepted, forcedOutputTokens: sizes.forced });
}

/** Reads the sizing headers, or returns the 400 for an invalid one. */
function readSizes(
  headers: IncomingHttpHeaders,
): { inputTokens: number | undefined; forced: number | undefined } | ProviderError {
  const inputTokens = readTokenHeader(headers[INPUT_TOKENS_HEADER]);
  const forced = readTokenHeader(headers[OUTPUT_TOKENS_HEADER]);
  if (inputTokens === null || forced === null) {
    const name = inputTokens === null ? INPUT_TOKENS_HEADER : OUTPUT_TOKENS_HEADER;
    const message = `invalid ${name} header: expected a non-negative integer, got ${String(headers[name])}`;
    return { status: 400, kind: 'invalid_request', message };
  }
  return { inputTokens, forced };
}

async function readCompletionRequest(
  context: CompletionContext,
  exchange: Exchange,
): Promise<CompletionRequest | ProviderError> {
  let text: string;
  try {
    text = await readBody(exchange.req, context.maxBodyBytes);
  } catch (error) {
    if (isBodyTooLargeError(error)) {
      return { status: 413, kind: 'request_too_large', message: error.message };
    }
    throw error;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return exchange.format.invalidJson();
  }
  return exchange.format.parseRequest(body);
}

interface AcceptedRequest {
  apiKey: string;
  request: CompletionRequest;
  model: ModelProfile;
  faults: FaultSettings;
  prng: Prng;
  /** From `x-scalegate-input-tokens`, or estimated from the prompt's characters. */
  inputTokens: number;
  /** From `x-scalegate-output-tokens`; undefined when the header is absent. */
  forcedOutputTokens: number | undefined;
}

async function serveCompletion(
  context: CompletionContext,
  exchange: Exchange,
  accepted: AcceptedRequest,
): Promise<ResponseOutcome> {
  const { request, faults } = accepted;
  const inputs = {
    maxTokens: request.maxTokens,
    forcedOutputTokens: accepted.forcedOutputTokens,
    firstTokenDelayMs: faults.firstTokenDelayMs,
  };
  const plan = planCompletion(accepted.model, inputs, accepted.prng);
  const input = accepted.inputTokens;
  const now = context.clock.now();
  const decision = context.limiter.take(accepted.apiKey, input + plan.outputTokens, now);
  const limitHeaders = exchange.format.rateLimitHeaders(decision, now);
  if (!decision.allowed) {
    return sendRateLimited(exchange, decision, limitHeaders);
  }

  context.metrics.countTokens(accepted.model.name, exchange.keyLabel, 'input', input);
  const response = buildResponse(context, exchange, accepted, plan, input, limitHeaders);
  return request.stream
    ? sendStreamCompletion(exchange.res, response)
    : sendJsonCompletion(exchange.res, response);
}

function buildResponse(
  context: CompletionContext,
  exchange: Exchange,
  accepted: AcceptedRequest,
  plan: CompletionPlan,
  inputTokens: number,
  limitHeaders: Record<string, string>,
): CompletionResponse {
  const { format } = exchange;
  const meta = {
    id: format.newId(accepted.prng),
    model: accepted.model.name,
    created: Math.floor(context.clock.now() / 1000),
    inputTokens,
    outputTokens: plan.outputTokens,
    finishReason: plan.finishReason,
    includeUsage: accepted.request.includeUsage,
  };
  return {
    format,
    meta,
    plan,
    faults: accepted.faults,
    stream: accepted.request.stream,
    headers: { ...limitHeaders, [format.requestIdHeader]: `req_${meta.id}` },
    startedAt: exchange.startedAt,
    clock: context.clock,
    abortSignal: lazyAbortSignal(exchange.res),
  };
}

/** Parses a token-count header: undefined when absent, null when invalid. */
function readTokenHeader(value: string | string[] | undefined): number | undefined | null {
  if (value === undefined) {
    return undefined;
  }
  const parsed = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isSafeInteger(parsed) ? parsed : null;
}

/** Creates the abort signal on first use, so a response sent without waiting never builds one. */
function lazyAbortSignal(res: ServerResponse): () => AbortSignal {
  let controller: AbortController | undefined;
  return () => {
    if (controller === undefined) {
      const created = new AbortController();
      if (res.destroyed) {
        created.abort(new Error('client closed the connection'));
      }
      res.once('close', () => {
        if (!res.writableFinished) {
          created.abort(new Error('client closed the connection'));
        }
      });
      controller = created;
    }
    return controller.signal;
  };
}
