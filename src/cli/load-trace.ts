import { SCENARIOS } from '../../scenarios/index.js';
import { isTraceEndsEarlyError, loadScenarioTrace } from '../harness/scenario/scenario-trace.js';
import type { TraceRow } from '../harness/scenario/trace.js';
import type { ScenarioSpec } from '../harness/scenario/types.js';
import { UsageError } from './command-errors.js';

/**
 * Reads the trace rows of a trace-replay scenario for `scalegate load`, or returns undefined
 * for another arrival kind. The command line cannot set a scenario's trace file, so a trace
 * that ends before the run raises a UsageError that names the maximum `--duration`
 * and the shipped scenarios that replay no trace.
 * @throws UsageError for a trace that ends before the run; the errors of
 *   {@link loadScenarioTrace} otherwise.
 */
export async function loadCommandTrace(
  scenario: ScenarioSpec,
  durationOption: number | undefined,
): Promise<TraceRow[] | undefined> {
  try {
    return await loadScenarioTrace(scenario, scenario.durationSec);
  } catch (error) {
    if (!isTraceEndsEarlyError(error)) throw error;
    const run =
      durationOption === undefined
        ? `The default duration of ${scenario.durationSec} s`
        : `--duration ${durationOption}`;
    const idleSec = scenario.durationSec - error.endSec;
    const fits = Math.floor(error.endSec);
    const durationFix = fits >= 1 ? `pass --duration ${fits} or less, or ` : '';
    throw new UsageError(
      `${run} is longer than the trace of scenario ${scenario.name}, which ends ` +
        `${error.endSec.toFixed(1)} s into the run at speedUp ${error.speedUp} ` +
        `(${error.file}), so the last ${idleSec.toFixed(1)} s would send nothing and lower ` +
        `the per-minute rates; ${durationFix}pass a --scenario that replays no trace: ` +
        `${scenariosWithoutTrace().join(', ')}`,
    );
  }
}

/** Returns the `--scenario` names of the shipped scenarios whose arrivals are not a trace. */
function scenariosWithoutTrace(): string[] {
  return Object.entries(SCENARIOS)
    .filter(([, scenario]) => scenario.arrival.kind !== 'trace')
    .map(([name]) => name);
}
