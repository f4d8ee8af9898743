import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { type Clock, systemClock } from '../../platform/clock.js';
import { ReasonPhraseResponse } from '../../platform/reason-phrase.js';
import { assertLoopbackHost } from '../loopback.js';
import { anthropicFormat } from './anthropic-format.js';
import {
  type CompletionContext,
  type CompletionOutcome,
  handleCompletion,
} from './completion-handler.js';
import { FAULTS_PATH, handleFaultControl } from './control-routes.js';
import { type FaultConfig, parseFaultConfig } from './fault-config.js';
import { sendJson } from './http-io.js';
import { ProviderMetrics } from './metrics.js';
import { openAiFormat } from './openai-format.js';
import { deriveSeed } from './prng.js';
import type { ProviderProfile } from './profile.js';
import { KeyRateLimiter } from './rate-limiter.js';
import type { WireFormat } from './wire-format.js';

/** Options of {@link startMockProvider}. */
export interface MockProviderOptions {
  profile: ProviderProfile;
  /**
   * Listen host; only loopback hosts (127.0.0.0/8, ::1, localhost) are accepted.
   * @defaultValue `'127.0.0.1'`
   */
  host?: string;
  /** TCP port; 0 picks a free one. @defaultValue 0 */
  port?: number;
  /** Seed of every latency, length and fault draw. @defaultValue 1 */
  seed?: number;
  /** @defaultValue the system clock */
  clock?: Clock;
  /** Largest accepted request body, in bytes. @defaultValue 4 MiB */
  maxBodyBytes?: number;
}

/** Events a running mock provider emits. */
export interface MockProviderEvents {
  /** A completion request finished (or was left hanging by a fault). */
  request: [CompletionOutcome];
  /** A request failed inside the server, which sent 500 if no headers were sent yet and else closed the connection. */
  internalError: [Error];
}

/** A running mock provider. */
export interface MockProvider extends EventEmitter<MockProviderEvents> {
  readonly url: string;
  readonly port: number;
  readonly profile: ProviderProfile;
  /** Prometheus text of this server's counters, as `GET /metrics` sends it. */
  metricsText(): Promise<string>;
  faults(): FaultConfig;
  /** Validates and replaces the active faults; throws FaultConfigError naming the bad field. */
  setFaults(config: FaultConfig): FaultConfig;
  clearFaults(): void;
  /** Stops listening and closes every connection, including hung and stalled ones. */
  close(): Promise<void>;
}

const ROUTES: Record<string, WireFormat> = {
  '/v1/chat/completions': openAiFormat,
  '/v1/messages': anthropicFormat,
};

/** The endpoints a mock provider serves, as its 404 lists them. */
const ENDPOINTS_HINT =
  'the mock provider serves POST /v1/chat/completions, POST /v1/messages, ' +
  `GET, PUT and DELETE ${FAULTS_PATH}, GET /metrics and GET /healthz`;

function validateOptions(options: MockProviderOptions): void {
  const { host, port, seed, maxBodyBytes } = options;
  if (host !== undefined) {
    assertLoopbackHost(host, 'host');
  }
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new RangeError(`port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    throw new RangeError(`seed must be a safe integer, got ${String(seed)}`);
  }
  if (maxBodyBytes !== undefined && !(Number.isInteger(maxBodyBytes) && maxBodyBytes > 0)) {
    throw new RangeError(`maxBodyBytes must be a positive integer, got ${String(maxBodyBytes)}`);
  }
}

class MockProviderServer extends EventEmitter<MockProviderEvents> implements MockProvider {
  readonly profile: ProviderProfile;
  readonly server: Server;
  readonly #metrics: ProviderMetrics;
  readonly #context: CompletionContext;
  #faults: FaultConfig;
  #requestIndex = 0;
  url = '';
  port = 0;

  constructor(options: MockProviderOptions) {
    super();
    this.profile = options.profile;
    this.#faults = parseFaultConfig(options.profile.faults ?? {}, this.#modelNames());
    this.#metrics = new ProviderMetrics(options.profile.name);
    const { requestsPerMinute, tokensPerMinute } = options.profile.rateLimits;
    this.#context = {
      profile: options.profile,
      models: new Map(options.profile.models.map((model) => [model.name, model])),
      faults: () => this.#faults,
      limiter: new KeyRateLimiter(requestsPerMinute, tokensPerMinute),
      metrics: this.#metrics,
      clock: options.clock ?? systemClock,
      seed: deriveSeed(options.seed ?? 1, options.profile.name),
      nextRequestIndex: () => this.#requestIndex++,
      maxBodyBytes: options.maxBodyBytes ?? 4 * 1024 * 1024,
    };
    // An injected status that Node does not name, such as 529, gets a reason phrase, not `unknown`.
    this.server = createServer({ ServerResponse: ReasonPhraseResponse }, (req, res) =>
      this.#dispatch(req, res),
    );
  }

  metricsText(): Promise<string> {
    return this.#metrics.registry.metrics();
  }

  faults(): FaultConfig {
    return structuredClone(this.#faults);
  }

  setFaults(config: unknown): FaultConfig {
    this.#faults = parseFaultConfig(config, this.#modelNames());
    return this.faults();
  }

  clearFaults(): void {
    this.#faults = {};
  }

  #modelNames(): string[] {
    return this.profile.models.map((model) => model.name);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  #dispatch(req: IncomingMessage, res: ServerResponse): void {
    this.#route(req, res).catch((error: unknown) => this.#fail(res, error));
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const format = ROUTES[path];
    if (format !== undefined) {
      await this.#completion(format, req, res);
      return;
    }
    if (path === FAULTS_PATH) {
      await handleFaultControl(this, req, res);
      return;
    }
    if (path === '/metrics' && req.method === 'GET') {
      const text = await this.metricsText();
      res.writeHead(200, { 'content-type': this.#metrics.registry.contentType }).end(text);
      return;
    }
    if (path === '/healthz' && req.method === 'GET') {
      sendJson(res, 200, JSON.stringify({ status: 'ok', provider: this.profile.name }));
      return;
    }
    const message = `no route for ${req.method} ${path}; ${ENDPOINTS_HINT}`;
    sendJson(res, 404, JSON.stringify({ error: { message } }));
  }

  async #completion(format: WireFormat, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const outcome = await handleCompletion(this.#context, format, req, res);
    this.emit('request', outcome);
  }

  #fail(res: ServerResponse, error: unknown): void {
    this.emit('internalError', error instanceof Error ? error : new Error(String(error)));
    if (!res.headersSent) {
      sendJson(res, 500, JSON.stringify({ error: { message: 'mock provider internal error' } }));
    } else {
      res.destroy();
    }
  }

  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    this.port = address.port;
    const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.url = `http://${urlHost}:${address.port}`;
  }
}

/**
 * Starts a mock LLM provider serving OpenAI Chat Completions and Anthropic Messages with the
 * profile's latency, rate limits and faults. Resolves once it listens.
 * @throws NonLoopbackHostError for a host outside loopback, RangeError for other bad options.
 */
export async function startMockProvider(options: MockProviderOptions): Promise<MockProvider> {
  validateOptions(options);
  const provider = new MockProviderServer(options);
  await provider.listen(options.host ?? '127.0.0.1', options.port ?? 0);
  return provider;
}
