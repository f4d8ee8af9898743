/**
 * The floor of the async path's layout: what a platform with nothing but the layout's
 * parts reaches against raw BullMQ no-op jobs in the same run. The floor's gateway is a
 * Fastify route that adds one BullMQ job per request and responds 202, with no auth,
 * admission, task store or metrics. Its 2 worker processes (BENCH_WORKER_PROCESSES)
 * run 25 jobs each, as the platform bench's do. Each round runs raw BullMQ from a full
 * queue, raw BullMQ with one `add` per job while its worker runs, then two floors:
 * - floor, no-op jobs: HTTP in, BullMQ, a job that does nothing;
 * - floor, provider call: the same, and each job makes one streamed completion request
 *   to the mock provider's `instant` model in a process of its own, reading the body
 *   without parsing it.
 * The load client sends 200 requests at a time, as in bench/gateway.ts.
 *
 * Run: npx tsx bench/async-floor.ts [tasks=2000]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { Queue, Worker } from 'bullmq';
import Fastify from 'fastify';
import { Pool } from 'undici';

import { loadProviderProfile, startMockProvider } from '../src/faults/providers/index.js';
import { redisOptionsFromUrl } from '../src/platform/queue/redis-connection.js';
import { cpuPerTaskLines, cpuSnapshot } from './process-cpu.js';
import { measureRawBullmqFlow, measureRawBullmqThroughput } from './queue.js';
import { positiveInteger } from './args.js';
import { median } from './stats.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const HOST = '127.0.0.1';
const WORKERS = 50;
const SUBMIT_BATCH = 200;
const ROUNDS = 3;
const TIME_LIMIT_MS = 120_000;
const SCRIPT = fileURLToPath(import.meta.url);
const MOCK_BODY = JSON.stringify({
  model: 'instant',
  messages: [{ role: 'user', content: 'Synthetic load-test prompt.' }],
  max_tokens: 8,
  stream: true,
});
const TASK_BODY = JSON.stringify({ route: 'bench', maxOutputTokens: 8, mode: 'async' });

/** Message a child process sends once it serves or consumes. */
interface ReadyMessage {
  ready: true;
  port?: number;
}

function workerProcesses(): number {
  return Number(process.env.BENCH_WORKER_PROCESSES ?? 2);
}

/** Forks this script with `args` and resolves once the child reports ready. */
export async function startChild(args: string[]): Promise<{ child: ChildProcess; port?: number }> {
  const child = fork(SCRIPT, args, { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`child ${args.join(' ')} exited with code ${code} before it was ready`);
    }),
  ])) as [ReadyMessage];
  return message.port === undefined ? { child } : { child, port: message.port };
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.send('stop');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Child mode: serves the mock provider's `instant` profile on 127.0.0.1. */
async function serveMock(): Promise<void> {
  const provider = await startMockProvider({ profile: await loadProviderProfile('instant') });
  process.send?.({ ready: true, port: provider.port } satisfies ReadyMessage);
  process.on('message', () => {
    void provider.close().then(() => process.exit(0));
  });
}

/**
 * Child mode: consumes queue `name` under `prefix` at `concurrency`. With a mock port,
 * each job makes one streamed completion request and reads its body.
 */
async function consume(prefix: string, name: string, mockPort: number, concurrency: number) {
  const pool =
    mockPort > 0 ? new Pool(`http://${HOST}:${mockPort}`, { connections: concurrency }) : undefined;
  const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-mock-floor' };
  const processor = async (): Promise<void> => {
    if (pool === undefined) return;
    const response = await pool.request({
      method: 'POST',
      path: '/v1/chat/completions',
      headers,
      body: MOCK_BODY,
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) {
      throw new Error(
        `mock provider responded with status ${response.statusCode}: ${text.slice(0, 200)}`,
      );
    }
  };
  const connection = redisOptionsFromUrl(REDIS_URL);
  const worker = new Worker(name, processor, { connection, prefix, concurrency });
  await worker.waitUntilReady();
  process.send?.({ ready: true } satisfies ReadyMessage);
  process.on('message', () => {
    void Promise.all([worker.close(), pool?.close()]).then(() => process.exit(0));
  });
}

/** A started floor: gateway in this process, worker processes, its queue. */
export interface Floor {
  url: string;
  queue: Queue;
  close(): Promise<void>;
}

/**
 * Starts a floor whose jobs call the mock provider on `mockPort`, or do nothing with 0. A
 * start that fails stops the worker processes that started and deletes the queue.
 */
export async function startFloor(mockPort: number): Promise<Floor> {
  const suffix = randomBytes(6).toString('hex');
  const name = `floor-${suffix}`;
  const prefix = `sgbench-floor-${suffix}`;
  const queue = new Queue(name, { connection: redisOptionsFromUrl(REDIS_URL), prefix });
  const processes = workerProcesses();
  const concurrency = String(Math.ceil(WORKERS / processes));
  const workers: ChildProcess[] = [];
  const app = Fastify();
  const close = async () => {
    try {
      await app.close();
      await Promise.all(workers.map((child) => stopChild(child)));
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
    }
  };
  try {
    const starts = await Promise.allSettled(
      Array.from({ length: processes }, () =>
        startChild(['--worker', prefix, name, String(mockPort), concurrency]),
      ),
    );
    for (const start of starts) {
      if (start.status === 'fulfilled') workers.push(start.value.child);
    }
    const failed = starts.find((start) => start.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    app.post('/v1/tasks', async (request, reply) => {
      const id = randomUUID();
      await queue.add('task', request.body, { jobId: id });
      return reply.code(202).send({ id, state: 'queued' });
    });
    await app.listen({ host: HOST, port: 0 });
  } catch (error) {
    await close();
    throw error;
  }
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://${HOST}:${port}`, queue, close };
}

async function endedJobs(queue: Queue): Promise<{ ended: number; failed: number }> {
  const counts = await queue.getJobCounts('completed', 'failed');
  const failed = counts.failed ?? 0;
  return { ended: (counts.completed ?? 0) + failed, failed };
}

/** Submits `tasks` requests, {@link SUBMIT_BATCH} at a time, and waits until every job ended. */
export async function floorRound(floor: Floor, tasks: number): Promise<number> {
  const pool = new Pool(floor.url, { connections: 64 });
  const before = await endedJobs(floor.queue);
  const start = performance.now();
  try {
    for (let first = 0; first < tasks; first += SUBMIT_BATCH) {
      const count = Math.min(SUBMIT_BATCH, tasks - first);
      const statuses = await Promise.all(
        Array.from({ length: count }, async () => {
          const response = await pool.request({
            method: 'POST',
            path: '/v1/tasks',
            headers: { 'content-type': 'application/json' },
            body: TASK_BODY,
          });
          await response.body.dump();
          return response.statusCode;
        }),
      );
      const rejected = statuses.find((status) => status !== 202);
      if (rejected !== undefined)
        throw new Error(`floor gateway responded with status ${rejected}`);
    }
    for (;;) {
      const now = await endedJobs(floor.queue);
      if (now.failed > before.failed) {
        throw new Error(`${now.failed - before.failed} floor jobs failed`);
      }
      if (now.ended - before.ended >= tasks) break;
      if (performance.now() - start > TIME_LIMIT_MS) {
        throw new Error(`only ${now.ended - before.ended} of ${tasks} floor jobs ended`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return tasks / ((performance.now() - start) / 1000);
  } finally {
    await pool.close();
  }
}

const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`;

async function main(tasks: number): Promise<void> {
  const rawOptions = { redisUrl: REDIS_URL, jobs: tasks, concurrency: WORKERS };
  const flowOptions = { ...rawOptions, inFlight: SUBMIT_BATCH };
  // Started inside the try, so a start that fails still stops what started before it.
  let mock: Awaited<ReturnType<typeof startChild>> | undefined;
  let noop: Floor | undefined;
  let provider: Floor | undefined;
  try {
    mock = await startChild(['--mock']);
    if (mock.port === undefined) throw new Error('the mock provider process reported no port');
    noop = await startFloor(0);
    provider = await startFloor(mock.port);
    const warmUp = Math.min(tasks, 500);
    await measureRawBullmqThroughput({ ...rawOptions, jobs: warmUp });
    await floorRound(noop, warmUp);
    await floorRound(provider, warmUp);
    const ratios = { flow: [] as number[], noop: [] as number[], provider: [] as number[] };
    for (let round = 1; round <= ROUNDS; round += 1) {
      const raw = (await measureRawBullmqThroughput(rawOptions)).jobsPerSecond;
      const flow = (await measureRawBullmqFlow(flowOptions)).jobsPerSecond;
      const noopRate = await floorRound(noop, tasks);
      const before = cpuSnapshot();
      const providerRate = await floorRound(provider, tasks);
      const cpuLines = cpuPerTaskLines(before, tasks);
      ratios.flow.push(flow / raw);
      ratios.noop.push(noopRate / raw);
      ratios.provider.push(providerRate / raw);
      console.log(
        `[floor] round ${round}, ${tasks} tasks: raw BullMQ no-op ${raw.toFixed(0)} jobs/s, ` +
          `adding one at a time while its worker runs ${flow.toFixed(0)} jobs/s (${percent(flow, raw)}), ` +
          `floor with no-op jobs ${noopRate.toFixed(0)} tasks/s (${percent(noopRate, raw)}), ` +
          `floor with a provider call ${providerRate.toFixed(0)} tasks/s (${percent(providerRate, raw)})`,
      );
      if (round === ROUNDS) {
        for (const line of cpuLines) console.log(`[floor] provider call CPU ${line}`);
      }
    }
    const medianPercent = (values: number[]) => `${(100 * median(values)).toFixed(1)}%`;
    console.log(`[floor] median ratios to raw BullMQ no-op jobs/s:`);
    console.log(`[floor]   raw BullMQ adding one at a time: ${medianPercent(ratios.flow)}`);
    console.log(`[floor]   floor with no-op jobs: ${medianPercent(ratios.noop)}`);
    console.log(`[floor]   floor with a provider call: ${medianPercent(ratios.provider)}`);
  } finally {
    // Every close runs to its end, and a failed one is logged so it does not hide the
    // bench's own error.
    const closes = [noop?.close(), provider?.close(), mock && stopChild(mock.child)];
    for (const close of await Promise.allSettled(closes)) {
      if (close.status === 'fulfilled') continue;
      console.error('[floor] stopping a floor or the mock provider failed:', close.reason);
      process.exitCode = 1;
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === '--mock') await serveMock();
  else if (mode === '--worker') {
    const [prefix = '', name = '', mockPort = '0', concurrency = '25'] = args;
    await consume(prefix, name, Number(mockPort), Number(concurrency));
  } else await main(positiveInteger('tasks', mode, 2000));
}
