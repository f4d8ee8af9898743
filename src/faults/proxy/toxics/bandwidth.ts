import { type Chunk, END, INTERRUPTED, type ToxicBehaviour, type ToxicRun } from '../stage.js';

/** Maximum transfer time of one piece: chunks are split into pieces of at most 100 ms. */
const PIECE_MS = 100;

/**
 * Limits throughput to `rate` KB/s, where 1 KB is 1000 bytes as Toxiproxy 2.x computes
 * it (`rate` bytes per ms). A rate of 0 means unlimited.
 */
export const bandwidth: ToxicBehaviour = async (attributes, run) => {
  const rate = attributes.rate ?? 0;
  const pacer = { due: run.clock.monotonic() };
  for (;;) {
    const item = await run.next();
    if (item === INTERRUPTED) {
      return;
    }
    if (item === END) {
      run.forwardEnd();
      return;
    }
    if (rate <= 0) {
      run.forward(item);
    } else if (!(await sendPaced(item, rate, pacer, run))) {
      return;
    }
  }
};

/** Sends `chunk` in pieces, each after its transfer time; false when interrupted. */
async function sendPaced(
  chunk: Chunk,
  rate: number,
  pacer: { due: number },
  run: ToxicRun,
): Promise<boolean> {
  const pieceBytes = Math.max(1, Math.floor(rate * PIECE_MS));
  pacer.due = Math.max(pacer.due, run.clock.monotonic());
  for (let offset = 0; offset < chunk.data.length; offset += pieceBytes) {
    const data = chunk.data.subarray(offset, offset + pieceBytes);
    pacer.due += data.length / rate;
    if (!(await run.sleep(pacer.due - run.clock.monotonic()))) {
      run.forward({ data: chunk.data.subarray(offset), receivedAt: chunk.receivedAt });
      return false;
    }
    run.forward({ data, receivedAt: chunk.receivedAt });
  }
  return true;
}
