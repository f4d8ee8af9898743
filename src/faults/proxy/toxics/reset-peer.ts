import { END, INTERRUPTED, type ToxicBehaviour } from '../stage.js';

/**
 * On the first data or end in its direction, keeps it back, waits `timeout` ms and resets the
 * connection (TCP RST on both sockets). A connection that sends nothing is never reset.
 * A toxic removed or updated during the wait resets nothing and forwards the item it kept,
 * so no data goes missing from a stream that stays open.
 */
export const resetPeer: ToxicBehaviour = async (attributes, run) => {
  const item = await run.next();
  if (item === INTERRUPTED) {
    return;
  }
  if (await run.sleep(attributes.timeout ?? 0)) {
    run.connection.reset();
    return;
  }
  if (item === END) run.forwardEnd();
  else run.forward(item);
};
