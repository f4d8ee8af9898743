import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import type { ProviderProfile } from '../../faults/providers/index.js';
import { type Clock, systemClock } from '../clock.js';
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
 * SIGINT, SIGTERM and SIGHUP and stops on `close` or when this process exits.
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
  const close = async (): Promise<void> => {
    await stopFleetChild(child);
  };
  return { ...response.fleet, pid: child.pid, close };
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

/** Result of {@link stopFleetChild}: the child had exited, exited on request, or was killed. */
export type FleetStopOutcome = 'already_exited' | 'exited' | 'killed';

/** Options of {@link stopFleetChild}. */
export interface FleetStopOptions {
  /**
   * Time the child gets to exit after the stop request, and again after SIGKILL.
   * @defaultValue 15 000 ms
   */
  readonly timeoutMs?: number;
  /** @defaultValue systemClock */
  readonly clock?: Clock;
}

/**
 * Asks a fleet child process to close its servers and exit, and sends SIGKILL to its pid
 * when it has not exited within `timeoutMs`. Resolves with how the child ended, and rejects
 * with a {@link FleetProcessError} when it still runs `timeoutMs` after SIGKILL.
 */
export async function stopFleetChild(
  child: ChildProcess,
  options: FleetStopOptions = {},
): Promise<FleetStopOutcome> {
  const { timeoutMs = FLEET_TIMEOUT_MS, clock = systemClock } = options;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new RangeError(
      `invalid timeoutMs ${String(timeoutMs)}: expected a finite number of ms, 0 or more`,
    );
  }
  const { pid } = child;
  // A child without a pid failed to spawn and never ran.
  if (pid === undefined || hasExited(child)) {
    return 'already_exited';
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A child that exited or closed its IPC channel since the check fails the send. The
  // callback keeps that failure from becoming an 'error' event, which would crash this
  // process. The fleet process exits when its channel closes, so the wait below covers it.
  const stop: FleetRequest = { type: 'stop' };
  child.send(stop, () => undefined);
  // Once Node has reaped the child, which sets exitCode or signalCode, its pid may name
  // another process, so the kill below needs both still null.
  if ((await settlesWithin(exited, timeoutMs, clock)) || hasExited(child)) {
    return 'exited';
  }
  killByPid(pid);
  if (await settlesWithin(exited, timeoutMs, clock)) {
    return 'killed';
  }
  throw new FleetProcessError(
    `provider fleet process ${pid} did not exit within ${timeoutMs} ms of SIGKILL, ` +
      `so check its state with ps -p ${pid}`,
  );
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Sends SIGKILL to `pid`, which the caller checked still names its running child. */
function killByPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Resolves true once `promise` settles, or false after `ms` on `clock`. */
function settlesWithin(promise: Promise<void>, ms: number, clock: Clock): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => resolve(false), ms);
    const settle = (): void => {
      clock.clearTimeout(timer);
      resolve(true);
    };
    promise.then(settle, settle);
  });
}
