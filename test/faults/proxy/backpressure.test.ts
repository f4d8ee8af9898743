import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';

import { Toxiproxy } from 'toxiproxy-node-client';

import { systemClock } from '../../../src/platform/clock.js';
import { type PausableSource, SourceBackpressure } from '../../../src/faults/proxy/backpressure.js';
import {
  type FaultProxyHandle,
  MAX_CHUNK_BYTES,
  STAGE_BUFFER_BYTES,
  startFaultProxy,
} from '../../../src/faults/proxy/index.js';
import {
  type Chunk,
  type ChunkSink,
  END,
  INTERRUPTED,
  type ToxicBehaviour,
  ToxicStage,
} from '../../../src/faults/proxy/stage.js';
import { passThrough } from '../../../src/faults/proxy/toxics/pass-through.js';
import { openSocket, portOf, type TestServer, uniqueName } from './support.js';

/** Largest chunk one socket read returns in Node, which a stage may queue past its bound. */
const MAX_READ_BYTES = 64 * 1024;
const PAYLOAD_BYTES = 64 * 1024 * 1024;

/** A source that records its pause and resume calls. */
class RecordingSource implements PausableSource {
  readonly calls: string[] = [];
  pause(): void {
    this.calls.push('pause');
  }
  resume(): void {
    this.calls.push('resume');
  }
}

/** A sink that keeps what it receives. */
class ArraySink implements ChunkSink {
  readonly chunks: Buffer[] = [];
  ended = false;
  write(chunk: Chunk): void {
    this.chunks.push(chunk.data);
  }
  end(): void {
    this.ended = true;
  }
}

/** Returns a behaviour that takes one queued item per permit, and `grant`, which grants permits. */
function steppedBehaviour(): {
  behaviour: ToxicBehaviour;
  grant: (count: number) => Promise<void>;
} {
  let permits = 0;
  let wake: (() => void) | undefined;
  let onTaken: (() => void) | undefined;
  const behaviour: ToxicBehaviour = async (_attributes, run) => {
    for (;;) {
      while (permits === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      permits -= 1;
      const item = await run.next();
      onTaken?.();
      if (item === INTERRUPTED || item === END) {
        return;
      }
      run.forward(item);
    }
  };
  const grant = async (count: number): Promise<void> => {
    for (let step = 0; step < count; step += 1) {
      const done = new Promise<void>((resolve) => {
        onTaken = resolve;
      });
      permits += 1;
      wake?.();
      await done;
    }
  };
  return { behaviour, grant };
}

function chunkOf(bytes: number, fill: number): Chunk {
  return { data: Buffer.alloc(bytes, fill), receivedAt: 0 };
}

/** Returns `bytes` bytes of a counting pattern, so a reordered or lost piece shows. */
function patternPayload(bytes: number): Buffer {
  const payload = Buffer.allocUnsafe(bytes);
  for (let index = 0; index < bytes; index += 1) {
    payload[index] = index % 251;
  }
  return payload;
}

/** Starts a TCP server that keeps every byte it receives on its first connection. */
async function startCollectServer(): Promise<
  TestServer & { received: () => Buffer; receivedBytes: () => number }
> {
  const parts: Buffer[] = [];
  let receivedBytes = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (data: Buffer) => {
      parts.push(data);
      receivedBytes += data.length;
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    address: `127.0.0.1:${port}`,
    port,
    received: () => Buffer.concat(parts),
    receivedBytes: () => receivedBytes,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Writes `payload` in 64 KiB pieces as fast as the socket accepts them, waiting on drain. */
function writeFast(socket: Socket, payload: Buffer): { handed: () => number; done: Promise<void> } {
  let handed = 0;
  const done = (async () => {
    while (handed < payload.length && !socket.destroyed) {
      const piece = payload.subarray(handed, handed + MAX_READ_BYTES);
      handed += piece.length;
      if (!socket.write(piece)) {
        await new Promise<void>((resolve) => {
          const settle = (): void => {
            socket.off('drain', settle);
            socket.off('close', settle);
            resolve();
          };
          socket.on('drain', settle);
          socket.on('close', settle);
        });
      }
    }
  })();
  return { handed: () => handed, done };
}

/** Polls `condition` every 20 ms until it is true or `maxMs` passes, and returns its last value. */
async function waitFor(condition: () => boolean, maxMs: number): Promise<boolean> {
  const deadline = performance.now() + maxMs;
  while (!condition()) {
    if (performance.now() > deadline) {
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

describe('SourceBackpressure', () => {
  it('stays paused until every holder releases', () => {
    const source = new RecordingSource();
    const backpressure = new SourceBackpressure(source);
    const stage = {};
    const sink = {};
    backpressure.hold(stage);
    backpressure.hold(sink);
    backpressure.release(stage);
    assert.deepEqual(source.calls, ['pause']);
    assert.equal(backpressure.paused, true);
    backpressure.release(sink);
    assert.deepEqual(source.calls, ['pause', 'resume']);
    assert.equal(backpressure.paused, false);
  });

  it('counts a repeated hold once', () => {
    const source = new RecordingSource();
    const backpressure = new SourceBackpressure(source);
    const holder = {};
    backpressure.hold(holder);
    backpressure.hold(holder);
    backpressure.release(holder);
    assert.deepEqual(source.calls, ['pause', 'resume']);
    backpressure.release(holder);
    assert.deepEqual(source.calls, ['pause', 'resume']);
  });
});

describe('ToxicStage backpressure', () => {
  const quarter = STAGE_BUFFER_BYTES / 4;

  function startStage(
    behaviour: ToxicBehaviour,
    source: RecordingSource,
    sink: ChunkSink,
    maxQueuedChunks?: number,
  ) {
    const connection = { close: () => undefined, reset: () => undefined };
    const backpressure = new SourceBackpressure(source);
    const options = {
      clock: systemClock,
      random: Math.random,
      connection,
      backpressure,
      endStream: () => undefined,
      maxQueuedChunks,
    };
    return new ToxicStage(behaviour, {}, sink, options);
  }

  it('pauses the source once its queue exceeds the bound', () => {
    const source = new RecordingSource();
    const { behaviour } = steppedBehaviour();
    const stage = startStage(behaviour, source, new ArraySink());
    for (let index = 0; index < 4; index += 1) stage.write(chunkOf(quarter, index));
    assert.equal(stage.queuedBytes, STAGE_BUFFER_BYTES);
    assert.deepEqual(source.calls, []);
    stage.write(chunkOf(1, 4));
    assert.equal(stage.queuedBytes, STAGE_BUFFER_BYTES + 1);
    assert.deepEqual(source.calls, ['pause']);
    stage.stop();
  });

  it('resumes the source once drained to half the bound', async () => {
    const source = new RecordingSource();
    const sink = new ArraySink();
    const { behaviour, grant } = steppedBehaviour();
    const stage = startStage(behaviour, source, sink);
    for (let index = 0; index < 6; index += 1) stage.write(chunkOf(quarter, index));
    assert.deepEqual(source.calls, ['pause']);
    await grant(3);
    assert.equal(stage.queuedBytes, 3 * quarter);
    assert.deepEqual(source.calls, ['pause']);
    await grant(1);
    assert.equal(stage.queuedBytes, 2 * quarter);
    assert.deepEqual(source.calls, ['pause', 'resume']);
    assert.deepEqual(
      sink.chunks.map((chunk) => chunk[0]),
      [0, 1, 2, 3],
    );
    stage.stop();
  });

  it('bounds a chunk-bounded queue by count', async () => {
    const source = new RecordingSource();
    const sink = new ArraySink();
    const { behaviour, grant } = steppedBehaviour();
    const stage = startStage(behaviour, source, sink, 4);
    for (let index = 0; index < 4; index += 1) stage.write(chunkOf(1, index));
    assert.deepEqual(source.calls, []);
    stage.write(chunkOf(1, 4));
    assert.deepEqual(source.calls, ['pause']);
    await grant(2);
    assert.deepEqual(source.calls, ['pause']);
    await grant(1);
    assert.deepEqual(source.calls, ['pause', 'resume']);
    assert.deepEqual(
      sink.chunks.map((chunk) => chunk[0]),
      [0, 1, 2],
    );
    stage.stop();
  });

  it('ignores bytes in a chunk-bounded queue', () => {
    const source = new RecordingSource();
    const { behaviour } = steppedBehaviour();
    const stage = startStage(behaviour, source, new ArraySink(), 4);
    for (let index = 0; index < 4; index += 1) stage.write(chunkOf(STAGE_BUFFER_BYTES, index));
    assert.equal(stage.queuedBytes, 4 * STAGE_BUFFER_BYTES);
    assert.deepEqual(source.calls, []);
    stage.stop();
  });

  it('restarts no behaviour once stopped', async () => {
    const stage = startStage(passThrough, new RecordingSource(), new ArraySink());
    let starts = 0;
    const counted: ToxicBehaviour = async () => {
      starts += 1;
    };
    const restarted = stage.restart({}, counted);
    stage.stop();
    await restarted;
    assert.equal(starts, 0);
    assert.equal(stage.behaviour, passThrough);
  });

  it('resumes the source when a flush hands the queue on', () => {
    const source = new RecordingSource();
    const sink = new ArraySink();
    const { behaviour } = steppedBehaviour();
    const stage = startStage(behaviour, source, new ArraySink());
    for (let index = 0; index < 5; index += 1) stage.write(chunkOf(quarter, index));
    stage.end();
    stage.flush(sink);
    assert.equal(stage.queuedBytes, 0);
    assert.deepEqual(source.calls, ['pause', 'resume']);
    assert.deepEqual(
      sink.chunks.map((chunk) => chunk[0]),
      [0, 1, 2, 3, 4],
    );
    assert.equal(sink.ended, true);
    stage.stop();
  });

  it('resumes the source when stopped with a full queue', () => {
    const source = new RecordingSource();
    const { behaviour } = steppedBehaviour();
    const stage = startStage(behaviour, source, new ArraySink());
    for (let index = 0; index < 5; index += 1) stage.write(chunkOf(quarter, index));
    stage.stop();
    assert.equal(stage.queuedBytes, 0);
    assert.deepEqual(source.calls, ['pause', 'resume']);
  });
});

describe('FaultProxy backpressure', () => {
  let server: FaultProxyHandle;
  let collector: Awaited<ReturnType<typeof startCollectServer>>;

  beforeEach(async () => {
    server = await startFaultProxy({ port: 0 });
    collector = await startCollectServer();
  });

  afterEach(async () => {
    await server.close();
    await collector.close();
  });

  // A latency toxic queues 1024 chunks of at most MAX_CHUNK_BYTES, as Toxiproxy 2.x does, and
  // its latency outlasts the 1.5 s slow phase, so no chunk leaves it before the removal.
  const cases = [
    { type: 'bandwidth' as const, attributes: { rate: 50 }, bound: STAGE_BUFFER_BYTES },
    {
      type: 'latency' as const,
      attributes: { latency: 10_000, jitter: 0 },
      bound: 1024 * MAX_CHUNK_BYTES,
    },
  ];

  for (const { type, attributes, bound } of cases) {
    it(`bounds a ${type} toxic's queue under a fast sender`, async function () {
      this.timeout(40_000);
      const payload = patternPayload(PAYLOAD_BYTES);
      const proxy = await new Toxiproxy(server.url).createProxy({
        name: uniqueName(`backpressure_${type}`),
        listen: '127.0.0.1:0',
        upstream: collector.address,
      });
      const toxic = await proxy.addToxic({
        name: 'slow',
        type,
        stream: 'upstream',
        toxicity: 1,
        attributes,
      });
      const socket = await openSocket(portOf(proxy.listen));
      socket.on('error', () => undefined);
      const writer = writeFast(socket, payload);

      let maxQueued = 0;
      const sampler = setInterval(() => {
        maxQueued = Math.max(maxQueued, server.queuedBytes());
      }, 5);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      clearInterval(sampler);
      const handedWhileSlow = writer.handed();

      await toxic.remove();
      await writer.done;
      const arrived = await waitFor(() => collector.receivedBytes() >= PAYLOAD_BYTES, 30_000);
      socket.destroy();
      await proxy.remove();

      assert.ok(maxQueued > 0, 'the toxic never queued anything');
      assert.ok(maxQueued <= bound + MAX_READ_BYTES, `queued ${maxQueued} bytes, bound ${bound}`);
      assert.ok(
        handedWhileSlow < PAYLOAD_BYTES,
        `the sender wrote all ${PAYLOAD_BYTES} bytes while the toxic was slow`,
      );
      assert.ok(arrived, `only ${collector.receivedBytes()} of ${PAYLOAD_BYTES} bytes arrived`);
      const received = collector.received();
      assert.equal(received.length, PAYLOAD_BYTES);
      assert.ok(received.equals(payload), 'the bytes arrived out of order or changed');
    });
  }
});
