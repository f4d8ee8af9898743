/**
 * CPU time of every process on the machine, read from /proc, so a bench can show
 * which process (gateway, worker, mock provider, redis-server) spent what per task.
 * On a system without /proc the snapshot is empty and the report prints one line
 * stating that.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times, which is 100 on Linux (USER_HZ). */
const TICKS_PER_SECOND = 100;

interface ProcessTime {
  ticks: number;
  command: string;
}

/** CPU ticks (user plus system) per process id. */
export type CpuSnapshot = Map<string, ProcessTime>;

function readProcess(pid: string): ProcessTime | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    return Number.isFinite(ticks) ? { ticks, command } : undefined;
  } catch {
    // The process ended between the directory read and this one.
    return undefined;
  }
}

/** Reads the CPU time of every process now visible in /proc. */
export function cpuSnapshot(): CpuSnapshot {
  const snapshot: CpuSnapshot = new Map();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return snapshot;
  }
  for (const pid of pids) {
    const time = readProcess(pid);
    if (time !== undefined) snapshot.set(pid, time);
  }
  return snapshot;
}

/** Short label of a command line: the script or binary that names the process's role. */
function roleOf(command: string): string {
  if (command.includes('worker-process')) return 'worker process';
  if (command.includes('fleet-process')) return 'mock providers';
  if (command.startsWith('redis-server')) return 'redis-server';
  if (command.includes('bench/gateway.ts')) return 'bench: load client, gateway';
  if (command.includes('async-floor.ts --worker')) return 'floor worker process';
  if (command.includes('async-floor.ts --mock')) return 'mock provider';
  if (command.includes('bench/async-floor.ts')) return 'bench: load client, floor gateway';
  return command.slice(0, 60);
}

/**
 * Lines of CPU microseconds per task since `before`, one per process that used
 * more than 50 ms, then the total over every process.
 */
export function cpuPerTaskLines(before: CpuSnapshot, tasks: number): string[] {
  const after = cpuSnapshot();
  if (after.size === 0) return ['no /proc here: CPU per process not measured'];
  const rows = [...after]
    .map(([pid, time]) => ({
      role: roleOf(time.command),
      micros: ((time.ticks - (before.get(pid)?.ticks ?? 0)) * 1e6) / TICKS_PER_SECOND,
    }))
    .filter((row) => row.micros >= 50_000)
    .sort((a, b) => b.micros - a.micros);
  const total = rows.reduce((sum, row) => sum + row.micros, 0);
  const line = (role: string, micros: number) =>
    `${(micros / tasks).toFixed(0).padStart(6)} us/task  ${role}`;
  return [
    ...rows.map((row) => line(row.role, row.micros)),
    line('all processes on the machine', total),
  ];
}
