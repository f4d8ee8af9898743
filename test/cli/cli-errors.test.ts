import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { loadProviderCatalog } from '../../src/faults/providers/profile.js';

/** Maximum time of one CLI run; a run still going then is killed and its test fails. */
const RUN_TIMEOUT_MS = 45_000;

interface CliRun {
  exitCode: number | null;
  stderr: string;
}

/** CLI processes run at once; more would only compete for the CPU while tsx compiles. */
const MAX_PARALLEL_RUNS = 3;

let activeRuns = 0;
const waitingRuns: Array<() => void> = [];

/** Runs `node bin/scalegate.js <args>`, at most MAX_PARALLEL_RUNS at a time. */
async function runCliQueued(args: readonly string[]): Promise<CliRun> {
  if (activeRuns >= MAX_PARALLEL_RUNS) {
    await new Promise<void>((resolve) => waitingRuns.push(resolve));
  }
  activeRuns += 1;
  try {
    return await runCli(args);
  } finally {
    activeRuns -= 1;
    waitingRuns.shift()?.();
  }
}

/** Runs `node bin/scalegate.js <args>` without Redis, killing it after RUN_TIMEOUT_MS. */
function runCli(args: readonly string[]): Promise<CliRun> {
  const env = { ...process.env };
  delete env.REDIS_URL;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/scalegate.js', ...args],
      { env, timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL' },
      (error, _stdout, stderr) => {
        if (error === null) {
          resolve({ exitCode: 0, stderr });
          return;
        }
        resolve({ exitCode: typeof error.code === 'number' ? error.code : null, stderr });
      },
    );
  });
}

function listenOnFreePort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function portOf(server: Server): number {
  const address = server.address();
  assert.ok(address !== null);
  assert.ok(typeof address === 'object');
  return address.port;
}

const PORT_RANGE = 'expected an integer from 0 to 65535 (0 picks a free port).';
const LOOPBACK = 'expected a loopback host (127.0.0.0/8, ::1 or localhost); use --host 127.0.0.1.';
const DURATION_RANGE = 'expected a number of seconds from 1 to 86400 (24 hours).';
const FILE_NOT_FOUND = 'file not found; pass the path of an existing file.';
const DURATION_FROM_1000_MS = 'expected an integer number of ms from 1000 to 2147483647.';

describe('scalegate CLI errors', function () {
  // An `it` may wait for queued runs before its own starts.
  this.timeout(120_000);
  let busy: Server;
  let busyPort: number;
  // Every run is queued in `before`, so slow process starts overlap; each `it` awaits one.
  const runs = new Map<string, Promise<CliRun>>();

  function run(args: readonly string[]): Promise<CliRun> {
    const key = args.join(' ');
    const started = runs.get(key) ?? runCliQueued(args);
    runs.set(key, started);
    return started;
  }

  function busyArgs(command: string): string[] {
    return command === 'providers'
      ? ['providers', '--profile', 'instant', '--port', String(busyPort)]
      : [command, '--port', String(busyPort)];
  }

  const usageCases: ReadonlyArray<readonly [string[], string]> = [
    [['proxy', '--port', 'abc'], `option '--port <port>' argument 'abc' is invalid. ${PORT_RANGE}`],
    [['proxy', '--port', '-1'], `option '--port <port>' argument '-1' is invalid. ${PORT_RANGE}`],
    [
      ['proxy', '--port', '70000'],
      `option '--port <port>' argument '70000' is invalid. ${PORT_RANGE}`,
    ],
    [
      ['proxy', '--config', '/nonexistent'],
      `option '--config <file>' argument '/nonexistent' is invalid. ${FILE_NOT_FOUND}`,
    ],
    [
      ['proxy', '--host', '192.168.1.1'],
      `option '--host <host>' argument '192.168.1.1' is invalid. ${LOOPBACK}`,
    ],
    [
      ['proxy', '--host', '0.0.0.0'],
      `option '--host <host>' argument '0.0.0.0' is invalid. ${LOOPBACK}`,
    ],
    [
      ['providers', '--host', '0.0.0.0'],
      `option '--host <host>' argument '0.0.0.0' is invalid. ${LOOPBACK}`,
    ],
    [
      ['providers', '--profile', 'nope'],
      `option '--profile <names>' argument 'nope' is invalid. unknown profile "nope"; ` +
        'valid profiles: instant, provider-a, provider-b, provider-c ' +
        '(or pass a path to a profile YAML file).',
    ],
    [
      ['providers', '--profile', 'instant,instant'],
      `option '--profile <names>' argument 'instant,instant' is invalid. profile "instant" is listed twice; list each once.`,
    ],
    [
      ['providers', '--seed', '4294967297'],
      `option '--seed <integer>' argument '4294967297' is invalid. expected an integer from 0 to 4294967295.`,
    ],
    [
      ['platform', '--port', 'abc'],
      `option '--port <port>' argument 'abc' is invalid. ${PORT_RANGE}`,
    ],
    [
      ['platform', '--topology', 'foo'],
      `option '--topology <spec>' argument 'foo' is invalid. invalid topology part "foo": ` +
        'expected workers=<integer >= 1> or serverless_burst=enabled|disabled, with a space between parts.',
    ],
    [
      ['platform', '--key-prefix', 'two words'],
      `option '--key-prefix <prefix>' argument 'two words' is invalid. use 1 to 64 letters, ` +
        'digits and : _ . - starting with a letter or digit, such as scalegate-staging.',
    ],
    [
      ['platform', '--task-retention-ms', '-5'],
      `option '--task-retention-ms <ms>' argument '-5' is invalid. ${DURATION_FROM_1000_MS}`,
    ],
    [
      ['platform', '--task-retention-ms', 'abc'],
      `option '--task-retention-ms <ms>' argument 'abc' is invalid. ${DURATION_FROM_1000_MS}`,
    ],
    [
      ['platform', '--task-retention-ms', '1.5'],
      `option '--task-retention-ms <ms>' argument '1.5' is invalid. ${DURATION_FROM_1000_MS}`,
    ],
    [
      ['platform', '--task-retention-ms', '500'],
      `option '--task-retention-ms <ms>' argument '500' is invalid. ${DURATION_FROM_1000_MS}`,
    ],
    [
      ['platform', '--task-retention-ms', '2147483648'],
      `option '--task-retention-ms <ms>' argument '2147483648' is invalid. ${DURATION_FROM_1000_MS}`,
    ],
    [
      ['platform', '--sync-task-lease-ms', '-5'],
      `option '--sync-task-lease-ms <ms>' argument '-5' is invalid. ${DURATION_FROM_1000_MS}`,
    ],
    [
      ['platform', '--stall-interval-ms', '999'],
      `option '--stall-interval-ms <ms>' argument '999' is invalid. ${DURATION_FROM_1000_MS}`,
    ],
    [
      ['platform', '--shutdown-timeout-ms', '0'],
      `option '--shutdown-timeout-ms <ms>' argument '0' is invalid. ` +
        'expected an integer number of ms from 1 to 2147483647.',
    ],
    [
      ['platform', '--tenants', '/nonexistent.yaml'],
      `option '--tenants <file>' argument '/nonexistent.yaml' is invalid. ${FILE_NOT_FOUND}`,
    ],
    [
      ['platform', '--policy', '/nonexistent.yaml'],
      `option '--policy <file>' argument '/nonexistent.yaml' is invalid. ${FILE_NOT_FOUND}`,
    ],
    [
      ['platform', '--tenants', 'nonexistent/tenants.yaml'],
      `option '--tenants <file>' argument 'nonexistent/tenants.yaml' is invalid. file not found ` +
        `at ${resolvePath('nonexistent/tenants.yaml')}; pass the path of an existing file.`,
    ],
    [
      ['load', '--scenario', 'steady-chat', '--platform', '--target', 'http://127.0.0.1:9'],
      '--platform starts its own gateway; drop --target or --platform',
    ],
    [
      ['load', '--scenario', 'steady-chat', '--topology', 'workers=2'],
      '--topology applies to the platform that --platform starts; add --platform or drop it',
    ],
    [
      ['load', '--scenario', 'steady-chat', '--policy', 'policies/default.yaml'],
      '--policy applies to the platform that --platform starts; add --platform or drop it',
    ],
    [
      ['load', '--scenario', 'steady-chat', '--platform', '--topology', 'workers=0'],
      `option '--topology <spec>' argument 'workers=0' is invalid. invalid topology part "workers=0": ` +
        'expected workers=<integer >= 1> or serverless_burst=enabled|disabled, with a space between parts.',
    ],
    [
      ['load', '--scenario', 'steady-chat', '--seed', 'abc'],
      `option '--seed <n>' argument 'abc' is invalid. expected an integer from 0 to 4294967295.`,
    ],
    [
      ['load', '--scenario', 'steady-chat', '--seed', '4294967297'],
      `option '--seed <n>' argument '4294967297' is invalid. expected an integer from 0 to 4294967295.`,
    ],
    [
      ['load', '--scenario', 'steady-chat', '--seed', '-1'],
      `option '--seed <n>' argument '-1' is invalid. expected an integer from 0 to 4294967295.`,
    ],
    [
      ['load', '--scenario', 'steady-chat', '--max-in-flight', '0'],
      `option '--max-in-flight <n>' argument '0' is invalid. expected an integer of 1 or more.`,
    ],
    [
      ['load', '--scenario', 'steady-chat', '--out', '/nonexistent/dir/x.json'],
      `option '--out <file>' argument '/nonexistent/dir/x.json' is invalid. folder /nonexistent/dir not found; create it first.`,
    ],
    [
      [
        'load',
        '--scenario',
        'steady-chat',
        '--out',
        'package.json/x.json',
        '--target',
        'http://127.0.0.1:1',
      ],
      `option '--out <file>' argument 'package.json/x.json' is invalid. package.json is a file, not a folder; pass a path inside a folder.`,
    ],
    [
      ['load', '--scenario', 'steady-chat', '--out', '', '--target', 'http://127.0.0.1:1'],
      `option '--out <file>' argument '' is invalid. expected the path of a file, such as runs/load.json.`,
    ],
    [
      ['load', '--scenario', 'steady-chat', '--duration', '1e9', '--target', 'http://127.0.0.1:1'],
      `option '--duration <seconds>' argument '1e9' is invalid. ${DURATION_RANGE}`,
    ],
    [
      [
        'load',
        '--scenario',
        'steady-chat',
        '--duration',
        '86401',
        '--target',
        'http://127.0.0.1:1',
      ],
      `option '--duration <seconds>' argument '86401' is invalid. ${DURATION_RANGE}`,
    ],
    [
      [
        'load',
        '--scenario',
        'steady-chat',
        '--duration',
        '0.001',
        '--target',
        'http://127.0.0.1:1',
      ],
      `option '--duration <seconds>' argument '0.001' is invalid. ${DURATION_RANGE}`,
    ],
    [
      ['load', '--scenario', 'steady-chat', '--target', 'http://10.0.0.1:8080'],
      '--target: expected a URL on a loopback host (127.0.0.0/8, ::1 or localhost), got "http://10.0.0.1:8080"; ' +
        'load sends only to this machine, so pass a gateway on loopback, such as http://127.0.0.1:8080',
    ],
    [
      ['load', '--scenario', 'steady-chat', '--target', 'http://user:secret@127.0.0.1:8080'],
      '--target: expected a URL without a user name or password, got "http://***:***@127.0.0.1:8080/"; ' +
        'the gateway authenticates with tenant API keys, so pass http://127.0.0.1:8080',
    ],
    [
      ['load', '--scenario', 'steady-chat', '--target', 'http://127.0.0.1:8080/api'],
      '--target: expected a URL with no path, query or fragment, got "http://127.0.0.1:8080/api"; ' +
        'only the origin is used, because request paths are absolute (/v1/tasks); pass http://127.0.0.1:8080',
    ],
    [
      ['platform', '--redis-url', 'notaurl'],
      'starting the platform failed: invalid --redis-url or REDIS_URL: not a URL; ' +
        'expected redis://127.0.0.1:6379 or another redis:// URL on a loopback host ' +
        '(127.0.0.0/8, ::1 or localhost)',
    ],
    [
      ['platform', '--port', '0', '--redis-url', ''],
      `option '--redis-url <url>' argument '' is invalid. expected a redis:// URL such as ` +
        'redis://127.0.0.1:6379; to run on memory drivers, leave out --redis-url and REDIS_URL.',
    ],
    [
      ['platform', '--port', '0', '--key-prefix', 'staging'],
      '--key-prefix applies to a platform on Redis, but neither --redis-url nor REDIS_URL is ' +
        'set, so the platform would use memory drivers and ignore it; pass --redis-url ' +
        'redis://127.0.0.1:6379 or set REDIS_URL, or drop it',
    ],
    [
      ['platform', '--port', '0', '--stall-interval-ms', '5000', '--sync-task-lease-ms', '3000'],
      '--stall-interval-ms, --sync-task-lease-ms apply to a platform on Redis, but neither ' +
        '--redis-url nor REDIS_URL is set, so the platform would use memory drivers and ' +
        'ignore them; pass --redis-url redis://127.0.0.1:6379 or set REDIS_URL, or drop them',
    ],
    [
      ['platform', '--max-queue-depth', '0'],
      `option '--max-queue-depth <tasks>' argument '0' is invalid. expected a whole number of ` +
        'queued tasks of 1 or more, such as 10000 (the default).',
    ],
    [
      ['platform', '--shed-watermarks', '0.9,0.5'],
      `option '--shed-watermarks <batch,standard>' argument '0.9,0.5' is invalid. the batch ` +
        'fraction 0.9 is above the standard fraction 0.5, but batch requests are shed first; ' +
        'put the lower fraction first, such as 0.5,0.9.',
    ],
    [
      ['load', '--scenario', 'steady-chat', '--max-queue-age-ms', '5000'],
      '--max-queue-depth, --max-queue-age-ms and --shed-watermarks apply to the platform that ' +
        '--platform starts; add --platform or drop them',
    ],
    [
      ['load', '--scenario', 'steady-chat', '--platform', '--max-queue-age-ms', '1.5'],
      `option '--max-queue-age-ms <ms>' argument '1.5' is invalid. expected an integer number ` +
        'of ms from 1 to 2147483647, such as 60000 (the default).',
    ],
    [
      ['drill', '--shed-watermarks', '0.5'],
      `option '--shed-watermarks <batch,standard>' argument '0.5' is invalid. expected two ` +
        'fractions batch,standard, each above 0 and at most 1, such as 0.5,0.8 (the default).',
    ],
    [
      ['drill', '--seed', ''],
      `option '--seed <n>' argument '' is invalid. expected an integer from 0 to 4294967295.`,
    ],
    [
      ['drill', '--seed', '4294967296'],
      `option '--seed <n>' argument '4294967296' is invalid. expected an integer from 0 to 4294967295.`,
    ],
    [
      ['drill', '--policy', '/nonexistent.yaml'],
      `option '--policy <file>' argument '/nonexistent.yaml' is invalid. ${FILE_NOT_FOUND}`,
    ],
    [
      ['drill', '--time-scale', '1000'],
      `option '--time-scale <n>' argument '1000' is invalid. expected a number from 0.1 to 20; 1 runs the drill in real time.`,
    ],
    [
      ['drill', '--time-scale', '0.01'],
      `option '--time-scale <n>' argument '0.01' is invalid. expected a number from 0.1 to 20; 1 runs the drill in real time.`,
    ],
    [
      ['drill', '--time-scale', '0'],
      `option '--time-scale <n>' argument '0' is invalid. expected a number from 0.1 to 20; 1 runs the drill in real time.`,
    ],
    [
      ['load', '--scenario', 'steady-chat', '--topology', ' ', '--target', 'http://127.0.0.1:1'],
      `option '--topology <spec>' argument ' ' is invalid. expected workers=<n>, ` +
        "serverless_burst=enabled|disabled or both, such as 'workers=24 serverless_burst=enabled'; " +
        'leave --topology out for that default.',
    ],
    [
      ['drill', '--topology', 'workers=0'],
      `option '--topology <spec>' argument 'workers=0' is invalid. invalid topology part "workers=0": ` +
        'expected workers=<integer >= 1> or serverless_burst=enabled|disabled, with a space between parts.',
    ],
    [
      ['drill', '--runbook', 'package.json/runbook.md'],
      '--runbook package.json/runbook.md: package.json is a file, not a folder; pass a path inside a folder',
    ],
    [
      ['drill', '--reports', 'package.json/a/b/reports'],
      '--reports package.json/a/b/reports: package.json is a file, not a folder; pass a path inside a folder',
    ],
    [
      ['drill', '--reports', 'package.json/reports'],
      '--reports package.json/reports: package.json is a file, not a folder; pass a path inside a folder',
    ],
    [
      ['drill', '--reports', 'package.json'],
      '--reports package.json is a file; pass a folder, which the drill creates when missing',
    ],
    [
      ['drill', '--runbook', 'runbooks'],
      '--runbook runbooks is a folder; pass the path of the runbook file',
    ],
  ];

  const busyCases: ReadonlyArray<readonly [string, string]> = [
    ['proxy', 'starting the fault proxy'],
    ['providers', 'starting the mock providers'],
    ['platform', 'starting the platform'],
  ];

  before(async () => {
    busy = await listenOnFreePort();
    busyPort = portOf(busy);
    for (const [args] of usageCases) {
      void run(args);
    }
    for (const [command] of busyCases) {
      void run(busyArgs(command));
    }
  });

  after(async () => {
    await Promise.all(runs.values());
    await new Promise((resolve) => busy.close(resolve));
  });

  for (const [args, message] of usageCases) {
    it(`exits 2 on ${args.join(' ')}`, async () => {
      const result = await run(args);
      assert.equal(result.stderr, `error: ${message}\n`);
      assert.equal(result.exitCode, 2);
    });
  }

  for (const [command, task] of busyCases) {
    it(`exits 1 when the ${command} port is busy`, async () => {
      const result = await run(busyArgs(command));
      assert.equal(
        result.stderr,
        `error: ${task} failed: port ${busyPort} on 127.0.0.1 is already in use; ` +
          'pass another --port, or --port 0 for a free one\n',
      );
      assert.equal(result.exitCode, 1);
    });
  }
});

describe('scalegate CLI config file errors', function () {
  this.timeout(120_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-cli-config-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 2 listing every tenants problem', async () => {
    const path = join(dir, 'tenants.yaml');
    const entry = (id: string, hash: string, extra: string) => [
      `  - id: ${id}`,
      `    keySha256: ${hash}`,
      '    tier: standard',
      '    requestsPerMinute: 60',
      '    tokensPerMinute: 1000',
      '    maxInFlight: 2',
      '    budgetUsd: 5',
      `    ${extra}`,
    ];
    const text = [
      'tenants:',
      ...entry('tenant-a', 'a'.repeat(64), 'requestPerMinute: 5'),
      ...entry('tenant-b', 'b'.repeat(64), 'key: sk-live-secret'),
    ];
    await writeFile(path, `${text.join('\n')}\n`);
    const result = await runCliQueued(['platform', '--port', '0', '--tenants', path]);
    assert.equal(result.exitCode, 2);
    assert.deepEqual(result.stderr.trimEnd().split('\n'), [
      `error: starting the platform failed: invalid tenants file ${path} (2 problems):`,
      `  ${path}:9:5 tenants[0].requestPerMinute (id tenant-a): unknown field; known fields: id, keySha256, tier, requestsPerMinute, tokensPerMinute, maxInFlight, budgetUsd, budgetPeriod, maxRunning`,
      `  ${path}:17:5 tenants[1].key (id tenant-b): unknown field, and the tenants file must never contain a plaintext key; remove it and put the key's hex sha256 in keySha256`,
    ]);
  });

  it('exits 2 with one policy problem a line', async () => {
    const path = join(dir, 'policy.yaml');
    const routeLines = (name: string, provider: string): string[] => [
      `  ${name}:`,
      '    qualityFloor: 1',
      `    candidates: [{ provider: ${provider}, model: gpt-4o, weight: 1 }]`,
      '    firstTokenTimeoutMs: 2000',
      '    stallTimeoutMs: 5000',
      '    deadlineMs: 8000',
      '    retryBudget: { windowMs: 10000, maxRetriesPerWindow: 10, maxAttemptsPerTask: 3 }',
      '    failoverOn: [status_5xx]',
      '    breaker: { failureThreshold: 5, minimumRequests: 10, windowMs: 30000, cooldownMs: 15000, halfOpenMaxProbes: 1 }',
      '    onExhausted: fail',
    ];
    const text = [
      'version: 1',
      'routes:',
      ...routeLines('chat', 'provider-z'),
      ...routeLines('chat-fast', 'provider-y'),
    ];
    await writeFile(path, `${text.join('\n')}\n`);
    const known = (await loadProviderCatalog()).map((provider) => provider.name).join(', ');
    const result = await runCliQueued(['platform', '--port', '0', '--policy', path]);
    assert.equal(result.exitCode, 2);
    assert.deepEqual(result.stderr.trimEnd().split('\n'), [
      `error: starting the platform failed: invalid route policy ${path} (2 problems):`,
      `  ${path}:5:20 /routes/chat/candidates/0/provider: unknown provider "provider-z"; known: ${known}`,
      `  ${path}:15:20 /routes/chat-fast/candidates/0/provider: unknown provider "provider-y"; known: ${known}`,
      'Fix the file or pass another --policy.',
    ]);
  });

  it('load exits 2 with one policy problem a line', async () => {
    const path = join(dir, 'load-policy.yaml');
    await writeFile(path, 'version: 1\nroutes:\n  chat:\n    deadlineMs: 0\n');
    const result = await runCliQueued([
      'load',
      '--scenario',
      'steady-chat',
      '--platform',
      '--policy',
      path,
    ]);
    assert.equal(result.exitCode, 2);
    const missing = [
      'candidates',
      'qualityFloor',
      'firstTokenTimeoutMs',
      'stallTimeoutMs',
      'retryBudget',
      'failoverOn',
      'breaker',
      'onExhausted',
    ];
    assert.deepEqual(result.stderr.trimEnd().split('\n'), [
      `error: invalid route policy ${path} (9 problems):`,
      ...missing.map((name) => `  ${path}:3:3 /routes/chat: missing property "${name}"`),
      `  ${path}:4:5 /routes/chat/deadlineMs: must be >= 1, received 0; raise it to at least that`,
      'Fix the file or pass another --policy.',
    ]);
  });
});
