import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { type LoadCommandOutput, registerLoadCommand } from '../../../src/cli/commands/load.js';
import { loadProviderCatalog } from '../../../src/faults/providers/index.js';
import type { K6Plan } from '../../../src/harness/k6/plan.js';
import { DEFAULT_POLICY_PATH, loadPolicy } from '../../../src/platform/router/load-policy.js';
import { RouteOutputLimits } from '../../../src/platform/router/route-output-limits.js';
import type { LoadResult } from '../../../src/harness/load/result.js';
import { validateLoadOutput } from '../../../src/harness/load/validate-output.js';
import { type FakeGateway, startFakeGateway } from './fake-gateway.js';
import { type CommandRun, runInProcess } from '../../support/run-command.js';

function sha256(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Runs `scalegate load` with a stand-in `k6` first on PATH, which copies the plan file it gets
 * into `dir` and writes an empty summary, and returns that plan.
 */
async function runWithFakeK6(dir: string, args: string[]): Promise<K6Plan> {
  const copy = join(dir, 'plan-copy.json');
  const script = [
    '#!/bin/sh',
    `cp "$SCALEGATE_K6_PLAN" '${copy}'`,
    `printf '%s' '{"state":{"testRunDurationMs":1000},"metrics":{}}' > "$SCALEGATE_K6_SUMMARY"`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'k6'), script, { mode: 0o755 });
  const savedPath = process.env.PATH;
  process.env.PATH = `${dir}${delimiter}${savedPath ?? ''}`;
  let run: CommandRun;
  try {
    run = await runLoadCommand(args);
  } finally {
    process.env.PATH = savedPath;
  }
  // The empty summary makes the run invalid, which exits 1.
  assert.equal(run.exitCode, 1, run.stderr);
  return JSON.parse(await readFile(copy, 'utf8')) as K6Plan;
}

/** Runs `scalegate load` in process with its output captured. */
function runLoadCommand(args: string[]): Promise<CommandRun> {
  return runInProcess(registerLoadCommand, ['load', ...args]);
}

describe('scalegate load', () => {
  let gateway: FakeGateway | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('applies --drain-timeout to the drain', async () => {
    // Seed 1 schedules 2 steady-chat requests in 1 s; the gateway never responds to them.
    gateway = await startFakeGateway({ hang: true });
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-cli-'));
    const out = join(dir, 'result.json');
    const started = performance.now();
    const run = await runLoadCommand([
      '--scenario=steady-chat',
      `--target=${gateway.url}`,
      '--duration=1',
      '--seed=1',
      '--drain-timeout=0.2',
      `--out=${out}`,
    ]);
    const elapsedMs = performance.now() - started;
    const { result } = JSON.parse(await readFile(out, 'utf8')) as { result: LoadResult };
    assert.deepEqual(result.drain, { timeoutSec: 0.2, endedBy: 'timeout', aborted: 2 });
    assert.ok(elapsedMs < 3000, `took ${elapsedMs} ms`);
    assert.equal(run.exitCode, 1);
    assert.match(
      run.stdout,
      /^\[success\] rate=0\.0% of 2 ended: succeeded=0 failed=0 aborted=2$/m,
    );
    assert.match(run.stdout, /^\[drain\] 2 requests still in flight 0\.2s after the schedule/m);
    assert.match(run.stderr, /^\[load\] t=\d+s done rps=\S+ success=0\.0% ended=2 /m);
  });

  it('runs against a platform without the fault proxy', async function () {
    this.timeout(60_000);
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-cli-'));
    const out = join(dir, 'result.json');
    const run = await runLoadCommand([
      '--scenario=steady-chat',
      '--platform',
      '--no-fault-proxy',
      '--duration=2',
      '--seed=1',
      `--out=${out}`,
    ]);
    const { result } = JSON.parse(await readFile(out, 'utf8')) as { result: LoadResult };
    // The exit code also reflects the scenario's objectives over 2 s, so it is not checked.
    assert.match(
      run.stderr,
      /^platform workers=24 serverless_burst=enabled at http:\/\/127\.0\.0\.1:/m,
    );
    assert.ok(result.requests.succeeded > 0, `succeeded ${result.requests.succeeded}`);
    assert.equal(result.requests.failed, 0);
  });

  it('records topology and cost of --platform', async function () {
    this.timeout(60_000);
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-cli-'));
    const out = join(dir, 'result.json');
    const topology = 'workers=2 serverless_burst=disabled';
    const policy = join(dir, 'policy.yaml');
    await writeFile(policy, await readFile('policies/default.yaml', 'utf8'));
    const run = await runLoadCommand([
      '--scenario=steady-chat',
      '--platform',
      `--topology=${topology}`,
      `--policy=${policy}`,
      '--no-fault-proxy',
      '--duration=2',
      '--seed=1',
      `--out=${out}`,
    ]);
    const output = JSON.parse(await readFile(out, 'utf8')) as LoadCommandOutput;
    assert.equal(output.platform?.topology, topology);
    const cost = output.platform?.cost;
    assert.ok(cost !== undefined);
    assert.ok(cost.tasks > 0, `tasks ${cost.tasks}`);
    assert.ok(cost.totalUsd > 0, `total ${cost.totalUsd}`);
    assert.ok(cost.meanUsdPerTask !== null);
    assert.ok(Math.abs(cost.meanUsdPerTask - cost.totalUsd / cost.tasks) < 1e-12);
    assert.match(run.stdout, new RegExp(`^\\[topology\\] ${topology}$`, 'm'));
    assert.ok(run.stderr.includes(`with policy ${policy} at http://127.0.0.1:`), run.stderr);
    const costLine =
      /^\[cost\] avg=\$(\S+)\/task total=\$(\S+) tasks=(\d+) worker_pool=\$(\S+)$/m.exec(
        run.stdout,
      );
    assert.ok(costLine !== null, run.stdout);
    const [, avgText = '', , tasksText = '', poolText = ''] = costLine;
    // Two workers of 0.25 vCPU and 0.5 GB at the fixture's prices, for at most the test's 60 s.
    const poolPerHour = 2 * (0.25 * 0.04048 + 0.5 * 0.004445);
    assert.ok(cost.workerPoolUsd > 0, `worker pool ${cost.workerPoolUsd}`);
    assert.ok(cost.workerPoolUsd < poolPerHour / 60, `worker pool ${cost.workerPoolUsd}`);
    assert.ok(Math.abs(Number(poolText) / cost.workerPoolUsd - 1) <= 0.0005, poolText);
    // Four significant digits: the digits left after the leading zeros and the point.
    assert.equal(avgText.replace('.', '').replace(/^0+/, '').length, 4, avgText);
    assert.ok(Math.abs(Number(avgText) / cost.meanUsdPerTask - 1) <= 0.0005, avgText);
    assert.equal(Number(tasksText), cost.tasks);
  });

  it('writes a schema-valid output of --platform', async function () {
    this.timeout(60_000);
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-cli-'));
    const out = join(dir, 'result.json');
    const policy = join(dir, 'policy.yaml');
    const policyText = `${await readFile('policies/default.yaml', 'utf8')}# a comment changes the hash\n`;
    await writeFile(policy, policyText);

    const run = await runLoadCommand([
      '--scenario=steady-chat',
      '--platform',
      '--topology=workers=2 serverless_burst=disabled',
      `--policy=${policy}`,
      '--no-fault-proxy',
      '--max-queue-depth=500',
      '--shed-watermarks=0.3,0.6',
      '--duration=1',
      '--seed=3',
      `--out=${out}`,
    ]);

    const output = validateLoadOutput(JSON.parse(await readFile(out, 'utf8')));
    assert.equal(output.schemaVersion, 1);
    assert.equal(output.environment.machine.nodeVersion, process.version);
    assert.match(output.environment.commit, /^([0-9a-f]{12}|unknown)$/);
    assert.equal(output.settings.scenario, 'steady-chat');
    assert.equal(output.settings.seed, 3);
    assert.equal(output.settings.durationSec, 1);
    assert.equal(output.settings.target, output.result.target);
    assert.deepEqual(output.settings.platform, {
      topology: 'workers=2 serverless_burst=disabled',
      policyPath: policy,
      policyHash: sha256(policyText),
      faultProxy: false,
      backpressure: {
        maxQueueDepth: 500,
        maxOldestAgeMs: 60_000,
        watermarks: { batch: 0.3, standard: 0.6 },
      },
      drivers: process.env.REDIS_URL === undefined ? 'memory' : 'redis',
      pricesPath: 'fixtures/prices.yaml',
      pricesHash: sha256(await readFile('fixtures/prices.yaml')),
      pricesEffectiveDate: '2025-01-15',
      tenantsPath: 'fixtures/tenants.yaml',
      tenantsHash: sha256(await readFile('fixtures/tenants.yaml')),
    });
    assert.ok(
      run.stderr.includes(
        'with backpressure max_queue_depth=500 max_queue_age_ms=60000 shed_watermarks=0.3,0.6',
      ),
      run.stderr,
    );
    // fixtures/tenants.yaml caps tenant-noisy at 8 running tasks, more than 2 workers run,
    // but steady-chat sends no async task, which is all the cap holds back.
    assert.doesNotMatch(run.stderr, /maxRunning/);
    // The fields that readers used before the schema stay at the top level.
    assert.equal(output.platform?.topology, 'workers=2 serverless_burst=disabled');
    assert.equal(output.result.seed, 3);
  });

  it('runs a platform on --tenants', async function () {
    this.timeout(60_000);
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-cli-'));
    const out = join(dir, 'result.json');
    const tenants = join(dir, 'tenants.yaml');
    // tenant-alpha gets a running cap that 2 workers never reach; async-chat sends its tasks
    // async, so the warning applies.
    const tenantsText = (await readFile('fixtures/tenants.yaml', 'utf8')).replace(
      '    budgetUsd: 2000\n',
      '    budgetUsd: 2000\n    maxRunning: 2\n',
    );
    assert.match(tenantsText, /budgetUsd: 2000\n {4}maxRunning: 2\n/);
    await writeFile(tenants, tenantsText);
    const run = await runLoadCommand([
      '--scenario=async-chat',
      '--platform',
      '--topology=workers=2 serverless_burst=disabled',
      `--tenants=${tenants}`,
      '--no-fault-proxy',
      '--duration=1',
      `--out=${out}`,
    ]);
    const output = validateLoadOutput(JSON.parse(await readFile(out, 'utf8')));
    assert.equal(output.settings.platform?.tenantsPath, tenants);
    assert.equal(output.settings.platform?.tenantsHash, sha256(tenantsText));
    assert.ok(run.stderr.includes(`with tenants ${tenants} at http://127.0.0.1:`), run.stderr);
    assert.match(
      run.stderr,
      new RegExp(
        "^warning: tenant tenant-alpha has maxRunning 2, at or above the platform's 2 worker " +
          `slots, so the cap never holds back a task; set it below 2 in ${tenants}, or remove it$`,
        'm',
      ),
    );
    // tenant-noisy's cap of 8 concerns no task of async-chat, which does not send as it.
    assert.doesNotMatch(run.stderr, /tenant-noisy/);
  });

  it('rejects --tenants without --platform', async () => {
    const run = await runLoadCommand(['--scenario=steady-chat', '--tenants=fixtures/tenants.yaml']);
    assert.equal(run.exitCode, 2);
    assert.equal(
      run.stderr,
      'error: --tenants applies to the platform that --platform starts; add --platform or drop it\n',
    );
  });

  it('rejects --tenants that lack a scenario tenant', async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-cli-'));
    const tenants = join(dir, 'tenants.yaml');
    const text = await readFile('fixtures/tenants.yaml', 'utf8');
    // Keeps tenant-alpha only, so steady-chat's tenant-beta and tenant-noisy have no entry.
    await writeFile(tenants, text.slice(0, text.indexOf('  - id: tenant-beta')));
    const started = performance.now();
    const run = await runLoadCommand([
      '--scenario=steady-chat',
      '--platform',
      `--tenants=${tenants}`,
    ]);
    assert.equal(run.exitCode, 2);
    assert.match(
      run.stderr,
      new RegExp(
        `^error: tenants file ${tenants} admits no API key of tenants tenant-beta, tenant-noisy, `,
      ),
    );
    // The check runs before a platform starts, so no platform line is printed.
    assert.doesNotMatch(run.stderr, /^platform /m);
    assert.ok(performance.now() - started < 5000);
  });

  it('rejects an invalid --tenants file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-cli-'));
    const tenants = join(dir, 'tenants.yaml');
    await writeFile(tenants, 'tenants:\n  - id: tenant-alpha\n');
    const run = await runLoadCommand([
      '--scenario=steady-chat',
      '--platform',
      `--tenants=${tenants}`,
    ]);
    assert.equal(run.exitCode, 2);
    assert.match(
      run.stderr,
      new RegExp(`^error: invalid tenants file ${tenants} \\(\\d+ problems\\):\n`),
    );
    assert.match(run.stderr, /tenants\[0\]\.keySha256 \(id tenant-alpha\): missing/);
    assert.doesNotMatch(run.stderr, /^platform /m);
  });

  it('rejects --prices without --platform', async () => {
    const run = await runLoadCommand(['--scenario=steady-chat', '--prices=fixtures/prices.yaml']);
    assert.equal(run.exitCode, 2);
    assert.equal(
      run.stderr,
      'error: --prices applies to the platform that --platform starts; add --platform or drop it\n',
    );
  });

  it('rejects an invalid --prices file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-cli-'));
    const prices = join(dir, 'prices.yaml');
    const text = await readFile('fixtures/prices.yaml', 'utf8');
    await writeFile(
      prices,
      text.replace("effectiveDate: '2025-01-15'", "effectiveDate: '15.1.2025'"),
    );
    const run = await runLoadCommand([
      '--scenario=steady-chat',
      '--platform',
      `--prices=${prices}`,
    ]);
    assert.equal(run.exitCode, 2);
    assert.equal(
      run.stderr,
      `error: ${prices}: effectiveDate: expected a calendar date as YYYY-MM-DD, received ` +
        '"15.1.2025"; fix the file or pass another --prices\n',
    );
  });

  it('rejects --prices without a model a route calls', async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-cli-'));
    const prices = join(dir, 'prices.yaml');
    const text = await readFile('fixtures/prices.yaml', 'utf8');
    const without = text.replace(
      '    llama-70b: { inputPerMillion: 0.88, outputPerMillion: 0.88 }\n',
      '',
    );
    assert.notEqual(without, text);
    await writeFile(prices, without);
    const run = await runLoadCommand([
      '--scenario=steady-chat',
      '--platform',
      `--prices=${prices}`,
    ]);
    assert.equal(run.exitCode, 2);
    // policies/default.yaml lists llama-70b in summarize only; the platform checks every route.
    assert.equal(
      run.stderr,
      `error: ${prices}: models.provider-c.llama-70b: missing, but route summarize of ` +
        'policies/default.yaml calls it, so admission could not price a task of that route; ' +
        'add its inputPerMillion and outputPerMillion; fix the file or pass another --prices\n',
    );
  });

  it('records the settings of a --target run', async () => {
    gateway = await startFakeGateway();
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-cli-'));
    const out = join(dir, 'result.json');
    await runLoadCommand([
      '--scenario=steady-chat',
      `--target=${gateway.url}`,
      '--duration=1',
      '--seed=1',
      '--max-in-flight=5',
      '--drain-timeout=2',
      `--out=${out}`,
    ]);
    const output = validateLoadOutput(JSON.parse(await readFile(out, 'utf8')));
    assert.deepEqual(output.settings, {
      scenario: 'steady-chat',
      engine: 'embedded',
      seed: 1,
      durationSec: 1,
      target: gateway.url,
      maxInFlight: 5,
      drainTimeoutSec: 2,
      platform: null,
    });
  });

  it('omits the platform field with --target', async () => {
    gateway = await startFakeGateway();
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-cli-'));
    const out = join(dir, 'result.json');
    const run = await runLoadCommand([
      '--scenario=steady-chat',
      `--target=${gateway.url}`,
      '--duration=1',
      '--seed=1',
      `--out=${out}`,
    ]);
    const output = JSON.parse(await readFile(out, 'utf8')) as LoadCommandOutput;
    assert.equal(output.result.requests.succeeded, 2);
    assert.equal('platform' in output, false);
    assert.doesNotMatch(run.stdout, /^\[(cost|topology)\]/m);
  });

  it('names a failed --out write', async () => {
    gateway = await startFakeGateway();
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-cli-'));
    const folder = join(dir, 'runs');
    await mkdir(folder);
    const out = join(folder, 'result.json');
    const running = runLoadCommand([
      '--scenario=steady-chat',
      `--target=${gateway.url}`,
      '--duration=1',
      '--seed=1',
      `--out=${out}`,
    ]);
    // The option check found the folder; it is gone by the time the 1 s run writes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await rm(folder, { recursive: true });
    const run = await running;
    assert.equal(run.exitCode, 2);
    assert.match(run.stdout, /^\[success\] rate=100\.0% of 2 ended/m);
    assert.match(
      run.stderr,
      new RegExp(`^error: writing --out ${out} failed \\(ENOENT\\); the summary above `, 'm'),
    );
    assert.doesNotMatch(run.stderr, /pass the path of an existing file/);
  });

  it('rejects an unknown scenario before starting', async () => {
    const run = await runLoadCommand(['--scenario=nope', '--platform']);
    assert.equal(run.exitCode, 2);
    assert.equal(
      run.stderr,
      'error: scenario "nope" not found; known scenarios: agent-mix, async-chat, conv-replay, noisy-flood, noisy-hold, ramp, steady-chat\n',
    );
  });

  it('rejects a missing k6 before starting', async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-cli-'));
    const savedPath = process.env.PATH;
    // An empty folder as the whole PATH, so no k6 is found wherever one is installed.
    process.env.PATH = dir;
    try {
      const run = await runLoadCommand(['--scenario=steady-chat', '--engine=k6', '--platform']);
      assert.equal(run.exitCode, 2);
      assert.equal(
        run.stderr,
        'error: k6 was not found on PATH; install k6 or run with --engine embedded\n',
      );
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it('passes the platform output limits to k6', async function () {
    this.timeout(60_000);
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-cli-'));
    const plan = await runWithFakeK6(dir, [
      '--scenario=steady-chat',
      '--engine=k6',
      '--platform',
      '--no-fault-proxy',
      '--duration=1',
    ]);
    const catalog = await loadProviderCatalog();
    const limits = new RouteOutputLimits(await loadPolicy(DEFAULT_POLICY_PATH, catalog), catalog);
    const chat = limits.largestLimit('chat');
    const chatFast = limits.largestLimit('chat-fast');
    assert.ok(chat !== undefined);
    assert.ok(chatFast !== undefined);

    assert.deepEqual(plan.workload.outputLimits, { chat, 'chat-fast': chatFast });
  });

  it('sends k6 no output limits with --target', async function () {
    this.timeout(60_000);
    gateway = await startFakeGateway();
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-cli-'));
    const plan = await runWithFakeK6(dir, [
      '--scenario=steady-chat',
      '--engine=k6',
      `--target=${gateway.url}`,
      '--duration=1',
    ]);

    assert.equal(plan.workload.target, gateway.url);
    assert.equal(plan.workload.outputLimits, undefined);
  });

  it('rejects embedded-only options with k6', async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-cli-'));
    const savedPath = process.env.PATH;
    // No k6 on PATH either, so the option check must come before the k6 look-up.
    process.env.PATH = dir;
    try {
      const cases: [string, string][] = [
        ['--max-in-flight=5', '--max-in-flight'],
        ['--drain-timeout=3', '--drain-timeout'],
      ];
      for (const [option, name] of cases) {
        const run = await runLoadCommand(['--scenario=steady-chat', '--engine=k6', option]);
        assert.equal(run.exitCode, 2, option);
        assert.equal(
          run.stderr,
          `error: ${name} applies to the embedded engine only; drop it or run with --engine embedded\n`,
        );
      }
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it('rejects --no-fault-proxy without --platform', async () => {
    const run = await runLoadCommand(['--scenario=steady-chat', '--no-fault-proxy']);
    assert.equal(run.exitCode, 2);
    assert.match(run.stderr, /--no-fault-proxy applies to the platform that --platform starts/);
  });

  it('rejects a negative --drain-timeout', async () => {
    await assert.rejects(
      runLoadCommand(['--scenario=steady-chat', '--drain-timeout=-1']),
      (error: unknown) => {
        assert.equal((error as { code?: unknown }).code, 'commander.invalidArgument');
        assert.equal(
          (error as Error).message,
          "error: option '--drain-timeout <seconds>' argument '-1' is invalid. " +
            'expected a number of seconds from 0 to 2147483.',
        );
        return true;
      },
    );
  });
});
