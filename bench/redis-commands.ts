/**
 * Redis work per async task: the commands the platform sends to Redis for one
 * task through gateway, BullMQ and worker processes, against raw BullMQ no-op
 * jobs, from the server's INFO commandstats before and after each side. The
 * counts include the commands Lua scripts run inside Redis; `scripts` counts
 * the EVALSHA and EVAL calls themselves. Other clients of the same Redis add to
 * the counts, so run it on an otherwise idle server.
 *
 * A last, smaller round of each side times every script call on the server:
 * it sets `slowlog-log-slower-than` to 0 for that round, reads the slow log and
 * restores both slow log settings. A script is named by its key count and its
 * first key, with ids masked, and its time includes the commands it runs.
 *
 * Run: npx tsx bench/redis-commands.ts [tasks=1000]
 */
import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import { Pool } from 'undici';

import { endedTasks, REDIS_URL, startAsyncBenchPlatform, waitForEnded } from './async-platform.js';
import { measureRawBullmqThroughput } from './queue.js';

const TENANT_KEY = `sk-bench-${randomUUID()}`;

interface CommandCalls {
  command: string;
  calls: number;
}

/** Parses INFO commandstats into calls per command. */
async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (match?.[1] !== undefined) calls.set(match[1], Number(match[2]));
  }
  return calls;
}

/** Reads INFO stats counters: socket reads the server processed, and its network bytes. */
async function ioCounters(redis: Redis): Promise<Map<string, number>> {
  const counters = new Map<string, number>();
  for (const line of (await redis.info('stats')).split('\n')) {
    const match =
      /^(total_reads_processed|total_net_input_bytes|total_net_output_bytes):(\d+)/.exec(line);
    if (match?.[1] !== undefined) counters.set(match[1], Number(match[2]));
  }
  return counters;
}

interface PerTask {
  rows: CommandCalls[];
  /** Socket reads the server processed per task: about one per client write that reached it. */
  reads: number;
  bytesIn: number;
  bytesOut: number;
}

/**
 * Runs `work`, then returns each command's calls per task, most calls first, and I/O per task.
 * The counts end when `work` calls `measured`, or when it returns if it never does.
 */
async function perTask(
  redis: Redis,
  tasks: number,
  work: (measured: () => Promise<void>) => Promise<void>,
): Promise<PerTask> {
  const before = await commandCalls(redis);
  const ioBefore = await ioCounters(redis);
  let end: { io: Map<string, number>; calls: Map<string, number> } | undefined;
  const measured = async () => {
    end ??= { io: await ioCounters(redis), calls: await commandCalls(redis) };
  };
  await work(measured);
  await measured();
  const ioAfter = end?.io ?? new Map<string, number>();
  const after = end?.calls ?? new Map<string, number>();
  const rows: CommandCalls[] = [];
  for (const [command, total] of after) {
    const calls = (total - (before.get(command) ?? 0)) / tasks;
    if (calls > 0) rows.push({ command, calls });
  }
  const delta = (name: string) => ((ioAfter.get(name) ?? 0) - (ioBefore.get(name) ?? 0)) / tasks;
  return {
    rows: rows.sort((a, b) => b.calls - a.calls),
    reads: delta('total_reads_processed'),
    bytesIn: delta('total_net_input_bytes'),
    bytesOut: delta('total_net_output_bytes'),
  };
}

function summary(name: string, { rows, reads, bytesIn, bytesOut }: PerTask): void {
  const all = rows.reduce((total, row) => total + row.calls, 0);
  const scripts = rows
    .filter((row) => row.command === 'evalsha' || row.command === 'eval')
    .reduce((total, row) => total + row.calls, 0);
  const top = rows
    .filter((row) => row.command !== 'evalsha' && row.command !== 'eval')
    .slice(0, 6)
    .map((row) => `${row.command} ${row.calls.toFixed(1)}`)
    .join(', ');
  console.log(
    `${name}: ${scripts.toFixed(1)} scripts and ${all.toFixed(1)} commands per task in all; most called, inside scripts or not: ${top}`,
  );
  console.log(
    `${name}: ${reads.toFixed(1)} socket reads, ${bytesIn.toFixed(0)} bytes in and ${bytesOut.toFixed(0)} bytes out per task`,
  );
}

/** Server time of one kind of script call, from the slow log. */
interface ScriptTime {
  script: string;
  calls: number;
  totalUs: number;
}

/** Names a script call by its key count and its first key, with ids and numbers masked. */
function scriptName(args: string[]): string {
  const firstKey = (args[3] ?? '')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
    .replace(/(bench-[a-z]+-|sgbench-)[0-9a-f]{12}/g, '$1<id>')
    .replace(/:\d+$/, ':<n>');
  return `${args[2] ?? '?'} keys, first ${firstKey}`;
}

/**
 * Runs `work` with every command logged to the slow log, then returns the server
 * time of each kind of script call per task, most time first. The slow log
 * settings are restored afterwards.
 */
async function scriptTimes(redis: Redis, tasks: number, work: () => Promise<void>) {
  const [, threshold] = (await redis.config('GET', 'slowlog-log-slower-than')) as string[];
  const [, maxLen] = (await redis.config('GET', 'slowlog-max-len')) as string[];
  const byScript = new Map<string, ScriptTime>();
  try {
    await redis.config('SET', 'slowlog-max-len', String(tasks * 200));
    await redis.slowlog('RESET');
    await redis.config('SET', 'slowlog-log-slower-than', '0');
    await work();
    await redis.config('SET', 'slowlog-log-slower-than', threshold ?? '10000');
    const entries = (await redis.slowlog('GET', -1)) as [number, number, number, string[]][];
    for (const [, , micros, args] of entries) {
      if (String(args[0]).toLowerCase() !== 'evalsha') continue;
      const script = scriptName(args.map(String));
      const time = byScript.get(script) ?? { script, calls: 0, totalUs: 0 };
      time.calls += 1;
      time.totalUs += Number(micros);
      byScript.set(script, time);
    }
  } finally {
    await redis.config('SET', 'slowlog-log-slower-than', threshold ?? '10000');
    await redis.config('SET', 'slowlog-max-len', maxLen ?? '128');
    await redis.slowlog('RESET');
  }
  return [...byScript.values()].sort((a, b) => b.totalUs - a.totalUs);
}

function printScriptTimes(name: string, tasks: number, times: ScriptTime[]): void {
  const totalUs = times.reduce((sum, time) => sum + time.totalUs, 0);
  console.log(`${name}: ${(totalUs / tasks).toFixed(1)} us of script time per task on the server`);
  for (const time of times) {
    const perCall = time.totalUs / time.calls;
    console.log(
      `  ${(time.totalUs / tasks).toFixed(1).padStart(6)} us/task  ${(time.calls / tasks).toFixed(2)} calls/task  ${perCall.toFixed(1).padStart(5)} us/call  ${time.script}`,
    );
  }
}

async function submit(url: string, tasks: number): Promise<void> {
  const pool = new Pool(url, { connections: 64 });
  const body = JSON.stringify({ route: 'bench', maxOutputTokens: 8, mode: 'async' });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${TENANT_KEY}` };
  try {
    for (let first = 0; first < tasks; first += 100) {
      const count = Math.min(100, tasks - first);
      await Promise.all(
        Array.from({ length: count }, async () => {
          const response = await pool.request({ method: 'POST', path: '/v1/tasks', headers, body });
          await response.body.dump();
          if (response.statusCode !== 202) {
            throw new Error(`gateway returned ${response.statusCode}`);
          }
        }),
      );
    }
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  const tasks = Number(process.argv[2] ?? 1000);
  if (!Number.isInteger(tasks) || tasks < 100) {
    throw new Error(
      `tasks must be an integer >= 100, got ${process.argv[2]}; pass a count such as 1000`,
    );
  }
  const redis = new Redis(REDIS_URL);
  const platform = await startAsyncBenchPlatform(TENANT_KEY);
  try {
    // A warm-up round loads every script, so the counted rounds send none.
    await submit(platform.gatewayUrl, 100);
    await waitForEnded(platform, 0, 100);
    // The raw side's count ends before its queue is obliterated, about 3 commands per job,
    // because the platform side's count has no cleanup in it either.
    const raw = await perTask(redis, tasks, async (measured) => {
      const options = { redisUrl: REDIS_URL, jobs: tasks, concurrency: 50 };
      await measureRawBullmqThroughput({ ...options, beforeCleanup: measured });
    });
    const platformRows = await perTask(redis, tasks, async () => {
      const endedBefore = await endedTasks(platform);
      await submit(platform.gatewayUrl, tasks);
      await waitForEnded(platform, endedBefore, tasks);
    });
    summary('raw BullMQ no-op', raw);
    summary('gateway, BullMQ, workers', platformRows);

    const timed = Math.min(tasks, 300);
    const rawTimes = await scriptTimes(redis, timed, async () => {
      await measureRawBullmqThroughput({ redisUrl: REDIS_URL, jobs: timed, concurrency: 50 });
    });
    const platformTimes = await scriptTimes(redis, timed, async () => {
      const endedBefore = await endedTasks(platform);
      await submit(platform.gatewayUrl, timed);
      await waitForEnded(platform, endedBefore, timed);
    });
    printScriptTimes('raw BullMQ no-op', timed, rawTimes);
    printScriptTimes('gateway, BullMQ, workers', timed, platformTimes);
  } finally {
    await platform.close();
    await redis.quit();
  }
}

await main();
