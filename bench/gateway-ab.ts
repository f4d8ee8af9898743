/**
 * CPU per request of the sync gateway path in two checkouts, measured in
 * alternating rounds in one run, so that the machine's drift hits both alike.
 * Each checkout's bench/gateway-child.ts serves a gateway whose router calls
 * one shared mock provider. Both gateway processes are pinned to CPU 0, the
 * mock provider and the load client to CPU 1. Only one gateway is loaded at a
 * time, closed-loop at 32 requests in flight.
 *
 * Run: npx tsx bench/gateway-ab.ts <checkout A> <checkout B> [rounds=15]
 * (a checkout is a directory with this repository's layout and its node_modules,
 * such as one made by `git worktree add /tmp/base HEAD~1` plus a node_modules link).
 * With BENCH_CPU_PROF=<dir> each gateway process writes a V8 CPU profile to that
 * directory when the run ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { resolve } from 'node:path';

import { Pool } from 'undici';

import { positiveInteger } from './args.js';
import type { ChildCpu, ChildReady } from './gateway-child.js';
import { GATEWAY_CPU, MOCK_CPU, pinClient, startBenchChild } from './gateway-processes.js';
import { median } from './stats.js';

const ROUND_SECONDS = 1.5;
const IN_FLIGHT = 32;

interface Gateway {
  checkout: string;
  child: ChildProcess;
  url: string;
  cpuMicros(): Promise<number>;
}

async function startGateway(checkout: string, mockUrl: string, env: Record<string, string>) {
  const script = resolve(checkout, 'bench/gateway-child.ts');
  const profileDir = process.env.BENCH_CPU_PROF;
  const profile = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const node = [process.execPath, ...profile, '--import', 'tsx', script, 'gateway', mockUrl];
  const child = spawn('taskset', ['-c', String(GATEWAY_CPU), ...node], {
    cwd: checkout,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  const [ready] = (await once(child, 'message')) as [ChildReady];
  return {
    checkout,
    child,
    url: ready.urls.gateway ?? '',
    cpuMicros: async () => {
      const reply = once(child, 'message');
      child.send('cpu');
      return ((await reply)[0] as ChildCpu).micros;
    },
  } satisfies Gateway;
}

/** Sends closed-loop load for `seconds` and returns the number of completed requests. */
async function load(url: string, tenantKey: string, seconds: number): Promise<number> {
  const pool = new Pool(url, { connections: 64 });
  const body = JSON.stringify({ route: 'bench', maxOutputTokens: 8, mode: 'sync' });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${tenantKey}` };
  const end = performance.now() + seconds * 1000;
  let completed = 0;
  const sender = async () => {
    while (performance.now() < end) {
      const response = await pool.request({ method: 'POST', path: '/v1/tasks', headers, body });
      await response.body.dump();
      if (response.statusCode !== 200) throw new Error(`gateway returned ${response.statusCode}`);
      completed += 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
  } finally {
    await pool.close();
  }
  return completed;
}

async function main(): Promise<void> {
  const [first, second, roundsArg] = process.argv.slice(2);
  if (first === undefined || second === undefined) {
    throw new Error('usage: gateway-ab.ts <checkout A> <checkout B> [rounds]');
  }
  const rounds = positiveInteger('rounds', roundsArg, 15);
  if (pinClient() === undefined) throw new Error('taskset is needed to pin the processes');
  const env = {
    BENCH_TENANT_KEY: `sk-bench-${randomUUID()}`,
    BENCH_PROVIDER_KEY: `sk-mock-${randomUUID()}`,
  };
  const mock = await startBenchChild(['mock'], MOCK_CPU, env);
  const gateways = [
    await startGateway(first, mock.urls.mock ?? '', env),
    await startGateway(second, mock.urls.mock ?? '', env),
  ];
  try {
    for (const gateway of gateways) await load(gateway.url, env.BENCH_TENANT_KEY, 3);
    const perRequest = gateways.map(() => [] as number[]);
    for (let round = 0; round < rounds; round += 1) {
      // The side that goes second runs in the wake of the first's burst, so the order alternates.
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const index of order) {
        const gateway = gateways[index];
        if (gateway === undefined) continue;
        const before = await gateway.cpuMicros();
        const completed = await load(gateway.url, env.BENCH_TENANT_KEY, ROUND_SECONDS);
        perRequest[index]?.push(((await gateway.cpuMicros()) - before) / completed);
      }
    }
    const medians = perRequest.map(median);
    for (const [index, gateway] of gateways.entries()) {
      const micros = medians[index] ?? Number.NaN;
      console.log(
        `${gateway.checkout}: median ${micros.toFixed(1)} us of CPU per request (${(1e6 / micros).toFixed(0)} requests/s per core) over ${rounds} rounds`,
      );
    }
    console.log(`B/A CPU per request: ${((medians[1] ?? 0) / (medians[0] ?? 1)).toFixed(3)}`);
  } finally {
    // A disconnected child closes its servers and exits, which writes its CPU profile.
    await Promise.all(
      gateways.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        if (child.connected) child.disconnect();
        else child.kill();
        const timer = setTimeout(() => child.kill(), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await mock.close();
  }
}

await main();
