/**
 * Entry point of one worker process forked by the worker pool. It consumes
 * the BullMQ queue with the configured concurrency. On SIGTERM, SIGINT or a
 * lost IPC channel it stops taking jobs, finishes active ones and exits 0.
 */
import { pino } from 'pino';

import { type BullmqTaskQueue, type Consumer, createBullmqQueue } from '../queue/index.js';
import { loadHandler } from './worker-handler.js';
import {
  isPoolMessage,
  WORKER_CONFIG_ENV,
  type WorkerMessage,
  type WorkerProcessConfig,
} from './worker-protocol.js';

const config = readConfig();
const logger = pino(
  { name: 'scalegate-worker', level: config.logLevel },
  pino.destination({ dest: 2, sync: true }),
);

function readConfig(): WorkerProcessConfig {
  const raw = process.env[WORKER_CONFIG_ENV];
  if (raw === undefined) {
    throw new Error(
      `${WORKER_CONFIG_ENV} is missing: this module runs only as a worker pool child`,
    );
  }
  return JSON.parse(raw) as WorkerProcessConfig;
}

function send(message: WorkerMessage): void {
  process.send?.(message);
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

function onShutdown(
  queue: BullmqTaskQueue<unknown>,
  consumer: Consumer,
  closeHandler: () => Promise<void>,
): void {
  let stopping = false;
  const shutdown = (reason: string): void => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.info({ reason, active: consumer.active }, 'draining worker');
    consumer
      .drain()
      .then(() => queue.close())
      .then(closeHandler)
      .then(() => {
        logger.info('worker drained');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'drain failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('disconnect', () => shutdown('pool disconnected'));
}

async function main(): Promise<void> {
  const loaded = await loadHandler<unknown>(config.handlerModule, config.handlerConfig);
  const queue = openQueue();
  await queue.gauges();
  const consumer = queue.consume(loaded.handler, { concurrency: config.concurrency });
  onShutdown(queue, consumer, loaded.close);
  process.on('message', (message) => {
    if (isPoolMessage(message)) {
      logger.info({ active: consumer.active }, 'aborting running jobs');
      loaded.abort();
    }
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
