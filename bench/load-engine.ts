/**
 * Scheduler accuracy of the embedded load engine. A node:http stand-in for the
 * gateway runs in a child process on 127.0.0.1. It returns 200 (sync) or 202 plus
 * `Location` (async) for `POST /v1/tasks`, and a succeeded task for
 * `GET /v1/tasks/:id`. The engine sends a constant Poisson schedule (9 sync : 1 async)
 * at each rate for a bounded time, rounds interleaved; medians of the rounds are
 * printed. A 3 s `conv-replay` run (trace sped up 8x) is measured the same way.
 *
 * Run: npx tsx bench/load-engine.ts [--seconds 20] [--rounds 3] [--rates 1800,6000,12000]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

import { runLoad } from '../src/harness/load/engine.js';
import type { LoadResult } from '../src/harness/load/result.js';
import type { ScenarioSpec } from '../src/harness/scenario/types.js';
import { convReplay } from '../scenarios/conv-replay.js';
import { positiveInteger } from './args.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'driver' },
    seconds: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    rates: { type: 'string', default: '1800,6000,12000' },
  },
});

const KEYS = {
  'tenant-alpha': 'bench-key-alpha',
  'tenant-beta': 'bench-key-beta',
  'tenant-noisy': 'bench-key-noisy',
};

/** Child role: a gateway stand-in that reports its port to the parent. */
function runServer(): void {
  let nextId = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      nextId += 1;
      answer(request, response, Buffer.concat(chunks).toString('utf8'), nextId);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as AddressInfo).port));
  process.on('disconnect', () => process.exit(0));
}

function answer(request: IncomingMessage, response: ServerResponse, body: string, id: number) {
  const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(value));
  };
  if (request.method === 'GET' && request.url === '/healthz') return json(200, { ok: true });
  if (request.method === 'GET' && request.url?.startsWith('/v1/tasks/')) {
    const taskId = request.url.slice('/v1/tasks/'.length);
    return json(200, { id: taskId, state: 'succeeded', result: { text: 'ok' }, costUsd: 0.0001 });
  }
  const task = JSON.parse(body) as { mode?: string };
  if (task.mode === 'async') {
    return json(202, { id: `t${id}`, state: 'queued' }, { location: `/v1/tasks/t${id}` });
  }
  json(200, { id: `t${id}`, state: 'succeeded', result: { text: 'ok' }, costUsd: 0.0001 });
}

function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(new URL(import.meta.url).pathname, ['--role', 'server'], {
    execArgv: ['--import', 'tsx'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (port) => resolve({ child, url: `http://127.0.0.1:${Number(port)}` }));
    child.once('error', reject);
  });
}

function constantSpec(target: string, ratePerMin: number, durationSec: number): ScenarioSpec {
  return {
    name: `constant-${ratePerMin}`,
    description: 'bench',
    target,
    durationSec,
    arrival: { kind: 'constant', ratePerSec: ratePerMin / 60 },
    tenants: [
      { tenantId: 'tenant-alpha', weight: 1 },
      { tenantId: 'tenant-beta', weight: 1 },
    ],
    routes: [{ route: 'chat', weight: 1 }],
    tasks: {
      source: 'distribution',
      kinds: [
        {
          name: 'chat',
          weight: 1,
          inputTokens: { kind: 'lognormal', median: 400, p95: 2000 },
          outputTokens: { kind: 'lognormal', median: 150, p95: 600 },
        },
      ],
    },
    modes: { sync: 9, async: 1 },
    slo: { successRate: 0.99 },
  };
}

interface Sample {
  achievedRpm: number;
  lagP50: number;
  lagP99: number;
  lagMax: number;
  late: number;
  dropped: number;
  /** Time more than 50 ms behind schedule, in ms. */
  behindMs: number;
  /** Engine process CPU time over wall time, in percent of one core. */
  cpuPercent: number;
  /** Wall time from the runLoad call to the run start (probe, schedule, warm-up), in ms. */
  setupMs: number;
  valid: boolean;
  reasons: string[];
}

async function measure(spec: ScenarioSpec, seed: number): Promise<Sample> {
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const result: LoadResult = await runLoad(spec, { keys: KEYS, seed });
  const wallMs = performance.now() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  const sendSec = Math.min(result.elapsedSec, spec.durationSec);
  return {
    achievedRpm: (result.requests.sent / sendSec) * 60,
    lagP50: result.schedulerLag.p50,
    lagP99: result.schedulerLag.p99,
    lagMax: result.schedulerLag.max,
    late: result.requests.late,
    dropped: result.requests.dropped,
    behindMs: result.schedulerStalls?.behindMs ?? 0,
    cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    setupMs: wallMs - result.elapsedSec * 1000,
    valid: result.health.valid,
    reasons: result.health.reasons,
  };
}

function row(label: string, samples: readonly Sample[]): string {
  const pick = (field: keyof Omit<Sample, 'valid' | 'reasons'>) =>
    median(samples.map((sample) => sample[field]));
  const valid = samples.filter((sample) => sample.valid).length;
  return [
    label.padEnd(22),
    pick('achievedRpm').toFixed(0).padStart(8),
    pick('lagP50').toFixed(2).padStart(8),
    pick('lagP99').toFixed(2).padStart(8),
    pick('lagMax').toFixed(1).padStart(8),
    pick('late').toFixed(0).padStart(6),
    pick('dropped').toFixed(0).padStart(6),
    pick('behindMs').toFixed(0).padStart(7),
    `${pick('cpuPercent').toFixed(0)}%`.padStart(6),
    pick('setupMs').toFixed(0).padStart(7),
    `${valid}/${samples.length}`.padStart(6),
  ].join(' ');
}

async function runDriver(): Promise<void> {
  const seconds = positiveInteger('--seconds', values.seconds, 20);
  const rounds = positiveInteger('--rounds', values.rounds, 3);
  const rates = String(values.rates)
    .split(',')
    .map((rate) => positiveInteger('each of --rates', rate, 1800));
  const { child, url } = await startServer();
  const byLabel = new Map<string, Sample[]>();
  const add = (label: string, sample: Sample) => {
    byLabel.set(label, [...(byLabel.get(label) ?? []), sample]);
    if (!sample.valid) process.stderr.write(`${label}: invalid: ${sample.reasons.join('; ')}\n`);
  };
  try {
    for (let round = 0; round < rounds; round++) {
      const replay = { ...convReplay, target: url, durationSec: 3 };
      add('conv-replay 3 s', await measure(replay, round + 1));
      const order = rates.map((_, i) => rates[(i + round) % rates.length] ?? 0);
      for (const rate of order) {
        add(`${rate}/min ${seconds} s`, await measure(constantSpec(url, rate, seconds), round + 1));
      }
    }
  } finally {
    child.disconnect();
  }
  process.stdout.write(
    'run                     rpm      lag p50  lag p99  lag max  late  drop  behind   cpu  setup  valid\n',
  );
  for (const [label, samples] of byLabel) process.stdout.write(`${row(label, samples)}\n`);
}

if (values.role === 'server') runServer();
else await runDriver();
