/**
 * Requests per second of the mock provider on one core: the `instant` profile (no latency),
 * non-streaming OpenAI completions. The server runs in a child process, pinned to CPU 0 when
 * `taskset` exists. This process drives it from CPU 1 with an undici keep-alive Pool.
 * A bare node:http server returning a fixed JSON body runs side by side as the ceiling: the
 * two servers' runs alternate, and the mock / bare ratio is the median of the runs' ratios.
 *
 * Run: npx tsx bench/mock-provider.ts
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

import { Pool } from 'undici';

import { loadProviderProfile, startMockProvider } from '../src/faults/providers/index.js';
import { median } from './stats.js';

const HOST = '127.0.0.1';
const RUNS = 3;
const REQUESTS_PER_RUN = 100_000;
const WARMUP_REQUESTS = 10_000;
const TIME_LIMIT_MS = 10_000;
const CONNECTIONS = 32;
const BODY = JSON.stringify({
  model: 'instant',
  max_tokens: 16,
  messages: [{ role: 'user', content: 'Summarise the incident report in one line.' }],
});

type Target = 'mock' | 'baseline';

async function serve(target: Target): Promise<void> {
  let port: number;
  if (target === 'mock') {
    const provider = await startMockProvider({ profile: await loadProviderProfile('instant') });
    port = provider.port;
  } else {
    const body = JSON.stringify({ id: 'chatcmpl-fixed', object: 'chat.completion', choices: [] });
    const server = createServer((req, res) => {
      req.resume();
      req.once('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      });
    });
    server.listen(0, HOST);
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  }
  process.stdout.write(`${port}\n`);
}

function startChild(target: Target): { child: ChildProcess; port: Promise<number> } {
  const script = fileURLToPath(import.meta.url);
  const nodeArgs = ['--import', 'tsx', script, '--serve', target];
  const pinned = spawnSync('taskset', ['--version']).status === 0;
  const child = pinned
    ? spawn('taskset', ['-c', '0', process.execPath, ...nodeArgs], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
    : spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (data: Buffer) => resolve(Number(String(data).trim())));
    child.once('exit', (code) => reject(new Error(`bench server exited with code ${code}`)));
  });
  return { child, port };
}

/** One measured run: client-side throughput and the share of one core the server used. */
interface RunResult {
  requestsPerSecond: number;
  serverCpuShare: number;
}

/** CPU seconds (user + system) used so far by process `pid`, read from /proc; NaN elsewhere. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in ticks of 1/100 s on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

async function drive(pool: Pool, requests: number): Promise<number> {
  let next = 0;
  let done = 0;
  const started = performance.now();
  const deadline = started + TIME_LIMIT_MS;
  const worker = async (): Promise<void> => {
    while (next < requests && performance.now() < deadline) {
      next += 1;
      const response = await pool.request({
        path: '/v1/chat/completions',
        method: 'POST',
        headers: { authorization: 'Bearer bench-key', 'content-type': 'application/json' },
        body: BODY,
      });
      await response.body.text();
      if (response.statusCode !== 200) {
        throw new Error(`unexpected status ${response.statusCode}`);
      }
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  return (done * 1000) / (performance.now() - started);
}

function perSecond(result: RunResult): number {
  return result.requestsPerSecond;
}

/** Prints each run and the medians: req/s seen by the client, and req/s per server CPU-second. */
function report(label: string, results: RunResult[]): void {
  const rates = results.map(perSecond);
  const perCpu = results.map((result) => result.requestsPerSecond / result.serverCpuShare);
  const runs = rates.map((rate) => rate.toFixed(0)).join(', ');
  const shares = results.map((result) => `${(result.serverCpuShare * 100).toFixed(0)}%`).join(', ');
  console.log(`${label}: req/s ${runs} (median ${median(rates).toFixed(0)});`);
  console.log(
    `  server CPU ${shares}; req per server CPU-second median ${median(perCpu).toFixed(0)}`,
  );
}

interface Server {
  child: ChildProcess;
  pool: Pool;
}

async function startServer(target: Target): Promise<Server> {
  const { child, port } = startChild(target);
  return { child, pool: new Pool(`http://${HOST}:${await port}`, { connections: CONNECTIONS }) };
}

async function measureRun({ child, pool }: Server): Promise<RunResult> {
  const cpuBefore = cpuSeconds(child.pid);
  const started = performance.now();
  const requestsPerSecond = await drive(pool, REQUESTS_PER_RUN);
  const elapsedSeconds = (performance.now() - started) / 1000;
  const serverCpuShare = (cpuSeconds(child.pid) - cpuBefore) / elapsedSeconds;
  return { requestsPerSecond, serverCpuShare };
}

/**
 * Runs both servers' rounds interleaved, alternating which goes first, so that each round's
 * mock / bare ratio compares runs made one right after the other.
 */
async function measureBoth(): Promise<Record<Target, RunResult[]>> {
  const servers: Partial<Record<Target, Server>> = {};
  try {
    servers.mock = await startServer('mock');
    servers.baseline = await startServer('baseline');
    const both = { mock: servers.mock, baseline: servers.baseline };
    await drive(both.mock.pool, WARMUP_REQUESTS);
    await drive(both.baseline.pool, WARMUP_REQUESTS);
    const results: Record<Target, RunResult[]> = { mock: [], baseline: [] };
    for (let run = 0; run < RUNS; run += 1) {
      const order: Target[] = run % 2 === 0 ? ['mock', 'baseline'] : ['baseline', 'mock'];
      for (const target of order) results[target].push(await measureRun(both[target]));
    }
    return results;
  } finally {
    for (const server of Object.values(servers)) {
      await server.pool.close();
      server.child.kill('SIGTERM');
    }
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--serve') {
    await serve(process.argv[3] === 'baseline' ? 'baseline' : 'mock');
    return;
  }
  const pinned = spawnSync('taskset', ['--version']).status === 0;
  if (pinned) {
    spawnSync('taskset', ['-cp', '1', String(process.pid)]);
  }
  const { mock, baseline } = await measureBoth();
  console.log(`server pinned to one core: ${pinned ? 'yes (taskset -c 0)' : 'no'}`);
  report('mock provider (instant, non-streaming)', mock);
  report('bare node:http fixed JSON', baseline);
  const ratios = mock.map(
    (result, run) => perSecond(result) / (baseline[run]?.requestsPerSecond ?? Number.NaN),
  );
  const perRun = ratios.map((ratio) => ratio.toFixed(2)).join(', ');
  console.log(`mock / bare req/s per run: ${perRun} (median ${median(ratios).toFixed(2)})`);
}

await main();
