import { createServer, type Server, type Socket } from 'node:net';

import { formatHostPort, type HostPort } from './address.js';
import { FaultProxyError } from './errors.js';

/**
 * Opens a TCP listener and resolves with the server and the bound address, which has
 * the real port when `port` is 0. A failure such as EADDRINUSE becomes a 500 naming the address.
 */
export function openListener(
  address: HostPort,
  onConnection: (socket: Socket) => void,
): Promise<{ server: Server; bound: HostPort }> {
  const server = createServer({ allowHalfOpen: true, noDelay: true }, onConnection);
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const addressText = formatHostPort(address);
      const reason = error.code === 'EADDRINUSE' ? 'address already in use' : error.message;
      reject(
        new FaultProxyError(
          'listen_failed',
          `listen on ${addressText} failed: ${reason} (${error.code ?? 'unknown error'})`,
          'listen',
        ),
      );
    };
    server.once('error', onError);
    server.listen({ host: address.host, port: address.port, exclusive: true }, () => {
      server.off('error', onError);
      const bound = server.address();
      const port = typeof bound === 'object' && bound !== null ? bound.port : address.port;
      resolve({ server, bound: { host: address.host, port } });
    });
  });
}

/** Stops accepting connections; resolves once the listener is closed. */
export function closeListener(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
  });
}
