import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { parse as parseYaml } from 'yaml';

const run = promisify(execFile);

interface Step {
  name?: string;
  run?: string;
  env?: Record<string, string>;
}

async function workflowSteps(): Promise<Step[]> {
  const text = await readFile('.github/workflows/policy-gate.yml', 'utf8');
  const workflow = parseYaml(text) as { jobs: { drill: { steps: Step[] } } };
  return workflow.jobs.drill.steps;
}

function stepIndex(steps: readonly Step[], command: string): number {
  const index = steps.findIndex((step) => step.run?.includes(command) === true);
  assert.ok(index >= 0, `no step runs ${command}`);
  return index;
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd });
  return stdout.trim();
}

describe('policy-gate workflow', () => {
  it('checks every policy file before the drill', async () => {
    const steps = await workflowSteps();
    const check = stepIndex(steps, 'scalegate.js policy check policies/*.yaml');
    assert.ok(check < stepIndex(steps, 'make policy-gate'));
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
});
