import { type Command, InvalidArgumentError, Option } from 'commander';
import { type Logger, pino } from 'pino';

import {
  loadProviderProfile,
  type MockProvider,
  startMockProvider,
} from '../../faults/providers/index.js';

/** Options of `scalegate providers`, after parsing. */
export interface ProvidersCommandOptions {
  /** Profile names or YAML paths. */
  profile: string[];
  host: string;
  /** First port; each further provider takes the next one. 0 picks free ports. */
  port: number;
  seed: number;
}

/** Profiles started when `--profile` is absent. */
export const DEFAULT_PROFILES = ['provider-a', 'provider-b', 'provider-c'];

function parseProfiles(value: string): string[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) {
    throw new InvalidArgumentError('expected a comma-separated list of profile names or paths.');
  }
  return names;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new InvalidArgumentError(`expected an integer from 0 to 65535, got ${value}.`);
  }
  return port;
}

function parseSeed(value: string): number {
  const seed = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(seed)) {
    throw new InvalidArgumentError(`expected an integer, got ${value}.`);
  }
  return seed;
}

/** Registers `scalegate providers`: mock LLM providers, one HTTP server per profile. */
export function registerProvidersCommand(program: Command): void {
  program
    .command('providers')
    .description(
      'Run mock LLM providers (OpenAI Chat Completions and Anthropic Messages wire formats), ' +
        'one server per profile, until SIGINT or SIGTERM',
    )
    .addOption(
      new Option(
        '--profile <names>',
        'comma-separated profile names from fixtures/providers or paths to profile YAML files',
      )
        .argParser(parseProfiles)
        .default(DEFAULT_PROFILES, DEFAULT_PROFILES.join(',')),
    )
    .option(
      '--port <port>',
      'TCP port of the first provider; the others take the next ports (0 picks free ports)',
      parsePort,
      0,
    )
    .option('--host <host>', 'address to listen on; keep it on loopback', '127.0.0.1')
    .option('--seed <integer>', 'seed of every latency, length and fault draw', parseSeed, 1)
    .action(async (options: ProvidersCommandOptions) => {
      const logger = pino({ name: 'scalegate-providers' }, pino.destination(2));
      const providers = await startProviders(options, logger);
      for (const provider of providers) {
        process.stdout.write(
          `${provider.profile.name} ${provider.profile.format} ${provider.url}\n`,
        );
      }
      stopOnSignal(providers, logger);
    });
}

/**
 * Starts one mock provider per profile on consecutive ports (free ports when `port` is 0) and
 * logs their internal errors. Closes the ones already started if a later one fails.
 */
export async function startProviders(
  options: ProvidersCommandOptions,
  logger: Logger,
): Promise<MockProvider[]> {
  const lastPort = options.port + options.profile.length - 1;
  if (options.port > 0 && lastPort > 65535) {
    throw new RangeError(`port range ${options.port}-${lastPort} exceeds 65535`);
  }
  const providers: MockProvider[] = [];
  try {
    for (const [index, name] of options.profile.entries()) {
      const profile = await loadProviderProfile(name);
      const port = options.port === 0 ? 0 : options.port + index;
      const provider = await startMockProvider({
        profile,
        host: options.host,
        port,
        seed: options.seed,
      });
      provider.on('internalError', (error) => {
        logger.error({ err: error, provider: profile.name }, 'mock provider request failed');
      });
      logger.info(
        { provider: profile.name, format: profile.format, url: provider.url },
        'mock provider started',
      );
      providers.push(provider);
    }
  } catch (error) {
    await Promise.allSettled(providers.map((provider) => provider.close()));
    throw error;
  }
  return providers;
}

function stopOnSignal(providers: MockProvider[], logger: Logger): void {
  const stop = (signal: NodeJS.Signals): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    logger.info({ signal }, 'mock providers stopping');
    Promise.all(providers.map((provider) => provider.close())).then(
      () => logger.info('mock providers stopped'),
      (error: unknown) => {
        logger.error({ err: error }, 'mock providers failed to stop cleanly');
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
