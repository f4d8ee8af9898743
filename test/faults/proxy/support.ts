import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP or HTTP server a test started on 127.0.0.1, with its address. */
export interface TestServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts `server` on 127.0.0.1 with a free port; close() also drops open connections. */
async function listenLocal(server: Server): Promise<TestServer> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // Toxics such as reset_peer reset the upstream side too; that is expected here.
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Starts a TCP server that writes back every byte it receives, and calls `onEcho` with each
 * chunk it has handed to the socket.
 */
export function startEchoServer(onEcho?: (chunk: Buffer) => void): Promise<TestServer> {
  if (onEcho === undefined) return listenLocal(createServer((socket) => socket.pipe(socket)));
  return listenLocal(
    createServer((socket) => {
      socket.on('data', (chunk: Buffer) => {
        socket.write(chunk);
        onEcho(chunk);
      });
      socket.on('end', () => socket.end());
    }),
  );
}

/** Starts a TCP server that sends `payload` to each connection and then closes it. */
export function startSendServer(payload: Buffer): Promise<TestServer> {
  return listenLocal(createServer((socket) => socket.end(payload)));
}

/** Starts an HTTP server that responds `ok` after `delayMs` and keeps connections open. */
export function startHttpServer(delayMs = 0): Promise<TestServer> {
  const server = createHttpServer((_request, response) => {
    setTimeout(() => response.end('ok'), delayMs);
  });
  // Idle keep-alive connections stay open longer than the slowest test waits.
  server.keepAliveTimeout = 30_000;
  return listenLocal(server);
}

/** Returns a unique proxy name, so tests against a shared Toxiproxy do not collide. */
export function uniqueName(label: string): string {
  return `sg_${label}_${randomBytes(4).toString('hex')}`;
}

/** Returns the port of a `host:port` listen address. */
export function portOf(listen: string): number {
  const port = Number(listen.slice(listen.lastIndexOf(':') + 1));
  assert.ok(Number.isInteger(port), `listen address has no port: ${listen}`);
  assert.ok(port > 0, `listen address has port 0: ${listen}`);
  return port;
}

/** Opens a TCP connection to 127.0.0.1:`port`. */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** What a socket received until it closed or the wait ended. */
export interface SocketOutcome {
  readonly data: Buffer;
  readonly chunks: number;
  readonly maxChunk: number;
  readonly closed: boolean;
  readonly errorCode: string | undefined;
  /** Milliseconds from the call until close, or until the wait ended. */
  readonly elapsedMs: number;
}

/**
 * Collects what `socket` receives until it closes, until `until` returns true for the
 * bytes so far, or until `maxMs` passes (the socket then stays open).
 */
export function collect(
  socket: Socket,
  maxMs: number,
  until?: (data: Buffer) => boolean,
): Promise<SocketOutcome> {
  const started = performance.now();
  const parts: Buffer[] = [];
  let maxChunk = 0;
  let errorCode: string | undefined;
  return new Promise((resolve) => {
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      const data = Buffer.concat(parts);
      const elapsedMs = performance.now() - started;
      resolve({ data, chunks: parts.length, maxChunk, closed, errorCode, elapsedMs });
    };
    const onData = (chunk: Buffer): void => {
      parts.push(chunk);
      maxChunk = Math.max(maxChunk, chunk.length);
      // Joining the parts on every read would make a large transfer quadratic, so only a test
      // that stops early pays for it.
      if (until?.(Buffer.concat(parts))) finish(false);
    };
    const onClose = (): void => finish(true);
    const timer = setTimeout(() => finish(false), maxMs);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      errorCode = error.code;
    });
  });
}

/** Sends `text` and resolves with the milliseconds until as many bytes came back. */
export async function echoRoundTrip(socket: Socket, text: string, maxMs = 5000): Promise<number> {
  const started = performance.now();
  const pending = collect(socket, maxMs, (data) => data.length >= text.length);
  socket.write(text);
  const outcome = await pending;
  assert.equal(outcome.data.toString(), text);
  return performance.now() - started;
}

/** Milliseconds for one HTTP GET on a fresh connection to 127.0.0.1:`port`. */
export function timeHttpGet(port: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, path: '/', agent: false },
      (response) => {
        response.resume();
        response.on('end', () => resolve(performance.now() - started));
      },
    );
    request.setTimeout(5000, () => request.destroy(new Error('HTTP request timed out after 5 s')));
    request.on('error', reject);
    request.end();
  });
}

/**
 * Returns the HTTP status of a failed client call. toxiproxy-node-client reports only
 * "Request failed with status code N", so the status is read from that message.
 */
export async function statusOf(action: Promise<unknown>): Promise<number> {
  const error = await action.then(
    () => assert.fail('expected the request to fail'),
    (failure: unknown) => failure,
  );
  const match = /status code (\d{3})/.exec(error instanceof Error ? error.message : '');
  assert.ok(match?.[1], `error carries no status: ${String(error)}`);
  return Number(match[1]);
}

/** Runs a client call that must fail and returns its error response, read by wrapping fetch. */
export async function errorResponseOf(
  action: () => Promise<unknown>,
): Promise<{ status: number; body: { error: string; status: number } }> {
  const original = globalThis.fetch;
  let captured: { status: number; text: string } | undefined;
  globalThis.fetch = async (input, init) => {
    const response = await original(input, init);
    if (!response.ok) captured = { status: response.status, text: await response.clone().text() };
    return response;
  };
  try {
    await action().then(
      () => assert.fail('expected the request to fail'),
      () => undefined,
    );
  } finally {
    globalThis.fetch = original;
  }
  assert.ok(captured, 'no error response was captured');
  return { status: captured.status, body: JSON.parse(captured.text) };
}
