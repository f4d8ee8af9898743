/**
 * Added latency of the fault proxy with no toxics. HTTP keep-alive GETs at a fixed rate
 * (open schedule) go to one upstream both directly and through the proxy, interleaved in
 * one run. Latency counts from each request's actual send, because both paths share
 * the same timer lag. Sends more than 5 ms behind schedule are counted as late. The upstream and the
 * proxy run in their own child processes, and everything binds 127.0.0.1.
 *
 * Run: npx tsx bench/proxy.ts [--rate 1000] [--seconds 10]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

import { Toxiproxy } from 'toxiproxy-node-client';
import { Pool } from 'undici';

import { startFaultProxy } from '../src/faults/proxy/index.js';
import { percentile } from './stats.js';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'driver' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
  },
});

/**
 * Child process roles: each sends its listening port to the parent, and exits when the
 * parent goes away so that a driver that fails leaves no server behind.
 */
async function runRole(role: string): Promise<void> {
  process.once('disconnect', () => process.exit(0));
  if (role === 'upstream') {
    const server = createServer((_request, response) => response.end('ok'));
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1', () => process.send?.((server.address() as AddressInfo).port));
    return;
  }
  const proxy = await startFaultProxy({ port: 0 });
  process.send?.(proxy.port);
}

function startChild(role: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(new URL(import.meta.url).pathname, ['--role', role], {
    execArgv: ['--import', 'tsx'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (port) => resolve({ child, port: Number(port) }));
    child.once('error', reject);
  });
}

interface PathStats {
  readonly latencies: number[];
  errors: number;
}

/**
 * Sends one GET and records its latency from the moment it was sent. A failed request or
 * a status other than 200 counts as an error and records no latency.
 */
async function send(pool: Pool, stats: PathStats, record: boolean) {
  const sentAt = performance.now();
  try {
    const response = await pool.request({ path: '/', method: 'GET' });
    await response.body.text();
    if (response.statusCode !== 200) {
      stats.errors += 1;
      return;
    }
    if (record) stats.latencies.push(performance.now() - sentAt);
  } catch {
    stats.errors += 1;
  }
}

type PathName = 'direct' | 'proxied';

async function drive(rate: number, seconds: number): Promise<void> {
  const children: ChildProcess[] = [];
  try {
    const upstream = await startChild('upstream');
    children.push(upstream.child);
    const proxyServer = await startChild('proxy');
    children.push(proxyServer.child);
    const client = new Toxiproxy(`http://127.0.0.1:${proxyServer.port}`);
    const proxy = await client.createProxy({
      name: 'bench',
      listen: '127.0.0.1:0',
      upstream: `127.0.0.1:${upstream.port}`,
    });
    const pools: Record<PathName, Pool> = {
      direct: new Pool(`http://127.0.0.1:${upstream.port}`, { connections: 32 }),
      proxied: new Pool(`http://${proxy.listen}`, { connections: 32 }),
    };
    try {
      const { stats, late } = await runSchedule(pools, rate, seconds);
      report(stats, { rate, seconds, late });
    } finally {
      await Promise.all([pools.direct.close(), pools.proxied.close()]);
    }
  } finally {
    for (const child of children) child.kill();
  }
}

/** Sends one request per path every 1/rate s for `seconds` after a 1 s warm-up. */
async function runSchedule(
  pools: Record<PathName, Pool>,
  rate: number,
  seconds: number,
): Promise<{ stats: Record<PathName, PathStats>; late: number }> {
  const stats: Record<PathName, PathStats> = {
    direct: { latencies: [], errors: 0 },
    proxied: { latencies: [], errors: 0 },
  };
  const warmupMs = 1000;
  const intervalMs = 1000 / rate;
  const total = Math.round(((seconds * 1000 + warmupMs) / 1000) * rate);
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  let late = 0;
  let next = 0;
  while (next < total) {
    const now = performance.now();
    // Send every request whose scheduled time has come, then yield for about 1 ms.
    for (; next < total && started + next * intervalMs <= now; next += 1) {
      const scheduledAt = started + next * intervalMs;
      if (now - scheduledAt > 5) late += 1;
      const record = scheduledAt - started >= warmupMs;
      // Alternate which path goes first, so neither gets a systematic head start.
      const order: PathName[] = next % 2 === 0 ? ['direct', 'proxied'] : ['proxied', 'direct'];
      for (const path of order) inFlight.push(send(pools[path], stats[path], record));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  return { stats, late };
}

function report(
  stats: Record<PathName, PathStats>,
  run: { rate: number; seconds: number; late: number },
): void {
  const summary = Object.fromEntries(
    Object.entries(stats).map(([path, { latencies, errors }]) => {
      const sorted = [...latencies].sort((a, b) => a - b);
      return [
        path,
        { n: sorted.length, errors, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) },
      ];
    }),
  );
  const direct = summary.direct;
  const proxied = summary.proxied;
  console.log(`rate ${run.rate}/s per path for ${run.seconds} s, late sends ${run.late}`);
  for (const [path, s] of Object.entries(summary)) {
    console.log(
      `${path.padEnd(8)} n=${s.n} errors=${s.errors} p50=${s.p50.toFixed(3)} ms p99=${s.p99.toFixed(3)} ms`,
    );
  }
  if (direct !== undefined && proxied !== undefined) {
    console.log(`added p50 ${(proxied.p50 - direct.p50).toFixed(3)} ms (target <= 0.100 ms)`);
    console.log(`added p99 ${(proxied.p99 - direct.p99).toFixed(3)} ms`);
  }
}

function positiveNumber(name: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`--${name} must be a positive number, got ${JSON.stringify(text)}`);
  }
  return value;
}

if (values.role === 'driver') {
  await drive(positiveNumber('rate', values.rate), positiveNumber('seconds', values.seconds));
} else {
  await runRole(values.role ?? 'upstream');
}
