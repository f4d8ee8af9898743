import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { parse as parseYaml } from 'yaml';

import { DRILLS } from '../../chaos/index.js';
import { SCENARIOS } from '../../scenarios/index.js';
import { DEFAULT_PROVIDER_DIR } from '../../src/faults/providers/profile.js';
import { GATE_COMMENT_MARKER } from '../../src/harness/gate/comment.js';
import { REPORT_SCHEMA_URL } from '../../src/harness/report/validate.js';
import { packagePath } from '../../src/package-path.js';
import { DEFAULT_PRICES_PATH } from '../../src/platform/cost/load-price-table.js';
import { DEFAULT_POLICY_PATH, POLICY_SCHEMA_PATH } from '../../src/platform/router/load-policy.js';
import { DEFAULT_DEMO_KEYS_PATH } from '../../src/platform/tenants/demo-keys.js';
import { DEFAULT_TENANTS_PATH } from '../../src/platform/tenants/load-tenants.js';

const run = promisify(execFile);

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  if?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}

interface Job {
  needs?: string;
  if?: string;
  permissions?: Record<string, string>;
  steps: Step[];
}

interface Workflow {
  on: { pull_request: { paths: string[] } };
  permissions: Record<string, string>;
  concurrency?: { group?: string; 'cancel-in-progress'?: boolean };
  jobs: { drill: Job; comment: Job };
}

async function readWorkflow(): Promise<Workflow> {
  const text = await readFile('.github/workflows/policy-gate.yml', 'utf8');
  return parseYaml(text) as Workflow;
}

async function workflowSteps(): Promise<Step[]> {
  return (await readWorkflow()).jobs.drill.steps;
}

function stepIndex(steps: readonly Step[], command: string): number {
  const index = steps.findIndex((step) => step.run?.includes(command) === true);
  assert.ok(index >= 0, `no step runs ${command}`);
  return index;
}

/**
 * Converts a workflow path filter to a RegExp that matches a whole path from the repository
 * root: `**` matches any characters, `*` any characters but `/`.
 * @throws Error for the filter characters `?`, `+`, `[`, `]` and `!`, which it does not convert.
 */
function pathFilterRegExp(pattern: string): RegExp {
  if (/[?+[\]!]/.test(pattern))
    throw new Error(`path filter ${pattern} uses a character that this test does not convert`);
  const source = pattern
    .split('**')
    .map((part) =>
      part
        .split('*')
        .map((text) => text.replace(/[.^$|(){}\\]/g, '\\$&'))
        .join('[^/]*'),
    )
    .join('.*');
  return new RegExp(`^${source}$`);
}

/**
 * Returns the files, relative to the checkout, that `scalegate gate` reads by default: the
 * policy, its schema, the drill and scenario modules, the tenants file, demo keys, price table,
 * provider profiles, the trace of each drill's scenario, and the report schema.
 */
async function defaultGateInputs(): Promise<string[]> {
  const root = packagePath('');
  const modules = async (folder: string): Promise<string[]> =>
    (await readdir(join(root, folder)))
      .filter((name) => extname(name) === '.ts')
      .map((name) => join(root, folder, name));
  const profiles = (await readdir(DEFAULT_PROVIDER_DIR))
    .filter((name) => ['.yaml', '.yml'].includes(extname(name)))
    .map((name) => join(DEFAULT_PROVIDER_DIR, name));
  const traces = Object.values(DRILLS).flatMap((drill) => {
    const arrival = SCENARIOS[drill.scenario]?.arrival;
    return arrival?.kind === 'trace' ? [resolve(root, arrival.file)] : [];
  });
  const files = [
    DEFAULT_POLICY_PATH,
    fileURLToPath(POLICY_SCHEMA_PATH),
    ...(await modules('chaos')),
    ...(await modules('scenarios')),
    DEFAULT_TENANTS_PATH,
    DEFAULT_DEMO_KEYS_PATH,
    DEFAULT_PRICES_PATH,
    ...profiles,
    ...traces,
    fileURLToPath(REPORT_SCHEMA_URL),
  ];
  return files.map((file) => relative(root, file));
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd });
  return stdout.trim();
}

describe('pathFilterRegExp', () => {
  const cases: [pattern: string, path: string, matches: boolean][] = [
    ['fixtures/**', 'fixtures/providers/provider-a.yaml', true],
    ['fixtures/**', 'test/fixtures/prices.yaml', false],
    ['fixtures/*.yaml', 'fixtures/prices.yaml', true],
    ['fixtures/*.yaml', 'fixtures/providers/provider-a.yaml', false],
    ['Makefile', 'Makefile', true],
    ['Makefile', 'bench/Makefile', false],
    ['.github/workflows/policy-gate.yml', '.github/workflows/policy-gateXyml', false],
  ];
  for (const [pattern, path, matches] of cases) {
    it(`${matches ? 'matches' : 'rejects'} ${path} with ${pattern}`, () => {
      assert.equal(pathFilterRegExp(pattern).test(path), matches);
    });
  }
});

describe('policy-gate workflow', () => {
  it('runs when a default gate input changes', async () => {
    const filters = (await readWorkflow()).on.pull_request.paths.map(pathFilterRegExp);
    const inputs = await defaultGateInputs();
    for (const expected of [
      'policies/default.yaml',
      'chaos/provider-outage.ts',
      'scenarios/conv-replay.ts',
      'fixtures/tenants.yaml',
      'fixtures/demo-keys.yaml',
      'fixtures/prices.yaml',
      'fixtures/providers/provider-a.yaml',
      'fixtures/traces/azure-llm-2023-conv.csv',
      'reports/schema/report.schema.json',
    ]) {
      assert.ok(inputs.includes(expected), `defaultGateInputs lacks ${expected}`);
    }
    for (const input of inputs) {
      assert.ok(
        filters.some((filter) => filter.test(input)),
        `no path filter of the workflow matches ${input}`,
      );
    }
  });

  it('runs when the gate setup changes', async () => {
    const filters = (await readWorkflow()).on.pull_request.paths.map(pathFilterRegExp);
    for (const path of ['.github/workflows/policy-gate.yml', 'Makefile']) {
      assert.ok(
        filters.some((filter) => filter.test(path)),
        `no path filter of the workflow matches ${path}`,
      );
    }
  });

  it('checks every policy file before the drill', async () => {
    const steps = await workflowSteps();
    const check = stepIndex(steps, 'scalegate.js policy check policies/*.yaml');
    assert.ok(check < stepIndex(steps, 'make policy-gate'));
  });

  it('checks .yml policy files too', async function () {
    this.timeout(30_000);
    const steps = await workflowSteps();
    const script = steps[stepIndex(steps, 'scalegate.js policy check')]?.run ?? '';
    const dir = await mkdtemp(join(tmpdir(), 'scalegate-workflow-'));
    try {
      await symlink(resolve('bin'), join(dir, 'bin'));
      await mkdir(join(dir, 'policies'));
      await copyFile('policies/default.yaml', join(dir, 'policies', 'default.yaml'));
      // With no .yml file the pattern matches nothing and only default.yaml is checked.
      await run('bash', ['-e', '-c', script], { cwd: dir });
      await writeFile(join(dir, 'policies', 'extra.yml'), 'version: 1\nroutes: {}\n');
      const failed = await run('bash', ['-e', '-c', script], { cwd: dir }).then(
        () => undefined,
        (error: { code?: number; stdout?: string; stderr?: string }) => error,
      );
      assert.ok(failed !== undefined, 'the check passed an invalid .yml policy');
      assert.equal(failed.code, 1);
      assert.match(`${failed.stdout}${failed.stderr}`, /policies\/extra\.yml/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('passes the base policy to the gate', async () => {
    const steps = await workflowSteps();
    const gate = steps[stepIndex(steps, 'make policy-gate')];
    assert.match(gate?.run ?? '', /BASE_POLICY="\$RUNNER_TEMP\/base-policy\.yaml"/);
  });

  it('writes the base commit policy', async () => {
    const steps = await workflowSteps();
    const step = steps.find((candidate) => candidate.name === 'Write the base policy');
    assert.ok(step?.run !== undefined, 'no step named Write the base policy');
    const dir = await mkdtemp(join(tmpdir(), 'scalegate-workflow-'));
    try {
      // A repository with the base commit and a pull request commit after it, and a clone of it.
      const origin = join(dir, 'origin');
      await mkdir(join(origin, 'policies'), { recursive: true });
      await git(origin, 'init', '-q');
      await writeFile(join(origin, 'policies', 'default.yaml'), 'version: 1 # base\n');
      await git(origin, 'add', '.');
      const identity = ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid'];
      await git(origin, ...identity, 'commit', '-q', '-m', 'base');
      const baseSha = await git(origin, 'rev-parse', 'HEAD');
      await writeFile(join(origin, 'policies', 'default.yaml'), 'version: 1 # change\n');
      await git(origin, ...identity, 'commit', '-q', '-am', 'change');
      await git(dir, 'clone', '-q', origin, 'checkout');
      // GitHub runs a step's script with bash -e.
      await run('bash', ['-e', '-c', step.run], {
        cwd: join(dir, 'checkout'),
        env: { ...process.env, BASE_SHA: baseSha, RUNNER_TEMP: dir },
      });
      assert.equal(await readFile(join(dir, 'base-policy.yaml'), 'utf8'), 'version: 1 # base\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('pins every action by commit', async () => {
    const workflow = await readWorkflow();
    const steps = [...workflow.jobs.drill.steps, ...workflow.jobs.comment.steps];
    const uses = steps.flatMap((step) => (step.uses === undefined ? [] : [step.uses]));
    assert.ok(uses.length >= 4, uses.join(', '));
    for (const action of uses) assert.match(action, /^[\w-]+\/[\w-]+@[0-9a-f]{40}$/);
  });

  it('uploads the gate folder after the gate', async () => {
    const steps = await workflowSteps();
    const upload = steps.findIndex((step) => step.uses?.startsWith('actions/upload-artifact@'));
    assert.ok(upload > stepIndex(steps, 'make policy-gate'), 'no upload after the gate');
    const step = steps[upload];
    assert.equal(step?.if, 'always()');
    assert.equal(step?.with?.path, 'gate/');
    assert.equal(step?.with?.name, 'policy-gate');
  });

  it('cancels the previous push run', async () => {
    const { concurrency } = await readWorkflow();
    // Keyed by the pull request, so runs of other pull requests go on side by side.
    assert.match(
      concurrency?.group ?? '',
      /^policy-gate-\$\{\{ github\.event\.pull_request\.number \}\}$/,
    );
    assert.equal(concurrency?.['cancel-in-progress'], true);
  });

  it('grants comment write to one job', async () => {
    const workflow = await readWorkflow();
    assert.deepEqual(workflow.permissions, { contents: 'read' });
    assert.equal(workflow.jobs.drill.permissions, undefined);
    assert.deepEqual(workflow.jobs.comment.permissions, { 'pull-requests': 'write' });
  });

  it('comments on same-repository pull requests', async () => {
    const { comment } = (await readWorkflow()).jobs;
    assert.equal(comment.needs, 'drill');
    assert.match(comment.if ?? '', /^always\(\) && /);
    assert.ok(
      comment.if?.includes('github.event.pull_request.head.repo.full_name == github.repository'),
      comment.if,
    );
    const download = comment.steps.find((step) =>
      step.uses?.startsWith('actions/download-artifact@'),
    );
    assert.equal(download?.with?.name, 'policy-gate');
    assert.equal(download?.with?.path, 'gate');
  });

  describe('comment step', () => {
    const RUN_URL = 'https://github.com/octo/scalegate/actions/runs/42';
    let dir = '';

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'scalegate-workflow-'));
      // A gh that logs its arguments, one JSON array a line, and prints the comment list for the list
      // call by applying its --jq filter to FAKE_COMMENTS with jq.
      await mkdir(join(dir, 'bin'));
      const fake = [
        '#!/usr/bin/env node',
        "const { appendFileSync } = require('node:fs');",
        "const { execFileSync } = require('node:child_process');",
        'const args = process.argv.slice(2);',
        "appendFileSync(process.env.GH_LOG, JSON.stringify(args) + '\\n');",
        "const jq = args.indexOf('--jq');",
        'if (jq >= 0) {',
        "  const out = execFileSync('jq', ['-r', args[jq + 1]], { input: process.env.FAKE_COMMENTS });",
        '  process.stdout.write(out);',
        '}',
      ].join('\n');
      await writeFile(join(dir, 'bin', 'gh'), `${fake}\n`, { mode: 0o755 });
      await mkdir(join(dir, 'gate'));
    });

    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    async function runCommentStep(
      comments: unknown[],
      drillResult = 'failure',
    ): Promise<string[][]> {
      const { comment } = (await readWorkflow()).jobs;
      const step = comment.steps.find(
        (candidate) => candidate.name === 'Post or update the gate comment',
      );
      assert.ok(step?.run !== undefined, 'no step named Post or update the gate comment');
      const log = join(dir, 'gh.log');
      await run('bash', ['-e', '-c', step.run], {
        cwd: dir,
        env: {
          ...process.env,
          PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`,
          GH_LOG: log,
          FAKE_COMMENTS: JSON.stringify(comments),
          REPO: 'octo/scalegate',
          PR_NUMBER: '17',
          RUN_URL,
          DRILL_RESULT: drillResult,
        },
      });
      const text = await readFile(log, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as string[]);
    }

    const body = `${GATE_COMMENT_MARKER}\n## Policy gate: passed\n`;

    it('posts a new comment', async () => {
      await writeFile(join(dir, 'gate', 'comment.md'), body);
      const calls = await runCommentStep([
        { id: 5, user: { login: 'someone' }, body: GATE_COMMENT_MARKER },
      ]);
      assert.equal(calls.length, 2, JSON.stringify(calls));
      assert.deepEqual(calls[1], [
        'api',
        '--method',
        'POST',
        'repos/octo/scalegate/issues/17/comments',
        '-f',
        `body=${body.trimEnd()}`,
      ]);
    });

    it('updates the marked comment', async () => {
      await writeFile(join(dir, 'gate', 'comment.md'), body);
      const calls = await runCommentStep([
        { id: 5, user: { login: 'github-actions[bot]' }, body: 'another bot comment' },
        { id: 9, user: { login: 'github-actions[bot]' }, body: `${GATE_COMMENT_MARKER}\nold` },
      ]);
      assert.deepEqual(calls[0]?.slice(0, 3), [
        'api',
        '--paginate',
        'repos/octo/scalegate/issues/17/comments',
      ]);
      assert.deepEqual(calls[1], [
        'api',
        '--method',
        'PATCH',
        'repos/octo/scalegate/issues/comments/9',
        '-f',
        `body=${body.trimEnd()}`,
      ]);
    });

    it('replaces the marked comment without a comment file', async () => {
      // An earlier push's verdict must not stay when this push's drill job ended before the gate.
      const calls = await runCommentStep([{ id: 9, user: { login: 'github-actions[bot]' }, body }]);
      assert.equal(calls.length, 2, JSON.stringify(calls));
      assert.deepEqual(calls[1]?.slice(0, 4), [
        'api',
        '--method',
        'PATCH',
        'repos/octo/scalegate/issues/comments/9',
      ]);
      const posted = calls[1]?.[5] ?? '';
      assert.ok(
        posted.startsWith(`body=${GATE_COMMENT_MARKER}\n## Policy gate: not run\n`),
        posted,
      );
      assert.ok(posted.endsWith(`: ${RUN_URL}`), posted);
      assert.ok(posted.includes('Its log names the step that failed'), posted);
    });

    it('says a cancelled drill job was cancelled', async () => {
      // A newer push cancels this run, so no step failed and the newer run posts the verdict.
      const calls = await runCommentStep(
        [{ id: 9, user: { login: 'github-actions[bot]' }, body }],
        'cancelled',
      );
      const posted = calls[1]?.[5] ?? '';
      assert.ok(
        posted.startsWith(`body=${GATE_COMMENT_MARKER}\n## Policy gate: not run\n`),
        posted,
      );
      assert.ok(posted.includes('The drill job was cancelled'), posted);
      assert.ok(!posted.includes('step that failed'), posted);
      assert.ok(posted.endsWith(`: ${RUN_URL}`), posted);
    });

    it('passes the drill result to the step', async () => {
      const { comment } = (await readWorkflow()).jobs;
      const step = comment.steps.find(
        (candidate) => candidate.name === 'Post or update the gate comment',
      );
      assert.equal(step?.env?.DRILL_RESULT, `\${{ needs.drill.result }}`);
    });
  });
});
