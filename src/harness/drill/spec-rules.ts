/** Rules of a drill spec that its JSON Schema cannot state, checked after the schema. */
import { TOXIC_ATTRIBUTE_SPECS } from '../../faults/proxy/toxic-attributes.js';
import { alternatives, similarNames } from '../../platform/router/similar-names.js';
import { DrillSpecError } from './errors.js';
import { faultIntervals, holdsWholeSecond, type Interval, notCheckedReason } from './probes.js';
import { measureRange } from './probe-range.js';
import { type DrillSpec, type FaultStep, type ProbeSpec, SERIES_MEASURES } from './spec.js';

function checkTimeline(spec: DrillSpec): void {
  const seen = new Set<string>();
  spec.faults.forEach((step, index) => {
    if (seen.has(step.id)) {
      throw new DrillSpecError(`faults[${index}].id`, `repeats the id ${step.id}`);
    }
    seen.add(step.id);
    if (step.atS >= spec.durationS) {
      throw new DrillSpecError(
        `faults[${index}].atS`,
        `is ${step.atS} s, at or after the drill's end at durationS ${spec.durationS} s; ` +
          `start the fault before ${spec.durationS} s or raise durationS`,
      );
    }
    const end = step.atS + step.durationS;
    if (end > spec.durationS) {
      throw new DrillSpecError(
        `faults[${index}].durationS`,
        `is ${step.durationS} s, so the fault ends at ${end} s, after the drill's durationS ` +
          `of ${spec.durationS} s; shorten it to at most ${spec.durationS - step.atS} s or ` +
          `raise the drill's durationS to ${end} s`,
      );
    }
  });
}

/**
 * Rejects two provider faults on one provider whose windows overlap. A provider keeps one
 * fault configuration, which each PUT replaces and the DELETE that ends a step clears, so
 * ending the first step would silently end the second. Toxics do not clash, because each
 * step adds and removes its own named toxic, and a toxic on proxy X and a provider fault
 * on provider X act on different parts.
 */
function checkProviderOverlaps(spec: DrillSpec): void {
  const window = (step: FaultStep): string => `${step.atS} s to ${step.atS + step.durationS} s`;
  spec.faults.forEach((later, laterIndex) => {
    if (later.kind !== 'provider-fault') return;
    const earlierIndex = spec.faults.findIndex(
      (step, index) =>
        index < laterIndex &&
        step.kind === 'provider-fault' &&
        step.provider === later.provider &&
        step.atS < later.atS + later.durationS &&
        later.atS < step.atS + step.durationS,
    );
    const earlier = spec.faults[earlierIndex];
    if (earlier === undefined) return;
    const earlierEndS = earlier.atS + earlier.durationS;
    throw new DrillSpecError(
      `faults[${laterIndex}]`,
      `(${later.id}, ${window(later)}) overlaps faults[${earlierIndex}] (${earlier.id}, ` +
        `${window(earlier)}) on provider ${later.provider}. Ending either one clears every ` +
        `fault on the provider, so start ${later.id} at ${earlierEndS} s or later, or merge ` +
        'the two into one step',
    );
  });
}

/**
 * Rejects two worker pauses whose windows overlap. The workers have one paused state, so
 * the end of the first pause would resume the workers that the second one keeps paused.
 */
function checkWorkerPauseOverlaps(spec: DrillSpec): void {
  const pauses = spec.faults
    .map((step, index) => ({ step, index }))
    .filter(({ step }) => step.kind === 'worker-pause');
  for (const later of pauses) {
    const earlier = pauses.find(
      ({ step, index }) =>
        index < later.index &&
        step.atS < later.step.atS + later.step.durationS &&
        later.step.atS < step.atS + step.durationS,
    );
    if (earlier === undefined) continue;
    const endS = earlier.step.atS + earlier.step.durationS;
    throw new DrillSpecError(
      `faults[${later.index}]`,
      `(${later.step.id}) overlaps the worker pause faults[${earlier.index}] ` +
        `(${earlier.step.id}, which ends at ${endS} s). Ending either one resumes every ` +
        `worker, so start ${later.step.id} at ${endS} s or later, or merge the two into one step`,
    );
  }
}

/**
 * Rejects a spec whose before window, any during window or after window contains no whole
 * second. Series probes read the one-second buckets inside a window (see `phaseWindows` in
 * probes.ts), so an empty window is left out of the verdict and a shorter one always fails
 * for lack of data. A between window without a whole second is left out too, because the
 * gap seconds then all fall in the settling time that no window checks.
 */
function checkPhaseWindows(spec: DrillSpec): void {
  if (spec.faults.length === 0) return;
  const firstIndex = spec.faults.reduce(
    (best, step, index) => (step.atS < (spec.faults[best]?.atS ?? step.atS) ? index : best),
    0,
  );
  const firstS = spec.faults[firstIndex]?.atS ?? 0;
  if (firstS < 1) {
    throw new DrillSpecError(
      `faults[${firstIndex}].atS`,
      `is ${firstS} s, so the before window from 0 s to ${firstS} s contains no whole ` +
        'second and the steady state is never checked before the faults; start the first ' +
        'fault at 1 s or later',
    );
  }
  const intervals = faultIntervals(spec.faults);
  for (const interval of intervals) {
    checkDuringWindow(spec, interval);
  }
  const lastEndS = intervals.at(-1)?.toS ?? 0;
  const { settleS } = spec.steadyState;
  const afterS = lastEndS + settleS;
  // The first whole second of the after window is [ceil(afterS), ceil(afterS) + 1).
  const minDurationS = Math.ceil(afterS) + 1;
  if (minDurationS > spec.durationS) {
    const maxSettleS = Math.floor(spec.durationS) - 1 - lastEndS;
    const fixes = [
      ...(maxSettleS >= 0 ? [`lower settleS to at most ${maxSettleS} s`] : []),
      `raise durationS to at least ${minDurationS} s`,
    ];
    throw new DrillSpecError(
      'steadyState.settleS',
      `is ${settleS} s, so the after window opens at ${afterS} s (the last fault ends at ` +
        `${lastEndS} s) and contains no whole second before durationS ${spec.durationS} s; ` +
        `the steady state is never checked after the faults. ${capitalize(fixes.join(' or '))}`,
    );
  }
}

/** Rejects a stretch of active faults that contains no whole second, naming its last step. */
function checkDuringWindow(spec: DrillSpec, interval: Interval): void {
  if (holdsWholeSecond(interval)) return;
  const lastIndex = spec.faults.findIndex(
    (step) => step.atS >= interval.fromS && step.atS + step.durationS === interval.toS,
  );
  // The first whole second of the window is [ceil(fromS), ceil(fromS) + 1).
  const minEndS = Math.ceil(interval.fromS) + 1;
  throw new DrillSpecError(
    `faults[${lastIndex}].durationS`,
    `is ${spec.faults[lastIndex]?.durationS} s, so the faults run from ${interval.fromS} s ` +
      `to ${interval.toS} s, a window that contains no whole second, and the steady state ` +
      `during the faults always fails for lack of data; let the faults last until ` +
      `${minEndS} s or later`,
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Rejects a failover whose fallback is the provider the same step fails. */
function checkFallbacks(spec: DrillSpec): void {
  spec.faults.forEach((step, index) => {
    if (step.kind !== 'provider-fault' || step.failover?.fallback !== step.provider) return;
    throw new DrillSpecError(
      `faults[${index}].failover.fallback`,
      `is ${step.provider}, the provider this step fails; name the provider that takes ` +
        'over its traffic, or drop failover',
    );
  });
}

/**
 * Measures that are shares from 0 to 1. The failover rate is not one: it counts failovers
 * per request, and a request may fail over more than once.
 */
const RATE_MEASURES: readonly string[] = ['successRate'];

/**
 * Rejects a success-rate threshold or tolerance above 1, which a spec gets when it writes a
 * percentage.
 * A success-rate minimum of 99 fails every window, and an abort rule "below 50" fires as
 * soon as its first `forS` seconds have passed.
 */
function checkRate(field: string, measure: string, threshold: number): void {
  if (!RATE_MEASURES.includes(measure) || threshold <= 1) return;
  const hint =
    threshold <= 100
      ? `write ${Number((threshold / 100).toPrecision(12))} for ${threshold}%`
      : 'a rate runs from 0 to 1';
  throw new DrillSpecError(
    field,
    `is ${threshold}, outside 0 to 1 for the rate ${measure}; ${hint}`,
  );
}

/**
 * Rejects a probe that is not checked in any window of the drill, so it could only ever
 * be reported as not checked, and `duringTolerance` beside `checkDuring: false`, which
 * leaves that tolerance unused.
 */
function checkProbeCanFail(spec: DrillSpec, probe: ProbeSpec, field: string): void {
  if (probe.checkDuring === false && probe.duringTolerance !== undefined) {
    throw new DrillSpecError(
      `${field}.duringTolerance`,
      `is ${probe.duringTolerance}, but checkDuring is false, so no window uses it; ` +
        'remove duringTolerance or checkDuring',
    );
  }
  // Before, between and after windows share `tolerance`, so `before` stands for all three.
  const reason = notCheckedReason(probe, 'before');
  if (reason === undefined) return;
  if (spec.faults.length > 0 && notCheckedReason(probe, 'during') === undefined) return;
  throw new DrillSpecError(
    `${field}.tolerance`,
    `is ${probe.tolerance}, so ${probe.name} can fail in no window of the drill (${reason}); ` +
      `${tighteningHint(probe)}, or remove the probe`,
  );
}

/** Says how to tighten a probe whose limit admits every value of its measure. */
function tighteningHint(probe: ProbeSpec): string {
  const range = measureRange(probe);
  if (range === undefined) return 'tighten the limit';
  const round = (value: number): number => Number(value.toPrecision(12));
  if (probe.comparator === 'min') {
    return probe.threshold > range.min
      ? `lower the tolerance below ${round(probe.threshold - range.min)}`
      : `raise the threshold above ${range.min}`;
  }
  return probe.threshold < range.max
    ? `lower the tolerance below ${round(range.max - probe.threshold)}`
    : `lower the threshold below ${range.max}`;
}

function checkProbes(spec: DrillSpec): void {
  spec.steadyState.probes.forEach((probe, index) => {
    const measures: readonly string[] = SERIES_MEASURES;
    if (probe.source === 'series' && !measures.includes(probe.measure)) {
      throw new DrillSpecError(
        `steadyState.probes[${index}].measure`,
        `must be one of ${SERIES_MEASURES.join(', ')} for a series probe, got ${probe.measure}`,
      );
    }
    if (probe.source === 'series') {
      const field = `steadyState.probes[${index}]`;
      checkRate(`${field}.threshold`, probe.measure, probe.threshold);
      checkRate(`${field}.tolerance`, probe.measure, probe.tolerance);
      if (probe.duringTolerance !== undefined) {
        checkRate(`${field}.duringTolerance`, probe.measure, probe.duringTolerance);
      }
    }
    checkProbeCanFail(spec, probe, `steadyState.probes[${index}]`);
  });
  spec.abortRules.forEach((rule, index) => {
    checkRate(`abortRules[${index}].threshold`, rule.measure, rule.threshold);
  });
}

/**
 * Rejects a toxic attribute that its toxic type does not take, or that is not an integer in
 * range. The fault proxy rejects such a toxic with 400 only when the drill applies it, with the
 * platform running, and a real Toxiproxy ignores an unknown attribute and leaves the toxic idle.
 */
function checkToxicAttributes(spec: DrillSpec): void {
  spec.faults.forEach((step, index) => {
    if (step.kind !== 'toxic') return;
    const { type, attributes } = step.toxic;
    const specs = TOXIC_ATTRIBUTE_SPECS[type];
    const known = Object.entries(specs).map(([name, { unit }]) => `${name} (${unit})`);
    for (const [name, value] of Object.entries(attributes)) {
      const field = `faults[${index}].toxic.attributes.${name}`;
      // Object.hasOwn, so that a name such as `constructor` is not read from the prototype.
      const attribute = Object.hasOwn(specs, name) ? specs[name] : undefined;
      if (attribute === undefined) {
        const similar = similarNames(name, Object.keys(specs));
        const list = known.join(', ');
        const fix =
          similar.length === 0
            ? `its attributes are ${list}`
            : `did you mean ${alternatives(similar, (n) => n)}? Its attributes are ${list}`;
        throw new DrillSpecError(field, `is not an attribute of a ${type} toxic; ${fix}`);
      }
      if (!Number.isInteger(value) || value > attribute.max) {
        throw new DrillSpecError(
          field,
          `is ${value}, but a ${type} toxic takes ${name} as an integer from 0 to ` +
            `${attribute.max} (${attribute.unit}); write a whole number of ${attribute.unit}`,
        );
      }
    }
  });
}

/**
 * Checks the rules between fields of a spec that passed the schema: the fault timeline,
 * toxic attributes, the phase windows, failover fallbacks and probe thresholds.
 * @throws {@link DrillSpecError} naming the path of the first invalid field.
 */
export function checkSpecRules(spec: DrillSpec): void {
  checkTimeline(spec);
  checkToxicAttributes(spec);
  checkProviderOverlaps(spec);
  checkWorkerPauseOverlaps(spec);
  checkPhaseWindows(spec);
  checkFallbacks(spec);
  checkProbes(spec);
}
