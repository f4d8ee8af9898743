import { readFile } from 'node:fs/promises';

import type { Command } from 'commander';
import { pino } from 'pino';

import { startFaultProxy } from '../../faults/proxy/index.js';

interface ProxyCommandOptions {
  readonly port: string;
  readonly host: string;
  readonly config?: string;
}

/** Registers `scalegate proxy`: the Toxiproxy-compatible fault proxy as a process. */
export function registerProxyCommand(program: Command): void {
  program
    .command('proxy')
    .description('Run the fault proxy: the Toxiproxy 2.x HTTP API and its TCP proxies')
    .option('--port <port>', 'API port (0 picks a free one)', '8474')
    .option('--host <host>', 'API host; keep it on loopback', '127.0.0.1')
    .option('--config <file>', 'JSON array of proxies to create at start (a populate body)')
    .action(runProxy);
}

async function runProxy(options: ProxyCommandOptions): Promise<void> {
  const logger = pino({ name: 'scalegate-proxy' });
  const populate = options.config === undefined ? undefined : await readConfig(options.config);
  const server = await startFaultProxy({
    host: options.host,
    port: Number(options.port),
    populate,
  });
  server.events.on('request', (event) => {
    logger[logLevelFor(event.status)](event, 'api request');
  });
  logger.info({ url: server.url, config: options.config }, 'fault proxy started');
  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'fault proxy stopping');
    server.close().then(
      () => logger.info('fault proxy stopped'),
      (error: unknown) => {
        logger.error({ err: error }, 'fault proxy failed to stop cleanly');
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
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
    throw new Error(`invalid proxy config ${file}: malformed JSON (${reason})`);
  }
}
