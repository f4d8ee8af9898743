import { END, INTERRUPTED, type ToxicBehaviour } from '../stage.js';

/**
 * Drops all data. With `timeout` > 0 it closes the connection that many ms after the
 * toxic started on it. With 0 it keeps the connection open until the toxic is removed,
 * and removing the toxic closes the connection (see `Link.removeToxic`).
 */
export const timeout: ToxicBehaviour = async (attributes, run) => {
  const ms = attributes.timeout ?? 0;
  let finished = false;
  if (ms > 0) {
    void run.sleep(ms).then((expired) => {
      if (expired && !finished) run.connection.close();
    });
  }
  for (;;) {
    const item = await run.next();
    if (item === INTERRUPTED) {
      finished = true;
      return;
    }
    if (item === END) {
      finished = true;
      run.forwardEnd();
      return;
    }
  }
};
