import type { MachineInfo } from '../report/types.js';
import type { RunGroup } from './compare.js';
import type { RecordedFile, RunRecord } from './run.js';

/** Files named per value in a warning; the rest are counted. */
const MAX_FILES_NAMED = 3;

/** A setting that should be the same in every run, and the fix when it is not. */
interface SharedSetting {
  name: string;
  describe: (run: RunRecord) => string | undefined;
  /** The fix, or a function that words it for the runs that differ. */
  fix: string | ((runs: readonly RunRecord[]) => string);
}

/** A setting that the runs of one group should share, and the fix when they do not. */
interface GroupSetting {
  /** Plural noun for the warning, such as `topologies`. */
  plural: string;
  describe: (run: RunRecord) => string;
  fix: string;
}

const GROUP_SETTINGS: readonly GroupSetting[] = [
  {
    plural: 'topologies',
    describe: (run) => run.topology ?? 'not recorded (--target)',
    fix: 'its median describes no one topology, so give each side runs of one topology',
  },
  {
    plural: 'policy hashes',
    describe: (run) => run.policyHash?.slice(0, 12) ?? 'not recorded (--target)',
    fix: 'its median describes no one policy, so give each side runs of one --policy',
  },
  {
    plural: 'backpressure limits',
    describe: (run) => run.backpressure ?? 'not recorded (--target)',
    fix: 'its median describes no one setting, so give each side runs of one --max-queue-depth, --max-queue-age-ms and --shed-watermarks',
  },
];

/**
 * Returns one line per difference between the runs that makes the comparison unfair, one
 * naming the runs too old to record their price table and tenants file, one per run given
 * more than once, one per group that mixes topologies or policies, then one per run whose
 * own figures are suspect. An empty list means none was found.
 */
export function fairnessWarnings(groups: readonly RunGroup[]): string[] {
  const runs = groups.flatMap((group) => group.runs);
  const warnings: string[] = [];
  for (const setting of sharedSettings(runs)) {
    const line = spreadLine(runs, setting);
    if (line !== undefined) warnings.push(line);
  }
  const seeds = seedLine(groups);
  if (seeds !== undefined) warnings.push(seeds);
  const unrecorded = unrecordedFilesLine(runs);
  if (unrecorded !== undefined) warnings.push(unrecorded);
  warnings.push(...sameRunLines(runs));
  for (const group of groups) warnings.push(...mixedGroupLines(group));
  for (const run of runs) {
    for (const caveat of run.caveats) warnings.push(`${run.file}: ${caveat}`);
  }
  return warnings;
}

function sharedSettings(runs: readonly RunRecord[]): SharedSetting[] {
  // Reports written before the CPU model was recorded lack it, so it counts only when all have it.
  const withModel = runs.every((run) => run.machine.cpuModel !== undefined);
  return [
    {
      name: 'machine',
      describe: (run) => describeMachine(run.machine, withModel),
      fix: 'run every side on one machine',
    },
    {
      name: 'Node.js version',
      describe: (run) => run.machine.nodeVersion,
      fix: 'run every side with one Node.js version',
    },
    {
      name: 'scenario',
      describe: (run) => run.scenario,
      fix: 'compare runs of one scenario',
    },
    {
      name: 'duration',
      describe: (run) => `${run.durationS} s`,
      fix: 'give every run the same --duration',
    },
    {
      name: 'load engine',
      describe: (run) => run.engine,
      fix: 'give every run the same --engine',
    },
    {
      name: 'time scale',
      describe: (run) => String(run.timeScale),
      fix: 'compare runs at one time scale',
    },
    {
      name: 'kind of run',
      describe: (run) => (run.kind === 'drill' ? 'drill report' : 'load output'),
      fix: "a drill's figures include the faults it injected, so compare drills with drills",
    },
    {
      name: 'backpressure',
      // A load sent to --target did not start the platform, so it records no limits.
      describe: (run) => run.backpressure ?? undefined,
      fix: 'give every run the same --max-queue-depth, --max-queue-age-ms and --shed-watermarks unless backpressure is what you compare',
    },
    {
      name: 'driver',
      // Outputs written before the drivers were recorded, and loads sent to --target, lack them.
      describe: (run) => run.drivers ?? undefined,
      fix: 'on Redis every admission, enqueue and store call crosses the network, async tasks run in worker processes, and an odd count of workers above 1 is billed for one worker slot more, so latency and cost per task do not compare like for like; set REDIS_URL for every side or for none unless the drivers are what you compare',
    },
    {
      name: 'price table',
      describe: fileDescriber(runs, (run) => run.prices),
      fix: 'cost per task and the worker pool bill come from its prices, so they do not compare like for like; run every side on one price table',
    },
    {
      name: 'tenants file',
      describe: fileDescriber(runs, (run) => run.tenants),
      fix: "each tenant's rate limits, in-flight and running caps and budget come from it, so rejections, success rate and throughput do not compare like for like; give every side the same --tenants",
    },
    {
      name: 'fault proxy',
      describe: (run) => onOff(run.faultProxy),
      fix: 'relaying every provider byte through the proxy costs CPU and latency, so give every run --no-fault-proxy or none',
    },
    {
      name: 'policy hash',
      // A load sent to --target did not start the platform, so it records no policy.
      describe: (run) => run.policyHash?.slice(0, 12) ?? 'not recorded (--target)',
      fix: (runs) =>
        runs.some((run) => run.policyHash === null)
          ? 'a load sent to --target records no policy, so compare cannot check it and warns ' +
            'even when the policies match; start its gateway with the --policy of the other ' +
            'runs unless the policy is what you compare'
          : 'give every run the same --policy unless the policy is what you compare',
    },
  ];
}

/**
 * Returns a describer that compares recorded files by sha256 and names each hash by the
 * first path recorded with it, such as `fixtures/prices.yaml (sha256 0a1b2c3d4e5f)`. The
 * same bytes at two paths are one value, so a moved file gets no warning. When every run
 * that records the file records its effective date too, the value adds it, as in
 * `(sha256 0a1b2c3d4e5f, effective 2026-01-01)`, so two tables at one path tell apart.
 */
function fileDescriber(
  runs: readonly RunRecord[],
  fileOf: (run: RunRecord) => RecordedFile | null,
): (run: RunRecord) => string | undefined {
  const pathByHash = new Map<string, string>();
  const recorded = runs.map(fileOf).filter((file) => file !== null);
  for (const file of recorded) {
    if (!pathByHash.has(file.sha256)) pathByHash.set(file.sha256, file.path);
  }
  // One date per hash, since the date is part of the hashed file, so adding it splits no value.
  const withDate = recorded.every((file) => file.effectiveDate !== null);
  return (run) => {
    const file = fileOf(run);
    if (file === null) return undefined;
    const date = withDate && file.effectiveDate !== null ? `, effective ${file.effectiveDate}` : '';
    const path = pathByHash.get(file.sha256) ?? file.path;
    return `${path} (sha256 ${file.sha256.slice(0, 12)}${date})`;
  };
}

/**
 * Names the runs that the price table and tenants file checks left out because they were
 * written before those files were recorded, when another run records them. A load sent to
 * `--target` started no platform, so it has no files to record and is not named.
 */
function unrecordedFilesLine(runs: readonly RunRecord[]): string | undefined {
  const recordsFiles = (run: RunRecord): boolean => run.prices !== null || run.tenants !== null;
  if (!runs.some(recordsFiles)) return undefined;
  const older = runs.filter((run) => run.topology !== null && !recordsFiles(run));
  if (older.length === 0) return undefined;
  const verb = older.length === 1 ? 'predates' : 'predate';
  return (
    `${fileList(older.map((run) => run.file))} ${verb} the record of the price table and ` +
    'tenants file, so compare could not check them'
  );
}

function describeMachine(machine: MachineInfo, withModel: boolean): string {
  const model = withModel ? ` ${machine.cpuModel}` : '';
  // Whole GiB, because the memory a kernel reports varies by some KiB between boots.
  const gib = Math.round(machine.memoryBytes / 2 ** 30);
  return `${machine.cpus} CPUs${model}, ${gib} GiB, ${machine.platform}`;
}

/**
 * Returns `<name> differs: <value> (<files>) vs ...; <fix>` when the runs that record the
 * setting do not all share one value, and undefined when they do.
 */
function spreadLine(runs: readonly RunRecord[], setting: SharedSetting): string | undefined {
  const spread = valueSpread(runs, setting.describe);
  if (spread === undefined) return undefined;
  const fix = typeof setting.fix === 'string' ? setting.fix : setting.fix(runs);
  return `${setting.name} differs: ${spread}; ${fix}`;
}

/**
 * Returns `<value> (<files>) vs <value> (<files>) ...` when the runs that have a value do not
 * all share one, and undefined when they do.
 */
function valueSpread(
  runs: readonly RunRecord[],
  describe: (run: RunRecord) => string | undefined,
): string | undefined {
  const filesByValue = new Map<string, string[]>();
  for (const run of runs) {
    const value = describe(run);
    if (value === undefined) continue;
    filesByValue.set(value, [...(filesByValue.get(value) ?? []), run.file]);
  }
  if (filesByValue.size < 2) return undefined;
  return [...filesByValue].map(([value, files]) => `${value} (${fileList(files)})`).join(' vs ');
}

/**
 * Compares the set of seeds of each group, since repeats of one side may use several seeds
 * and the sides may have different numbers of runs. Groups with one set are listed together,
 * so three files of seeds 1, 1 and 2 read `1 (a, b) vs 2 (c)`. A group of one run is named by
 * its path, as the other warnings name files.
 */
function seedLine(groups: readonly RunGroup[]): string | undefined {
  const seedsOf = (group: RunGroup): string =>
    [...new Set(group.runs.map((run) => run.seed))].sort((a, b) => a - b).join(', ');
  const nameOf = (group: RunGroup): string =>
    group.runs.length === 1 && group.runs[0] !== undefined ? group.runs[0].file : group.label;
  const namesBySeeds = new Map<string, string[]>();
  for (const group of groups) {
    const seeds = seedsOf(group);
    namesBySeeds.set(seeds, [...(namesBySeeds.get(seeds) ?? []), nameOf(group)]);
  }
  if (namesBySeeds.size < 2) return undefined;
  const spread = [...namesBySeeds].map(([seeds, names]) => `${seeds} (${fileList(names)})`);
  return `seeds differ: ${spread.join(' vs ')}; give every side the same --seed values`;
}

/**
 * Names the files that hold one run, such as a copy of a file. Repeats of one run narrow a
 * group's range, or, between the sides, compare a run with itself.
 */
function sameRunLines(runs: readonly RunRecord[]): string[] {
  const filesByRun = new Map<string, string[]>();
  for (const run of runs) {
    filesByRun.set(run.identity, [...(filesByRun.get(run.identity) ?? []), run.file]);
  }
  return [...filesByRun]
    .filter(([, files]) => files.length > 1)
    .map(
      ([identity, files]) =>
        `${fileList(files)} contain the same run (${identity}); pass each run once, as a copy ` +
        'narrows the range and can fake a noise band',
    );
}

/** Names each group setting that the runs of `group` do not share. */
function mixedGroupLines(group: RunGroup): string[] {
  const lines: string[] = [];
  for (const setting of GROUP_SETTINGS) {
    const spread = valueSpread(group.runs, setting.describe);
    if (spread !== undefined) {
      lines.push(`${group.label} mixes ${setting.plural}: ${spread}; ${setting.fix}`);
    }
  }
  return lines;
}

function fileList(files: readonly string[]): string {
  const named = files.slice(0, MAX_FILES_NAMED).join(', ');
  const more = files.length - MAX_FILES_NAMED;
  return more > 0 ? `${named} and ${more} more` : named;
}

/** Returns `on` or `off` for a recorded switch, or undefined when the run did not record it. */
function onOff(value: boolean | null): string | undefined {
  if (value === null) return undefined;
  return value ? 'on' : 'off';
}
