import { request } from 'undici';

import { createToxiproxyClient } from '../../platform/runtime/toxiproxy-client.js';
import type { RollbackStep } from '../report/types.js';
import type { FaultDriver } from './deps.js';
import { type InfraFaultStep, type ProviderFaultStep, type ToxicStep, toxicName } from './spec.js';

export interface FaultDriverOptions {
  /** Toxiproxy HTTP API base URL, such as the embedded fault proxy's `url`. */
  toxiproxyUrl: string;
  /** Mock provider base URLs by provider name; faults go to `<url>/_control/faults`. */
  providers: Record<string, string>;
  /** Timeout of each control request in milliseconds. @defaultValue 5000 */
  requestTimeoutMs?: number;
}

interface ToxicListing {
  name: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function validateOptions(options: FaultDriverOptions): void {
  for (const [key, value] of Object.entries({
    toxiproxyUrl: options.toxiproxyUrl,
    ...options.providers,
  })) {
    if (!URL.canParse(value)) {
      throw new TypeError(
        `fault driver option ${key} must be an absolute URL, got ${JSON.stringify(value)}`,
      );
    }
  }
  const timeout = options.requestTimeoutMs ?? 5000;
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw new RangeError(`requestTimeoutMs must be a positive number, got ${String(timeout)}`);
  }
}

/** Checks that a provider's fault config sets no field and no per-model override. */
function isClear(config: Record<string, unknown>): boolean {
  return Object.entries(config).every(([key, value]) =>
    key === 'models' ? Object.keys((value ?? {}) as object).length === 0 : value === undefined,
  );
}

/**
 * Creates the fault driver for local drills: toxics through toxiproxy-node-client against
 * the proxy API, provider fault modes through each mock provider's control endpoint.
 */
export function createFaultDriver(options: FaultDriverOptions): FaultDriver {
  validateOptions(options);
  const toxiproxy = createToxiproxyClient(options.toxiproxyUrl.replace(/\/$/, ''));
  const timeoutMs = options.requestTimeoutMs ?? 5000;

  function controlUrl(provider: string): string {
    const base = options.providers[provider];
    if (base === undefined) {
      throw new RangeError(
        `no control URL for provider ${provider}; known: ${Object.keys(options.providers).join(', ')}`,
      );
    }
    return `${base.replace(/\/$/, '')}/_control/faults`;
  }

  async function control(
    provider: string,
    method: 'GET' | 'PUT' | 'DELETE',
    body?: unknown,
  ): Promise<unknown> {
    const response = await request(controlUrl(provider), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await response.body.text();
    if (response.statusCode >= 400) {
      throw new Error(`${method} ${controlUrl(provider)} returned ${response.statusCode}: ${text}`);
    }
    return text === '' ? {} : (JSON.parse(text) as unknown);
  }

  async function listToxics(proxy: string): Promise<string[]> {
    const listing = await toxiproxy.getApi().get(`${toxiproxy.host}/proxies/${proxy}/toxics`);
    return ((listing.data ?? []) as ToxicListing[]).map((toxic) => toxic.name);
  }

  async function applyToxic(step: ToxicStep): Promise<void> {
    const proxy = await toxiproxy.get(step.proxy);
    await proxy.addToxic({
      name: toxicName(step),
      type: step.toxic.type,
      stream: step.toxic.stream ?? 'downstream',
      toxicity: step.toxic.toxicity ?? 1,
      attributes: step.toxic.attributes,
    });
  }

  async function removeToxic(step: ToxicStep): Promise<void> {
    const proxy = await toxiproxy.get(step.proxy);
    const toxic = await proxy.getToxic(toxicName(step));
    await toxic.remove();
  }

  async function attempt(step: string, run: () => Promise<void>): Promise<RollbackStep> {
    try {
      await run();
      return { step, ok: true };
    } catch (error) {
      return { step, ok: false, error: message(error) };
    }
  }

  async function rollbackToxics(steps: readonly ToxicStep[]): Promise<RollbackStep[]> {
    const results: RollbackStep[] = [];
    for (const proxy of new Set(steps.map((step) => step.proxy))) {
      const ours = new Set(steps.filter((step) => step.proxy === proxy).map(toxicName));
      results.push(
        await attempt(`remove drill toxics from proxy ${proxy}`, async () => {
          for (const name of (await listToxics(proxy)).filter((toxic) => ours.has(toxic))) {
            await (await (await toxiproxy.get(proxy)).getToxic(name)).remove();
          }
        }),
      );
    }
    return results;
  }

  async function rollbackProviders(steps: readonly ProviderFaultStep[]): Promise<RollbackStep[]> {
    const results: RollbackStep[] = [];
    for (const provider of new Set(steps.map((step) => step.provider))) {
      results.push(
        await attempt(`clear faults on provider ${provider}`, async () => {
          await control(provider, 'DELETE');
        }),
      );
    }
    return results;
  }

  async function leftoverToxics(): Promise<string[]> {
    const proxies = Object.keys(await toxiproxy.getAll());
    const found: string[] = [];
    for (const proxy of proxies) {
      found.push(...(await listToxics(proxy)).map((name) => `toxic ${proxy}/${name}`));
    }
    return found;
  }

  async function leftoverFaults(steps: readonly ProviderFaultStep[]): Promise<string[]> {
    const found: string[] = [];
    for (const provider of new Set(steps.map((step) => step.provider))) {
      const config = (await control(provider, 'GET')) as Record<string, unknown>;
      if (!isClear(config)) {
        found.push(`provider ${provider} faults ${JSON.stringify(config)}`);
      }
    }
    return found;
  }

  const toxicSteps = (steps: readonly InfraFaultStep[]): ToxicStep[] =>
    steps.filter((step): step is ToxicStep => step.kind === 'toxic');
  const providerSteps = (steps: readonly InfraFaultStep[]): ProviderFaultStep[] =>
    steps.filter((step): step is ProviderFaultStep => step.kind === 'provider-fault');

  return {
    async apply(step) {
      await (step.kind === 'toxic' ? applyToxic(step) : control(step.provider, 'PUT', step.faults));
    },
    async remove(step) {
      await (step.kind === 'toxic' ? removeToxic(step) : control(step.provider, 'DELETE'));
    },
    async rollback(steps) {
      return [
        ...(await rollbackToxics(toxicSteps(steps))),
        ...(await rollbackProviders(providerSteps(steps))),
      ];
    },
    async leftovers(steps) {
      return [...(await leftoverToxics()), ...(await leftoverFaults(providerSteps(steps)))];
    },
  };
}
