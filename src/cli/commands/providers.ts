import { commandLogger } from '../logger.js';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Logger } from 'pino';

import {
  DEFAULT_PROVIDER_DIR,
  loadProviderProfile,
  type MockProvider,
  startMockProvider,
} from '../../faults/providers/index.js';
import { reportFailure, UsageError } from '../command-errors.js';
import { stoppedExitCode } from '../exit.js';
import { listProfileNames, MAX_SEED, parseLoopbackHost, parsePort, parseSeed } from '../options.js';
import { STOP_SIGNALS } from '../../stop-signals.js';

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

/**
 * Parses `--profile`: comma-separated names from the profile folder or paths (anything with a
 * slash or a `.yaml`/`.yml` suffix). An unknown name is rejected with the list of valid ones.
 */
function parseProfiles(value: string): string[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) {
    throw new InvalidArgumentError('expected a comma-separated list of profile names or paths.');
  }
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) {
    throw new InvalidArgumentError(`profile "${repeated}" is listed twice; list each once.`);
  }
  const known = listProfileNames(DEFAULT_PROVIDER_DIR);
  const unknown = names.find((name) => !isProfilePath(name) && !known.includes(name));
  if (unknown !== undefined) {
    throw new InvalidArgumentError(
      `unknown profile "${unknown}"; valid profiles: ${known.join(', ')} ` +
        '(or pass a path to a profile YAML file).',
    );
  }
  return names;
}

function isProfilePath(name: string): boolean {
  return name.includes('/') || name.endsWith('.yaml') || name.endsWith('.yml');
}

/** Returns why `count` consecutive ports from `port` do not fit, or undefined when they do. */
function portRangeProblem(port: number, count: number): string | undefined {
  const lastPort = port + count - 1;
  return port > 0 && lastPort > 65535
    ? `port range ${port}-${lastPort} exceeds 65535; pass a lower --port, or --port 0`
    : undefined;
}

/** Registers `scalegate providers`: mock LLM providers, one HTTP server per profile. */
export function registerProvidersCommand(program: Command): void {
  program
    .command('providers')
    .description(
      'Run mock LLM providers (OpenAI Chat Completions and Anthropic Messages wire formats), ' +
        'one server per profile, until SIGINT, SIGTERM or SIGHUP',
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
    .option(
      '--host <host>',
      'address to listen on: 127.0.0.0/8, ::1 or localhost (other hosts are rejected)',
      parseLoopbackHost,
      '127.0.0.1',
    )
    .option(
      '--seed <integer>',
      `seed of every latency, length and fault draw, from 0 to ${MAX_SEED}`,
      parseSeed,
      1,
    )
    .action(async (options: ProvidersCommandOptions) => {
      const logger = commandLogger('scalegate-providers', 2);
      let providers: MockProvider[];
      try {
        const rangeProblem = portRangeProblem(options.port, options.profile.length);
        if (rangeProblem !== undefined) {
          throw new UsageError(rangeProblem);
        }
        providers = await startProviders(options, logger);
      } catch (error) {
        process.exitCode = reportFailure('starting the mock providers', error, logger);
        return;
      }
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
  const rangeProblem = portRangeProblem(options.port, options.profile.length);
  if (rangeProblem !== undefined) {
    throw new RangeError(rangeProblem);
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
    for (const signal of STOP_SIGNALS) process.off(signal, stop);
    logger.info({ signal }, 'mock providers stopping');
    Promise.all(providers.map((provider) => provider.close())).then(
      () => {
        logger.info('mock providers stopped');
        process.exitCode = stoppedExitCode(signal);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'mock providers failed to stop cleanly');
        process.exitCode = 1;
      },
    );
  };
  for (const signal of STOP_SIGNALS) process.once(signal, stop);
}
