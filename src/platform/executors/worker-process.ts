/**
 * Entry point of one worker process forked by the worker pool. It consumes
 * the BullMQ queue with the configured concurrency. On SIGTERM, SIGINT, SIGHUP or
 * the pool's `drain` message it stops taking jobs, waits for active ones and exits 0
 * once none is left. After a signal of its own, a drain that outlasts
 * `drainTimeoutMs` aborts the active jobs through the handler module's
 * `abortHandler`, and the process exits 1 when some still run `abortGraceMs`
 * later. After the pool's `drain` message the pool aborts them, and the process
 * exits 1 at the message's time limit. A second signal exits at once. When the
 * IPC channel closes, because the platform process died, it exits at once, so
 * the queue delivers its running jobs again once they stall.
 */
import { closeSync, readFileSync } from 'node:fs';

import { pino } from 'pino';

import { syncLogDestination } from '../../log-destination.js';
import { STOP_SIGNALS } from '../../stop-signals.js';
import { closeHungUpTerminalsAtExit } from '../../terminal-hangup.js';
import { type BullmqTaskQueue, type Consumer, createBullmqQueue } from '../queue/index.js';
import { loadHandler } from './worker-handler.js';
import {
  isPoolMessage,
  WORKER_CONFIG_ENV,
  WORKER_CONFIG_FD,
  type WorkerMessage,
  type WorkerProcessConfig,
} from './worker-protocol.js';

closeHungUpTerminalsAtExit();
const config = readConfig();
const logger = pino({ name: 'scalegate-worker', level: config.logLevel }, syncLogDestination(2));

/** Reads the config from {@link WORKER_CONFIG_ENV} when set, else from the pool's pipe. */
function readConfig(): WorkerProcessConfig {
  const raw = process.env[WORKER_CONFIG_ENV] ?? readConfigPipe();
  return JSON.parse(raw) as WorkerProcessConfig;
}

/** Reads the pipe on {@link WORKER_CONFIG_FD} to its end and closes it. */
function readConfigPipe(): string {
  let text: string;
  try {
    text = readFileSync(WORKER_CONFIG_FD, 'utf8');
  } catch (error) {
    throw new Error(
      `reading the worker config from file descriptor ${WORKER_CONFIG_FD} failed: ${String(error)}; this module runs only as a worker pool child, or with ${WORKER_CONFIG_ENV} set to its JSON config`,
      { cause: error },
    );
  }
  closeSync(WORKER_CONFIG_FD);
  return text;
}

/** Sends `message` to the pool, or drops it once the pool went away. */
function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

function openQueue(): BullmqTaskQueue<unknown> {
  const { driver: _driver, redisUrl, ...queueOptions } = config.queue;
  const queue = createBullmqQueue<unknown>({
    ...queueOptions,
    connection: redisUrl,
    globalConcurrency: config.globalConcurrency,
  });
  let connectionErrors = 0;
  queue.on('connectionError', ({ error }) => {
    connectionErrors += 1;
    // Logs the 1st, 101st, 201st, ... connection error so an outage cannot flood the log.
    if (connectionErrors % 100 === 1) {
      logger.warn({ err: error, connectionErrors }, 'redis connection error');
    }
  });
  queue.on('stalled', ({ id }) => logger.warn({ jobId: id }, 'job stalled'));
  // The platform process stores a terminal state for these tasks, as for its own consumers.
  queue.on('failed', ({ id, error, data }) =>
    send({ type: 'jobEnded', id, state: 'failed', message: error.message, data }),
  );
  queue.on('deadLettered', ({ id, error, data }) =>
    send({ type: 'jobEnded', id, state: 'dead_lettered', message: error.message, data }),
  );
  return queue;
}

/** Exit code of a process stopped by a second signal: 128 plus the signal number. */
const SIGNAL_EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Drains the consumer once, within a time limit that the later stop requests can change. */
class Shutdown {
  #draining = false;
  #signals = 0;
  #exitTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly queue: BullmqTaskQueue<unknown>,
    readonly consumer: Consumer,
    readonly handler: { close: () => Promise<void>; abort: () => void },
  ) {}

  /**
   * Drains on the first signal: the active jobs are aborted after `config.drainTimeoutMs`,
   * and the process exits `config.abortGraceMs` later if some still run. A drain the pool
   * requested first keeps its own limit. Exits at once on the next signal.
   */
  onSignal(signal: NodeJS.Signals): void {
    this.#signals += 1;
    if (this.#signals > 1) {
      logger.warn(
        { signal, active: this.consumer.active },
        'second signal; exiting without waiting',
      );
      process.exit(SIGNAL_EXIT_CODES[signal] ?? 1);
    }
    this.#drain(signal);
    if (this.#exitTimer !== undefined) return;
    this.#scheduleAbort(config.drainTimeoutMs);
    this.#setDeadline(config.drainTimeoutMs + config.abortGraceMs);
  }

  /**
   * Drains within `timeoutMs`, which replaces the limit a signal set. The pool aborts the
   * active jobs itself before that limit, with an `abortRunning` message.
   */
  onDrainRequest(timeoutMs: number): void {
    this.#drain('drain requested by the pool');
    this.#setDeadline(timeoutMs);
  }

  /**
   * Exits at once, leaving the running jobs to stall. The provider mocks died with the
   * pool, so the jobs cannot finish here, and failing them would end tasks that a live
   * platform on the same Redis, or the next start, can run once the queue delivers them
   * again.
   */
  onDisconnect(): void {
    logger.warn(
      { active: this.consumer.active },
      'pool disconnected; exiting, and the queue delivers the running jobs again once they stall',
    );
    process.exit(1);
  }

  #drain(reason: string): void {
    if (this.#draining) return;
    this.#draining = true;
    logger.info({ reason, active: this.consumer.active }, 'draining worker');
    this.consumer
      .drain()
      .then(() => this.queue.close())
      .then(() => this.handler.close())
      .then(() => {
        logger.info('worker drained');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'drain failed');
        process.exit(1);
      });
  }

  /**
   * Aborts the active jobs after `delayMs`. The platform's handler module then puts their
   * tasks back in the queue without using an attempt, and the drain ends once they have left.
   */
  #scheduleAbort(delayMs: number): void {
    setTimeout(() => {
      logger.warn(
        { timeoutMs: delayMs, active: this.consumer.active },
        'drain timed out; aborting the running jobs',
      );
      this.handler.abort();
    }, delayMs);
  }

  #setDeadline(timeoutMs: number): void {
    clearTimeout(this.#exitTimer);
    const delayMs = Math.max(0, timeoutMs);
    this.#exitTimer = setTimeout(() => {
      logger.error(
        { timeoutMs: delayMs, active: this.consumer.active },
        'drain timed out; exiting with jobs still active, which the queue redelivers once stalled',
      );
      process.exit(1);
    }, delayMs);
  }
}

/** Set once the consumer runs. A disconnect before then has no job to leave behind. */
let shutdown: Shutdown | undefined;

/**
 * Exits once the IPC channel to the pool closes, also while the worker still starts. A
 * platform process can die during its start, as by a signal before its handlers are in, and
 * its worker would otherwise consume the queue with no platform behind it.
 */
function onDisconnect(): void {
  if (shutdown !== undefined) {
    shutdown.onDisconnect();
    return;
  }
  logger.warn('pool disconnected before the worker was ready; exiting');
  process.exit(1);
}

async function main(): Promise<void> {
  process.once('disconnect', onDisconnect);
  // The channel may have closed while this module loaded, before the listener was in.
  // process.send stays defined after a disconnect, and is undefined without a channel.
  if (process.send !== undefined && !process.connected) {
    onDisconnect();
  }
  const loaded = await loadHandler<unknown>(config.handlerModule, config.handlerConfig);
  const queue = openQueue();
  await queue.gauges();
  const consumer = queue.consume(loaded.handler, { concurrency: config.concurrency });
  const running = new Shutdown(queue, consumer, loaded);
  shutdown = running;
  // A terminal's Ctrl-C or hang-up reaches this process with the platform process. The
  // process then drains as on SIGTERM, and the pool's later `drain` message sets its limit.
  for (const signal of STOP_SIGNALS) process.on(signal, (name) => running.onSignal(name));
  process.on('message', (message) => {
    if (!isPoolMessage(message)) return;
    if (message.type === 'drain') {
      running.onDrainRequest(message.timeoutMs);
      return;
    }
    logger.info({ active: consumer.active }, 'aborting running jobs');
    loaded.abort();
  });
  logger.info(
    { index: config.index, queue: config.queue.name, concurrency: config.concurrency },
    'worker ready',
  );
  send({ type: 'ready' });
}

main().catch((error: unknown) => {
  logger.error({ err: error }, 'worker failed to start');
  send({ type: 'startFailed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
