import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';

interface MakeRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `make <args>` in the repository root, where mocha runs. */
function runMake(args: readonly string[]): Promise<MakeRun> {
  return new Promise((resolve) => {
    execFile(
      'make',
      ['--no-print-directory', ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : error.code;
        resolve({ exitCode: typeof code === 'number' ? code : -1, stdout, stderr });
      },
    );
  });
}

/** A SCALEGATE that prints the arguments it receives as JSON, so no drill runs. */
const PRINT_ARGS = `SCALEGATE=node -e 'console.log(JSON.stringify(process.argv.slice(1)))'`;

describe('make policy-gate', () => {
  it('passes a POLICY with spaces and quotes as one argument', async () => {
    const policy = "/tmp/trial policies/it's new.yaml";
    const run = await runMake(['policy-gate', `POLICY=${policy}`, 'GATE_DIR=gate dir', PRINT_ARGS]);
    assert.equal(run.exitCode, 0, run.stderr);
    const printed = run.stdout.trimEnd().split('\n').at(-1) ?? '';
    assert.deepEqual(JSON.parse(printed), ['gate', '--policy', policy, '--gate-dir', 'gate dir']);
  });

  it('passes BASE_POLICY as --base-policy', async () => {
    const base = "/tmp/base policies/it's old.yaml";
    const run = await runMake(['policy-gate', `BASE_POLICY=${base}`, PRINT_ARGS]);
    assert.equal(run.exitCode, 0, run.stderr);
    const printed = run.stdout.trimEnd().split('\n').at(-1) ?? '';
    assert.deepEqual(JSON.parse(printed).slice(-2), ['--base-policy', base]);
  });

  it('passes no --base-policy without BASE_POLICY', async () => {
    const run = await runMake(['policy-gate', PRINT_ARGS]);
    assert.equal(run.exitCode, 0, run.stderr);
    const printed = run.stdout.trimEnd().split('\n').at(-1) ?? '';
    assert.ok(!JSON.parse(printed).includes('--base-policy'), printed);
  });

  it('passes TIME_SCALE as --time-scale', async () => {
    const run = await runMake(['policy-gate', 'TIME_SCALE=0.5', PRINT_ARGS]);
    assert.equal(run.exitCode, 0, run.stderr);
    const printed = run.stdout.trimEnd().split('\n').at(-1) ?? '';
    assert.deepEqual(JSON.parse(printed).slice(-2), ['--time-scale', '0.5']);
  });

  it('passes no --time-scale without TIME_SCALE', async () => {
    const run = await runMake(['policy-gate', PRINT_ARGS]);
    assert.equal(run.exitCode, 0, run.stderr);
    const printed = run.stdout.trimEnd().split('\n').at(-1) ?? '';
    assert.ok(!JSON.parse(printed).includes('--time-scale'), printed);
  });

  it('exits 2 and names the drill exit code', async () => {
    // GNU make exits 2 when a recipe fails, whatever its code, and prints that code as `Error N`.
    const run = await runMake(['policy-gate', `SCALEGATE=node -e 'process.exit(3)'`]);
    assert.equal(run.exitCode, 2);
    assert.match(run.stderr, /\] Error 3\n$/);
  });

  it('rejects an empty POLICY naming it', async () => {
    const run = await runMake(['policy-gate', 'POLICY=', PRINT_ARGS]);
    assert.equal(run.exitCode, 2);
    assert.equal(run.stdout, '');
    assert.match(
      run.stderr,
      /^Makefile:\d+: \*\*\* POLICY is empty; pass POLICY=path\/to\/policy\.yaml, or leave POLICY out to drill policies\/default\.yaml\. {2}Stop\.\n$/,
    );
  });

  it('rejects an empty GATE_DIR naming it', async () => {
    const run = await runMake(['policy-gate', 'GATE_DIR=', PRINT_ARGS]);
    assert.equal(run.exitCode, 2);
    assert.equal(run.stdout, '');
    assert.match(
      run.stderr,
      /^Makefile:\d+: \*\*\* GATE_DIR is empty; pass GATE_DIR=path\/to\/folder, or leave GATE_DIR out to write to gate\/\. {2}Stop\.\n$/,
    );
  });
});

describe('make policy-check', () => {
  it('passes a POLICY with spaces and quotes as one argument', async () => {
    const policy = "/tmp/trial policies/it's new.yaml";
    const run = await runMake(['policy-check', `POLICY=${policy}`, PRINT_ARGS]);
    assert.equal(run.exitCode, 0, run.stderr);
    const printed = run.stdout.trimEnd().split('\n').at(-1) ?? '';
    assert.deepEqual(JSON.parse(printed), ['policy', 'check', policy]);
  });

  it('checks policies/default.yaml when POLICY is left out', async () => {
    const run = await runMake(['policy-check', PRINT_ARGS]);
    assert.equal(run.exitCode, 0, run.stderr);
    const printed = run.stdout.trimEnd().split('\n').at(-1) ?? '';
    assert.deepEqual(JSON.parse(printed), ['policy', 'check', 'policies/default.yaml']);
  });

  it('rejects an empty POLICY naming it', async () => {
    const run = await runMake(['policy-check', 'POLICY=', PRINT_ARGS]);
    assert.equal(run.exitCode, 2);
    assert.equal(run.stdout, '');
    assert.match(
      run.stderr,
      /^Makefile:\d+: \*\*\* POLICY is empty; pass POLICY=path\/to\/policy\.yaml, or leave POLICY out to check policies\/default\.yaml\. {2}Stop\.\n$/,
    );
  });
});

describe('make tenants-check', () => {
  it('passes a TENANTS with spaces and quotes as one argument', async () => {
    const tenants = "/tmp/trial tenants/it's new.yaml";
    const run = await runMake(['tenants-check', `TENANTS=${tenants}`, PRINT_ARGS]);
    assert.equal(run.exitCode, 0, run.stderr);
    const printed = run.stdout.trimEnd().split('\n').at(-1) ?? '';
    assert.deepEqual(JSON.parse(printed), ['tenants', 'check', tenants]);
  });

  it('checks fixtures/tenants.yaml when TENANTS is left out', async () => {
    const run = await runMake(['tenants-check', PRINT_ARGS]);
    assert.equal(run.exitCode, 0, run.stderr);
    const printed = run.stdout.trimEnd().split('\n').at(-1) ?? '';
    assert.deepEqual(JSON.parse(printed), ['tenants', 'check', 'fixtures/tenants.yaml']);
  });

  it('rejects an empty TENANTS naming it', async () => {
    const run = await runMake(['tenants-check', 'TENANTS=', PRINT_ARGS]);
    assert.equal(run.exitCode, 2);
    assert.equal(run.stdout, '');
    assert.match(
      run.stderr,
      /^Makefile:\d+: \*\*\* TENANTS is empty; pass TENANTS=path\/to\/tenants\.yaml, or leave TENANTS out to check fixtures\/tenants\.yaml\. {2}Stop\.\n$/,
    );
  });
});

describe('make chaos-drill', () => {
  it('runs the provider-outage drill by default', async () => {
    const run = await runMake(['chaos-drill', PRINT_ARGS]);
    assert.equal(run.exitCode, 0, run.stderr);
    const printed = run.stdout.trimEnd().split('\n').at(-1) ?? '';
    assert.deepEqual(JSON.parse(printed), ['drill', '--drill', 'provider-outage']);
  });

  it('passes TIME_SCALE as --time-scale', async () => {
    const run = await runMake(['chaos-drill', 'TIME_SCALE=0.5', PRINT_ARGS]);
    assert.equal(run.exitCode, 0, run.stderr);
    const printed = run.stdout.trimEnd().split('\n').at(-1) ?? '';
    assert.deepEqual(JSON.parse(printed), [
      'drill',
      '--drill',
      'provider-outage',
      '--time-scale',
      '0.5',
    ]);
  });

  it('runs the drill DRILL names', async () => {
    const run = await runMake(['chaos-drill', 'DRILL=worker-loss', PRINT_ARGS]);
    assert.equal(run.exitCode, 0, run.stderr);
    const printed = run.stdout.trimEnd().split('\n').at(-1) ?? '';
    assert.deepEqual(JSON.parse(printed), ['drill', '--drill', 'worker-loss']);
  });

  it('rejects an empty DRILL naming it', async () => {
    const run = await runMake(['chaos-drill', 'DRILL=', PRINT_ARGS]);
    assert.equal(run.exitCode, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /\*\*\* DRILL is empty; pass DRILL=worker-loss/);
  });
});
