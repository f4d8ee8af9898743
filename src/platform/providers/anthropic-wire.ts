import type { EventSourceMessage } from 'eventsource-parser';
import type { ChatMessage } from '../task.js';
import { parseAnthropicRateLimit } from './rate-limit-headers.js';
import type { FinishReason, ProviderCall } from './types.js';
import {
  asRecord,
  countField,
  type DecodedCompletion,
  type DecodedItem,
  MalformedPayloadError,
  parseJsonPayload,
  type StreamDecoder,
  stringField,
  type WireAdapter,
} from './wire-adapter.js';

/** API version header value the client sends. */
export const ANTHROPIC_VERSION = '2023-06-01';

const STOP_REASONS: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_use',
  refusal: 'content_filter',
};

function finishReasonOf(value: unknown): FinishReason {
  return typeof value === 'string' ? (STOP_REASONS[value] ?? 'other') : 'other';
}

/** Moves system prompts to the top-level `system` field and sends tool output as user turns. */
function splitMessages(messages: ChatMessage[]): { system?: string; messages: unknown[] } {
  const system = messages.filter((message) => message.role === 'system').map((m) => m.content);
  const turns = messages
    .filter((message) => message.role !== 'system')
    .map((message) => ({
      role: message.role === 'assistant' ? 'assistant' : 'user',
      content: message.content,
    }));
  return system.length > 0 ? { system: system.join('\n'), messages: turns } : { messages: turns };
}

/** Decodes Messages API events; the stream ends at `message_stop`. */
class AnthropicStreamDecoder implements StreamDecoder {
  #inputTokens: number | undefined;
  #outputTokens: number | undefined;
  #finishReason: FinishReason = 'other';

  decode(message: EventSourceMessage): DecodedItem | undefined {
    const event = asRecord(parseJsonPayload(message.data, 'stream event'));
    const type = stringField(event, 'type') ?? message.event;
    if (event === undefined || type === undefined) {
      throw new MalformedPayloadError('stream event has no type');
    }
    return this.#decodeEvent(type, event);
  }

  #decodeEvent(type: string, event: Record<string, unknown>): DecodedItem | undefined {
    switch (type) {
      case 'message_start':
        this.#inputTokens = countField(asRecord(asRecord(event.message)?.usage), 'input_tokens');
        return undefined;
      case 'content_block_delta':
        return this.#decodeDelta(asRecord(event.delta));
      case 'message_delta':
        this.#outputTokens = countField(asRecord(event.usage), 'output_tokens');
        this.#finishReason = finishReasonOf(asRecord(event.delta)?.stop_reason);
        return undefined;
      case 'message_stop':
        return { kind: 'end', usage: this.#usage(), finishReason: this.#finishReason };
      case 'error':
        return errorItem(asRecord(event.error));
      default:
        return undefined;
    }
  }

  #decodeDelta(delta: Record<string, unknown> | undefined): DecodedItem | undefined {
    const text = stringField(delta, 'text');
    return stringField(delta, 'type') === 'text_delta' && text !== undefined && text !== ''
      ? { kind: 'text', text }
      : undefined;
  }

  #usage(): { inputTokens?: number; outputTokens?: number } {
    return { inputTokens: this.#inputTokens, outputTokens: this.#outputTokens };
  }
}

function errorItem(error: Record<string, unknown> | undefined): DecodedItem {
  const upstreamType = stringField(error, 'type') ?? 'error';
  return { kind: 'error', upstreamType, message: stringField(error, 'message') ?? '' };
}

function completionText(content: unknown): string | undefined {
  if (!Array.isArray(content)) {
    return undefined;
  }
  return content
    .map((block) => asRecord(block))
    .filter((block) => block?.type === 'text')
    .map((block) => stringField(block, 'text') ?? '')
    .join('');
}

/**
 * Starts of the Messages API's 400 messages for a request above the context window: the
 * input alone, and the input plus `max_tokens`.
 */
const CONTEXT_LIMIT_MESSAGES = [
  /^prompt is too long\b/,
  /^input length and `max_tokens` exceed context limit\b/,
];

/** The Anthropic Messages wire format (`POST /v1/messages`). */
export const anthropicWire: WireAdapter = {
  format: 'anthropic',
  path: '/v1/messages',
  authHeaders: (apiKey) => ({ 'x-api-key': apiKey, 'anthropic-version': ANTHROPIC_VERSION }),
  requestBody: (call: ProviderCall, stream: boolean) => ({
    model: call.model,
    max_tokens: call.maxOutputTokens,
    ...splitMessages(call.messages),
    stream,
  }),
  parseRateLimit: parseAnthropicRateLimit,
  parseErrorBody: (body) => {
    const error = asRecord(asRecord(body)?.error);
    const upstreamType = stringField(error, 'type');
    const message = stringField(error, 'message');
    const contextLengthExceeded =
      upstreamType === 'invalid_request_error' &&
      message !== undefined &&
      CONTEXT_LIMIT_MESSAGES.some((pattern) => pattern.test(message));
    return { upstreamType, message, contextLengthExceeded };
  },
  parseCompletion: (body): DecodedCompletion => {
    const record = asRecord(body);
    const text = completionText(record?.content);
    if (record === undefined || text === undefined) {
      throw new MalformedPayloadError('message has no content array');
    }
    const usage = asRecord(record.usage);
    return {
      text,
      usage: {
        inputTokens: countField(usage, 'input_tokens'),
        outputTokens: countField(usage, 'output_tokens'),
      },
      finishReason: finishReasonOf(record.stop_reason),
    };
  },
  createStreamDecoder: () => new AnthropicStreamDecoder(),
};
