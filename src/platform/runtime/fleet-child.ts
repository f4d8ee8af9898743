import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import type { ProviderProfile } from '../../faults/providers/index.js';
import type { FleetRequest, FleetResponse } from './fleet-protocol.js';
import type { FleetProxyOptions, ProviderFleet } from './providers.js';
import { TSX_EXEC_ARGV } from '../tsx-import.js';

const FLEET_ENTRY = fileURLToPath(new URL('./fleet-process.ts', import.meta.url));

/** Time allowed for the child to start its servers, and later to close them. */
const FLEET_TIMEOUT_MS = 15_000;

/** Raised when the fleet child process fails to start or exits early. */
export class FleetProcessError extends Error {
  readonly code = 'FLEET_PROCESS_FAILED';

  /**
   * @param signal Signal that killed the fleet process before it was ready, or null when
   * it exited or failed in another way.
   */
  constructor(
    message: string,
    readonly signal: NodeJS.Signals | null = null,
  ) {
    super(message);
    this.name = 'FleetProcessError';
  }
}

/** Type guard for {@link FleetProcessError}. */
export function isFleetProcessError(value: unknown): value is FleetProcessError {
  return value instanceof FleetProcessError;
}

/** A provider fleet in a child process, with that process's id. */
export interface ProviderFleetProcess extends ProviderFleet {
  pid: number | undefined;
}

/**
 * Starts the provider fleet in a forked child process and resolves once its servers
 * listen. `timeScale` compresses the mock providers' latencies as `scaledClock` does,
 * because a clock object cannot cross the process boundary. The child ignores
 * SIGINT and SIGTERM and stops on `close` or when this process exits.
 */
export async function startProviderFleetProcess(
  profiles: readonly ProviderProfile[],
  seed: number,
  timeScale: number,
  proxy: FleetProxyOptions = {},
): Promise<ProviderFleetProcess> {
  const child = fork(FLEET_ENTRY, [], {
    execArgv: [...TSX_EXEC_ARGV],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const request: FleetRequest = {
    type: 'start',
    profiles: [...profiles],
    seed,
    timeScale,
    proxy,
  };
  // Listening before the send catches the exit of a child that dies at once. Such a child,
  // killed for one by a Ctrl-C sent to the process group, fails the write of the request too.
  // The callback keeps that failure from becoming an unhandled 'error' event, which would
  // crash this process, and `reply` rejects with how the child exited.
  const reply = nextMessage(child);
  child.send(request, () => undefined);
  const response = await reply;
  if (response.type !== 'ready') {
    child.kill('SIGKILL');
    const detail = response.type === 'failed' ? response.message : `unexpected ${response.type}`;
    throw new FleetProcessError(`provider fleet process failed to start: ${detail}`);
  }
  return { ...response.fleet, pid: child.pid, close: () => stopChild(child) };
}

function nextMessage(child: ChildProcess): Promise<FleetResponse> {
  return new Promise((resolve, reject) => {
    const onMessage = (value: unknown): void => {
      cleanup();
      resolve(value as FleetResponse);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      cleanup();
      const message = `provider fleet process ${exitText(code, signal)} before it was ready`;
      reject(new FleetProcessError(message, signal));
    };
    const timer = setTimeout(() => {
      cleanup();
      child.kill('SIGKILL');
      reject(
        new FleetProcessError(
          `provider fleet process sent no message within ${FLEET_TIMEOUT_MS} ms`,
        ),
      );
    }, FLEET_TIMEOUT_MS);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  return signal === null ? `exited with code ${String(code)}` : `was killed by ${signal}`;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || !child.connected) return;
  const exited = once(child, 'exit');
  const stop: FleetRequest = { type: 'stop' };
  child.send(stop);
  const timer = setTimeout(() => child.kill('SIGKILL'), FLEET_TIMEOUT_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
