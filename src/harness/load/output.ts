import type { BackpressureLimits } from '../../platform/admission/backpressure.js';
import type { MachineInfo } from '../report/types.js';
import type { LoadEngineName, LoadResult, PlatformRun } from './result.js';
import type { ThresholdVerdict } from './thresholds.js';

/**
 * Version of reports/schema/load-output.schema.json that `scalegate load --out` writes.
 * It changes when a field is removed or changes meaning, not when an optional one is added,
 * such as the price table and tenants file of `PlatformSettings`.
 */
export const LOAD_OUTPUT_SCHEMA_VERSION = 1;

/** Code and machine that produced a load run. */
export interface LoadEnvironment {
  /** Short git commit of the scalegate checkout, or `unknown`. */
  commit: string;
  machine: Required<MachineInfo>;
}

/** Topology, route policy, tenants file and price table of the platform that `--platform` started. */
export interface PlatformSettings {
  /** Topology as `formatTopology` prints it, such as `workers=24 serverless_burst=enabled`. */
  topology: string;
  /** Route policy file, as given with `--policy` or the default relative to the working folder. */
  policyPath: string;
  /** sha256 hex digest of the policy file's text, read before the platform started. */
  policyHash: string;
  /** False with `--no-fault-proxy`. */
  faultProxy: boolean;
  /**
   * Queue limits at which the gateway shed requests. Absent in outputs written before they
   * were recorded, whose platforms used `DEFAULT_BACKPRESSURE`.
   */
  backpressure?: BackpressureLimits;
  /**
   * Storage of admission, queue, task store and cost ledger: `memory`, or `redis` when
   * REDIS_URL was set.
   * Absent in outputs written before it was recorded.
   */
  drivers?: 'memory' | 'redis';
  /**
   * Price table the platform priced tasks with, relative to the working folder. Absent in
   * outputs written before it was recorded.
   */
  pricesPath?: string;
  /**
   * sha256 hex digest of the price table's bytes, read before the platform started. Outputs
   * written before the bytes were hashed hold the digest of the text, which differs only for
   * a file that is not valid UTF-8.
   */
  pricesHash?: string;
  /**
   * The price table's `effectiveDate`, as YYYY-MM-DD. Absent in outputs written before it was
   * recorded.
   */
  pricesEffectiveDate?: string;
  /**
   * Tenants file that set the tenants' keys and limits, as given with `--tenants` or the
   * default relative to the working folder. Absent in outputs written before it was recorded.
   */
  tenantsPath?: string;
  /** sha256 hex digest of the tenants file's bytes, hashed as `pricesHash` is. */
  tenantsHash?: string;
}

/** Options of a load run, after defaults were applied. */
export interface LoadSettings {
  scenario: string;
  engine: LoadEngineName;
  seed: number;
  /** Scheduled duration in seconds: `--duration` or the scenario's. */
  durationSec: number;
  /** Gateway base URL the load went to: `--target`, the scenario's, or the one `--platform` started. */
  target: string;
  /** `--max-in-flight`, or null when it was not given. */
  maxInFlight: number | null;
  /** `--drain-timeout` in seconds, or null for the engine's default. */
  drainTimeoutSec: number | null;
  /** Null when the load went to a gateway the command did not start. */
  platform: PlatformSettings | null;
}

/**
 * Contents of the `--out` file, described by reports/schema/load-output.schema.json.
 * `platform` is present only when the command started the platform (`--platform`), because a
 * gateway given by `--target` exposes no cost ledger. `interrupted` is present only when
 * SIGINT, SIGTERM or SIGHUP stopped the run.
 */
export interface LoadCommandOutput {
  schemaVersion: typeof LOAD_OUTPUT_SCHEMA_VERSION;
  environment: LoadEnvironment;
  settings: LoadSettings;
  result: LoadResult;
  verdict: ThresholdVerdict;
  platform?: PlatformRun;
  interrupted?: { signal: NodeJS.Signals };
}
