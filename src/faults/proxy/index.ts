import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';

import { type Clock, systemClock } from '../../platform/clock.js';
import { assertLoopbackHost } from '../loopback.js';
import { handleApiRequest } from './api.js';
import { ProxyCollection } from './collection.js';
import { ProxyMetrics } from './metrics.js';

export { API_VERSION } from './api.js';
export { assertLoopbackHost, isNonLoopbackHostError, NonLoopbackHostError } from '../loopback.js';
export { FaultProxyError, type FaultProxyErrorCode, isFaultProxyError } from './errors.js';
export type { ProxyJson } from './proxy.js';
export { MAX_CHUNK_BYTES, STAGE_BUFFER_BYTES } from './stage.js';
export type { StreamDirection, ToxicDefinition, ToxicType } from './toxic-definition.js';

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /**
   * API host; only loopback hosts (127.0.0.0/8, ::1, localhost) are accepted.
   * @defaultValue '127.0.0.1'
   */
  readonly host?: string;
  /** API port; 0 picks a free one. @defaultValue 8474 */
  readonly port?: number;
  /** Populate body applied before the server starts accepting requests. */
  readonly populate?: unknown;
  /** @defaultValue systemClock */
  readonly clock?: Clock;
  /** Uniform random numbers in [0, 1) for toxicity and jitter. @defaultValue Math.random */
  readonly random?: () => number;
}

/** Events of a running fault proxy, for logging at the process edge. */
export interface FaultProxyEvents {
  /** One API request got its response. */
  request: [{ method: string; path: string; status: number; durationMs: number }];
}

/** A running fault proxy: the Toxiproxy 2.x HTTP API and the TCP proxies it manages. */
export interface FaultProxyHandle {
  /** Base URL of the API, such as `http://127.0.0.1:8474`. */
  readonly url: string;
  readonly port: number;
  readonly events: EventEmitter<FaultProxyEvents>;
  /**
   * Returns the bytes that toxics of every open connection have queued, not counting the
   * chunk each toxic is working on. Backpressure keeps it at most {@link STAGE_BUFFER_BYTES}
   * per toxic, or 1024 chunks of at most 32 KiB (32 MiB) per latency toxic, plus one socket
   * read per direction, on each connection.
   */
  queuedBytes(): number;
  /** Closes the API server, every proxy listener and every open connection. */
  close(): Promise<void>;
}

/**
 * Starts the fault proxy API; proxies are created through it (or `populate`).
 * @throws NonLoopbackHostError when `host` is not a loopback host, RangeError for a bad port.
 */
export async function startFaultProxy(options: FaultProxyOptions = {}): Promise<FaultProxyHandle> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8474;
  assertLoopbackHost(host, 'host');
  validatePort(port);
  const clock = options.clock ?? systemClock;
  const proxies = new ProxyCollection({
    clock,
    random: options.random ?? Math.random,
    metrics: new ProxyMetrics(),
  });
  const events = new EventEmitter<FaultProxyEvents>();
  if (options.populate !== undefined) {
    await applyPopulate(proxies, options.populate);
  }
  const server = createServer({ keepAlive: true }, (request, response) => {
    const started = clock.monotonic();
    response.on('finish', () => {
      const durationMs = clock.monotonic() - started;
      const path = request.url ?? '';
      events.emit('request', {
        method: request.method ?? '',
        path,
        status: response.statusCode,
        durationMs,
      });
    });
    void handleApiRequest(proxies, request, response);
  });
  const bound = await listen(server, host, port).catch(async (error: unknown) => {
    await proxies.closeAll();
    throw error;
  });
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  return {
    url,
    port: bound,
    events,
    queuedBytes: () => proxies.queuedBytes,
    close: () => closeAll(server, proxies),
  };
}

function validatePort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be an integer from 0 to 65535, got ${String(port)}`);
  }
}

async function applyPopulate(proxies: ProxyCollection, body: unknown): Promise<void> {
  const result = await proxies.populate(body);
  if (result.error !== undefined) {
    await proxies.closeAll();
    throw result.error;
  }
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

async function closeAll(server: Server, proxies: ProxyCollection): Promise<void> {
  await proxies.closeAll();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
