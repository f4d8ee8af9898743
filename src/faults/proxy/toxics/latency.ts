import { END, INTERRUPTED, type ToxicBehaviour } from '../stage.js';

/**
 * Delays each chunk until `latency` ± `jitter` ms after it arrived, so chunks stay
 * pipelined: a second chunk is not delayed by the first one's wait.
 */
export const latency: ToxicBehaviour = async (attributes, run) => {
  const base = attributes.latency ?? 0;
  const jitter = attributes.jitter ?? 0;
  for (;;) {
    const item = await run.next();
    if (item === INTERRUPTED) {
      return;
    }
    if (item === END) {
      run.forwardEnd();
      return;
    }
    const delay = base + (run.random() * 2 - 1) * jitter;
    const completed = await run.sleep(item.receivedAt + delay - run.clock.monotonic());
    run.forward(item);
    if (!completed) {
      return;
    }
  }
};
