import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parse as parseYaml } from 'yaml';

import { registerCommands } from '../../src/cli/commands/index.js';
import { POLICY_CHECK_SCHEMA_URL, type PolicyCheckOutput } from '../../src/cli/policy-check.js';
import { loadProviderCatalog } from '../../src/faults/providers/profile.js';
import { compileSchema, type SchemaCheck } from '../../src/harness/report/schema-check.js';
import { parsePolicy } from '../../src/platform/router/load-policy.js';
import { type CommandRun, runInProcess } from '../support/run-command.js';

/** Runs `scalegate policy check <args>` in process, with every command registered. */
function runPolicyCheck(args: string[]): Promise<CommandRun> {
  return runInProcess(registerCommands, ['policy', 'check', ...args]);
}

/**
 * A policy over the fixture catalog with problems at known lines. Route `chat` fails the
 * schema: a quoted number (line 9) and a misspelt property (line 11). Route `summarize`
 * passes the schema and fails the catalog and router checks: an unknown model (line 22) and
 * a stall timeout at its deadline (line 24).
 */
const INVALID_POLICY = [
  'version: 1',
  'x-shared:',
  '  breaker: &breaker { failureThreshold: 5, minimumRequests: 10, windowMs: 30000, cooldownMs: 15000, halfOpenMaxProbes: 1 }',
  'routes:',
  '  chat:',
  '    qualityFloor: 3',
  '    candidates:',
  '      - { provider: provider-a, model: gpt-4o, weight: 1 }',
  '    firstTokenTimeoutMs: "4000"',
  '    stallTimeoutMs: 5000',
  '    deadlineMS: 30000',
  '    retryBudget: { windowMs: 10000, maxRetriesPerWindow: 10, maxAttemptsPerTask: 3 }',
  '    failoverOn: [status_5xx, connection_error]',
  '    breaker: *breaker',
  '    onExhausted: fail',
  '    deadlineMs: 30000',
  '',
  '  summarize:',
  '    qualityFloor: 2',
  '    candidates:',
  '      - { provider: provider-a, model: gpt-4o-mini, weight: 1 }',
  '      - { provider: provider-b, model: claude-opus, weight: 1 }',
  '    firstTokenTimeoutMs: 3000',
  '    stallTimeoutMs: 60000',
  '    deadlineMs: 60000',
  '    retryBudget: { windowMs: 10000, maxRetriesPerWindow: 10, maxAttemptsPerTask: 3 }',
  '    failoverOn: [status_5xx, connection_error]',
  '    breaker: *breaker',
  '    onExhausted: queue',
  '',
].join('\n');

/** INVALID_POLICY reduced to its route `summarize`, with its problems fixed. */
const ONE_ROUTE_POLICY = [
  'version: 1',
  'routes:',
  '  summarize:',
  '    qualityFloor: 2',
  '    candidates:',
  '      - { provider: provider-a, model: gpt-4o-mini, weight: 1 }',
  '      - { provider: provider-b, model: claude-haiku, weight: 1 }',
  '    firstTokenTimeoutMs: 3000',
  '    stallTimeoutMs: 5000',
  '    deadlineMs: 60000',
  '    retryBudget: { windowMs: 10000, maxRetriesPerWindow: 10, maxAttemptsPerTask: 3 }',
  '    failoverOn: [status_5xx, connection_error]',
  '    breaker: { failureThreshold: 5, minimumRequests: 10, windowMs: 30000, cooldownMs: 15000, halfOpenMaxProbes: 1 }',
  '    onExhausted: queue',
  '',
].join('\n');

/**
 * Location of the key, JSON path and a part of the message of each problem in
 * INVALID_POLICY, in the loader's order: schema problems first, then the other checks.
 */
const INVALID_PROBLEMS = [
  {
    line: 11,
    column: 5,
    path: '/routes/chat/deadlineMS',
    message: /unknown property "deadlineMS"/,
  },
  { line: 9, column: 5, path: '/routes/chat/firstTokenTimeoutMs', message: /write 4000 without/ },
  {
    line: 22,
    column: 33,
    path: '/routes/summarize/candidates/1/model',
    message: /unknown model "claude-opus" for provider-b/,
  },
  { line: 24, column: 5, path: '/routes/summarize/stallTimeoutMs', message: /deadlineMs/ },
] as const;

/** Returns the sha256 hex digest of `text`, computed here rather than by the command. */
function sha256Of(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Returns the hash and route count of the committed default policy: the sha256 of its text,
 * and the routes of the YAML parsed here rather than through the command's loader.
 */
async function expectedSummary(): Promise<{ hash: string; routes: number }> {
  const text = await readFile('policies/default.yaml', 'utf8');
  const policy = parsePolicy(parseYaml(text, { merge: true }), await loadProviderCatalog());
  return { hash: sha256Of(text), routes: Object.keys(policy.routes).length };
}

describe('policy check command', () => {
  let dir: string;
  let validFile: string;
  let invalidFile: string;
  let schemaCheck: SchemaCheck;

  before(async () => {
    schemaCheck = compileSchema(POLICY_CHECK_SCHEMA_URL);
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-policy-check-'));
    validFile = join(dir, 'valid.yaml');
    invalidFile = join(dir, 'invalid.yaml');
    await copyFile('policies/default.yaml', validFile);
    await writeFile(invalidFile, INVALID_POLICY);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('scalegate policy check', () => {
    it('prints a summary for a valid file', async () => {
      const { hash, routes } = await expectedSummary();
      const run = await runPolicyCheck([validFile]);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.equal(run.stdout, `${validFile}: valid, ${routes} routes, hash ${hash}\n`);
      assert.equal(run.stderr, '');
    });

    it('counts the routes of a one-route file', async () => {
      const file = join(dir, 'one-route.yaml');
      await writeFile(file, ONE_ROUTE_POLICY);
      const hash = sha256Of(ONE_ROUTE_POLICY);
      const run = await runPolicyCheck([file]);
      assert.equal(run.exitCode, 0, run.stdout);
      assert.equal(run.stdout, `${file}: valid, 1 route, hash ${hash}\n`);
    });

    it('lists problems at their locations', async () => {
      const run = await runPolicyCheck([invalidFile]);
      assert.equal(run.exitCode, 1);
      const lines = run.stdout.trimEnd().split('\n');
      assert.equal(lines[0], `invalid route policy ${invalidFile} (4 problems):`);
      assert.equal(lines.length, 1 + INVALID_PROBLEMS.length, run.stdout);
      INVALID_PROBLEMS.forEach((problem, index) => {
        const line = lines[index + 1] ?? '';
        const where = `  ${invalidFile}:${problem.line}:${problem.column} ${problem.path}: `;
        assert.ok(line.startsWith(where), `expected ${where}, got ${line}`);
        assert.match(line, problem.message);
      });
      assert.equal(run.stderr, '');
    });

    it('checks mixed files in order', async () => {
      const { hash, routes } = await expectedSummary();
      const run = await runPolicyCheck([validFile, invalidFile, validFile]);
      assert.equal(run.exitCode, 1);
      const lines = run.stdout.trimEnd().split('\n');
      const summary = `${validFile}: valid, ${routes} routes, hash ${hash}`;
      assert.equal(lines[0], summary);
      assert.equal(lines[1], `invalid route policy ${invalidFile} (4 problems):`);
      assert.equal(lines.at(-2), summary);
      assert.equal(lines.at(-1), '1 of 3 policy files are invalid');
      assert.equal(lines.length, 3 + INVALID_PROBLEMS.length + 1, run.stdout);
    });

    it('exits 0 when all files are valid', async () => {
      const copy = join(dir, 'copy.yaml');
      await copyFile(validFile, copy);
      const run = await runPolicyCheck([validFile, copy]);
      assert.equal(run.exitCode, 0, run.stdout);
      assert.equal(run.stdout.trimEnd().split('\n').at(-1), 'all 2 policy files are valid');
    });

    it('rejects a missing file', async () => {
      const missing = join(dir, 'missing.yaml');
      const run = await runPolicyCheck([validFile, missing]);
      assert.equal(run.exitCode, 2);
      assert.equal(
        run.stderr,
        `error: policy file not found: ${missing}; pass the path of an existing policy file\n`,
      );
      assert.equal(run.stdout, '');
    });

    it('resolves a missing relative path', async () => {
      const run = await runPolicyCheck(['no-such-policy.yaml']);
      assert.equal(run.exitCode, 2);
      const resolved = join(process.cwd(), 'no-such-policy.yaml');
      assert.ok(run.stderr.includes(`(looked for ${resolved})`), run.stderr);
    });

    it('rejects a folder', async () => {
      const folder = join(dir, 'policies');
      await mkdir(folder);
      const run = await runPolicyCheck([folder]);
      assert.equal(run.exitCode, 2);
      assert.equal(
        run.stderr,
        `error: ${folder} is a folder; pass the policy files in it, such as ${folder}/*.yaml\n`,
      );
      assert.equal(run.stdout, '');
    });

    it('rejects a path through a file', async () => {
      const below = join(validFile, 'policy.yaml');
      const run = await runPolicyCheck([below]);
      assert.equal(run.exitCode, 2);
      assert.match(run.stderr, /^error: cannot read .*: ENOTDIR: not a directory, /);
      assert.ok(run.stderr.startsWith(`error: cannot read ${below}: `), run.stderr);
      assert.ok(run.stderr.endsWith('; pass a readable policy file\n'), run.stderr);
    });

    it('rejects a file without read permission', async function () {
      if (process.getuid?.() === 0) {
        // root reads a file whatever its mode, so chmod cannot make it unreadable.
        this.skip();
      }
      await chmod(validFile, 0o200);
      const run = await runPolicyCheck([validFile]);
      assert.equal(run.exitCode, 2);
      assert.equal(
        run.stderr,
        `error: cannot read ${validFile} (EACCES): permission denied; ` +
          'make it readable or pass another file\n',
      );
    });

    it('rejects a call without files', async () => {
      const run = await runPolicyCheck([]);
      assert.equal(run.exitCode, 2);
      assert.match(run.stderr, /^error: policy check needs one or more policy files; pass them/);
      assert.equal(run.stdout, '');
    });
  });

  describe('scalegate policy check --json', () => {
    it('prints output that matches its schema', async () => {
      const run = await runPolicyCheck(['--json', validFile, invalidFile]);
      assert.equal(run.exitCode, 1);
      const output: unknown = JSON.parse(run.stdout);
      assert.ok(schemaCheck(output), JSON.stringify(schemaCheck.errors, null, 2));
    });

    it('gives each file its result in order', async () => {
      const { hash, routes } = await expectedSummary();
      const run = await runPolicyCheck(['--json', validFile, invalidFile]);
      const output = JSON.parse(run.stdout) as PolicyCheckOutput;
      assert.equal(output.schemaVersion, 1);
      assert.deepEqual(output.files[0], {
        file: validFile,
        valid: true,
        hash,
        routes,
        problems: [],
      });
      const invalid = output.files[1];
      assert.ok(invalid !== undefined, run.stdout);
      assert.equal(invalid.file, invalidFile);
      assert.equal(invalid.valid, false);
      assert.equal(invalid.hash, null);
      assert.equal(invalid.routes, null);
      assert.equal(output.files.length, 2);
    });

    it('gives each problem its path, line and column', async () => {
      const run = await runPolicyCheck(['--json', invalidFile]);
      assert.equal(run.exitCode, 1);
      const output = JSON.parse(run.stdout) as PolicyCheckOutput;
      const problems = output.files[0]?.problems ?? [];
      assert.deepEqual(
        problems.map(({ path, line, column }) => ({ path, line, column })),
        INVALID_PROBLEMS.map(({ path, line, column }) => ({ path, line, column })),
      );
      problems.forEach((problem, index) => {
        assert.match(problem.message, INVALID_PROBLEMS[index]?.message ?? /^$/);
      });
    });

    it('prints no JSON when a file cannot be read', async () => {
      const run = await runPolicyCheck(['--json', validFile, join(dir, 'missing.yaml')]);
      assert.equal(run.exitCode, 2);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /^error: policy file not found: /);
    });
  });

  describe('policy check schema', () => {
    const valid = { file: 'a.yaml', valid: true, hash: 'a'.repeat(64), routes: 1, problems: [] };
    const problem = { path: '/routes', line: 3, column: 1, message: 'missing property "chat"' };
    const invalid = { file: 'b.yaml', valid: false, hash: null, routes: null, problems: [problem] };

    it('accepts a valid and an invalid file', () => {
      assert.ok(schemaCheck({ schemaVersion: 1, files: [valid, invalid] }));
    });

    it('rejects a valid file without a hash', () => {
      assert.equal(schemaCheck({ schemaVersion: 1, files: [{ ...valid, hash: null }] }), false);
    });

    it('rejects an invalid file without problems', () => {
      assert.equal(schemaCheck({ schemaVersion: 1, files: [{ ...invalid, problems: [] }] }), false);
    });

    it('rejects a problem without a line', () => {
      const { line: _line, ...withoutLine } = problem;
      const file = { ...invalid, problems: [withoutLine] };
      assert.equal(schemaCheck({ schemaVersion: 1, files: [file] }), false);
    });
  });

  describe('bin/scalegate.js policy check', () => {
    it('checks the default policy', async () => {
      const { hash } = await expectedSummary();
      const run = await new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(
          process.execPath,
          ['bin/scalegate.js', 'policy', 'check', 'policies/default.yaml'],
          { timeout: 30_000 },
          (error, stdout) => {
            resolve({ code: error === null ? 0 : Number(error.code), stdout });
          },
        );
      });
      assert.equal(run.code, 0);
      assert.equal(run.stdout, `policies/default.yaml: valid, 4 routes, hash ${hash}\n`);
    });
  });
});
