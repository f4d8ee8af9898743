import type { IncomingHttpHeaders } from 'node:http';

import {
  type CompletionRequest,
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
  authentication: 'invalid_request_error',
  permission: 'invalid_request_error',
  not_found: 'invalid_request_error',
  request_too_large: 'invalid_request_error',
  rate_limit: 'requests',
  overloaded: 'server_error',
  server: 'server_error',
};

function invalid(message: string, param: string | undefined, code?: string): ProviderError {
  return { status: 400, kind: 'invalid_request', message, param, code };
}

/** Formats a duration the way OpenAI's reset headers do: `20ms`, `1.5s`, `6m0s`. */
export function formatResetDuration(ms: number): string {
  if (ms < 1000) {
    return `${Math.ceil(ms)}ms`;
  }
  const minutes = Math.floor(ms / 60_000);
  const seconds = Number(((ms - minutes * 60_000) / 1000).toFixed(3));
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

function parseRequest(body: unknown): CompletionRequest | ProviderError {
  if (!isRecord(body)) {
    return invalid('The request body must be a JSON object.', undefined);
  }
  if (typeof body.model !== 'string') {
    return invalid('you must provide a model parameter', undefined);
  }
  if (!Array.isArray(body.messages)) {
    return invalid(
      "Missing required parameter: 'messages'.",
      'messages',
      'missing_required_parameter',
    );
  }
  if (body.messages.length === 0) {
    return invalid("Invalid 'messages': empty array. Expected at least 1 message.", 'messages');
  }
  const roleError = checkRoles(body.messages);
  if (roleError !== undefined) return roleError;
  const tokensParam =
    body.max_completion_tokens === undefined ? 'max_tokens' : 'max_completion_tokens';
  const maxTokens = body[tokensParam];
  if (!isOptionalPositiveInteger(maxTokens)) {
    return invalid(`Invalid '${tokensParam}': expected an integer of at least 1.`, tokensParam);
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') {
    return invalid("Invalid type for 'stream': expected a boolean.", 'stream');
  }
  const options = body.stream_options;
  // The Chat Completions API rejects stream_options with 400 unless the request streams.
  if (options !== undefined && options !== null && body.stream !== true) {
    return invalid(
      "Invalid 'stream_options': it is allowed only when 'stream' is true.",
      'stream_options',
    );
  }
  return {
    model: body.model,
    stream: body.stream === true,
    includeUsage: isRecord(options) && options.include_usage === true,
    maxTokens: maxTokens as number | undefined,
    maxTokensField: tokensParam,
    promptChars: messagesChars(body.messages),
  };
}

/** Roles the Chat Completions API accepts in `messages`. */
const CHAT_ROLES = ['system', 'assistant', 'user', 'function', 'tool', 'developer'];

/** Rejects a message whose role the Chat Completions API does not accept. */
function checkRoles(messages: unknown[]): ProviderError | undefined {
  for (const [index, message] of messages.entries()) {
    const role = isRecord(message) ? message.role : undefined;
    if (typeof role !== 'string' || !CHAT_ROLES.includes(role)) {
      const supported = CHAT_ROLES.map((name) => `'${name}'`).join(', ');
      return invalid(
        `Invalid value: '${String(role)}'. Supported values are: ${supported}.`,
        `messages[${index}].role`,
      );
    }
  }
  return undefined;
}

/** Returns the Chat Completions API's 400 for a `max_tokens` above the model's output limit. */
function maxTokensAboveLimit(request: CompletionRequest, limit: number): ProviderError {
  const field = request.maxTokensField;
  const sent = String(request.maxTokens);
  return invalid(
    `${field} is too large: ${sent}. This model supports at most ${limit} completion tokens, whereas you provided ${sent}.`,
    field,
    'invalid_value',
  );
}

/**
 * Returns the Chat Completions API's 400 `context_length_exceeded`. Without `max_tokens` its
 * message names only the input, as the API's does.
 */
function contextWindowExceeded(
  request: CompletionRequest,
  inputTokens: number,
  window: number,
): ProviderError {
  const head = `This model's maximum context length is ${window} tokens. However,`;
  const message =
    request.maxTokens === undefined
      ? `${head} your messages resulted in ${inputTokens} tokens. Please reduce the length of the messages.`
      : `${head} you requested ${inputTokens + request.maxTokens} tokens (${inputTokens} in the messages, ${request.maxTokens} in the completion). Please reduce the length of the messages or completion.`;
  return invalid(message, 'messages', 'context_length_exceeded');
}

function errorBody(error: ProviderError, _requestId: string): string {
  const type =
    error.kind === 'rate_limit' ? (error.limitedBy ?? 'requests') : ERROR_TYPES[error.kind];
  const code = error.code ?? (error.kind === 'rate_limit' ? 'rate_limit_exceeded' : null);
  return JSON.stringify({
    error: { message: error.message, type, param: error.param ?? null, code },
  });
}

function rateLimitHeaders(state: RateLimitHeaderState): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(state.requests.limit),
    'x-ratelimit-remaining-requests': String(state.requests.remaining),
    'x-ratelimit-reset-requests': formatResetDuration(state.requests.resetMs),
    'x-ratelimit-limit-tokens': String(state.tokens.limit),
    'x-ratelimit-remaining-tokens': String(state.tokens.remaining),
    'x-ratelimit-reset-tokens': formatResetDuration(state.tokens.resetMs),
  };
}

function usage(meta: ResponseMeta, completionTokens: number): Record<string, number> {
  return {
    prompt_tokens: meta.inputTokens,
    completion_tokens: completionTokens,
    total_tokens: meta.inputTokens + completionTokens,
  };
}

function completionBody(meta: ResponseMeta, text: string): string {
  return JSON.stringify({
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text, refusal: null },
        logprobs: null,
        finish_reason: meta.finishReason,
      },
    ],
    usage: usage(meta, meta.outputTokens),
    system_fingerprint: null,
  });
}

/**
 * Renders one chunk. With `include_usage` every chunk carries `"usage": null` except the
 * last, which passes the totals in `usage`.
 */
function chunk(
  meta: ResponseMeta,
  choices: unknown[],
  usageTotals?: Record<string, number>,
): string {
  const body = {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    system_fingerprint: null,
    choices,
    ...(meta.includeUsage ? { usage: usageTotals ?? null } : {}),
  };
  return `data: ${JSON.stringify(body)}\n\n`;
}

function deltaChoice(delta: Record<string, unknown>, finishReason: string | null): unknown {
  return { index: 0, delta, logprobs: null, finish_reason: finishReason };
}

function streamTail(meta: ResponseMeta): string {
  let tail = chunk(meta, [deltaChoice({}, meta.finishReason)]);
  if (meta.includeUsage) {
    tail += chunk(meta, [], usage(meta, meta.outputTokens));
  }
  return `${tail}data: [DONE]\n\n`;
}

function streamError(): string {
  const error = {
    message: 'The server had an error while processing your request.',
    type: 'server_error',
    param: null,
    code: null,
  };
  return `data: ${JSON.stringify({ error })}\n\n`;
}

/** OpenAI Chat Completions: `POST /v1/chat/completions` with `Authorization: Bearer <key>`. */
export const openAiFormat: WireFormat = {
  name: 'openai',
  requestIdHeader: 'x-request-id',
  readApiKey: (headers: IncomingHttpHeaders) => {
    const value = headers.authorization;
    const match = value === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(value);
    return match?.[1];
  },
  checkHeaders: () => undefined,
  parseRequest,
  missingApiKey: () => ({
    status: 401,
    kind: 'authentication',
    message: "You didn't provide an API key. Send it in the Authorization header as 'Bearer KEY'.",
  }),
  unknownModel: (model) => ({
    status: 404,
    kind: 'not_found',
    message: `The model \`${model}\` does not exist or you do not have access to it.`,
    code: 'model_not_found',
  }),
  maxTokensAboveLimit,
  contextWindowExceeded,
  invalidJson: () => invalid('We could not parse the JSON body of your request.', undefined),
  newId: (random) => `chatcmpl-${randomId(random, 24)}`,
  errorBody,
  rateLimitHeaders,
  completionBody,
  streamHead: (meta) => chunk(meta, [deltaChoice({ role: 'assistant', content: '' }, null)]),
  streamToken: (meta, text) => chunk(meta, [deltaChoice({ content: text }, null)]),
  streamTail,
  streamError,
  malformedEvent: (meta) =>
    `data: {"id":"${meta.id}","object":"chat.completion.chunk","choices":[{\n\n`,
};
