/**
 * Changes of a route policy against the policy it replaces. A drill summary and its report list
 * them with the routes its verdict covers.
 */
import { createHash } from 'node:crypto';

import { PolicyValidationError } from '../../platform/router/policy-errors.js';
import { parsePolicySource } from '../../platform/router/policy-source.js';
import type { PolicyChange, PolicyChangeRecord, TopologyResult } from '../report/types.js';

export type { PolicyChange } from '../report/types.js';

/** A base policy file read for comparison: its path as given, sha256 and parsed document. */
export interface BasePolicy {
  path: string;
  sha256: string;
  document: Record<string, unknown>;
}

/**
 * Parses policy YAML to a map, with anchors and merge keys resolved.
 * @throws PolicyValidationError for invalid YAML or a document that is not a map.
 */
export function parsePolicyDocument(text: string, source: string): Record<string, unknown> {
  const value = parsePolicySource(text, source).value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const problem = {
      path: '',
      message: 'the document is not a map of version and routes',
      location: { line: 1, column: 1 },
    };
    throw new PolicyValidationError(source, [problem]);
  }
  return value as Record<string, unknown>;
}

/** Builds a base policy from the bytes of its file and the text decoded from them. */
export function basePolicy(path: string, bytes: Uint8Array, text: string): BasePolicy {
  return {
    path,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    document: parsePolicyDocument(text, path),
  };
}

/**
 * Maps each fallback route that `topologies` record calls to, other than `loadRoutes`, to the
 * routes whose tasks called it, in the order the topologies list them.
 */
export function fallbackOnlyRoutes(
  loadRoutes: readonly string[],
  topologies: readonly Pick<TopologyResult, 'fallbackRouteAttempts'>[],
): Map<string, string[]> {
  const reached = new Map<string, string[]>();
  for (const topology of topologies) {
    for (const entry of topology.fallbackRouteAttempts ?? []) {
      if (entry.attempts === 0 || loadRoutes.includes(entry.fallbackRoute)) continue;
      const from = reached.get(entry.fallbackRoute) ?? [];
      if (!from.includes(entry.route)) from.push(entry.route);
      reached.set(entry.fallbackRoute, from);
    }
  }
  return reached;
}

/**
 * Says how the tasks of the routes in `from` reached a route that the load sent no request to,
 * with each route name passed through `code`. The router calls a fallback route's candidates
 * under the settings of the task's route, so the fallback route's own time limits, retry
 * budget and failoverOn go untested.
 */
export function fallbackOnlyReason(
  from: readonly string[],
  code: (name: string) => string = (name) => name,
): string {
  return (
    `the drill's load sent it no request, and tasks of ${from.map(code).join(', ')} called its ` +
    `candidates through ${code('fallbackRoute')} under their own route's time limits, retry ` +
    'budget and failoverOn'
  );
}

/**
 * Lists the routes a drill exercised: `loadRoutes`, which its load sends requests to, then
 * the fallback routes whose candidates its tasks called, as `topologies` record them.
 */
export function exercisedRoutes(
  loadRoutes: readonly string[],
  topologies: readonly Pick<TopologyResult, 'fallbackRouteAttempts'>[],
): string[] {
  return [...loadRoutes, ...fallbackOnlyRoutes(loadRoutes, topologies).keys()];
}

/**
 * Returns the added and changed routes that are not in `exercised`, in the order of `changes`.
 * A removed route has no traffic to exercise, and the `throttle` block applies to every route.
 */
export function unexercisedChangedRoutes(
  changes: readonly PolicyChange[],
  exercised: readonly string[],
): string[] {
  return changes.flatMap((change) =>
    change.route === null || change.kind === 'removed' || exercised.includes(change.route)
      ? []
      : [change.route],
  );
}

/**
 * Compares the drilled policy text with `base` for a report: the changes, and those the routes
 * in `exercised` leave out.
 * @throws PolicyValidationError when `drilledText` is not a YAML map.
 */
export function comparePolicies(
  base: BasePolicy,
  drilledText: string,
  drilledPath: string,
  exercised: readonly string[],
): PolicyChangeRecord {
  const changes = policyChanges(base.document, parsePolicyDocument(drilledText, drilledPath));
  return {
    basePolicyPath: base.path,
    basePolicySha256: base.sha256,
    changes,
    unexercisedRoutes: unexercisedChangedRoutes(changes, exercised),
  };
}

type PlainMap = Record<string, unknown>;

function isPlainMap(value: unknown): value is PlainMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Lists the changes from `base` to `changed`, two policy documents with YAML anchors and merge
 * keys resolved: first `throttle`, then each route in the order of `changed`, then the routes
 * it removes. A setting left out is shown as `default`.
 */
export function policyChanges(base: PlainMap, changed: PlainMap): PolicyChange[] {
  const changes: PolicyChange[] = [];
  const throttle = settingChanges('', base.throttle, changed.throttle);
  if (throttle.length > 0) {
    changes.push({ route: null, kind: 'changed', details: throttle });
  }
  const baseRoutes = isPlainMap(base.routes) ? base.routes : {};
  const routes = isPlainMap(changed.routes) ? changed.routes : {};
  for (const [name, route] of Object.entries(routes)) {
    if (!Object.hasOwn(baseRoutes, name)) {
      changes.push({ route: name, kind: 'added', details: [] });
      continue;
    }
    const details = routeChanges(baseRoutes[name], route);
    if (details.length > 0) {
      changes.push({ route: name, kind: 'changed', details });
    }
  }
  for (const name of Object.keys(baseRoutes)) {
    if (!Object.hasOwn(routes, name)) {
      changes.push({ route: name, kind: 'removed', details: [] });
    }
  }
  return changes;
}

function routeChanges(base: unknown, changed: unknown): string[] {
  const from = isPlainMap(base) ? base : {};
  const to = isPlainMap(changed) ? changed : {};
  const details = candidateChanges(from.candidates, to.candidates);
  details.push(...listChanges('failoverOn', from.failoverOn, to.failoverOn));
  const rest = (map: PlainMap): PlainMap =>
    Object.fromEntries(
      Object.entries(map).filter(([key]) => key !== 'candidates' && key !== 'failoverOn'),
    );
  details.push(...settingChanges('', rest(from), rest(to)));
  return details;
}

/** Compares two values setting by setting, maps by key and anything else as a whole. */
function settingChanges(path: string, base: unknown, changed: unknown): string[] {
  if (isPlainMap(base) || isPlainMap(changed)) {
    const from = isPlainMap(base) ? base : {};
    const to = isPlainMap(changed) ? changed : {};
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])];
    return keys.flatMap((key) =>
      settingChanges(path === '' ? key : `${path}.${key}`, from[key], to[key]),
    );
  }
  if (JSON.stringify(base) === JSON.stringify(changed)) {
    return [];
  }
  return [`${path} ${shown(base)} -> ${shown(changed)}`];
}

interface CandidateEntry {
  key: string;
  weight: unknown;
}

/** Describes added, removed and reweighted candidates, and a new failover order. */
function candidateChanges(base: unknown, changed: unknown): string[] {
  const from = candidateEntries(base);
  const to = candidateEntries(changed);
  const fromKeys = from.map((entry) => entry.key);
  const toKeys = to.map((entry) => entry.key);
  const details: string[] = [];
  for (const [index, entry] of to.entries()) {
    const earlier = from.find((candidate) => candidate.key === entry.key);
    if (earlier === undefined) {
      details.push(
        `candidate ${entry.key} added at position ${index + 1}, weight ${shown(entry.weight)}`,
      );
    } else if (JSON.stringify(earlier.weight) !== JSON.stringify(entry.weight)) {
      details.push(
        `candidate ${entry.key} weight ${shown(earlier.weight)} -> ${shown(entry.weight)}`,
      );
    }
  }
  for (const key of fromKeys.filter((key) => !toKeys.includes(key))) {
    details.push(`candidate ${key} removed`);
  }
  // The order of the candidates in both lists, so an added or removed one is not a reorder.
  const orderAfter = toKeys.filter((key) => fromKeys.includes(key));
  const orderBefore = fromKeys.filter((key) => toKeys.includes(key));
  if (orderAfter.join(',') !== orderBefore.join(',')) {
    details.push(`failover order ${orderBefore.join(', ')} -> ${orderAfter.join(', ')}`);
  }
  return details;
}

function candidateEntries(value: unknown): CandidateEntry[] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value.filter(isPlainMap).map((candidate) => ({
    key: `${String(candidate.provider)}/${String(candidate.model)}`,
    weight: candidate.weight,
  }));
}

/** Describes the items a list gains and loses, such as `failoverOn added status_408`. */
function listChanges(name: string, base: unknown, changed: unknown): string[] {
  const from = Array.isArray(base) ? base.map(shown) : [];
  const to = Array.isArray(changed) ? changed.map(shown) : [];
  const added = to.filter((item) => !from.includes(item));
  const removed = from.filter((item) => !to.includes(item));
  const details: string[] = [];
  if (added.length > 0) {
    details.push(`${name} added ${added.join(', ')}`);
  }
  if (removed.length > 0) {
    details.push(`${name} removed ${removed.join(', ')}`);
  }
  return details;
}

function shown(value: unknown): string {
  if (value === undefined) {
    return 'default';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}
