import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { SCENARIOS } from '../../../scenarios/index.js';
import { type DrillSpecError, isDrillSpecError } from '../../../src/harness/drill/errors.js';
import { poissonOffsetsMs } from '../../../src/harness/load/arrivals.js';
import { createRandom } from '../../../src/harness/load/random.js';
import { isUnadmittedTenantsError } from '../../../src/harness/load/tenant-admission.js';
import { basePolicy } from '../../../src/harness/drill/policy-change.js';
import { drillRunId } from '../../../src/harness/drill/report.js';
import { runDrillOnPlatform } from '../../../src/harness/drill/run-on-platform.js';
import { isTraceFileError } from '../../../src/harness/scenario/scenario-trace.js';
import type { DrillSpec } from '../../../src/harness/drill/spec.js';
import { policyHash } from '../../../src/harness/report/environment.js';
import { recordPlatformFiles } from '../../../src/harness/report/platform-files.js';
import type { Report } from '../../../src/harness/report/types.js';
import { renderRunbook } from '../../../src/harness/runbook/render.js';
import { registerCompareCommand } from '../../../src/cli/commands/compare.js';
import { sampleReport } from '../report/sample-report.js';
import { changingFifo } from '../../support/fifo.js';
import { runInProcess } from '../../support/run-command.js';
import { DEFAULT_POLICY_PATH } from '../../../src/platform/router/load-policy.js';
import { isChangedLoadedFileError } from '../../../src/platform/runtime/loaded-files.js';
import {
  DEFAULT_DEMO_KEYS_PATH,
  DEFAULT_TENANTS_PATH,
} from '../../../src/platform/tenants/index.js';

/** A 12-simulated-second drill: a short outage of provider-a, a toxic on provider-b, a burst. */
const shortDrill: DrillSpec = {
  name: 'short-outage',
  description: 'short outage for the platform wiring test',
  scenario: 'steady-chat',
  durationS: 12,
  steadyState: {
    settleS: 1,
    probes: [
      {
        name: 'success-rate',
        source: 'series',
        measure: 'successRate',
        comparator: 'min',
        threshold: 0.5,
        tolerance: 0,
      },
      {
        name: 'alpha-succeeded',
        source: 'metrics',
        measure: 'scalegate_requests_total{outcome="succeeded",route="chat",tenant="tenant-alpha"}',
        comparator: 'min',
        threshold: 1,
        tolerance: 0,
      },
    ],
  },
  faults: [
    {
      kind: 'provider-fault',
      id: 'outage',
      provider: 'provider-a',
      atS: 3,
      durationS: 4,
      faults: { errorRate: 1, errorStatus: 503 },
      failover: { fallback: 'provider-b' },
    },
    {
      kind: 'toxic',
      id: 'slow-b',
      proxy: 'provider-b',
      atS: 4,
      durationS: 2,
      toxic: { type: 'latency', attributes: { latency: 200 } },
    },
    {
      kind: 'tenant-burst',
      id: 'burst',
      // Not a tenant of the main load, so the report's cost leaves its tasks out.
      tenant: 'tenant-batch',
      atS: 7,
      durationS: 3,
      quotaMultiplier: 0.25,
    },
  ],
  abortRules: [],
};

function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Returns fixtures/tenants.yaml without the entries of `ids`. */
async function tenantsWithout(...ids: string[]): Promise<string> {
  const text = await readFile(DEFAULT_TENANTS_PATH, 'utf8');
  const [head = '', ...entries] = text.split(/^ {2}- /m);
  const kept = entries.filter((entry) => !ids.some((id) => entry.startsWith(`id: ${id}\n`)));
  return [head, ...kept].join('  - ');
}

describe('runDrillOnPlatform', function () {
  this.timeout(60_000);
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-platform-drill-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Starting the platform would fail on the missing policy file, so a DrillSpecError shows
  // that the spec was checked before the platform started.
  const missingPolicy = '/nonexistent/policy.yaml';

  /** Returns the spec error the drill raises for `spec`, which it must raise before starting. */
  async function specErrorOf(spec: unknown): Promise<DrillSpecError> {
    const run = runDrillOnPlatform({
      spec: spec as DrillSpec,
      scenarios: SCENARIOS,
      policyPath: missingPolicy,
      reportsDir: join(dir, 'reports'),
    });
    const error = await run.then(
      () => assert.fail('the drill ran'),
      (thrown: unknown) => thrown,
    );
    assert.ok(isDrillSpecError(error), `expected a DrillSpecError, got ${String(error)}`);
    return error;
  }

  it('checks the spec before the platform starts', async () => {
    const error = await specErrorOf({ ...shortDrill, durationS: -1 });
    assert.equal(error.field, 'durationS');
  });

  it('checks provider names before the platform starts', async () => {
    const faults = shortDrill.faults.map((step) =>
      step.kind === 'provider-fault' ? { ...step, provider: 'provider-z' } : step,
    );
    const error = await specErrorOf({ ...shortDrill, faults });
    assert.equal(error.field, 'faults[0].provider');
  });

  it('checks the trace length before start', async () => {
    // conv-replay's trace ends 437.7 s into the run at its speed-up of 8.
    const error = await specErrorOf({ ...shortDrill, scenario: 'conv-replay', durationS: 500 });
    assert.equal(error.field, 'durationS');
    assert.match(
      error.message,
      /^invalid drill spec: durationS is 500 s, but the trace of scenario conv-replay \(.*azure-llm-2023-conv\.csv\) ends 437\.7 s into the load at speedUp 8, so the last 62\.3 s would send nothing and lower the drill's per-minute rates; lower durationS to 437 s or less, or set arrival\.file of scenario conv-replay to a trace that lasts the whole drill$/,
    );
  });

  it('checks the trace file before start', async () => {
    const arrival = { kind: 'trace', file: join(dir, 'missing.csv'), speedUp: 1 } as const;
    const scenarios = { ...SCENARIOS, 'conv-replay': { ...SCENARIOS['conv-replay'], arrival } };
    const run = runDrillOnPlatform({
      spec: { ...shortDrill, scenario: 'conv-replay' } as DrillSpec,
      scenarios: scenarios as typeof SCENARIOS,
      policyPath: missingPolicy,
      reportsDir: join(dir, 'reports'),
    });
    await assert.rejects(run, (error: unknown) => {
      assert.ok(isTraceFileError(error), String(error));
      assert.ok(error.message.includes('missing.csv'), error.message);
      return true;
    });
  });

  it('checks burst tenants before the platform starts', async () => {
    const faults = shortDrill.faults.map((step) =>
      step.kind === 'tenant-burst' ? { ...step, tenant: 'tenant-nobody' } : step,
    );
    const error = await specErrorOf({ ...shortDrill, faults });
    assert.equal(error.field, 'faults[2].tenant');
    assert.ok(
      error.message.endsWith(
        `add its API key to ${DEFAULT_DEMO_KEYS_PATH} and the tenant to ${DEFAULT_TENANTS_PATH}`,
      ),
      error.message,
    );
  });
});

describe('runDrillOnPlatform --tenants', function () {
  this.timeout(30_000);
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-platform-drill-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects a file without the burst tenant before start', async () => {
    const tenantsPath = join(dir, 'tenants.yaml');
    await writeFile(tenantsPath, await tenantsWithout('tenant-batch'));
    await assert.rejects(
      runDrillOnPlatform({
        spec: shortDrill,
        scenarios: SCENARIOS,
        // An invalid topology would fail the start, so this error came before it.
        topology: 'workers=none',
        tenantsPath,
        reportsDir: join(dir, 'reports'),
      }),
      (error: unknown) => {
        assert.ok(isUnadmittedTenantsError(error), String(error));
        assert.deepEqual(error.tenantIds, ['tenant-batch']);
        assert.equal(
          error.message,
          `tenants file ${tenantsPath} admits no API key of tenant tenant-batch, which drill ` +
            'short-outage sends as with the keys in fixtures/demo-keys.yaml, so those requests ' +
            `would get 401; copy its entry from fixtures/tenants.yaml into ${tenantsPath}, ` +
            'keeping keySha256, the sha256 of the key, or pick a drill that sends only as ' +
            'tenants of the file',
        );
        return true;
      },
    );
  });

  it('rejects a tenants file changed during start', async function () {
    if (process.platform !== 'linux') this.skip();
    const tenantsPath = join(dir, 'tenants.yaml');
    const checked = await readFile(DEFAULT_TENANTS_PATH);
    const edited = Buffer.concat([checked, Buffer.from('# edited while the platform started\n')]);
    // readDrillFiles gets the first bytes and the platform's start the second.
    const fifo = await changingFifo(tenantsPath, checked, edited);
    const reportsDir = join(dir, 'reports');
    const run = runDrillOnPlatform({
      spec: shortDrill,
      scenarios: SCENARIOS,
      tenantsPath,
      reportsDir,
      // A drill that ran despite the change writes here, not over the committed runbook.
      runbookPath: join(dir, 'runbook.md'),
    }).finally(() => fifo.stop());

    await assert.rejects(run, (error: unknown) => {
      assert.ok(isChangedLoadedFileError(error), String(error));
      assert.equal(error.kind, 'tenants file');
      assert.equal(error.recordedSha256, sha256(checked));
      assert.equal(error.file.sha256, sha256(edited));
      return true;
    });
    assert.deepEqual(await fifo.stop(), { first: true, second: true });
    await assert.rejects(readFile(join(reportsDir, 'latest.json')), { code: 'ENOENT' });
  });

  it('rejects a route policy changed during start', async function () {
    if (process.platform !== 'linux') this.skip();
    const policyPath = join(dir, 'policy.yaml');
    const checked = await readFile(DEFAULT_POLICY_PATH);
    const edited = Buffer.concat([checked, Buffer.from('# edited while the platform started\n')]);
    // The drill's one read of the policy gets the first bytes and the platform's start the second.
    const fifo = await changingFifo(policyPath, checked, edited);
    const reportsDir = join(dir, 'reports');
    const run = runDrillOnPlatform({
      spec: shortDrill,
      scenarios: SCENARIOS,
      policyPath,
      reportsDir,
      // A drill that ran despite the change writes here, not over the committed runbook.
      runbookPath: join(dir, 'runbook.md'),
    }).finally(() => fifo.stop());

    await assert.rejects(run, (error: unknown) => {
      assert.ok(isChangedLoadedFileError(error), String(error));
      assert.equal(error.kind, 'route policy');
      assert.equal(error.file.path, policyPath);
      assert.equal(error.recordedSha256, sha256(checked));
      assert.equal(error.file.sha256, sha256(edited));
      return true;
    });
    assert.deepEqual(await fifo.stop(), { first: true, second: true });
    await assert.rejects(readFile(join(reportsDir, 'latest.json')), { code: 'ENOENT' });
  });

  it('rejects a file without a main load tenant', async () => {
    const tenantsPath = join(dir, 'tenants.yaml');
    await writeFile(tenantsPath, await tenantsWithout('tenant-alpha', 'tenant-beta'));
    await assert.rejects(
      runDrillOnPlatform({
        spec: shortDrill,
        scenarios: SCENARIOS,
        topology: 'workers=none',
        tenantsPath,
        reportsDir: join(dir, 'reports'),
      }),
      (error: unknown) => {
        assert.ok(isUnadmittedTenantsError(error), String(error));
        assert.deepEqual(error.tenantIds, ['tenant-alpha', 'tenant-beta']);
        return true;
      },
    );
  });
});

describe('runDrillOnPlatform failover warning', function () {
  this.timeout(30_000);
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-platform-drill-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('warns before start about a route without fallback', async () => {
    const policyPath = join(dir, 'no-fallback.yaml');
    const policyText = await readFile(DEFAULT_POLICY_PATH, 'utf8');
    // chat-fast, which steady-chat sends to, lists provider-b first and provider-a second.
    const noFallback = policyText.replace(
      '      - { provider: provider-b, model: claude-sonnet, weight: 1 }\n      - { provider: provider-a, model: gpt-4o, weight: 1 }\n',
      '      - { provider: provider-a, model: gpt-4o, weight: 1 }\n',
    );
    assert.notEqual(noFallback, policyText);
    await writeFile(policyPath, noFallback);
    const events: string[] = [];
    // An invalid topology stops the platform from starting, right after the warning.
    await assert.rejects(
      runDrillOnPlatform({
        spec: shortDrill,
        scenarios: SCENARIOS,
        topology: 'workers=none',
        policyPath,
        reportsDir: join(dir, 'reports'),
        onEvent: (event) => {
          if (event.type === 'warning') events.push(event.detail);
        },
      }),
    );
    assert.equal(events.length, 1, events.join('\n'));
    assert.match(
      events[0] ?? '',
      /^route chat-fast of the policy calls provider-a but has no provider-b/,
    );
  });
});

describe('runDrillOnPlatform on a platform', function () {
  this.timeout(60_000);
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-platform-drill-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the report and the runbook', async () => {
    const runbookPath = join(dir, 'runbook.md');
    const policyPath = join(dir, 'policy.yaml');
    const policyText = await readFile(DEFAULT_POLICY_PATH, 'utf8');
    await writeFile(policyPath, policyText);
    // A run whose load generator fell behind keeps the runbook, so this one runs at a
    // time scale that leaves the engine ample headroom.
    const running = runDrillOnPlatform({
      spec: shortDrill,
      scenarios: SCENARIOS,
      timeScale: 2,
      policyPath,
      reportsDir: join(dir, 'reports'),
      runbookPath,
    });
    // An edit while the drill runs must not change the hash of the policy it ran.
    await sleep(2000);
    await writeFile(policyPath, `${policyText}# edited during the drill\n`);
    const run = await running;
    assert.equal(run.report.environment.policyHash, policyHash(policyText));
    assert.equal(run.report.environment.policyPath, policyPath);
    // steady-chat sends to chat and chat-fast only.
    assert.deepEqual(run.report.scenario.unexercisedRoutes, ['summarize', 'bench']);
    const saved = JSON.parse(
      await readFile(join(run.written.runDir, 'report.json'), 'utf8'),
    ) as Report;
    assert.equal(saved.runId, run.report.runId);
    // The drill's platform read the shipped price table and tenants file.
    const { pricesPath, pricesHash, pricesEffectiveDate, tenantsPath, tenantsHash } =
      saved.environment;
    assert.deepEqual(
      { pricesPath, pricesHash, pricesEffectiveDate, tenantsPath, tenantsHash },
      await recordPlatformFiles(),
    );
    // Without a base policy the report has no policyChange field.
    assert.equal(Object.hasOwn(saved, 'policyChange'), false);
    assert.equal(saved.drill?.cleanAfterRollback, true);
    assert.deepEqual(saved.drill?.leftovers, []);
    assert.deepEqual(
      saved.drill?.faults.map((fault) => fault.appliedAtS !== null),
      [true, true, true],
    );
    assert.ok((saved.drill?.faults[2]?.burst?.requests ?? 0) > 0);
    // The series reads the admission rejections every second, until the load's last one.
    const read = saved.topologies[0]?.timeSeries.filter(
      (point) => point.admissionRejections !== undefined,
    );
    assert.ok((read?.length ?? 0) >= 10, JSON.stringify(saved.topologies[0]?.timeSeries));
    // Each read second splits its failovers by provider pair, and the pairs add up to them.
    const paired = saved.topologies[0]?.timeSeries.filter(
      (point) => point.failoversByPair !== undefined,
    );
    assert.ok((paired?.length ?? 0) >= 10, JSON.stringify(saved.topologies[0]?.timeSeries));
    for (const point of paired ?? []) {
      const pairs = Object.values(point.failoversByPair ?? {}).flatMap(Object.values);
      assert.equal(
        pairs.reduce((sum, activations) => sum + activations, 0),
        point.failovers,
        `second ${point.t}`,
      );
    }
    // Tasks served in read seconds carry their times to first token, from a real provider call.
    const firstTokens = saved.topologies[0]?.timeSeries.flatMap((point) =>
      Object.values(point.firstTokenByProvider ?? {}),
    );
    assert.ok((firstTokens?.length ?? 0) >= 10, JSON.stringify(saved.topologies[0]?.timeSeries));
    for (const { count, sumS } of firstTokens ?? []) {
      assert.ok(count >= 1);
      assert.ok(sumS > 0, `${sumS} s over ${count} tasks`);
      assert.ok(sumS / count < 10, `${sumS} s over ${count} tasks`);
    }
    // Every task the platform accepted ended before the stop read its counts.
    const counts = run.taskCounts;
    assert.ok(counts !== undefined);
    assert.ok(counts.accepted > 0);
    assert.equal(counts.accepted, counts.succeeded + counts.failed + counts.dead_lettered);
    assert.equal(counts.queued + counts.running, 0);
    // The cost covers the main load's tenants, whose requests the rest of the report counts.
    const costTenants = saved.topologies[0]?.cost.byTenant.map((slice) => slice.key);
    assert.deepEqual(costTenants?.sort(), ['tenant-alpha', 'tenant-beta', 'tenant-noisy']);
    // The providers' bill covers the burst tenant too, and every provider's counters were read.
    const bill = saved.topologies[0]?.cost.providerBill;
    assert.ok(bill !== undefined);
    assert.deepEqual(bill.unreadProviders, []);
    assert.ok(bill.totalUsd > 0, JSON.stringify(bill));
    assert.ok(bill.chargedUsd > 0, JSON.stringify(bill));
    assert.ok(Math.abs(bill.differenceUsd) <= 0.01 * bill.totalUsd, JSON.stringify(bill));
    const scraped = saved.drill?.steadyState.find((check) => check.phase === 'after')?.probes[1];
    assert.equal(scraped?.name, 'alpha-succeeded');
    assert.ok((scraped?.value ?? 0) >= 1);
    assert.deepEqual(run.runbook, { status: 'written', path: runbookPath });
    assert.match(await readFile(runbookPath, 'utf8'), /## Provider outage: provider-a/);
  });

  it('records the breakers of every policy target', async () => {
    const run = await runDrillOnPlatform({
      spec: shortDrill,
      scenarios: SCENARIOS,
      timeScale: 2,
      reportsDir: join(dir, 'reports'),
      runbookPath: join(dir, 'runbook.md'),
    });
    const breakers = run.report.drill?.breakers;
    assert.ok(breakers);

    assert.deepEqual(
      breakers.targets.map((target) => `${target.provider}/${target.model}`),
      [
        'instant/instant',
        'provider-a/gpt-4o',
        'provider-a/gpt-4o-mini',
        'provider-b/claude-haiku',
        'provider-b/claude-sonnet',
        'provider-c/llama-70b',
      ],
    );

    // Every chat request tries provider-a first, so its 503s trip the breaker in the outage.
    const appliedAtS = run.report.drill?.faults[0]?.appliedAtS;
    const removedAtS = run.report.drill?.faults[0]?.removedAtS;
    const gpt = breakers.targets[1];
    const opened = gpt?.transitions.find((transition) => transition.to === 'open');
    assert.ok(opened, JSON.stringify(gpt));
    assert.ok(typeof appliedAtS === 'number');
    assert.ok(typeof removedAtS === 'number');
    assert.ok(opened.atS >= appliedAtS, `opened at ${opened.atS}`);
    assert.ok(opened.atS <= removedAtS, `opened at ${opened.atS}`);
    assert.match(opened.reason ?? '', /^failure threshold reached, last error status_5xx/);
    assert.ok((gpt?.openS ?? 0) > 0);

    // Rendered here, as a run whose load generator fell behind leaves the runbook file alone.
    const runbook = renderRunbook([run.report]);
    assert.match(
      runbook,
      /\| `gpt-4o`: opened at \d+\.\d\d s, \d+\.\d\d s after the outage started/,
    );
  });

  it('records the changes to a base policy', async () => {
    const policyText = await readFile(DEFAULT_POLICY_PATH, 'utf8');
    // steady-chat sends to chat, so the drill covers the chat change but not the summarize one.
    const baseText = policyText
      .replace('deadlineMs: 30000', 'deadlineMs: 25000')
      .replace(/firstTokenTimeoutMs: 3000$/m, 'firstTokenTimeoutMs: 2500');
    const basePath = join(dir, 'base.yaml');
    await writeFile(basePath, baseText);
    const run = await runDrillOnPlatform({
      spec: shortDrill,
      scenarios: SCENARIOS,
      timeScale: 2,
      reportsDir: join(dir, 'reports'),
      runbookPath: join(dir, 'runbook.md'),
      keepRunbookBecause: 'a trial policy',
      basePolicy: basePolicy(basePath, Buffer.from(baseText), baseText),
    });
    const saved = JSON.parse(
      await readFile(join(run.written.runDir, 'report.json'), 'utf8'),
    ) as Report;
    assert.deepEqual(saved.policyChange, {
      basePolicyPath: basePath,
      basePolicySha256: createHash('sha256').update(baseText).digest('hex'),
      changes: [
        { route: 'chat', kind: 'changed', details: ['deadlineMs 25000 -> 30000'] },
        { route: 'summarize', kind: 'changed', details: ['firstTokenTimeoutMs 2500 -> 3000'] },
      ],
      unexercisedRoutes: ['summarize'],
    });
    const summary = await readFile(join(run.written.runDir, 'summary.md'), 'utf8');
    assert.ok(
      summary.includes(
        '\n- route summarize: firstTokenTimeoutMs 2500 -> 3000. **Not covered:** the drill did ' +
          'not exercise this route, so the verdict does not cover this change.\n',
      ),
      summary,
    );
    assert.ok(summary.includes('\n- route chat: deadlineMs 25000 -> 30000\n'), summary);
  });

  it('covers a fallback route that the outage reached', async () => {
    const baseText = await readFile(DEFAULT_POLICY_PATH, 'utf8');
    const route = (name: string, floor: number, model: string) =>
      [
        `  ${name}:`,
        `    qualityFloor: ${floor}`,
        '    candidates:',
        `      - { provider: provider-b, model: ${model}, weight: 1 }`,
        '    firstTokenTimeoutMs: 4000',
        '    stallTimeoutMs: 5000',
        '    deadlineMs: 30000',
        '    retryBudget: *retryBudget',
        '    failoverOn: *failover',
        '    breaker: *breaker',
        '    onExhausted: fail',
      ].join('\n');

    // chat keeps provider-a only and reaches provider-b through chat-backup, so the outage
    // of provider-a sends its tasks there. spare is the fallback of summarize, which
    // steady-chat sends nothing to, so no failover reaches it.
    const policyText = baseText
      .replace('      - { provider: provider-b, model: claude-sonnet, weight: 0 }\n', '')
      .replace(
        '    onExhausted: fail\n\n  chat-fast:',
        `    onExhausted: fail\n    fallbackRoute: chat-backup\n\n${route('chat-backup', 3, 'claude-sonnet')}\n\n  chat-fast:`,
      )
      .replace(
        '    onExhausted: queue\n',
        `    onExhausted: queue\n    fallbackRoute: spare\n\n${route('spare', 2, 'claude-sonnet')}\n`,
      );
    const policyPath = join(dir, 'policy.yaml');
    await writeFile(policyPath, policyText);
    const basePath = join(dir, 'base.yaml');
    await writeFile(basePath, baseText);

    const run = await runDrillOnPlatform({
      spec: shortDrill,
      scenarios: SCENARIOS,
      timeScale: 2,
      policyPath,
      reportsDir: join(dir, 'reports'),
      runbookPath: join(dir, 'runbook.md'),
      keepRunbookBecause: 'a trial policy',
      basePolicy: basePolicy(basePath, Buffer.from(baseText), baseText),
    });
    const saved = JSON.parse(
      await readFile(join(run.written.runDir, 'report.json'), 'utf8'),
    ) as Report;

    const reached = saved.topologies[0]?.fallbackRouteAttempts ?? [];
    assert.deepEqual(
      reached.map((entry) => [entry.route, entry.fallbackRoute]),
      [['chat', 'chat-backup']],
    );
    assert.ok((reached[0]?.succeeded ?? 0) > 0, JSON.stringify(reached));

    assert.deepEqual(
      saved.policyChange?.changes.map((change) => [change.route, change.kind]),
      [
        ['chat', 'changed'],
        ['chat-backup', 'added'],
        ['summarize', 'changed'],
        ['spare', 'added'],
      ],
    );
    assert.deepEqual(saved.policyChange?.unexercisedRoutes, ['summarize', 'spare']);
    assert.deepEqual(saved.scenario.unexercisedRoutes, ['summarize', 'spare', 'bench']);
  });

  it('keeps the runbook when asked to', async () => {
    const runbookPath = join(dir, 'runbook.md');
    const run = await runDrillOnPlatform({
      spec: shortDrill,
      scenarios: SCENARIOS,
      timeScale: 2,
      reportsDir: join(dir, 'reports'),
      runbookPath,
      keepRunbookBecause: 'a trial policy',
    });
    assert.deepEqual(run.runbook, {
      status: 'not-written',
      path: runbookPath,
      reason: 'a trial policy',
    });
    await assert.rejects(readFile(runbookPath, 'utf8'), { code: 'ENOENT' });
  });

  it('writes an aborted report when the signal fires', async () => {
    const controller = new AbortController();
    // Folders named after every second of the next minute take the run's own id.
    const reportsDir = join(dir, 'reports');
    const before = Date.now();
    for (let second = 0; second < 60; second += 1) {
      await mkdir(join(reportsDir, drillRunId(before + second * 1000, shortDrill.name)), {
        recursive: true,
      });
    }
    const run = await runDrillOnPlatform({
      spec: shortDrill,
      scenarios: SCENARIOS,
      timeScale: 4,
      reportsDir,
      runbookPath: join(dir, 'runbook.md'),
      signal: controller.signal,
      // Abort once the second fault is in place, so both the outage and the toxic are active.
      onEvent: (event) => {
        if (event.type === 'fault-applied' && event.stepId === shortDrill.faults[1]?.id) {
          controller.abort();
        }
      },
    });
    const after = Date.now();
    assert.equal(run.report.verdict.status, 'aborted');
    assert.equal(run.report.drill?.aborted?.reason, 'signal');
    // The time comes from the wall, not from the drill's clock at 4 times its speed.
    const createdAt = Date.parse(run.report.createdAt);
    assert.ok(createdAt >= before - 1000, run.report.createdAt);
    assert.ok(createdAt <= after, run.report.createdAt);
    assert.match(run.report.runId, /-short-outage-2$/);
    assert.equal(run.written.runDir, join(reportsDir, run.report.runId));
    assert.equal(run.runbook.status, 'not-written');
    await assert.rejects(readFile(join(dir, 'runbook.md'), 'utf8'), { code: 'ENOENT' });
    assert.equal(run.report.drill?.cleanAfterRollback, true);
    assert.deepEqual(run.report.drill?.leftovers, []);
    assert.equal(run.report.drill?.faults[0]?.appliedAtS !== null, true);
  });
});

describe('runDrillOnPlatform on given files', function () {
  this.timeout(60_000);
  let dir: string;
  let saved: Report;
  let runDir: string;
  const files = { tenants: '', tenantsText: '', prices: '', pricesText: '' };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-platform-drill-'));
    files.tenants = join(dir, 'tenants.yaml');
    files.prices = join(dir, 'prices.yaml');
    const shippedTenants = await readFile(DEFAULT_TENANTS_PATH, 'utf8');
    // tenant-batch, the burst tenant, at 480 requests/min, so a quarter of it is 2 requests/s,
    // and tenant-noisy with a lower running cap.
    files.tenantsText = shippedTenants
      .replace(/(- id: tenant-batch\n(?: {4}.*\n)*? {4}requestsPerMinute: )2400/, '$1480')
      .replace('maxRunning: 8', 'maxRunning: 2');
    assert.match(files.tenantsText, /requestsPerMinute: 480\n/);
    assert.match(files.tenantsText, /maxRunning: 2\n/);
    await writeFile(files.tenants, files.tenantsText);
    files.pricesText = (await readFile('fixtures/prices.yaml', 'utf8')).replace(
      "effectiveDate: '2025-01-15'",
      "effectiveDate: '2027-03-01'",
    );
    await writeFile(files.prices, files.pricesText);
    const run = await runDrillOnPlatform({
      spec: shortDrill,
      scenarios: SCENARIOS,
      timeScale: 2,
      tenantsPath: files.tenants,
      pricesPath: files.prices,
      reportsDir: join(dir, 'reports'),
      runbookPath: join(dir, 'runbook.md'),
    });
    runDir = run.written.runDir;
    saved = JSON.parse(await readFile(join(runDir, 'report.json'), 'utf8')) as Report;
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records the given price table', () => {
    const { pricesPath, pricesHash, pricesEffectiveDate } = saved.environment;
    assert.deepEqual(
      { pricesPath, pricesHash, pricesEffectiveDate },
      {
        pricesPath: files.prices,
        pricesHash: sha256(files.pricesText),
        pricesEffectiveDate: '2027-03-01',
      },
    );
  });

  it('records the given tenants file', () => {
    assert.equal(saved.environment.tenantsPath, files.tenants);
    assert.equal(saved.environment.tenantsHash, sha256(files.tenantsText));
  });

  it('sizes the burst by the given tenants file', () => {
    // Poisson arrivals at 2 requests/s for the burst's 3 s, with the burst's seed 2, where
    // the shipped file's 10 requests/s schedule 24.
    const burstSeed = 2;
    const arrivals = (ratePerSec: number) =>
      poissonOffsetsMs({ kind: 'constant', ratePerSec }, 3, createRandom(burstSeed)).length;
    assert.equal(arrivals(2), 5);
    assert.equal(arrivals(10), 24);
    assert.equal(saved.drill?.faults[2]?.burst?.requests, 5);
  });

  it('names the price table in summary.md', async () => {
    const summary = await readFile(join(runDir, 'summary.md'), 'utf8');
    const expected =
      `Costs are priced with the price table ${files.prices} (sha256 ` +
      `${sha256(files.pricesText).slice(0, 12)}, effective 2027-03-01). Tenant limits come ` +
      `from ${files.tenants} (sha256 ${sha256(files.tenantsText).slice(0, 12)}).`;
    assert.ok(summary.includes(expected), summary);
  });

  it('names the tenants file in the runbook', () => {
    const runbook = renderRunbook([saved]);
    const expected =
      `The drill's platform read \`${files.tenants}\` (sha256 ` +
      `${sha256(files.tenantsText).slice(0, 12)}), so the rejections cited here come from its ` +
      'limits.';
    assert.ok(runbook.includes(expected), runbook);
  });

  it('makes compare warn against a drill on the shipped files', async () => {
    const shipped = sampleReport();
    shipped.environment = { ...shipped.environment, ...(await recordPlatformFiles()) };
    const shippedPath = join(dir, 'shipped.json');
    await writeFile(shippedPath, JSON.stringify(shipped));
    const given = join(runDir, 'report.json');
    const run = await runInProcess(registerCompareCommand, ['compare', shippedPath, given]);
    assert.equal(run.exitCode, 0);
    const warnings = run.stdout
      .split('\n')
      .filter((line) => /^warning: (price table|tenants file) differs/.test(line));
    const prices = shipped.environment.pricesHash?.slice(0, 12);
    const tenants = shipped.environment.tenantsHash?.slice(0, 12);
    assert.deepEqual(warnings, [
      `warning: price table differs: fixtures/prices.yaml (sha256 ${prices}, effective ` +
        `2025-01-15) (${shippedPath}) vs ${files.prices} (sha256 ` +
        `${sha256(files.pricesText).slice(0, 12)}, effective 2027-03-01) (${given}); ` +
        'cost per task and the worker pool bill come from its prices, so they do not compare ' +
        'like for like; run every side on one price table',
      `warning: tenants file differs: fixtures/tenants.yaml (sha256 ${tenants}) ` +
        `(${shippedPath}) vs ${files.tenants} (sha256 ${sha256(files.tenantsText).slice(0, 12)}) ` +
        `(${given}); each tenant's rate limits, in-flight and running caps and budget come from ` +
        'it, so rejections, success rate and throughput do not compare like for like; give ' +
        'every side the same --tenants',
    ]);
  });
});
