import { type Chunk, END, INTERRUPTED, type ToxicBehaviour, type ToxicRun } from '../stage.js';

/**
 * Splits each chunk into pieces of `average_size` ± `size_variation` bytes and waits
 * `delay` microseconds after each piece. An average size of 0 leaves chunks whole.
 */
export const slicer: ToxicBehaviour = async (attributes, run) => {
  const average = attributes.average_size ?? 0;
  const variation = Math.min(attributes.size_variation ?? 0, Math.max(0, average - 1));
  const delayMs = (attributes.delay ?? 0) / 1000;
  for (;;) {
    const item = await run.next();
    if (item === INTERRUPTED) {
      return;
    }
    if (item === END) {
      run.forwardEnd();
      return;
    }
    if (average < 1) {
      run.forward(item);
    } else if (!(await sendSliced(item, { average, variation, delayMs }, run))) {
      return;
    }
  }
};

interface SliceShape {
  readonly average: number;
  readonly variation: number;
  readonly delayMs: number;
}

/** Sends `chunk` in pieces; false when interrupted, after sending the rest at once. */
async function sendSliced(chunk: Chunk, shape: SliceShape, run: ToxicRun): Promise<boolean> {
  let offset = 0;
  while (offset < chunk.data.length) {
    const drawn = shape.average + Math.round((run.random() * 2 - 1) * shape.variation);
    const end = Math.min(chunk.data.length, offset + Math.max(1, Math.floor(drawn)));
    run.forward({ data: chunk.data.subarray(offset, end), receivedAt: chunk.receivedAt });
    offset = end;
    if (shape.delayMs > 0 && !(await run.sleep(shape.delayMs))) {
      run.forward({ data: chunk.data.subarray(offset), receivedAt: chunk.receivedAt });
      return false;
    }
  }
  return true;
}
