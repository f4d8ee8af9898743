import { exercisedRoutes, unexercisedChangedRoutes } from '../drill/policy-change.js';
import { breakerIssues } from './breakers.js';
import { ReportValidationError, type ReportIssue } from './errors.js';
import { compileSchema, type SchemaCheck, shortJson, toIssue } from './schema-check.js';
import type { LatencySummary, Report, TopologyResult } from './types.js';

/** Location of the report's JSON Schema in the scalegate checkout. */
export const REPORT_SCHEMA_URL = new URL(
  '../../../reports/schema/report.schema.json',
  import.meta.url,
);

let compiled: SchemaCheck | undefined;

function validator(): SchemaCheck {
  compiled ??= compileSchema(REPORT_SCHEMA_URL);
  return compiled;
}

/** Relative tolerance of cost sums, for the rounding of adding many floats. */
const SUM_TOLERANCE = 1e-6;

/** Lists the series points whose failovers per provider pair do not add up to `failovers`. */
function failoverPairIssues(result: TopologyResult, base: string): ReportIssue[] {
  const issues: ReportIssue[] = [];
  for (const [index, point] of result.timeSeries.entries()) {
    if (point.failoversByPair === undefined) continue;
    let sum = 0;
    for (const targets of Object.values(point.failoversByPair)) {
      for (const activations of Object.values(targets)) sum += activations;
    }
    if (sum === point.failovers) continue;
    issues.push({
      instancePath: `${base}/timeSeries/${index}/failovers`,
      keyword: 'failoverPairSum',
      message: `the pairs of failoversByPair add up to ${sum}`,
      value: shortJson(point.failovers),
      expected: 'the sum of the counts in failoversByPair',
    });
  }
  return issues;
}

/** Lists the fallback route entries that count more successful calls than calls. */
function fallbackAttemptIssues(result: TopologyResult, base: string): ReportIssue[] {
  return (result.fallbackRouteAttempts ?? []).flatMap((entry, index) =>
    entry.succeeded <= entry.attempts
      ? []
      : [
          {
            instancePath: `${base}/fallbackRouteAttempts/${index}/succeeded`,
            keyword: 'fallbackSucceeded',
            message: `more successful calls than the ${entry.attempts} calls`,
            value: shortJson(entry.succeeded),
            expected: 'at most attempts',
          },
        ],
  );
}

/**
 * Checks what the schema cannot: latency percentiles in order, cost slices that add up to
 * the cost total, failovers per provider pair that add up to each second's failovers,
 * successful fallback route calls within their calls, breaker transitions that agree with
 * their states and open time, and a policy change whose unexercised routes agree with its
 * changes and the exercised routes. Returns one issue per broken rule.
 */
function semanticIssues(report: Report): ReportIssue[] {
  const issues: ReportIssue[] = [];
  for (const [index, result] of report.topologies.entries()) {
    const base = `/topologies/${index}`;
    const latencies: [string, LatencySummary][] = [
      [`${base}/latency`, result.latency],
      ...result.perTenant.map((slice, at): [string, LatencySummary] => [
        `${base}/perTenant/${at}/latency`,
        slice.latency,
      ]),
      ...result.perRoute.map((slice, at): [string, LatencySummary] => [
        `${base}/perRoute/${at}/latency`,
        slice.latency,
      ]),
    ];
    for (const [path, latency] of latencies) {
      if (latency.p50S <= latency.p95S && latency.p95S <= latency.p99S) continue;
      issues.push({
        instancePath: path,
        keyword: 'percentileOrder',
        message: 'percentiles out of order',
        value: shortJson(latency),
        expected: 'p50S <= p95S <= p99S, all in seconds',
      });
    }
    const { cost } = result;
    for (const slices of ['byTenant', 'byRoute'] as const) {
      if (cost[slices].length === 0) continue;
      const sum = cost[slices].reduce((total, slice) => total + slice.totalUsd, 0);
      if (Math.abs(sum - cost.totalUsd) <= SUM_TOLERANCE * Math.max(1, cost.totalUsd)) continue;
      issues.push({
        instancePath: `${base}/cost/totalUsd`,
        keyword: 'costSum',
        message: `the ${slices} slices add up to ${sum}`,
        value: shortJson(cost.totalUsd),
        expected: `the sum of cost.${slices}[].totalUsd`,
      });
    }
    issues.push(...failoverPairIssues(result, base));
    issues.push(...fallbackAttemptIssues(result, base));
  }
  const breakers = report.drill?.breakers;
  if (breakers !== undefined && breakers !== null) {
    issues.push(...breakerIssues(breakers, '/drill/breakers'));
  }
  const change = report.policyChange;
  if (change !== undefined) {
    const exercised = exercisedRoutes(report.scenario.routes, report.topologies);
    const expected = unexercisedChangedRoutes(change.changes, exercised);
    if (JSON.stringify(expected) !== JSON.stringify(change.unexercisedRoutes)) {
      issues.push({
        instancePath: '/policyChange/unexercisedRoutes',
        keyword: 'unexercisedRoutes',
        message: `the changes, scenario.routes and fallbackRouteAttempts give ${JSON.stringify(expected)}`,
        value: shortJson(change.unexercisedRoutes),
        expected:
          'the added or changed routes of policyChange.changes that are neither in ' +
          'scenario.routes nor a fallbackRoute of topologies[].fallbackRouteAttempts',
      });
    }
  }
  return issues;
}

/**
 * Checks `value` against the report schema, then the rules the schema cannot state, and
 * returns it typed.
 * @throws {@link ReportValidationError} naming the first failing JSON path, its value and
 *   what it should be.
 */
export function validateReport(value: unknown): Report {
  const check = validator();
  if (!check(value)) {
    throw new ReportValidationError((check.errors ?? []).map(toIssue));
  }
  const report = value as Report;
  const issues = semanticIssues(report);
  if (issues.length > 0) throw new ReportValidationError(issues);
  return report;
}
