import { END, INTERRUPTED, type ToxicBehaviour } from '../stage.js';

const TRANSMITTED = 'transmitted';

/**
 * Passes at most `bytes` bytes in its direction, then closes the connection. The count
 * is kept per connection, so updating the toxic does not restart it.
 */
export const limitData: ToxicBehaviour = async (attributes, run) => {
  const limit = attributes.bytes ?? 0;
  for (;;) {
    const item = await run.next();
    if (item === INTERRUPTED) {
      return;
    }
    if (item === END) {
      run.forwardEnd();
      return;
    }
    const transmitted = run.state.get(TRANSMITTED) ?? 0;
    const data = item.data.subarray(0, Math.max(0, limit - transmitted));
    if (data.length > 0) {
      run.forward({ data, receivedAt: item.receivedAt });
      run.state.set(TRANSMITTED, transmitted + data.length);
    }
    if (transmitted + data.length >= limit) {
      run.connection.close();
      return;
    }
  }
};
