import type { FastifyInstance } from 'fastify';

import { assertLoopbackHost } from '../../faults/loopback.js';
import { buildGateway, type GatewayOptions } from './app.js';

export interface StartGatewayOptions extends GatewayOptions {
  /** Loopback host to listen on; other addresses are rejected. @defaultValue '127.0.0.1' */
  host?: string;
  /** @defaultValue 0, a free port */
  port?: number;
}

/** A listening gateway. */
export interface RunningGateway {
  url: string;
  port: number;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Builds the gateway and listens on `host:port`. */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const host = options.host ?? '127.0.0.1';
  assertLoopbackHost(host, 'host');
  const app = buildGateway(options);
  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') {
    await app.close();
    throw new Error(`gateway did not bind a TCP port on ${host}`);
  }
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    app,
    close: () => app.close(),
  };
}
