import assert from 'node:assert/strict';
import { connect, Socket } from 'node:net';

import { createParser, type EventSourceMessage } from 'eventsource-parser';
import sinon from 'sinon';
import { request } from 'undici';

import { completionText } from '../../../src/faults/providers/completion-plan.js';
import {
  FAULTS_PATH,
  type FaultConfig,
  type MockProvider,
} from '../../../src/faults/providers/index.js';
import {
  ANTHROPIC_AUTH,
  chatBody,
  INSTANT_MODEL,
  messagesBody,
  OPENAI_AUTH,
  openAiContent,
  openAiFinishReasons,
  startInstant,
} from './support.js';

/** Upper bound for one raw exchange, so a broken stream fails instead of hanging. */
const EXCHANGE_LIMIT_MS = 5_000;

/** Bytes and SSE events a raw client read from one streamed response. */
interface RawStream {
  /** Bytes of each socket read, in arrival order. The first read starts with the HTTP head. */
  reads: Buffer[];
  status: number;
  /** SSE events of the de-chunked body. */
  events: EventSourceMessage[];
  /** Whether the body ended with its terminating zero-length chunk. */
  complete: boolean;
  /** Whether the server closed the connection. */
  closedByServer: boolean;
  /** Whether reading stopped because no bytes arrived for `idleMs`. */
  idle: boolean;
  /** Client port of the connection, to find the server's end of it. */
  localPort: number;
}

/**
 * POSTs a streaming request over a plain TCP socket and records each socket read, until the
 * chunked body ends, the server closes the connection, or no bytes arrive for `idleMs`.
 */
function readRawStream(
  url: string,
  path: string,
  body: Record<string, unknown>,
  headers: Record<string, string>,
  idleMs = 1_000,
): Promise<RawStream> {
  const { hostname, port } = new URL(url);
  const payload = JSON.stringify({ ...body, stream: true });
  const head = [
    `POST ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(payload)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return new Promise((resolve, reject) => {
    const reads: Buffer[] = [];
    let closedByServer = false;
    let idle = false;
    let settled = false;
    const socket = connect(Number(port), hostname, () => {
      socket.write(`${head.join('\r\n')}\r\n\r\n${payload}`);
    });
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(idleTimer);
      clearTimeout(limitTimer);
      const localPort = socket.localPort ?? -1;
      socket.destroy();
      resolve({ reads, closedByServer, idle, localPort, ...decodeResponse(Buffer.concat(reads)) });
    };
    let idleTimer = setTimeout(() => undefined, 0);
    const armIdle = (): void => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        idle = true;
        finish();
      }, idleMs);
    };
    const limitTimer = setTimeout(() => {
      settled = true;
      socket.destroy();
      reject(new Error(`stream did not end within ${EXCHANGE_LIMIT_MS} ms`));
    }, EXCHANGE_LIMIT_MS);
    armIdle();
    socket.on('data', (data: Buffer) => {
      reads.push(data);
      armIdle();
      if (decodeResponse(Buffer.concat(reads)).complete) finish();
    });
    socket.once('end', () => {
      closedByServer = true;
      finish();
    });
    socket.once('error', (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(idleTimer);
      clearTimeout(limitTimer);
      reject(error);
    });
  });
}

/** Splits an HTTP/1.1 response into its status and the SSE events of its chunked body. */
function decodeResponse(raw: Buffer): Pick<RawStream, 'status' | 'events' | 'complete'> {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) return { status: 0, events: [], complete: false };
  const statusLine = raw.subarray(0, raw.indexOf('\r\n')).toString('latin1');
  const status = Number(statusLine.split(' ')[1]);
  const body: Buffer[] = [];
  let complete = false;
  let offset = headEnd + 4;
  for (;;) {
    const sizeEnd = raw.indexOf('\r\n', offset);
    if (sizeEnd < 0) break;
    const size = Number.parseInt(raw.subarray(offset, sizeEnd).toString('latin1'), 16);
    if (size === 0) {
      complete = raw.length >= sizeEnd + 4;
      break;
    }
    const dataEnd = sizeEnd + 2 + size;
    if (raw.length < dataEnd + 2) break;
    body.push(raw.subarray(sizeEnd + 2, dataEnd));
    offset = dataEnd + 2;
  }
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event) });
  parser.feed(Buffer.concat(body).toString('utf8'));
  return { status, events, complete };
}

/** Replaces the provider's faults through the control endpoint. */
async function putFaults(provider: MockProvider, faults: FaultConfig): Promise<void> {
  const response = await request(`${provider.url}${FAULTS_PATH}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  await response.body.dump();
  assert.equal(response.statusCode, 200);
}

const forced = (tokens: number) => ({ ...OPENAI_AUTH, 'x-scalegate-output-tokens': `${tokens}` });

/** Builds a model profile with no time to first token that writes `tokensPerSecond`. */
const pacedModel = (tokensPerSecond: number) => ({
  ...INSTANT_MODEL,
  outputTokensPerSecond: { mean: tokensPerSecond, stddev: 0 },
});

describe('MockProvider stream bursts', () => {
  let provider: MockProvider | undefined;
  let writes: sinon.SinonSpy[] = [];

  beforeEach(() => {
    writes = [sinon.spy(Socket.prototype, '_write'), sinon.spy(Socket.prototype, '_writev')];
  });

  afterEach(async () => {
    sinon.restore();
    await provider?.close();
    provider = undefined;
  });

  /** Counts the socket writes the server made on the connection whose client port is `localPort`. */
  function serverWrites(localPort: number): number {
    return writes
      .flatMap((spy) => spy.thisValues as Socket[])
      .filter((socket) => socket.remotePort === localPort).length;
  }

  it('delivers an instant OpenAI stream whole', async () => {
    provider = await startInstant();
    const url = provider.url;
    const result = await readRawStream(url, '/v1/chat/completions', chatBody(), forced(200));

    assert.equal(result.status, 200);
    assert.equal(result.complete, true);
    const content = openAiContent(result.events);
    assert.equal(content.length, 200);
    assert.equal(content.join(''), completionText(200));
    assert.deepEqual(openAiFinishReasons(result.events), ['stop']);
    assert.equal(result.events.at(-1)?.data, '[DONE]');
  });

  it('delivers an instant Anthropic stream whole', async () => {
    provider = await startInstant(undefined, { format: 'anthropic' });
    const headers = { ...ANTHROPIC_AUTH, 'x-scalegate-output-tokens': '120' };
    const result = await readRawStream(provider.url, '/v1/messages', messagesBody(), headers);

    assert.equal(result.status, 200);
    assert.equal(result.complete, true);
    const deltas = result.events.filter((event) => event.event === 'content_block_delta');
    assert.equal(deltas.length, 120);
    assert.equal(result.events.at(-1)?.event, 'message_stop');
  });

  it('writes an instant stream in two writes', async () => {
    provider = await startInstant();
    const url = provider.url;
    const result = await readRawStream(url, '/v1/chat/completions', chatBody(), forced(200));

    assert.equal(result.complete, true);
    // One write for the head and every token, one for the tail and the last chunk.
    assert.equal(serverWrites(result.localPort), 2);
  });

  it('delivers every token before a cut', async () => {
    provider = await startInstant();
    await putFaults(provider, { streamCutAfterTokens: 25 });
    const url = provider.url;
    const result = await readRawStream(url, '/v1/chat/completions', chatBody(), forced(100));

    assert.equal(result.status, 200);
    assert.equal(result.closedByServer, true);
    assert.equal(result.complete, false);
    assert.equal(openAiContent(result.events).length, 25);
    assert.equal(openAiContent(result.events).join(''), completionText(25));
    assert.deepEqual(openAiFinishReasons(result.events), []);
  });

  it('delivers the head alone before a cut at zero', async () => {
    provider = await startInstant();
    await putFaults(provider, { streamCutAfterTokens: 0 });
    const url = provider.url;
    const result = await readRawStream(url, '/v1/chat/completions', chatBody(), forced(10));

    assert.equal(result.status, 200);
    assert.equal(result.closedByServer, true);
    assert.equal(result.events.length, 1);
    assert.deepEqual(openAiContent(result.events), []);
  });

  it('delivers paced tokens written before a cut', async () => {
    provider = await startInstant(undefined, { models: [pacedModel(100)] });
    await putFaults(provider, { streamCutAfterTokens: 3 });
    const url = provider.url;
    const result = await readRawStream(url, '/v1/chat/completions', chatBody(), forced(10));

    assert.equal(result.closedByServer, true);
    assert.equal(result.complete, false);
    assert.deepEqual(openAiContent(result.events), ['The', ' mock', ' model']);
  });

  it('sends the head and first token before a stall', async () => {
    provider = await startInstant({ stallAfterFirstToken: true });
    const url = provider.url;
    const result = await readRawStream(url, '/v1/chat/completions', chatBody(), forced(10), 300);

    assert.equal(result.status, 200);
    assert.equal(result.idle, true);
    assert.equal(result.closedByServer, false);
    assert.equal(result.complete, false);
    // The role chunk that opens the stream, then the first token.
    assert.equal(result.events.length, 2);
    assert.deepEqual(openAiContent(result.events), ['The']);
  });

  it('sends paced tokens in separate chunks', async () => {
    // At 40 tokens/s the six tokens are due 25 ms apart, from 0 ms to 125 ms.
    provider = await startInstant(undefined, { models: [pacedModel(40)] });
    const url = provider.url;
    const result = await readRawStream(url, '/v1/chat/completions', chatBody(), forced(6));

    assert.equal(result.complete, true);
    assert.equal(openAiContent(result.events).join(''), completionText(6));
    assert.ok(result.reads.length >= 5, `stream arrived in ${result.reads.length} socket reads`);
    assert.ok(serverWrites(result.localPort) >= 6);
  });
});
