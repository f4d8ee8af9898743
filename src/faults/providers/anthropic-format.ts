import type { IncomingHttpHeaders } from 'node:http';

import {
  type CompletionRequest,
  contentChars,
  type ErrorKind,
  isOptionalPositiveInteger,
  isRecord,
  messagesChars,
  type ProviderError,
  type RateLimitHeaderState,
  type ResponseMeta,
  randomId,
  type WireFormat,
} from './wire-format.js';

const ERROR_TYPES: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  request_too_large: 'request_too_large',
  rate_limit: 'rate_limit_error',
  overloaded: 'overloaded_error',
  server: 'api_error',
};

const STOP_REASONS = { stop: 'end_turn', length: 'max_tokens' } as const;

function invalid(message: string): ProviderError {
  return { status: 400, kind: 'invalid_request', message };
}

function parseRequest(body: unknown): CompletionRequest | ProviderError {
  if (!isRecord(body)) {
    return invalid('The request body must be a JSON object.');
  }
  if (typeof body.model !== 'string') {
    return invalid('model: Field required');
  }
  if (!Array.isArray(body.messages)) {
    return invalid('messages: Field required');
  }
  if (body.messages.length === 0) {
    return invalid('messages: at least one message is required');
  }
  const roleError = checkRoles(body.messages);
  if (roleError !== undefined) {
    return roleError;
  }
  if (body.system !== undefined && !isSystemPrompt(body.system)) {
    return invalid('system: Input should be a valid string or a list of text blocks');
  }
  if (body.max_tokens === undefined) {
    return invalid('max_tokens: Field required');
  }
  if (!isOptionalPositiveInteger(body.max_tokens)) {
    return invalid('max_tokens: Input should be an integer greater than or equal to 1');
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') {
    return invalid('stream: Input should be a valid boolean');
  }
  return {
    model: body.model,
    stream: body.stream === true,
    includeUsage: true,
    maxTokens: body.max_tokens as number,
    maxTokensField: 'max_tokens',
    promptChars: contentChars(body.system) + messagesChars(body.messages),
  };
}

/**
 * Rejects a `system` role inside `messages` with the API's own message, because the
 * Messages API takes the system prompt only in the top-level `system` field.
 */
function checkRoles(messages: unknown[]): ProviderError | undefined {
  for (const [index, message] of messages.entries()) {
    const role = isRecord(message) ? message.role : undefined;
    if (role === 'system') {
      return invalid(
        'messages: Unexpected role "system". The Messages API accepts a top-level `system` ' +
          'parameter, not "system" as an input message role.',
      );
    }
    if (role !== 'user' && role !== 'assistant') {
      return invalid(`messages.${index}.role: Input should be 'user' or 'assistant'`);
    }
  }
  return undefined;
}

/** Returns whether `value` is a system prompt: a string or an array of text blocks. */
function isSystemPrompt(value: unknown): boolean {
  if (typeof value === 'string') {
    return true;
  }
  return (
    Array.isArray(value) &&
    value.every(
      (block) => isRecord(block) && block.type === 'text' && typeof block.text === 'string',
    )
  );
}

/**
 * `anthropic-version` values the Messages API accepts: the versions its versioning page lists
 * (https://platform.claude.com/docs/en/api/versioning, read in 2026).
 * NOTE: every version gets the same request checks here, so the 2026-10-21 rules, such as the
 * rejection of `temperature`, `top_p` and `top_k`, are not applied.
 */
const ANTHROPIC_VERSIONS: readonly string[] = ['2023-01-01', '2023-06-01', '2026-10-21'];

/**
 * Rejects a missing or unknown `anthropic-version` with 400, in the API's words. A repeated
 * header reaches Node joined as `a, b`, which is no valid version, as at the API.
 */
function checkVersionHeader(headers: IncomingHttpHeaders): ProviderError | undefined {
  const version = headers['anthropic-version'];
  if (typeof version !== 'string' || version === '') {
    return invalid('anthropic-version: header is required');
  }
  if (!ANTHROPIC_VERSIONS.includes(version)) {
    return invalid(`anthropic-version: ${JSON.stringify(version)} is not a valid version`);
  }
  return undefined;
}

function errorJson(kind: ErrorKind, message: string): string {
  return JSON.stringify({ type: 'error', error: { type: ERROR_TYPES[kind], message } });
}

/** Renders an error body with the `request_id` field that the Messages API adds to errors. */
function errorBody(error: ProviderError, requestId: string): string {
  const body = { type: 'error', error: { type: ERROR_TYPES[error.kind], message: error.message } };
  return JSON.stringify({ ...body, request_id: requestId });
}

/** Formats the instant at `nowMs + resetMs` as RFC 3339 in UTC, whole seconds. */
function resetAt(nowMs: number, resetMs: number): string {
  const seconds = Math.ceil((nowMs + resetMs) / 1000);
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

function rateLimitHeaders(state: RateLimitHeaderState, nowMs: number): Record<string, string> {
  return {
    'anthropic-ratelimit-requests-limit': String(state.requests.limit),
    'anthropic-ratelimit-requests-remaining': String(state.requests.remaining),
    'anthropic-ratelimit-requests-reset': resetAt(nowMs, state.requests.resetMs),
    'anthropic-ratelimit-tokens-limit': String(state.tokens.limit),
    'anthropic-ratelimit-tokens-remaining': String(state.tokens.remaining),
    'anthropic-ratelimit-tokens-reset': resetAt(nowMs, state.tokens.resetMs),
  };
}

function completionBody(meta: ResponseMeta, text: string): string {
  return JSON.stringify({
    id: meta.id,
    type: 'message',
    role: 'assistant',
    model: meta.model,
    content: [{ type: 'text', text }],
    stop_reason: STOP_REASONS[meta.finishReason],
    stop_sequence: null,
    usage: { input_tokens: meta.inputTokens, output_tokens: meta.outputTokens },
  });
}

function sseEvent(event: string, data: Record<string, unknown>): string {
  return `event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`;
}

function streamHead(meta: ResponseMeta): string {
  const message = {
    id: meta.id,
    type: 'message',
    role: 'assistant',
    model: meta.model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: meta.inputTokens, output_tokens: 1 },
  };
  return (
    sseEvent('message_start', { message }) +
    sseEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
    sseEvent('ping', {})
  );
}

function streamTail(meta: ResponseMeta): string {
  const delta = { stop_reason: STOP_REASONS[meta.finishReason], stop_sequence: null };
  return (
    sseEvent('content_block_stop', { index: 0 }) +
    sseEvent('message_delta', { delta, usage: { output_tokens: meta.outputTokens } }) +
    sseEvent('message_stop', {})
  );
}

/**
 * Returns the Messages API's 400 `invalid_request_error` for a request over the context
 * window: "prompt is too long" when the input alone exceeds it, else the message that
 * names the input plus `max_tokens`.
 */
function contextWindowExceeded(
  request: CompletionRequest,
  inputTokens: number,
  window: number,
): ProviderError {
  if (inputTokens > window) {
    return invalid(`prompt is too long: ${inputTokens} tokens > ${window} maximum`);
  }
  const maxTokens = String(request.maxTokens ?? 0);
  return invalid(
    `input length and \`max_tokens\` exceed context limit: ${inputTokens} + ${maxTokens} > ${window}, decrease input length or \`max_tokens\` and try again`,
  );
}

/** Anthropic Messages: `POST /v1/messages` with `x-api-key: <key>`. */
export const anthropicFormat: WireFormat = {
  name: 'anthropic',
  requestIdHeader: 'request-id',
  readApiKey: (headers: IncomingHttpHeaders) => {
    const value = headers['x-api-key'];
    return typeof value === 'string' && value !== '' ? value : undefined;
  },
  checkHeaders: checkVersionHeader,
  parseRequest,
  missingApiKey: () => ({
    status: 401,
    kind: 'authentication',
    message: 'x-api-key header is required',
  }),
  unknownModel: (model) => ({ status: 404, kind: 'not_found', message: `model: ${model}` }),
  maxTokensAboveLimit: (request, limit) =>
    invalid(
      `max_tokens: ${String(request.maxTokens)} > ${limit}, which is the maximum allowed number of output tokens for ${request.model}`,
    ),
  contextWindowExceeded,
  invalidJson: () => invalid('There was an error parsing the body of your request as JSON.'),
  newId: (random) => `msg_${randomId(random, 24)}`,
  errorBody,
  rateLimitHeaders,
  completionBody,
  streamHead,
  streamToken: (_meta, text) =>
    sseEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }),
  streamTail: (meta) => streamTail(meta),
  streamError: () => `event: error\ndata: ${errorJson('overloaded', 'Overloaded')}\n\n`,
  malformedEvent: () =>
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{\n\n',
};
