import { END, INTERRUPTED, type ToxicBehaviour, type ToxicRun } from '../stage.js';

/** The idle deadline of one timeout toxic run, and whether the run has ended. */
interface IdleTimer {
  deadline: number;
  finished: boolean;
}

/**
 * Drops all data. With `timeout` > 0 it ends the stream once no data has reached it for that
 * many ms. Each chunk restarts the timer, as in Toxiproxy 2.x (toxics/timeout.go), so a sender
 * that keeps writing keeps the connection open. With 0 it keeps the connection open until the
 * toxic is removed. The idle deadline and removal both end the stream in the toxic's place, and
 * the connection closes after the toxics behind it have acted on that end (see
 * `Link.removeToxic`), as Toxiproxy's `stub.Close()` does.
 */
export const timeout: ToxicBehaviour = async (attributes, run) => {
  const ms = attributes.timeout ?? 0;
  const timer: IdleTimer = { deadline: run.clock.monotonic() + ms, finished: false };
  if (ms > 0) {
    void endWhenIdle(run, timer);
  }
  for (;;) {
    const item = await run.next();
    if (item === INTERRUPTED) {
      timer.finished = true;
      return;
    }
    if (item === END) {
      timer.finished = true;
      run.forwardEnd();
      return;
    }
    timer.deadline = run.clock.monotonic() + ms;
  }
};

/** Ends the stream at the timer's deadline, waiting again each time a chunk moved it. */
async function endWhenIdle(run: ToxicRun, timer: IdleTimer): Promise<void> {
  for (;;) {
    const remaining = timer.deadline - run.clock.monotonic();
    if (!(await run.sleep(Math.max(0, remaining)))) {
      return;
    }
    if (timer.finished) {
      return;
    }
    if (run.clock.monotonic() >= timer.deadline) {
      run.endStream();
      return;
    }
  }
}
