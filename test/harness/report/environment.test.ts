import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

import { describeMachine, gitCommit } from '../../../src/harness/report/environment.js';

describe('describeMachine', () => {
  it('records the CPU model', () => {
    const model = cpus()[0]?.model.trim() || 'unknown';
    assert.equal(describeMachine().cpuModel, model);
  });
});

describe('gitCommit', () => {
  let dir: string | undefined;
  const cwd = process.cwd();

  afterEach(async () => {
    process.chdir(cwd);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reads the checkout from another folder', async function () {
    let head: string;
    try {
      head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      this.skip();
    }
    // A folder outside any git checkout, where `git rev-parse` run there would fail.
    dir = await mkdtemp(join(tmpdir(), 'scalegate-commit-'));
    process.chdir(dir);
    assert.equal(await gitCommit(), head);
  });
});
