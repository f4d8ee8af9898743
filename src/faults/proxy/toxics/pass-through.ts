import { END, INTERRUPTED, type ToxicBehaviour } from '../stage.js';

/** Forwards everything unchanged: a toxic on a connection its toxicity draw skipped. */
export const passThrough: ToxicBehaviour = async (_attributes, run) => {
  for (;;) {
    const item = await run.next();
    if (item === INTERRUPTED) {
      return;
    }
    if (item === END) {
      run.forwardEnd();
      return;
    }
    run.forward(item);
  }
};
