import type { Command } from 'commander';
import { pino } from 'pino';

import { formatTopology, startPlatform } from '../../platform/runtime.js';

interface PlatformCommandOptions {
  readonly port: string;
  readonly topology: string;
  readonly redisUrl?: string;
  readonly policy: string;
}

/** Registers `scalegate platform`: providers, fault proxy, router, queue, executors and gateway. */
export function registerPlatformCommand(program: Command): void {
  program
    .command('platform')
    .description('Run the whole platform on 127.0.0.1 until SIGINT or SIGTERM')
    .option('--port <port>', 'gateway port (0 picks a free one)', '8080')
    .option(
      '--topology <spec>',
      'executors: workers=<async consumers> serverless_burst=enabled|disabled',
      'workers=4 serverless_burst=enabled',
    )
    .option(
      '--redis-url <url>',
      'Redis for admission, queue, store and ledger (default: REDIS_URL, else memory)',
    )
    .option('--policy <file>', 'route policy file', 'policies/default.yaml')
    .action(runPlatform);
}

async function runPlatform(options: PlatformCommandOptions): Promise<void> {
  const logger = pino({ name: 'scalegate-platform' });
  const platform = await startPlatform({
    port: Number(options.port),
    topology: options.topology,
    redisUrl: options.redisUrl,
    policyPath: options.policy,
    logger,
  });
  logger.info(
    { urls: platform.urls, topology: formatTopology(platform.topology) },
    'platform started',
  );
  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'platform stopping');
    platform.stop().then(
      () => logger.info('platform stopped'),
      (error: unknown) => {
        logger.error({ err: error }, 'platform failed to stop cleanly');
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
