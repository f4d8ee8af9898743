import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

import { parse as parseYaml } from 'yaml';

import { admitDemoKeys, asyncSendingTenants } from '../harness/load/tenant-admission.js';
import type { ScenarioSpec } from '../harness/scenario/types.js';
import { DEFAULT_PRICES_PATH, readPriceTableFile } from '../platform/cost/load-price-table.js';
import type { IneffectiveRunningCap } from '../platform/runtime/running-caps.js';
import { DEFAULT_TENANTS_PATH, parseTenants } from '../platform/tenants/load-tenants.js';
import { TenantRegistry } from '../platform/tenants/registry.js';
import { sha256Hex } from '../platform/runtime/loaded-files.js';
import { alternatives, similarNames } from '../platform/router/similar-names.js';
import { UsageError } from './command-errors.js';

/** A file the platform of `load --platform` reads at start, and the sha256 of its bytes. */
export interface HashedFile {
  /** As given on the command line, or the default relative to the working folder. */
  path: string;
  /** sha256 hex digest of the file's bytes, as a drill report records it. */
  sha256: string;
}

/** The price table of a `load --platform` run. */
export interface HashedPriceTable extends HashedFile {
  /** The table's `effectiveDate`, a calendar date as YYYY-MM-DD. */
  effectiveDate: string;
}

/** The tenants file and the price table of a `load --platform` run. */
export interface PlatformFiles {
  tenants: HashedFile;
  prices: HashedPriceTable;
}

/** Files that `load --platform` gives the platform it starts; undefined means the default. */
export interface PlatformFileOptions {
  tenants: string | undefined;
  prices: string | undefined;
}

/**
 * Reads and validates the tenants file and the price table, and checks that the tenants file
 * admits the API key of every tenant the scenario sends as. It runs before the platform
 * starts, so an edit during the run cannot change the recorded hashes.
 * @throws TenantConfigError when the tenants file is invalid, PriceTableError when the price
 *   table cannot be read or is invalid, TenantKeysError when the demo keys lack a tenant, or
 *   UnadmittedTenantsError naming the tenants the tenants file does not admit.
 */
export async function readPlatformFiles(
  scenario: ScenarioSpec,
  paths: PlatformFileOptions,
): Promise<PlatformFiles> {
  const tenantsFile = paths.tenants ?? relative(process.cwd(), DEFAULT_TENANTS_PATH);
  const tenantsBytes = await readFile(paths.tenants ?? DEFAULT_TENANTS_PATH);
  const registry = new TenantRegistry(parseTenants(tenantsBytes.toString('utf8'), tenantsFile));
  const tenantIds = scenario.tenants.map((share) => share.tenantId);
  await admitDemoKeys(registry, tenantsFile, tenantIds, { kind: 'scenario', name: scenario.name });
  const pricesFile = paths.prices ?? relative(process.cwd(), DEFAULT_PRICES_PATH);
  const prices = await readPriceTableFile(paths.prices ?? DEFAULT_PRICES_PATH);
  return {
    tenants: { path: tenantsFile, sha256: sha256Hex(tenantsBytes) },
    prices: {
      path: pricesFile,
      sha256: sha256Hex(prices.bytes),
      effectiveDate: prices.table.effectiveDate,
    },
  };
}

/** The fix that a running cap warning on the shipped tenants file gets in `load --platform`. */
const TENANTS_OPTION_FIX =
  'or pass an edited copy of that file with --tenants to change it for this load run only';

/**
 * Returns the platform's start-up warnings that matter to this scenario. A running cap at or
 * above the worker slots is left out unless the scenario sends async tasks as its tenant,
 * since the cap holds back only those. One that stays gets the `--tenants` fix when the
 * platform runs on the shipped tenants file.
 */
export function platformWarningsFor(
  scenario: ScenarioSpec,
  platform: { warnings: readonly string[]; runningCaps: readonly IneffectiveRunningCap[] },
  tenantsOption: string | undefined,
): string[] {
  const senders = asyncSendingTenants(scenario);
  const caps = new Map(platform.runningCaps.map((cap) => [cap.message, cap]));
  const printed: string[] = [];
  for (const warning of platform.warnings) {
    const cap = caps.get(warning);
    if (cap === undefined) {
      printed.push(warning);
    } else if (senders.has(cap.tenant)) {
      printed.push(tenantsOption === undefined ? `${warning}, ${TENANTS_OPTION_FIX}` : warning);
    }
  }
  return printed;
}

/** Returns the route names of a policy's text, or undefined when it has no `routes` map. */
function policyRouteNames(policyText: string): string[] | undefined {
  let document: unknown;
  try {
    document = parseYaml(policyText, { merge: true });
  } catch {
    // The platform's loader reports a policy that does not parse, with its line and column.
    return undefined;
  }
  const routes = (document as { routes?: unknown } | null)?.routes;
  if (typeof routes !== 'object' || routes === null || Array.isArray(routes)) return undefined;
  return Object.keys(routes);
}

/**
 * Checks that the policy defines every route the scenario sends to. The gateway rejects a
 * task for any other route with 400 `unknown_route`, so a misspelt route would fail its share
 * of the load with no word on why.
 * @throws UsageError naming the scenario field, the route, the policy's routes and the fix.
 */
export function checkScenarioRoutes(
  scenario: ScenarioSpec,
  policyText: string,
  policyFile: string,
): void {
  const known = policyRouteNames(policyText);
  if (known === undefined) return;
  scenario.routes.forEach(({ route }, index) => {
    if (known.includes(route)) return;
    const similar = similarNames(route, known);
    const useKnown = `use one of ${known.join(', ')} in the scenario`;
    const fix =
      similar.length === 0
        ? useKnown
        : `did you mean ${alternatives(similar, (name) => name)}? Otherwise ${useKnown}`;
    throw new UsageError(
      `scenario ${scenario.name}: routes[${index}].route is ${route}, which policy ` +
        `${policyFile} does not define, so the gateway would answer its tasks 400 ` +
        `unknown_route; ${fix}, or pass a --policy that defines ${route}`,
    );
  });
}
