import { PRIORITY_CLASSES } from '../task.js';

/** Upper bounds of task fields, so one request cannot ask for unbounded work. */
export const TASK_LIMITS = {
  maxMessages: 256,
  maxContentChars: 200_000,
  maxInputTokens: 2_000_000,
  maxOutputTokens: 200_000,
  maxSteps: 100,
  maxToolWaitMs: 600_000,
} as const;

/** Maximum time an async task may run, tool waits included, unless the platform sets another. */
export const DEFAULT_MAX_TASK_DURATION_MS = 900_000;

/** JSON Schema of the `POST /v1/tasks` body (TaskRequest); unknown fields are invalid. */
export const taskRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['route', 'maxOutputTokens', 'mode'],
  properties: {
    route: { type: 'string', minLength: 1, maxLength: 200 },
    messages: {
      type: 'array',
      minItems: 1,
      maxItems: TASK_LIMITS.maxMessages,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['role', 'content'],
        properties: {
          role: { enum: ['system', 'user', 'assistant', 'tool'] },
          content: { type: 'string', maxLength: TASK_LIMITS.maxContentChars },
        },
      },
    },
    inputTokens: { type: 'integer', minimum: 0, maximum: TASK_LIMITS.maxInputTokens },
    maxOutputTokens: { type: 'integer', minimum: 1, maximum: TASK_LIMITS.maxOutputTokens },
    mode: { enum: ['sync', 'async'] },
    priority: { enum: [...PRIORITY_CLASSES] },
    stream: { type: 'boolean' },
    steps: { type: 'integer', minimum: 1, maximum: TASK_LIMITS.maxSteps },
    toolWaitMs: { type: 'integer', minimum: 0, maximum: TASK_LIMITS.maxToolWaitMs },
    forcedOutputTokens: { type: 'integer', minimum: 1, maximum: TASK_LIMITS.maxOutputTokens },
  },
} as const;

/** JSON Schema of the `:id` path parameter. */
export const taskParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;
