import type { MachineInfo } from '../report/types.js';
import type { RunGroup } from './compare.js';
import type { RunRecord } from './run.js';

/** Files named per value in a warning; the rest are counted. */
const MAX_FILES_NAMED = 3;

/** A setting that should be the same in every run, and the fix when it is not. */
interface SharedSetting {
  name: string;
  describe: (run: RunRecord) => string | undefined;
  fix: string;
}

/**
 * Returns one line per difference between the runs that makes the comparison unfair, then
 * one line per run whose own figures are suspect. An empty list means none was found.
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
      name: 'policy hash',
      // A load sent to --target did not start the platform, so it records no policy.
      describe: (run) => run.policyHash?.slice(0, 12) ?? 'not recorded',
      fix: 'give every run the same --policy unless the policy is what you compare',
    },
  ];
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
  const filesByValue = new Map<string, string[]>();
  for (const run of runs) {
    const value = setting.describe(run);
    if (value === undefined) continue;
    filesByValue.set(value, [...(filesByValue.get(value) ?? []), run.file]);
  }
  if (filesByValue.size < 2) return undefined;
  const spread = [...filesByValue].map(([value, files]) => `${value} (${fileList(files)})`);
  return `${setting.name} differs: ${spread.join(' vs ')}; ${setting.fix}`;
}

/**
 * Compares the set of seeds of each group, since repeats of one side may use several seeds
 * and the sides may have different numbers of runs.
 */
function seedLine(groups: readonly RunGroup[]): string | undefined {
  const seedsOf = (group: RunGroup): string =>
    [...new Set(group.runs.map((run) => run.seed))].sort((a, b) => a - b).join(', ');
  const distinct = new Set(groups.map(seedsOf));
  if (distinct.size < 2) return undefined;
  const spread = groups.map((group) => `${seedsOf(group)} (${group.label})`);
  return `seeds differ: ${spread.join(' vs ')}; give every side the same --seed values`;
}

function fileList(files: readonly string[]): string {
  const named = files.slice(0, MAX_FILES_NAMED).join(', ');
  const more = files.length - MAX_FILES_NAMED;
  return more > 0 ? `${named} and ${more} more` : named;
}
