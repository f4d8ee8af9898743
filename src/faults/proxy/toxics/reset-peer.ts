import { INTERRUPTED, type ToxicBehaviour } from '../stage.js';

/**
 * On the first data or end in its direction, drops it, waits `timeout` ms and resets the
 * connection (TCP RST on both sockets). A connection that sends nothing is never reset.
 */
export const resetPeer: ToxicBehaviour = async (attributes, run) => {
  const item = await run.next();
  if (item === INTERRUPTED) {
    return;
  }
  if (await run.sleep(attributes.timeout ?? 0)) {
    run.connection.reset();
  }
};
