import type { ChatMessage } from './task.js';

/**
 * Characters per token used to size a prompt given as messages, a common rule of thumb
 * for English text. The mock providers count input tokens the same way.
 */
export const CHARS_PER_TOKEN = 4;

/** Returns a request's input tokens: `inputTokens` when set, else the estimate of its messages. */
export function inputTokensOf(request: {
  inputTokens?: number;
  messages?: readonly ChatMessage[];
}): number {
  return request.inputTokens ?? estimatePromptTokens(request.messages ?? []);
}

/** Estimates the input tokens of `messages` from their characters. */
export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  const chars = messages.reduce((sum, message) => sum + message.content.length, 0);
  return Math.ceil(chars / CHARS_PER_TOKEN);
}
