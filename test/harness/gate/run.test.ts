import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SCENARIOS } from '../../../scenarios/index.js';
import { gateExitCode } from '../../../src/cli/commands/gate.js';
import { basePolicy } from '../../../src/harness/drill/policy-change.js';
import type { DrillSpec } from '../../../src/harness/drill/spec.js';
import { GATE_FOLDER_MARKER, isGateFolderInUseError } from '../../../src/harness/gate/folder.js';
import { type PolicyGateResult, runPolicyGate } from '../../../src/harness/gate/run.js';
import type { Report, Verdict } from '../../../src/harness/report/types.js';
import { DEFAULT_PRICES_PATH } from '../../../src/platform/cost/load-price-table.js';
import { DEFAULT_POLICY_PATH } from '../../../src/platform/router/load-policy.js';

/** A 10-simulated-second drill with a short outage of provider-a, run at twice real time. */
const shortDrill: DrillSpec = {
  name: 'gate-outage',
  description: 'short outage for the policy gate test',
  scenario: 'steady-chat',
  durationS: 10,
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
  ],
  abortRules: [],
};

const TIME_SCALE = 2;
const SEED = 7;

/**
 * Exit code of each verdict when no signal stopped the drill. A busy machine can leave the
 * load generator behind schedule, which makes the verdict inconclusive.
 */
const VERDICT_EXIT_CODES: Record<Verdict, number> = {
  passed: 0,
  deviated: 1,
  inconclusive: 4,
  aborted: 3,
};

/** Returns the comment's words for the shipped price table and tenants file. */
async function shippedFilesSetting(): Promise<string> {
  const short = async (path: string) =>
    createHash('sha256')
      .update(await readFile(path))
      .digest('hex')
      .slice(0, 12);
  return (
    `, price table \`fixtures/prices.yaml\` (sha256 ${await short('fixtures/prices.yaml')}), ` +
    `tenants file \`fixtures/tenants.yaml\` (sha256 ${await short('fixtures/tenants.yaml')}). `
  );
}

function ranReport(outcome: PolicyGateResult['base']): Report {
  assert.ok(outcome !== null, 'the side was not drilled');
  assert.equal(outcome.status, 'ran', outcome.status === 'failed' ? outcome.message : '');
  return outcome.run.report;
}

describe('runPolicyGate with a base policy', function () {
  this.timeout(90_000);
  let dir: string;
  let gateDir: string;
  let basePath: string;
  let result: PolicyGateResult;
  const started: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-gate-'));
    gateDir = join(dir, 'gate');
    const policyText = await readFile(DEFAULT_POLICY_PATH, 'utf8');
    // steady-chat sends to chat, so the drill covers the chat change but not the summarize one.
    const baseText = policyText
      .replace('deadlineMs: 30000', 'deadlineMs: 25000')
      .replace(/firstTokenTimeoutMs: 3000$/m, 'firstTokenTimeoutMs: 2500');
    basePath = join(dir, 'base.yaml');
    await writeFile(basePath, baseText);
    result = await runPolicyGate({
      spec: shortDrill,
      scenarios: SCENARIOS,
      timeScale: TIME_SCALE,
      seed: SEED,
      policyPath: DEFAULT_POLICY_PATH,
      basePolicy: basePolicy(basePath, Buffer.from(baseText), baseText),
      gateDir,
      onDrillStart: (side, path) => started.push(`${side} ${path}`),
    });
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('drills the base policy first', () => {
    assert.deepEqual(started, [`base ${basePath}`, `PR ${DEFAULT_POLICY_PATH}`]);
    const base = ranReport(result.base);
    const pr = ranReport(result.pr);
    assert.equal(base.environment.policyPath, basePath);
    assert.equal(pr.environment.policyPath, DEFAULT_POLICY_PATH);
    // createdAt is when each load started; the base load ran its 5 wall seconds before the PR's.
    const gapMs = Date.parse(pr.createdAt) - Date.parse(base.createdAt);
    assert.ok(gapMs >= (shortDrill.durationS * 1000) / TIME_SCALE, `gap ${gapMs} ms`);
  });

  it('drills both with one seed and scale', () => {
    const base = ranReport(result.base);
    const pr = ranReport(result.pr);
    assert.equal(base.environment.seed, SEED);
    assert.equal(pr.environment.seed, SEED);
    assert.equal(base.environment.timeScale, TIME_SCALE);
    assert.equal(pr.environment.timeScale, TIME_SCALE);
    assert.equal(base.drill?.name, 'gate-outage');
    assert.equal(pr.drill?.name, 'gate-outage');
    assert.deepEqual(base.environment.backpressure, pr.environment.backpressure);
    assert.equal(base.topologies[0]?.topology, pr.topologies[0]?.topology);
  });

  it('writes each side to its own folder', async () => {
    assert.equal(result.base?.status, 'ran');
    assert.equal(result.pr?.status, 'ran');
    if (result.base?.status !== 'ran' || result.pr?.status !== 'ran') return;
    const base = ranReport(result.base);
    const pr = ranReport(result.pr);
    assert.equal(result.base.reportPath, join(gateDir, 'base-reports', base.runId, 'report.json'));
    assert.equal(result.pr.reportPath, join(gateDir, 'reports', pr.runId, 'report.json'));
    const saved = JSON.parse(await readFile(result.base.reportPath, 'utf8')) as Report;
    assert.equal(saved.runId, base.runId);
    // Only the PR drill records the policy change.
    assert.equal(Object.hasOwn(saved, 'policyChange'), false);
    assert.deepEqual(pr.policyChange?.unexercisedRoutes, ['summarize']);
    // The base drill writes no runbook.
    assert.equal(result.base.run.runbook.status, 'not-written');
    await assert.rejects(stat(join(gateDir, 'base-scaling_runbook.md')), { code: 'ENOENT' });
  });

  it('writes the comment and comparison', async () => {
    assert.equal(result.commentPath, join(gateDir, 'comment.md'));
    const comment = await readFile(join(gateDir, 'comment.md'), 'utf8');
    const pr = ranReport(result.pr);
    const base = ranReport(result.base);
    assert.equal(comment.split('\n')[1], `## Policy gate: ${pr.verdict.status}`);
    assert.ok(
      comment.includes(`| verdict | ${base.verdict.status} | ${pr.verdict.status} |  |\n`),
      comment,
    );
    const failovers = (report: Report): number =>
      (report.topologies[0]?.failovers ?? []).reduce((sum, pair) => sum + pair.activations, 0);
    assert.ok(failovers(pr) > 0, 'the outage caused no failover');
    assert.match(
      comment,
      new RegExp(`\\n\\| failover activations \\| ${failovers(base)} \\| ${failovers(pr)} \\| `),
    );
    assert.ok(comment.includes('- route summarize: firstTokenTimeoutMs 2500 -> 3000.'), comment);
    assert.ok(comment.includes(await shippedFilesSetting()), comment);
    // Both drills ran on fixtures/prices.yaml, whose effectiveDate is 2025-01-15.
    assert.ok(
      comment.includes('\nCosts are priced with the price table effective 2025-01-15.\n'),
      comment,
    );
    const comparison = JSON.parse(await readFile(join(gateDir, 'comparison.json'), 'utf8')) as {
      groups: { label: string }[];
    };
    assert.deepEqual(
      comparison.groups.map((group) => group.label),
      ['base', 'PR'],
    );
  });

  it('marks the gate folder', async () => {
    const marker = await readFile(join(gateDir, GATE_FOLDER_MARKER), 'utf8');
    assert.match(marker, /^scalegate gate writes its reports/);
  });

  it('lists no warnings for a covered policy', async () => {
    const comment = await readFile(join(gateDir, 'comment.md'), 'utf8');
    assert.ok(!comment.includes('Warnings of the PR drill:'), comment);
  });

  it('exits with the PR drill code', () => {
    const pr = ranReport(result.pr);
    assert.equal(gateExitCode(result, false), VERDICT_EXIT_CODES[pr.verdict.status]);
  });
});

describe('runPolicyGate with a failing base', function () {
  this.timeout(60_000);
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-gate-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('still drills the PR policy', async () => {
    // A YAML map that the platform rejects, such as a base that the change fixes.
    const baseText = 'version: 1\nroutes: {}\n';
    const basePath = join(dir, 'base.yaml');
    await writeFile(basePath, baseText);
    const gateDir = join(dir, 'gate');
    const result = await runPolicyGate({
      spec: shortDrill,
      scenarios: SCENARIOS,
      timeScale: TIME_SCALE,
      seed: SEED,
      policyPath: DEFAULT_POLICY_PATH,
      basePolicy: basePolicy(basePath, Buffer.from(baseText), baseText),
      gateDir,
    });
    assert.equal(result.base?.status, 'failed');
    const pr = ranReport(result.pr);
    assert.equal(result.comparison, null);
    assert.equal(gateExitCode(result, false), VERDICT_EXIT_CODES[pr.verdict.status]);
    const comment = await readFile(join(gateDir, 'comment.md'), 'utf8');
    assert.equal(comment.split('\n')[1], `## Policy gate: ${pr.verdict.status}`);
    assert.ok(
      comment.includes(
        `The drill of the base policy \`${basePath}\` failed before it wrote a report, so there is no comparison.`,
      ),
      comment,
    );
    await assert.rejects(stat(join(gateDir, 'comparison.json')), { code: 'ENOENT' });
  });
});

describe('runPolicyGate with a PR policy lacking the fallback', function () {
  this.timeout(60_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-gate-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the route in the comment', async () => {
    const fallback = '      - { provider: provider-b, model: claude-sonnet, weight: 0 }\n';
    const policyText = await readFile(DEFAULT_POLICY_PATH, 'utf8');
    // Only chat lists claude-sonnet with weight 0, so this drops its one fallback candidate.
    assert.equal(policyText.split(fallback).length, 2);
    const prPath = join(dir, 'pr.yaml');
    await writeFile(prPath, policyText.replace(fallback, ''));
    const gateDir = join(dir, 'gate');
    await runPolicyGate({
      spec: shortDrill,
      scenarios: SCENARIOS,
      timeScale: TIME_SCALE,
      seed: SEED,
      policyPath: prPath,
      gateDir,
    });
    const comment = await readFile(join(gateDir, 'comment.md'), 'utf8');
    assert.ok(
      comment.includes(
        '\nWarnings of the PR drill:\n\n- route chat of the policy calls provider-a but has no ' +
          'provider-b candidate, directly or through fallbackRoute, so it has no provider left ' +
          'while fault outage takes provider-a down; add provider-b to its candidates if it ' +
          'should fail over\n',
      ),
      comment,
    );
  });
});

/** A gate run on the default policy as base and `prText` as the PR policy, in `dir`. */
interface PrPolicyGate {
  basePath: string;
  prPath: string;
  gateDir: string;
  /** The sides whose drill started, as `<side> <policy path>`. */
  started: string[];
  result: PolicyGateResult;
}

/**
 * Runs the gate with the default policy as base and `prText` as the PR policy. `before`
 * runs once the gate folder exists, before the gate starts.
 */
async function gateWithPrPolicy(
  dir: string,
  prText: string,
  before?: (gateDir: string) => Promise<void>,
  pricesPath?: string,
  topology?: string,
): Promise<PrPolicyGate> {
  const baseText = await readFile(DEFAULT_POLICY_PATH, 'utf8');
  const basePath = join(dir, 'base.yaml');
  await writeFile(basePath, baseText);
  const prPath = join(dir, 'pr.yaml');
  await writeFile(prPath, prText);
  const gateDir = join(dir, 'gate');
  await mkdir(gateDir);
  await before?.(gateDir);

  const started: string[] = [];
  const result = await runPolicyGate({
    spec: shortDrill,
    scenarios: SCENARIOS,
    timeScale: TIME_SCALE,
    seed: SEED,
    policyPath: prPath,
    basePolicy: basePolicy(basePath, Buffer.from(baseText), baseText),
    gateDir,
    pricesPath,
    topology,
    onDrillStart: (side, path) => started.push(`${side} ${path}`),
  });
  return { basePath, prPath, gateDir, started, result };
}

describe('runPolicyGate with an invalid PR policy', function () {
  this.timeout(60_000);
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-gate-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('skips the base drill', async () => {
    const { basePath, prPath, gateDir, started, result } = await gateWithPrPolicy(dir, '');

    assert.deepEqual(started, []);
    assert.deepEqual(result.base, {
      status: 'skipped',
      policyPath: basePath,
      reason: 'the PR policy is invalid',
    });
    assert.equal(result.pr?.status, 'failed');
    assert.equal(gateExitCode(result, false), 2);

    const comment = await readFile(join(gateDir, 'comment.md'), 'utf8');
    assert.equal(comment.split('\n')[1], '## Policy gate: the PR drill failed');
    assert.ok(comment.includes(`${prPath}:1:1: the policy is empty`), comment);
    // The PR drill wrote no report, so the comment names the files the gate read first.
    assert.ok(comment.includes(await shippedFilesSetting()), comment);
    assert.ok(
      comment.includes(
        `The base policy \`${basePath}\` was not drilled, because the PR policy is invalid.`,
      ),
      comment,
    );
    await assert.rejects(stat(join(gateDir, 'base-reports')), { code: 'ENOENT' });
  });

  it('names the topology it was given', async () => {
    const { gateDir, result } = await gateWithPrPolicy(
      dir,
      '',
      undefined,
      undefined,
      'serverless_burst=disabled workers=3',
    );

    assert.equal(result.pr?.status, 'failed');
    const comment = await readFile(join(gateDir, 'comment.md'), 'utf8');
    // The PR drill wrote no report, so the topology is the one the gate was given.
    assert.ok(
      comment.includes(
        `Drill \`gate-outage\`, seed ${SEED}, time scale ${TIME_SCALE}, ` +
          'topology `workers=3 serverless_burst=disabled`, price table ',
      ),
      comment,
    );
  });

  it('skips the base drill for a dropped route', async () => {
    // steady-chat sends to chat and chat-fast; the PR renames chat.
    const baseText = await readFile(DEFAULT_POLICY_PATH, 'utf8');
    const prText = baseText.replace(/^ {2}chat:$/m, '  chat-v2:');
    assert.notEqual(prText, baseText);

    const { gateDir, started, result } = await gateWithPrPolicy(dir, prText);

    assert.deepEqual(started, []);
    assert.equal(result.base?.status, 'skipped');
    assert.equal(result.pr?.status, 'failed');
    assert.equal(gateExitCode(result, false), 2);

    const comment = await readFile(join(gateDir, 'comment.md'), 'utf8');
    assert.ok(
      comment.includes(
        '/routes/chat: route chat not found; drill gate-outage sends its steady-chat load to ' +
          'it, so keep a route named chat in the policy',
      ),
      comment,
    );
  });
  it('skips the base drill for an unpriced PR model', async () => {
    // The PR adds provider-c/llama-8b to bench, and the shared price table has no price for it.
    const baseText = await readFile(DEFAULT_POLICY_PATH, 'utf8');
    const instant = '      - { provider: instant, model: instant, weight: 1 }\n';
    const prText = baseText.replace(
      instant,
      `${instant}      - { provider: provider-c, model: llama-8b, weight: 0 }\n`,
    );
    assert.notEqual(prText, baseText);
    const pricesText = await readFile(DEFAULT_PRICES_PATH, 'utf8');
    const llama8b = '    llama-8b: { inputPerMillion: 0.18, outputPerMillion: 0.18 }\n';
    assert.ok(pricesText.includes(llama8b), 'fixtures/prices.yaml prices llama-8b');
    const pricesPath = join(dir, 'prices.yaml');
    await writeFile(pricesPath, pricesText.replace(llama8b, ''));

    const { basePath, prPath, gateDir, started, result } = await gateWithPrPolicy(
      dir,
      prText,
      undefined,
      pricesPath,
    );

    assert.deepEqual(started, []);
    assert.deepEqual(result.base, {
      status: 'skipped',
      policyPath: basePath,
      reason: 'the price table has no price for a model that the PR policy calls',
    });
    assert.equal(result.pr?.status, 'failed');
    assert.equal(gateExitCode(result, false), 2);
    const comment = await readFile(join(gateDir, 'comment.md'), 'utf8');
    assert.ok(
      comment.includes(
        `${pricesPath}: models.provider-c.llama-8b: missing, but route bench of ${prPath} ` +
          'calls it, so admission could not price a task of that route',
      ),
      comment,
    );
    await assert.rejects(stat(join(gateDir, 'base-reports')), { code: 'ENOENT' });
  });
});

describe('runPolicyGate in a used gate folder', function () {
  this.timeout(60_000);
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-gate-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("deletes an earlier run's comparison", async () => {
    const { gateDir, result } = await gateWithPrPolicy(
      dir,
      'version: 1\nroutes: {}\n',
      async (folder) => {
        await writeFile(join(folder, GATE_FOLDER_MARKER), '');
        await writeFile(join(folder, 'comparison.json'), '{"groups": []}\n');
        await writeFile(join(folder, 'comment.md'), 'earlier comment\n');
      },
    );

    assert.equal(result.comparison, null);
    await assert.rejects(stat(join(gateDir, 'comparison.json')), { code: 'ENOENT' });
    const comment = await readFile(join(gateDir, 'comment.md'), 'utf8');
    assert.equal(comment.split('\n')[1], '## Policy gate: the PR drill failed');
  });

  it('rejects unmarked earlier output', async () => {
    const gate = gateWithPrPolicy(dir, 'version: 1\nroutes: {}\n', async (folder) => {
      await writeFile(join(folder, 'comparison.json'), '{"groups": []}\n');
      await writeFile(join(folder, 'comment.md'), 'earlier comment\n');
    });

    await assert.rejects(gate, (error: unknown) => {
      assert.ok(isGateFolderInUseError(error), String(error));
      assert.deepEqual(error.outputs, ['comment.md', 'comparison.json']);
      assert.match(
        error.message,
        /^gate folder \S+ contains comment\.md and comparison\.json and has no \.scalegate-gate file, so scalegate gate did not write them and would overwrite them\. /,
      );
      return true;
    });
    // The check runs before the earlier output is deleted.
    const gateDir = join(dir, 'gate');
    assert.equal(await readFile(join(gateDir, 'comment.md'), 'utf8'), 'earlier comment\n');
    assert.equal(await readFile(join(gateDir, 'comparison.json'), 'utf8'), '{"groups": []}\n');
  });

  it('marks a folder of other files', async () => {
    const { gateDir, result } = await gateWithPrPolicy(dir, '', async (folder) => {
      await writeFile(join(folder, 'notes.txt'), 'kept\n');
    });

    assert.equal(result.pr?.status, 'failed');
    assert.equal(await readFile(join(gateDir, 'notes.txt'), 'utf8'), 'kept\n');
    await stat(join(gateDir, GATE_FOLDER_MARKER));
    await stat(join(gateDir, 'comment.md'));
  });
});

describe('runPolicyGate in a checkout folder', function () {
  this.timeout(60_000);
  let dir: string;

  beforeEach(async () => {
    // A copy of the checkout's committed reports: latest.json and the run folder it names.
    dir = await mkdtemp(join(tmpdir(), 'scalegate-gate-'));
    await cp('reports/latest.json', join(dir, 'reports', 'latest.json'));
    const pointer = JSON.parse(await readFile('reports/latest.json', 'utf8')) as { runId: string };
    await cp(join('reports', pointer.runId), join(dir, 'reports', pointer.runId), {
      recursive: true,
    });
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects a folder with committed reports', async () => {
    const latestBefore = await readFile(join(dir, 'reports', 'latest.json'));
    const runsBefore = await readdir(join(dir, 'reports'));
    const started: string[] = [];

    const gate = runPolicyGate({
      spec: shortDrill,
      scenarios: SCENARIOS,
      timeScale: TIME_SCALE,
      seed: SEED,
      policyPath: DEFAULT_POLICY_PATH,
      gateDir: dir,
      onDrillStart: (side, path) => started.push(`${side} ${path}`),
    });

    await assert.rejects(gate, (error: unknown) => {
      assert.ok(isGateFolderInUseError(error), String(error));
      assert.equal(error.folder, dir);
      assert.deepEqual(error.outputs, ['reports/latest.json']);
      assert.equal(
        error.message,
        `gate folder ${dir} contains reports/latest.json and has no .scalegate-gate file, so ` +
          'scalegate gate did not write it and would overwrite it. Pass a new or empty folder, ' +
          'or delete this folder if only an earlier gate run wrote to it.',
      );
      return true;
    });
    assert.deepEqual(started, []);
    assert.deepEqual(await readFile(join(dir, 'reports', 'latest.json')), latestBefore);
    assert.deepEqual(await readdir(join(dir, 'reports')), runsBefore);
    await assert.rejects(stat(join(dir, 'comment.md')), { code: 'ENOENT' });
    await assert.rejects(stat(join(dir, GATE_FOLDER_MARKER)), { code: 'ENOENT' });
  });

  it('rejects the runbooks folder', async () => {
    const runbooks = join(dir, 'runbooks');
    await cp('runbooks/scaling_runbook.md', join(runbooks, 'scaling_runbook.md'));
    const runbookBefore = await readFile(join(runbooks, 'scaling_runbook.md'));

    const gate = runPolicyGate({
      spec: shortDrill,
      scenarios: SCENARIOS,
      timeScale: TIME_SCALE,
      seed: SEED,
      policyPath: DEFAULT_POLICY_PATH,
      gateDir: runbooks,
    });

    await assert.rejects(gate, (error: unknown) => {
      assert.ok(isGateFolderInUseError(error), String(error));
      assert.deepEqual(error.outputs, ['scaling_runbook.md']);
      return true;
    });
    assert.deepEqual(await readFile(join(runbooks, 'scaling_runbook.md')), runbookBefore);
    assert.deepEqual(await readdir(runbooks), ['scaling_runbook.md']);
  });
});
