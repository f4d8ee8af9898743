/**
 * Process layout of the gateway bench: server processes run bench/gateway-child.ts,
 * each pinned to one CPU with `taskset` when it exists, and talk to the parent
 * over an IPC channel.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import type { ChildCpu, ChildReady } from './gateway-child.js';

/** CPU of the gateway and router process. */
export const GATEWAY_CPU = 0;
/** CPU shared by the mock provider process and the load client (this process). */
export const MOCK_CPU = 1;

const CHILD_SCRIPT = fileURLToPath(new URL('./gateway-child.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;

/** A running bench server process. */
export interface BenchChild {
  urls: Record<string, string>;
  /** User plus system CPU time the process has used so far, in microseconds. */
  cpuMicros(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Pins every thread of this process to MOCK_CPU and returns a function that
 * restores the earlier CPU list; undefined when taskset is missing or fails.
 */
export function pinClient(): (() => void) | undefined {
  const pid = String(process.pid);
  const current = spawnSync('taskset', ['-cp', pid], { encoding: 'utf8' });
  const earlier = current.status === 0 ? current.stdout.split(':').pop()?.trim() : undefined;
  if (earlier === undefined || earlier === '') return undefined;
  const pinned = spawnSync('taskset', ['-a', '-cp', String(MOCK_CPU), pid], { stdio: 'ignore' });
  if (pinned.status !== 0) return undefined;
  return () => {
    spawnSync('taskset', ['-a', '-cp', earlier, pid], { stdio: 'ignore' });
  };
}

function isMessage<T extends { type: string }>(value: unknown, type: T['type']): value is T {
  return typeof value === 'object' && value !== null && (value as T).type === type;
}

async function nextMessage<T extends { type: string }>(
  child: ChildProcess,
  type: T['type'],
): Promise<T> {
  const signal = AbortSignal.timeout(START_TIMEOUT_MS);
  for (;;) {
    const [message] = (await once(child, 'message', { signal })) as unknown[];
    if (isMessage<T>(message, type)) return message;
  }
}

/** Starts one bench server process, on `cpu` when given, and waits until it listens. */
export async function startBenchChild(
  args: string[],
  cpu: number | undefined,
  env: Record<string, string>,
): Promise<BenchChild> {
  const node = [process.execPath, '--import', 'tsx', CHILD_SCRIPT, ...args];
  const [command, ...rest] = cpu === undefined ? node : ['taskset', '-c', String(cpu), ...node];
  const child = spawn(command ?? process.execPath, rest, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  const exited = once(child, 'exit');
  const ready = await nextMessage<ChildReady>(child, 'ready');
  return {
    urls: ready.urls,
    cpuMicros: async () => {
      const reply = nextMessage<ChildCpu>(child, 'cpu');
      child.send('cpu');
      return (await reply).micros;
    },
    close: async () => {
      child.send('close');
      const timer = setTimeout(() => child.kill(), START_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
