import type { EventSourceMessage } from 'eventsource-parser';
import { parseOpenAiRateLimit } from './rate-limit-headers.js';
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

const FINISH_REASONS: Record<string, FinishReason> = {
  stop: 'stop',
  length: 'length',
  content_filter: 'content_filter',
  tool_calls: 'tool_use',
};

function finishReasonOf(value: unknown): FinishReason {
  return typeof value === 'string' ? (FINISH_REASONS[value] ?? 'other') : 'other';
}

function usageOf(body: Record<string, unknown>): { inputTokens?: number; outputTokens?: number } {
  const usage = asRecord(body.usage);
  return {
    inputTokens: countField(usage, 'prompt_tokens'),
    outputTokens: countField(usage, 'completion_tokens'),
  };
}

function firstChoice(body: Record<string, unknown>): Record<string, unknown> | undefined {
  return Array.isArray(body.choices) ? asRecord(body.choices[0]) : undefined;
}

/** Decodes Chat Completions chunks; the stream ends at `data: [DONE]`. */
class OpenAiStreamDecoder implements StreamDecoder {
  #finishReason: FinishReason = 'other';
  #usage: { inputTokens?: number; outputTokens?: number } = {};

  decode(message: EventSourceMessage): DecodedItem | undefined {
    if (message.data.trim() === '[DONE]') {
      return { kind: 'end', usage: this.#usage, finishReason: this.#finishReason };
    }
    const chunk = asRecord(parseJsonPayload(message.data, 'stream chunk'));
    if (chunk === undefined) {
      throw new MalformedPayloadError('stream chunk is not a JSON object');
    }
    const error = asRecord(chunk.error);
    if (error !== undefined) {
      const upstreamType = stringField(error, 'type') ?? 'error';
      return { kind: 'error', upstreamType, message: stringField(error, 'message') ?? '' };
    }
    return this.#decodeChunk(chunk);
  }

  #decodeChunk(chunk: Record<string, unknown>): DecodedItem | undefined {
    if (chunk.usage !== undefined && chunk.usage !== null) {
      this.#usage = usageOf(chunk);
    }
    const choice = firstChoice(chunk);
    if (choice === undefined) {
      if (!Array.isArray(chunk.choices)) {
        throw new MalformedPayloadError('stream chunk has no choices array');
      }
      return undefined;
    }
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
      this.#finishReason = finishReasonOf(choice.finish_reason);
    }
    const text = stringField(asRecord(choice.delta), 'content');
    return text === undefined || text === '' ? undefined : { kind: 'text', text };
  }
}

/** The OpenAI Chat Completions wire format (`POST /v1/chat/completions`). */
export const openAiWire: WireAdapter = {
  format: 'openai',
  path: '/v1/chat/completions',
  authHeaders: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
  requestBody: (call: ProviderCall, stream: boolean) => ({
    model: call.model,
    messages: call.messages,
    max_tokens: call.maxOutputTokens,
    stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
  }),
  parseRateLimit: parseOpenAiRateLimit,
  parseErrorBody: (body) => {
    const error = asRecord(asRecord(body)?.error);
    return {
      upstreamType: stringField(error, 'type'),
      message: stringField(error, 'message'),
      contextLengthExceeded: stringField(error, 'code') === 'context_length_exceeded',
    };
  },
  parseCompletion: (body): DecodedCompletion => {
    const record = asRecord(body);
    const choice = record === undefined ? undefined : firstChoice(record);
    const text = stringField(asRecord(choice?.message), 'content');
    if (record === undefined || choice === undefined || text === undefined) {
      throw new MalformedPayloadError('completion has no choices[0].message.content');
    }
    return { text, usage: usageOf(record), finishReason: finishReasonOf(choice.finish_reason) };
  },
  createStreamDecoder: () => new OpenAiStreamDecoder(),
};
