import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { Pool } from 'undici';

import { type Clock, systemClock } from '../../../src/platform/clock.js';
import { DispatchGate, ResponseChannel } from '../../../src/platform/providers/response-channel.js';

/** Upper bound for any wait on the test server, so a broken case fails instead of hanging. */
const WAIT_LIMIT_MS = 2_000;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A loopback HTTP server that records what it saw of each request and connection. */
interface TestServer {
  origin: string;
  /** Request paths in arrival order. */
  paths: string[];
  /** Client port of the connection behind each request, in arrival order. */
  remotePorts: number[];
  /** TCP connections accepted so far. */
  connections: number;
  /** Resolves when the next accepted connection closes. */
  nextSocketClose(): Promise<void>;
  close(): Promise<void>;
}

async function startServer(handler: Handler): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const closeWaiters: Array<() => void> = [];
  const server: Server = createServer();
  const log: TestServer = {
    origin: '',
    paths: [],
    remotePorts: [],
    connections: 0,
    nextSocketClose: () => new Promise<void>((resolve) => closeWaiters.push(resolve)),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    log.paths.push(req.url ?? '');
    log.remotePorts.push(req.socket.remotePort ?? -1);
    handler(req, res);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    log.connections += 1;
    socket.on('close', () => {
      sockets.delete(socket);
      closeWaiters.shift()?.();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  log.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return log;
}

/** Resolves with `promise`, or rejects naming `operation` when it takes longer than `limitMs`. */
async function within<T>(
  promise: Promise<T>,
  operation: string,
  limitMs = WAIT_LIMIT_MS,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${operation} timed out after ${limitMs} ms`)),
      limitMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads the rest of a channel's body as text. */
function readText(channel: ResponseChannel): Promise<string> {
  return within(
    channel.text(() => undefined),
    'reading the body',
  );
}

/** Wraps the system clock to count the timers cleared through it. */
function countingClock(): Clock & { cleared: number } {
  const clock = {
    ...systemClock,
    cleared: 0,
    clearTimeout: (handle: NodeJS.Timeout) => {
      clock.cleared += 1;
      systemClock.clearTimeout(handle);
    },
  };
  return clock;
}

describe('ResponseChannel', () => {
  let server: TestServer | undefined;
  let pool: Pool | undefined;
  /** Gate with one slot per pool connection, as the provider client sets it up. */
  let gate = new DispatchGate(4);
  /** Responses the server keeps open, destroyed after each test so none outlives a failed one. */
  const heldResponses: ServerResponse[] = [];

  async function setup(
    handler: Handler,
    connections = 4,
  ): Promise<{ dispatcher: Pool; log: TestServer }> {
    const log = await startServer(handler);
    server = log;
    pool = new Pool(log.origin, { connections, headersTimeout: 0, bodyTimeout: 0 });
    gate = new DispatchGate(connections);
    return { dispatcher: pool, log };
  }

  function get(dispatcher: Pool, path: string): ResponseChannel {
    return ResponseChannel.open(dispatcher, { method: 'GET', path }, gate);
  }

  afterEach(async () => {
    for (const res of heldResponses.splice(0)) res.destroy();
    await pool?.destroy();
    await server?.close();
    pool = undefined;
    server = undefined;
  });

  it('reads the head, then each chunk in order', async () => {
    const { dispatcher } = await setup((_req, res) => {
      res.writeHead(201, { 'X-Trace-Id': 'trace-7', 'Content-Type': 'text/plain' });
      res.write('one');
      res.write('two');
      res.end('three');
    });
    const channel = get(dispatcher, '/chunks');

    const head = await within(channel.head(), 'head');
    assert.equal(head.status, 201);
    assert.equal(head.headers['x-trace-id'], 'trace-7');
    assert.equal(head.headers['content-type'], 'text/plain');
    assert.equal(head.headers['X-Trace-Id'], undefined);

    const chunks: string[] = [];
    for (let chunk = await channel.next(); chunk !== undefined; chunk = await channel.next()) {
      chunks.push(chunk.toString('utf8'));
    }
    assert.deepEqual(chunks, ['one', 'two', 'three']);
    assert.equal(channel.ended, true);
    assert.equal(await channel.next(), undefined);
  });

  it('pauses the connection for a slow reader', async () => {
    // The server writes until the socket buffers on both sides are full, however large
    // the kernel makes them. Once the test has seen it wait, it ends the body 16 blocks later.
    const blockBytes = 64 * 1024;
    const maxBlocks = 1024;
    const sent = createHash('sha256');
    const progress = { blocksWritten: 0, endAfterBlocks: maxBlocks, waitingForDrain: false };
    const { dispatcher } = await setup((_req, res) => {
      heldResponses.push(res);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      void (async () => {
        while (progress.blocksWritten < progress.endAfterBlocks) {
          const block = Buffer.alloc(blockBytes, progress.blocksWritten % 251);
          block.writeUInt32BE(progress.blocksWritten, 0);
          sent.update(block);
          progress.blocksWritten += 1;
          if (!res.write(block)) {
            progress.waitingForDrain = true;
            await once(res, 'drain');
            progress.waitingForDrain = false;
          }
        }
        res.end();
      })().catch(() => undefined);
    });
    const channel = get(dispatcher, '/large');
    await within(channel.head(), 'head');

    // With the channel unread, wait until the server has written nothing for 200 ms, or 3 s passed.
    let steadyPolls = 0;
    for (let poll = 0; poll < 60 && steadyPolls < 4; poll += 1) {
      const before = progress.blocksWritten;
      await sleep(50);
      steadyPolls = progress.blocksWritten === before ? steadyPolls + 1 : 0;
    }
    assert.equal(progress.waitingForDrain, true);
    assert.ok(
      progress.blocksWritten < maxBlocks,
      `server wrote all ${maxBlocks} blocks while nobody read`,
    );
    assert.equal(steadyPolls, 4);
    progress.endAfterBlocks = progress.blocksWritten + 16;

    const received = createHash('sha256');
    let receivedBytes = 0;
    let chunks = 0;
    const readAll = async (): Promise<void> => {
      for (let chunk = await channel.next(); chunk !== undefined; chunk = await channel.next()) {
        received.update(chunk);
        receivedBytes += chunk.length;
        chunks += 1;
      }
    };
    await within(readAll(), 'reading the body');
    assert.equal(receivedBytes, progress.endAfterBlocks * blockBytes);
    assert.equal(received.digest('hex'), sent.digest('hex'));
    assert.ok(chunks > 16, `body arrived in ${chunks} chunks`);
  });

  it('rejects a request aborted in the pool queue', async () => {
    let firstArrived: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => {
      firstArrived = resolve;
    });
    const { dispatcher, log } = await setup((req, res) => {
      res.writeHead(200);
      if (req.url === '/hold') {
        heldResponses.push(res);
        res.write('heldResponses');
        firstArrived();
        return;
      }
      res.end(`done ${req.url}`);
    }, 1);
    const first = get(dispatcher, '/hold');
    await within(arrived, 'first request');
    const queued = get(dispatcher, '/queued');

    const waiting = queued.head();
    const reason = new Error('caller gave up');
    const startedAt = performance.now();
    queued.abort(reason);
    await assert.rejects(within(waiting, 'aborted head'), (error) => error === reason);
    assert.ok(performance.now() - startedAt < 100);
    await assert.rejects(queued.next(), (error) => error === reason);

    // The first request is still open: the rejection did not wait for it.
    assert.deepEqual(log.paths, ['/hold']);
    heldResponses[0]?.end(' released');
    assert.equal(await readText(first), 'heldResponses released');

    // The aborted request never left the gate, so the next one reuses the only
    // connection and the pool has nothing to skip.
    const after = get(dispatcher, '/after');
    assert.equal(await readText(after), 'done /after');
    assert.deepEqual(log.paths, ['/hold', '/after']);
    assert.equal(log.connections, 1);
    assert.equal(gate.waiting, 0);
  });

  it('rejects a pending next() on abort mid-body', async () => {
    const { dispatcher } = await setup((_req, res) => {
      heldResponses.push(res);
      res.writeHead(200);
      res.write('first');
    });
    const channel = get(dispatcher, '/open');
    await within(channel.head(), 'head');
    assert.equal((await within(channel.next(), 'first chunk'))?.toString(), 'first');

    const pending = channel.next();
    const reason = new Error('deadline exceeded');
    channel.abort(reason);
    await assert.rejects(within(pending, 'pending chunk'), (error) => error === reason);
    assert.equal(channel.ended, false);
  });

  it('closes the socket on release without drain', async () => {
    const { dispatcher, log } = await setup((_req, res) => {
      heldResponses.push(res);
      res.writeHead(200);
      res.write('part');
    });
    const channel = get(dispatcher, '/open');
    await within(channel.head(), 'head');
    await within(channel.next(), 'first chunk');
    const closed = log.nextSocketClose();

    channel.release(false, systemClock, 1_000);
    await within(closed, 'socket close');
    await assert.rejects(within(channel.next(), 'next after release'), /released before its end/);
  });

  it('keeps the socket when a drained body ends', async () => {
    const { dispatcher, log } = await setup((req, res) => {
      res.writeHead(200);
      if (req.url !== '/slow-end') {
        res.end('second');
        return;
      }
      heldResponses.push(res);
      res.write('part');
      setTimeout(() => res.end(' rest'), 50);
    }, 1);
    const channel = get(dispatcher, '/slow-end');
    await within(channel.head(), 'head');
    assert.equal((await within(channel.next(), 'first chunk'))?.toString(), 'part');
    const clock = countingClock();

    channel.release(true, clock, 1_000);
    const second = get(dispatcher, '/second');
    assert.equal(await readText(second), 'second');

    assert.equal(channel.ended, true);
    assert.equal(clock.cleared, 1);
    assert.equal(log.connections, 1);
    assert.equal(log.remotePorts.length, 2);
    assert.equal(log.remotePorts[1], log.remotePorts[0]);
  });

  it('resumes a paused body on drain', async () => {
    const { dispatcher, log } = await setup((req, res) => {
      res.writeHead(200);
      if (req.url !== '/many-chunks') {
        res.end('second');
        return;
      }
      // Each write is one HTTP chunk, and 40 unread chunks pause the channel at 16.
      for (let index = 0; index < 40; index += 1) res.write(`chunk ${index};`);
      res.end();
    }, 1);
    const channel = get(dispatcher, '/many-chunks');
    await within(channel.head(), 'head');
    await sleep(50);
    assert.equal(channel.ended, false);

    channel.release(true, systemClock, 1_000);
    const second = get(dispatcher, '/second');
    assert.equal(await readText(second), 'second');

    assert.equal(channel.ended, true);
    assert.equal(log.connections, 1);
  });

  it('destroys a drained body that never ends', async () => {
    const { dispatcher, log } = await setup((_req, res) => {
      heldResponses.push(res);
      res.writeHead(200);
      res.write('part');
    });
    const channel = get(dispatcher, '/endless');
    await within(channel.head(), 'head');
    await within(channel.next(), 'first chunk');
    const closed = log.nextSocketClose();

    const releasedAt = performance.now();
    channel.release(true, systemClock, 100);
    await assert.rejects(within(channel.next(), 'drain limit'), /released before its end/);
    const elapsedMs = performance.now() - releasedAt;
    assert.ok(elapsedMs >= 90, `destroyed after ${elapsedMs} ms, before the 100 ms limit`);
    assert.ok(elapsedMs < 1_000, `destroyed after ${elapsedMs} ms`);
    await within(closed, 'socket close');
    assert.equal(channel.ended, false);
  });

  it('rejects head() on a refused connection', async () => {
    const closedServer = await startServer(() => undefined);
    await closedServer.close();
    pool = new Pool(closedServer.origin, { connections: 1 });
    gate = new DispatchGate(1);
    const channel = get(pool, '/refused');

    await assert.rejects(within(channel.head(), 'head'), { code: 'ECONNREFUSED' });
    await assert.rejects(channel.next(), { code: 'ECONNREFUSED' });
  });
});
