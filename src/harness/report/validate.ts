import { readFileSync } from 'node:fs';

import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

import { ReportValidationError, type ReportIssue } from './errors.js';
import type { LatencySummary, Report } from './types.js';

const SCHEMA_URL = new URL('../../../reports/schema/report.schema.json', import.meta.url);

type FormatsPlugin = typeof addFormatsModule.default;

// ajv-formats is CommonJS: under nodenext the default import is its module.exports, which is the
// plugin function itself at run time, while its typings describe a module with a `default` member.
const addFormats: FormatsPlugin =
  (addFormatsModule as { default?: FormatsPlugin }).default ??
  (addFormatsModule as unknown as FormatsPlugin);

let compiled: (((data: unknown) => boolean) & { errors?: ErrorObject[] | null }) | undefined;

function validator(): NonNullable<typeof compiled> {
  if (compiled === undefined) {
    // verbose adds the failing value and its schema to each error, for the message.
    const ajv = new Ajv2020({
      allErrors: true,
      strict: true,
      allowUnionTypes: true,
      verbose: true,
    });
    addFormats(ajv);
    const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as object;
    compiled = ajv.compile(schema);
  }
  return compiled;
}

function toIssue(error: ErrorObject): ReportIssue {
  const issue: ReportIssue = {
    instancePath: error.instancePath,
    keyword: error.keyword,
    message: error.message ?? 'invalid',
  };
  if (error.keyword !== 'required' && error.data !== undefined) {
    issue.value = shortJson(error.data);
  }
  const description = (error.parentSchema as { description?: unknown } | undefined)?.description;
  if (typeof description === 'string') issue.expected = description;
  return issue;
}

function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= 80 ? text : `${text.slice(0, 77)}...`;
}

/** Relative tolerance of cost sums, for the rounding of adding many floats. */
const SUM_TOLERANCE = 1e-6;

/**
 * Checks what the schema cannot: latency percentiles in order and cost slices that add
 * up to the cost total. Returns one issue per broken rule.
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
