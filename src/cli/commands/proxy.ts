import { commandLogger } from '../logger.js';
import { readFile } from 'node:fs/promises';

import type { Command } from 'commander';
import type { Logger } from 'pino';

import {
  type FaultProxyHandle,
  isFaultProxyError,
  startFaultProxy,
} from '../../faults/proxy/index.js';
import { EXIT_FAILURE, EXIT_USAGE, reportFailure, UsageError } from '../command-errors.js';
import { stoppedExitCode } from '../exit.js';
import { parseExistingFile, parseLoopbackHost, parsePort } from '../options.js';
import { STOP_SIGNALS } from '../../stop-signals.js';

interface ProxyCommandOptions {
  readonly port: number;
  readonly host: string;
  readonly config?: string;
}

/** Registers `scalegate proxy`: the Toxiproxy-compatible fault proxy as a process. */
export function registerProxyCommand(program: Command): void {
  program
    .command('proxy')
    .description('Run the fault proxy: the Toxiproxy 2.x HTTP API and its TCP proxies')
    .option('--port <port>', 'API port (0 picks a free one)', parsePort, 8474)
    .option(
      '--host <host>',
      'API host: 127.0.0.0/8, ::1 or localhost (other hosts are rejected)',
      parseLoopbackHost,
      '127.0.0.1',
    )
    .option(
      '--config <file>',
      'JSON array of proxies to create at start (a populate body)',
      parseExistingFile,
    )
    .action(runProxy);
}

async function runProxy(options: ProxyCommandOptions): Promise<void> {
  const logger = commandLogger('scalegate-proxy', 1);
  let server: FaultProxyHandle;
  try {
    server = await startFromOptions(options);
  } catch (error) {
    process.exitCode = reportFailure('starting the fault proxy', error, logger);
    return;
  }
  server.events.on('request', (event) => {
    logger[logLevelFor(event.status)](event, 'api request');
  });
  // The handlers go in before this line, because a reader may signal as soon as it reads it.
  stopOnSignal(server, logger);
  logger.info({ url: server.url, config: options.config }, 'fault proxy started');
}

async function startFromOptions(options: ProxyCommandOptions): Promise<FaultProxyHandle> {
  const populate = options.config === undefined ? undefined : await readConfig(options.config);
  try {
    return await startFaultProxy({ host: options.host, port: options.port, populate });
  } catch (error) {
    // Populate errors are about the --config file, except a listen address already in use.
    if (isFaultProxyError(error) && options.config !== undefined) {
      const exitCode = error.code === 'listen_failed' ? EXIT_FAILURE : EXIT_USAGE;
      const message = `invalid --config ${options.config}: ${error.message}`;
      throw exitCode === EXIT_USAGE ? new UsageError(message) : new Error(message);
    }
    throw error;
  }
}

function stopOnSignal(server: FaultProxyHandle, logger: Logger): void {
  const stop = (signal: NodeJS.Signals): void => {
    // A later signal then ends the process at once, as it does the mock providers.
    for (const other of STOP_SIGNALS) process.off(other, stop);
    logger.info({ signal }, 'fault proxy stopping');
    server.close().then(
      () => {
        logger.info('fault proxy stopped');
        process.exitCode = stoppedExitCode(signal);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'fault proxy failed to stop cleanly');
        process.exitCode = 1;
      },
    );
  };
  for (const signal of STOP_SIGNALS) process.once(signal, stop);
}

function logLevelFor(status: number): 'error' | 'warn' | 'info' {
  if (status >= 500) {
    return 'error';
  }
  return status >= 400 ? 'warn' : 'info';
}

async function readConfig(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      `invalid --config ${file}: malformed JSON (${reason}); pass a JSON array of proxies`,
    );
  }
}
