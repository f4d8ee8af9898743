import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { registerCommands } from '../../src/cli/commands/index.js';
import { TENANTS_CHECK_SCHEMA_URL } from '../../src/cli/commands/tenants.js';
import { compileSchema, type SchemaCheck } from '../../src/harness/report/schema-check.js';
import { hashApiKey } from '../../src/platform/tenants/api-key.js';
import { type CommandRun, runInProcess } from '../support/run-command.js';

/** Runs `scalegate tenants check <args>` in process, with every command registered. */
function runTenantsCheck(args: string[]): Promise<CommandRun> {
  return runInProcess(registerCommands, ['tenants', 'check', ...args]);
}

/** Runs `node bin/scalegate.js tenants check <file>` and returns its exit code and output. */
function runBin(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/scalegate.js', 'tenants', 'check', file],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
      },
    );
  });
}

const HASH_A = hashApiKey('key-a');
const HASH_B = hashApiKey('key-b');

/** Lines of one tenant entry with valid fields; `overrides` replaces or adds fields. */
function entry(id: string | undefined, hash: string, overrides: Record<string, string> = {}) {
  const fields: Record<string, string> = {
    ...(id === undefined ? {} : { id }),
    keySha256: hash,
    tier: 'standard',
    requestsPerMinute: '60',
    tokensPerMinute: '1000',
    maxInFlight: '2',
    budgetUsd: '5',
    ...overrides,
  };
  return Object.entries(fields).map(([field, value], index) =>
    index === 0 ? `  - ${field}: ${value}` : `    ${field}: ${value}`,
  );
}

function tenantsText(...entries: string[][]): string {
  return `${['tenants:', ...entries.flat()].join('\n')}\n`;
}

describe('tenants check command', () => {
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-tenants-check-'));
    file = join(dir, 'tenants.yaml');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('scalegate tenants check', () => {
    it('prints a summary for a valid file', async () => {
      await writeFile(file, tenantsText(entry('tenant-a', HASH_A), entry('tenant-b', HASH_B)));
      const run = await runTenantsCheck([file]);
      assert.equal(run.stdout, `${file}: valid, 2 tenants\n`);
      assert.equal(run.stderr, '');
      assert.equal(run.exitCode, 0);
    });

    it('checks the committed fixture', async () => {
      const run = await runTenantsCheck(['fixtures/tenants.yaml']);
      assert.equal(run.stdout, 'fixtures/tenants.yaml: valid, 4 tenants\n');
      assert.equal(run.exitCode, 0);
    });

    it('prints warnings for a valid file', async () => {
      // Lines 2-8 are tenant-a, lines 9-16 tenant-b.
      const text = tenantsText(
        entry('tenant-a', HASH_A, { budgetUsd: '0' }),
        entry('tenant-b', HASH_B, { maxRunning: '3' }),
      );
      await writeFile(file, text);
      const run = await runTenantsCheck([file]);
      assert.equal(
        run.stdout,
        [
          `${file}: valid, 2 tenants, 2 warnings:`,
          `  ${file}:8:5 tenants[0].budgetUsd (id tenant-a): budgetUsd is 0, so admission rejects each of the tenant's tasks with 429 budget_exhausted unless every model of the task's route costs nothing, as instant does; keep 0 only to stop the tenant's paid tasks, otherwise set budgetUsd to the US dollars the tenant may spend in total (budgetPeriod total, which never resets)`,
          `  ${file}:16:5 tenants[1].maxRunning (id tenant-b): maxRunning 3 is above maxInFlight 2, so the cap never holds back a task, because admission lets at most 2 of the tenant's tasks be in flight, running ones included; set maxRunning below 2, or remove it`,
          '',
        ].join('\n'),
      );
      assert.equal(run.stderr, '');
      assert.equal(run.exitCode, 0);
    });

    it('reports two problems at their lines', async () => {
      // Lines 2-8 are tenant-a, lines 9-15 tenant-b.
      const text = tenantsText(
        entry('tenant-a', HASH_A, { maxInFlight: '0' }),
        entry('tenant-b', HASH_B, { tier: 'gold' }),
      );
      await writeFile(file, text);
      const run = await runTenantsCheck([file]);
      assert.equal(
        run.stdout,
        [
          `invalid tenants file ${file} (2 problems):`,
          `  ${file}:7:5 tenants[0].maxInFlight (id tenant-a): expected a positive integer, received 0`,
          `  ${file}:11:5 tenants[1].tier (id tenant-b): expected one of critical, standard, batch, received "gold"`,
          '',
        ].join('\n'),
      );
      assert.equal(run.stderr, '');
      assert.equal(run.exitCode, 1);
    });

    it('names the tenant id of a problem', async () => {
      const text = tenantsText(
        entry('tenant-a', HASH_A, { budgetUsd: '"25"' }),
        entry(undefined, HASH_B, { budgetUsd: '-1' }),
      );
      await writeFile(file, text);
      const run = await runTenantsCheck([file]);
      assert.equal(
        run.stdout,
        [
          `invalid tenants file ${file} (3 problems):`,
          `  ${file}:8:5 tenants[0].budgetUsd (id tenant-a): expected a number >= 0, received "25"; write 25 without quotes`,
          // The second entry has no id, so its problems name the entry by position alone.
          `  ${file}:9:5 tenants[1].id: missing; set it to a non-empty string`,
          `  ${file}:14:5 tenants[1].budgetUsd: expected a number >= 0, received -1`,
          '',
        ].join('\n'),
      );
      assert.equal(run.exitCode, 1);
    });

    it('reports duplicate ids and key hashes', async () => {
      const text = tenantsText(
        entry('tenant-a', HASH_A),
        entry('tenant-a', HASH_B),
        entry('tenant-c', HASH_A),
      );
      await writeFile(file, text);
      const run = await runTenantsCheck([file]);
      assert.equal(
        run.stdout,
        [
          `invalid tenants file ${file} (2 problems):`,
          `  ${file}:9:5 tenants[1].id (id tenant-a): duplicate id tenant-a, also the id of tenants[0] on line 2; give each tenant its own id`,
          `  ${file}:17:5 tenants[2].keySha256 (id tenant-c): duplicate key hash, also the keySha256 of tenants[0] (tenant-a) on line 2; give each tenant its own API key and put its sha256 here`,
          '',
        ].join('\n'),
      );
      assert.ok(!run.stdout.includes(HASH_A), 'the duplicate hash is printed');
      assert.equal(run.exitCode, 1);
    });

    it('withholds plaintext keys', async () => {
      const text = tenantsText(
        entry('tenant-a', 'sk-live-first-secret'),
        entry('tenant-b', HASH_B, { apiKey: 'sk-live-second-secret' }),
      );
      await writeFile(file, text);
      const run = await runTenantsCheck([file]);
      assert.equal(
        run.stdout,
        [
          `invalid tenants file ${file} (2 problems):`,
          `  ${file}:3:5 tenants[0].keySha256 (id tenant-a): expected 64 lowercase hex digits (a sha256, never a plaintext key), received a string of 20 characters; put the hex sha256 of the tenant's API key here, as \`printf %s KEY | sha256sum\` prints it`,
          `  ${file}:16:5 tenants[1].apiKey (id tenant-b): unknown field, and the tenants file must never contain a plaintext key; remove it and put the key's hex sha256 in keySha256`,
          '',
        ].join('\n'),
      );
      assert.equal(run.exitCode, 1);
    });

    it('names a missing key hash', async () => {
      const lines = entry('tenant-a', HASH_A).filter((line) => !line.includes('keySha256'));
      await writeFile(file, tenantsText(lines));
      const run = await runTenantsCheck([file]);
      assert.equal(
        run.stdout,
        [
          `invalid tenants file ${file} (1 problem):`,
          `  ${file}:2:5 tenants[0].keySha256 (id tenant-a): missing; set it to 64 lowercase hex digits (a sha256, never a plaintext key)`,
          '',
        ].join('\n'),
      );
      assert.equal(run.exitCode, 1);
    });

    it('exits 2 without a file', async () => {
      const run = await runTenantsCheck([]);
      assert.equal(
        run.stderr,
        'error: tenants check needs a tenants file; pass it as an argument, such as ' +
          'scalegate tenants check fixtures/tenants.yaml\n',
      );
      assert.equal(run.stdout, '');
      assert.equal(run.exitCode, 2);
    });

    for (const [name, text] of [
      ['an empty file', ''],
      ['a file of comments', '# tenants go here\n\n'],
    ] as const) {
      it(`reports ${name}`, async () => {
        await writeFile(file, text);
        const run = await runTenantsCheck([file]);
        assert.equal(
          run.stdout,
          `invalid tenants file ${file} (1 problem):\n` +
            `  ${file}:1:1: the file contains no tenants; write a \`tenants:\` list, as ` +
            'fixtures/tenants.yaml does\n',
        );
        assert.equal(run.exitCode, 1);
      });
    }

    it('reports a file that is not YAML', async () => {
      await writeFile(file, 'tenants:\n  - id: tenant-a\n    keySha256: [sk-live-secret\n');
      const run = await runTenantsCheck([file]);
      assert.equal(
        run.stdout,
        [
          `invalid tenants file ${file} (1 problem):`,
          `  ${file}:4:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`,
          '',
        ].join('\n'),
      );
      assert.equal(run.exitCode, 1);
    });

    it('exits 2 for a missing file', async () => {
      const missing = join(dir, 'absent.yaml');
      const run = await runTenantsCheck([missing]);
      assert.equal(
        run.stderr,
        `error: tenants file not found: ${missing}; pass the path of an existing tenants file\n`,
      );
      assert.equal(run.stdout, '');
      assert.equal(run.exitCode, 2);
    });

    it('resolves a missing relative path', async () => {
      const run = await runTenantsCheck(['no-such-tenants.yaml']);
      const resolved = join(process.cwd(), 'no-such-tenants.yaml');
      assert.equal(
        run.stderr,
        `error: tenants file not found: no-such-tenants.yaml (looked for ${resolved}); ` +
          'pass the path of an existing tenants file\n',
      );
      assert.equal(run.exitCode, 2);
    });

    it('exits 2 for a folder', async () => {
      const folder = join(dir, 'fixtures');
      await mkdir(folder);
      const run = await runTenantsCheck([folder]);
      assert.equal(
        run.stderr,
        `error: ${folder} is a folder; pass the tenants file in it, such as ${folder}/tenants.yaml\n`,
      );
      assert.equal(run.exitCode, 2);
    });
  });

  describe('scalegate tenants check --json', () => {
    let schemaCheck: SchemaCheck;

    before(() => {
      schemaCheck = compileSchema(TENANTS_CHECK_SCHEMA_URL);
    });

    function parsedOutput(run: CommandRun): unknown {
      const output: unknown = JSON.parse(run.stdout);
      assert.ok(schemaCheck(output), JSON.stringify(schemaCheck.errors, null, 2));
      return output;
    }

    it('prints a valid file', async () => {
      await writeFile(file, tenantsText(entry('tenant-a', HASH_A), entry('tenant-b', HASH_B)));
      const run = await runTenantsCheck(['--json', file]);
      assert.deepEqual(parsedOutput(run), {
        schemaVersion: 1,
        file,
        valid: true,
        tenants: 2,
        problems: [],
        warnings: [],
      });
      assert.equal(run.exitCode, 0);
    });

    it('prints each warning with its place', async () => {
      const text = tenantsText(
        entry('tenant-a', HASH_A),
        entry('tenant-b', HASH_B, { maxInFlight: '1', maxRunning: '2' }),
      );
      await writeFile(file, text);
      const run = await runTenantsCheck(['--json', file]);
      assert.deepEqual(parsedOutput(run), {
        schemaVersion: 1,
        file,
        valid: true,
        tenants: 2,
        problems: [],
        warnings: [
          {
            field: 'tenants[1].maxRunning',
            tenantId: 'tenant-b',
            line: 16,
            column: 5,
            message:
              "maxRunning 2 is above maxInFlight 1, so the cap never holds back a task, because admission lets at most 1 of the tenant's tasks be in flight, running ones included; remove maxRunning, as no cap below maxInFlight 1 exists",
          },
        ],
      });
      assert.equal(run.exitCode, 0);
    });

    it('prints each problem with its place', async () => {
      const text = tenantsText(
        entry('tenant-a', HASH_A, { maxInFlight: '0' }),
        entry(undefined, HASH_B, { budgetUsd: '-1' }),
      );
      await writeFile(file, text);
      const run = await runTenantsCheck(['--json', file]);
      assert.deepEqual(parsedOutput(run), {
        schemaVersion: 1,
        file,
        valid: false,
        tenants: null,
        problems: [
          {
            field: 'tenants[0].maxInFlight',
            tenantId: 'tenant-a',
            line: 7,
            column: 5,
            message: 'expected a positive integer, received 0',
          },
          {
            field: 'tenants[1].id',
            tenantId: null,
            line: 9,
            column: 5,
            message: 'missing; set it to a non-empty string',
          },
          {
            field: 'tenants[1].budgetUsd',
            tenantId: null,
            line: 14,
            column: 5,
            message: 'expected a number >= 0, received -1',
          },
        ],
        warnings: [],
      });
      assert.equal(run.stderr, '');
      assert.equal(run.exitCode, 1);
    });

    it('prints a YAML error against the file', async () => {
      await writeFile(file, 'tenants:\n  - id: tenant-a\n    keySha256: [sk-live-secret\n');
      const run = await runTenantsCheck(['--json', file]);
      const output = parsedOutput(run) as { problems: Record<string, unknown>[] };
      assert.equal(output.problems.length, 1);
      assert.equal(output.problems[0]?.field, '(file)');
      assert.equal(output.problems[0]?.tenantId, null);
      assert.equal(output.problems[0]?.line, 4);
      assert.equal(output.problems[0]?.column, 1);
      assert.ok(!run.stdout.includes('sk-live-secret'), 'the key is printed');
      assert.equal(run.exitCode, 1);
    });

    it('keeps the text error for a missing file', async () => {
      const missing = join(dir, 'absent.yaml');
      const run = await runTenantsCheck(['--json', missing]);
      assert.equal(
        run.stderr,
        `error: tenants file not found: ${missing}; pass the path of an existing tenants file\n`,
      );
      assert.equal(run.stdout, '');
      assert.equal(run.exitCode, 2);
    });

    it('schema rejects a valid file with problems', () => {
      const problem = { field: 'x', tenantId: null, line: null, column: null, message: 'm' };
      const output = {
        schemaVersion: 1,
        file,
        valid: true,
        tenants: 1,
        problems: [problem],
        warnings: [],
      };
      assert.equal(schemaCheck(output), false);
    });

    it('schema rejects an invalid file without problems', () => {
      const output = {
        schemaVersion: 1,
        file,
        valid: false,
        tenants: null,
        problems: [],
        warnings: [],
      };
      assert.equal(schemaCheck(output), false);
    });

    it('schema rejects an invalid file with warnings', () => {
      const problem = { field: 'x', tenantId: null, line: null, column: null, message: 'm' };
      const output = {
        schemaVersion: 1,
        file,
        valid: false,
        tenants: null,
        problems: [problem],
        warnings: [problem],
      };
      assert.equal(schemaCheck(output), false);
    });
  });

  describe('bin/scalegate.js tenants check', () => {
    it('exits 0 for a valid file', async () => {
      await writeFile(file, tenantsText(entry('tenant-a', HASH_A)));
      const run = await runBin(file);
      assert.equal(run.stdout, `${file}: valid, 1 tenant\n`);
      assert.equal(run.code, 0);
    });

    it('exits 1 for an invalid file', async () => {
      await writeFile(file, tenantsText(entry('tenant-a', HASH_A, { maxInFlight: '0' })));
      const run = await runBin(file);
      assert.equal(
        run.stdout,
        `invalid tenants file ${file} (1 problem):\n` +
          `  ${file}:7:5 tenants[0].maxInFlight (id tenant-a): expected a positive integer, received 0\n`,
      );
      assert.equal(run.code, 1);
    });

    it('exits 2 for a missing file', async () => {
      const missing = join(dir, 'absent.yaml');
      const run = await runBin(missing);
      assert.equal(
        run.stderr,
        `error: tenants file not found: ${missing}; pass the path of an existing tenants file\n`,
      );
      assert.equal(run.code, 2);
    });
  });
});
