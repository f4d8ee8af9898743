import { createHash } from 'node:crypto';
import { packagePath } from '../../package-path.js';
import { canonicalJson } from '../canonical-json.js';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import type { ProviderCatalog } from './catalog.js';
import { checkPolicy } from './policy-checks.js';
import { type PolicyProblem, PolicyValidationError } from './policy-errors.js';
import { locateProblems, parsePolicySource } from './policy-source.js';
import { decodePolicyText } from './policy-text.js';
import type { Policy } from './policy-types.js';
import { schemaProblems } from './schema-problems.js';

/** Path of the JSON Schema (2020-12) every route policy must match. */
export const POLICY_SCHEMA_PATH = new URL('../../../policies/schema.json', import.meta.url);

/** Route policy the platform loads when no other is given. */
export const DEFAULT_POLICY_PATH = packagePath('policies/default.yaml');

// `verbose` puts each failing value on its error, so messages can quote it.
const validateSchema = new Ajv2020({
  allErrors: true,
  strict: true,
  strictRequired: false,
  verbose: true,
}).compile<Policy>(JSON.parse(readFileSync(POLICY_SCHEMA_PATH, 'utf8')) as object);

/** Returns the name of the route an error's JSON Pointer points into, if any. */
function routeNameOf(error: ErrorObject): string | undefined {
  const params = error.params as Record<string, unknown>;
  if (error.instancePath === '/routes' && typeof params.propertyName === 'string') {
    return params.propertyName;
  }
  const match = /^\/routes\/([^/]+)/.exec(error.instancePath);
  return match?.[1]?.replaceAll('~1', '/').replaceAll('~0', '~');
}

/**
 * Runs the semantic checks on the routes of a schema-invalid document that have no
 * schema error, so one run lists every problem. Cross-route checks skip the other routes.
 */
function checkSchemaValidRoutes(
  document: unknown,
  errors: ErrorObject[],
  catalog: ProviderCatalog,
): PolicyProblem[] {
  const routes = (document as { routes?: unknown } | null)?.routes;
  if (typeof routes !== 'object' || routes === null || Array.isArray(routes)) {
    return [];
  }
  const invalid = new Set(errors.flatMap((error) => routeNameOf(error) ?? []));
  const valid = Object.entries(routes).filter(([name]) => !invalid.has(name));
  // The schema reported no error under these routes, so each one matches RoutePolicy.
  const policy = { version: 1, routes: Object.fromEntries(valid) } as Policy;
  return checkPolicy(policy, catalog, invalid);
}

/** Drops top-level `x-*` blocks, which only hold YAML anchors. */
function withoutExtensions(policy: Policy): Policy {
  const entries = Object.entries(policy).filter(([key]) => !key.startsWith('x-'));
  return Object.fromEntries(entries) as unknown as Policy;
}

/** Returns every schema and semantic problem of a parsed policy document, none when it is valid. */
function policyProblems(document: unknown, catalog: ProviderCatalog): PolicyProblem[] {
  if (document === null || document === undefined) {
    const message =
      'the policy is empty; write version: 1 and the routes, as in policies/default.yaml';
    return [{ path: '', message }];
  }
  if (!validateSchema(document)) {
    const errors = validateSchema.errors ?? [];
    return [...schemaProblems(errors), ...checkSchemaValidRoutes(document, errors, catalog)];
  }
  return checkPolicy(document, catalog);
}

/**
 * Validates a parsed policy document against the schema and then the catalog.
 * @throws PolicyValidationError listing every problem with its JSON Pointer path.
 */
export function parsePolicy(
  document: unknown,
  catalog: ProviderCatalog,
  source = 'policy',
): Policy {
  const problems = policyProblems(document, catalog);
  if (problems.length > 0) {
    throw new PolicyValidationError(source, problems);
  }
  // No problem means the document matched the schema.
  return withoutExtensions(document as Policy);
}

/**
 * Parses YAML policy text and validates it against the schema and the catalog.
 * @throws PolicyValidationError listing every problem with its JSON Pointer path and its
 * line and column in `text`. A problem in a value that several routes share through a
 * YAML anchor is listed once, at the anchor.
 */
export function parsePolicyYaml(text: string, catalog: ProviderCatalog, source = 'policy'): Policy {
  const parsed = parsePolicySource(text, source);
  const problems = policyProblems(parsed.value, catalog);
  if (problems.length > 0) {
    throw new PolicyValidationError(source, locateProblems(problems, parsed));
  }
  // No problem means the document matched the schema.
  return withoutExtensions(parsed.value as Policy);
}

/**
 * Reads a YAML route policy and validates it against the schema and the catalog.
 * @throws PolicyValidationError as {@link parsePolicyYaml} does, with `path` as the source,
 * and for a file that is not UTF-8 text.
 */
export async function loadPolicy(path: string, catalog: ProviderCatalog): Promise<Policy> {
  return (await readPolicyFile(path, catalog)).policy;
}

/**
 * Reads a YAML route policy as {@link loadPolicy} does, and returns the bytes it read and
 * the text it parsed too.
 * @throws PolicyValidationError as {@link loadPolicy} does.
 */
export async function readPolicyFile(
  path: string,
  catalog: ProviderCatalog,
): Promise<{ policy: Policy; bytes: Buffer; text: string }> {
  const bytes = await readFile(path);
  const text = decodePolicyText(bytes, path);
  return { policy: parsePolicyYaml(text, catalog, path), bytes, text };
}

/** Returns the sha256 hex digest of the policy's canonical JSON; key order and YAML anchors do not change it. */
export function policyHash(policy: Policy): string {
  return createHash('sha256')
    .update(canonicalJson(withoutExtensions(policy)))
    .digest('hex');
}
