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

  constructor(message: string) {
    super(message);
    this.name = 'FleetProcessError';
  }
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
  child.send(request);
  const response = await nextMessage(child);
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
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new FleetProcessError(`provider fleet process exited with code ${String(code)}`));
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
