import { END, INTERRUPTED, type ToxicBehaviour } from '../stage.js';

/** Passes data unchanged but delays the end of the stream (FIN) by `delay` ms. */
export const slowClose: ToxicBehaviour = async (attributes, run) => {
  for (;;) {
    const item = await run.next();
    if (item === INTERRUPTED) {
      return;
    }
    if (item === END) {
      await run.sleep(attributes.delay ?? 0);
      run.forwardEnd();
      return;
    }
    run.forward(item);
  }
};
