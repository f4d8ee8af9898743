/**
 * A redis-server of a test's own on a free 127.0.0.1 port, without persistence,
 * that the test may pause (SIGSTOP), resume (SIGCONT), kill and start again.
 * It starts its own process and never touches the shared Redis on 6379.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

import { Redis } from 'ioredis';

/** Asks the OS for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('the probe server has no port')),
      );
    });
  });
}

export class OwnRedisServer {
  readonly port: number;
  /** URL with the password, when the server requires one. */
  readonly url: string;
  readonly #password: string | undefined;
  #process: ChildProcess | undefined;

  private constructor(port: number, password: string | undefined) {
    this.port = port;
    this.#password = password;
    const credentials = password === undefined ? '' : `:${encodeURIComponent(password)}@`;
    this.url = `redis://${credentials}127.0.0.1:${port}`;
  }

  /**
   * Starts redis-server on a free port and waits until it replies to PING.
   * @param password set as requirepass when given
   */
  static async start(password?: string): Promise<OwnRedisServer> {
    const server = new OwnRedisServer(await freePort(), password);
    await server.restart();
    return server;
  }

  /** Starts the server again on the same port, empty, after `kill`. */
  async restart(): Promise<void> {
    if (this.#process !== undefined) throw new Error('redis-server is already running');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', ''];
    if (this.#password !== undefined) args.push('--requirepass', this.#password);
    this.#process = spawn('redis-server', [...args, '--appendonly', 'no'], { stdio: 'ignore' });
    await this.#waitForPing(10_000);
  }

  /** Stops the process with SIGSTOP: connections stay open and commands get no reply. */
  pause(): void {
    this.#signal('SIGSTOP');
  }

  /** Resumes a paused server, which then replies to the commands that waited. */
  resume(): void {
    this.#signal('SIGCONT');
  }

  /** Kills the process with SIGKILL, which closes every connection, and waits for its exit. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (child === undefined) return;
    this.#process = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.#process === undefined) throw new Error('redis-server is not running');
    this.#process.kill(signal);
  }

  async #waitForPing(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const client = new Redis({
        host: '127.0.0.1',
        port: this.port,
        password: this.#password,
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        if ((await client.ping()) === 'PONG') return;
      } catch {
        // Not listening yet.
      } finally {
        client.disconnect();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server on port ${this.port} did not reply to PING in ${timeoutMs} ms`);
  }
}
