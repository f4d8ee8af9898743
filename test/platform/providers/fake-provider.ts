import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type Clock, systemClock } from '../../../src/platform/clock.js';

/** Scripted response to one request. */
export type FakeReply =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: unknown }
  | { kind: 'json'; text: string; headers?: Record<string, string> }
  | {
      kind: 'stream';
      tokens: number;
      headers?: Record<string, string>;
      /** Closes the response after this many tokens, with no final event. */
      cutAfter?: number;
      /** Sends an error event after this many tokens. */
      errorAfter?: number;
      errorType?: string;
      /** Stops sending after this many tokens but keeps the connection open. */
      stallAfter?: number;
      /** Waits this long (on the fake's clock) before the first chunk. */
      firstChunkDelayMs?: number;
      /** Sends this raw text as one data line after the tokens, in place of the end. */
      rawAfter?: string;
      /** Waits this long (on the fake's clock) between two tokens. */
      tokenIntervalMs?: number;
    }
  | { kind: 'hang' };

export interface RecordedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

export interface FakeProvider {
  url: string;
  requests: RecordedRequest[];
  /** TCP connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/** Starts a loopback server speaking the OpenAI or Anthropic wire format as scripted. */
export async function startFakeProvider(
  format: 'openai' | 'anthropic',
  reply: (requestIndex: number, request: RecordedRequest) => FakeReply,
  clock: Clock = systemClock,
): Promise<FakeProvider> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    connections += 1;
    socket.on('close', () => sockets.delete(socket));
  });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let raw = '';
    for await (const chunk of req) {
      raw += String(chunk);
    }
    const recorded = {
      path: req.url ?? '',
      headers: req.headers,
      body: JSON.parse(raw) as Record<string, unknown>,
    };
    requests.push(recorded);
    await respond(format, reply(requests.length - 1, recorded), res, clock);
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const socket of sockets) {
        socket.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function respond(
  format: 'openai' | 'anthropic',
  reply: FakeReply,
  res: ServerResponse,
  clock: Clock,
): Promise<void> {
  if (reply.kind === 'hang') {
    return;
  }
  if (reply.kind === 'status') {
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(
      JSON.stringify(reply.body ?? { error: { type: 'api_error', message: 'scripted failure' } }),
    );
    return;
  }
  if (reply.kind === 'json') {
    res.writeHead(200, { 'content-type': 'application/json', ...reply.headers });
    res.end(jsonCompletion(format, reply.text));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', ...reply.headers });
  res.flushHeaders();
  if (reply.firstChunkDelayMs !== undefined) {
    await clock.sleep(reply.firstChunkDelayMs);
  }
  await writeStream(format, reply, res, clock);
}

async function writeStream(
  format: 'openai' | 'anthropic',
  reply: Extract<FakeReply, { kind: 'stream' }>,
  res: ServerResponse,
  clock: Clock,
): Promise<void> {
  const frames = format === 'openai' ? openAiFrames(reply.tokens) : anthropicFrames(reply.tokens);
  const { start, token, end } = frames;
  res.write(start);
  for (let index = 0; index < reply.tokens; index += 1) {
    if (index === reply.stallAfter) {
      return;
    }
    if (index === reply.cutAfter) {
      res.socket?.end();
      return;
    }
    if (index === reply.errorAfter) {
      res.end(errorFrame(format, reply.errorType ?? 'overloaded_error'));
      return;
    }
    if (index > 0 && reply.tokenIntervalMs !== undefined) {
      await clock.sleep(reply.tokenIntervalMs);
    }
    res.write(token(index));
  }
  res.end(reply.rawAfter === undefined ? end : `data: ${reply.rawAfter}\n\n`);
}

function openAiFrames(tokens: number): {
  start: string;
  token: (i: number) => string;
  end: string;
} {
  const chunk = (body: unknown): string => `data: ${JSON.stringify(body)}\n\n`;
  return {
    start: chunk({ choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] }),
    token: (i) =>
      chunk({ choices: [{ index: 0, delta: { content: `t${i} ` }, finish_reason: null }] }),
    end:
      chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) +
      chunk({ choices: [], usage: { prompt_tokens: 12, completion_tokens: tokens } }) +
      'data: [DONE]\n\n',
  };
}

function anthropicFrames(tokens: number): {
  start: string;
  token: (i: number) => string;
  end: string;
} {
  const event = (name: string, body: unknown): string =>
    `event: ${name}\ndata: ${JSON.stringify({ type: name, ...(body as object) })}\n\n`;
  return {
    start:
      event('message_start', { message: { usage: { input_tokens: 12, output_tokens: 0 } } }) +
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    token: (i) =>
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: `t${i} ` } }),
    end:
      event('content_block_stop', { index: 0 }) +
      event('message_delta', {
        delta: { stop_reason: 'end_turn' },
        usage: { output_tokens: tokens },
      }) +
      event('message_stop', {}),
  };
}

function errorFrame(format: 'openai' | 'anthropic', type: string): string {
  const body = { type: 'error', error: { type, message: 'Overloaded' } };
  return format === 'anthropic'
    ? `event: error\ndata: ${JSON.stringify(body)}\n\n`
    : `data: ${JSON.stringify({ error: body.error })}\n\n`;
}

function jsonCompletion(format: 'openai' | 'anthropic', text: string): string {
  if (format === 'openai') {
    return JSON.stringify({
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 7, completion_tokens: 3 },
    });
  }
  return JSON.stringify({
    content: [{ type: 'text', text }],
    stop_reason: 'max_tokens',
    usage: { input_tokens: 7, output_tokens: 3 },
  });
}
