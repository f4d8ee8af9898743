import type { FaultRecord, TopologyResult } from '../report/types.js';
import type { DrillSpec, FaultStep, InfraFaultStep } from './spec.js';

export interface TimelineEvent {
  atS: number;
  action: 'start' | 'end';
  step: FaultStep;
}

/** Lists the start and end of every fault step in time order. */
export function timeline(spec: DrillSpec): TimelineEvent[] {
  const events = spec.faults.flatMap((step): TimelineEvent[] => [
    { atS: step.atS, action: 'start', step },
    { atS: step.atS + step.durationS, action: 'end', step },
  ]);
  // Ends sort before starts at the same offset, so back-to-back windows never overlap.
  return events.sort((a, b) => a.atS - b.atS || (a.action === 'end' ? -1 : 1));
}

/** Returns whether the fault driver applies the step: a toxic or a provider fault. */
export function isInfra(step: FaultStep): step is InfraFaultStep {
  return step.kind === 'toxic' || step.kind === 'provider-fault';
}

function describe(step: FaultStep): { target: string; description: string } {
  switch (step.kind) {
    case 'toxic':
      return {
        target: step.proxy,
        description: `${step.toxic.type} ${JSON.stringify(step.toxic.attributes)}`,
      };
    case 'provider-fault':
      return { target: step.provider, description: JSON.stringify(step.faults) };
    case 'tenant-burst':
      return { target: step.tenant, description: `${step.quotaMultiplier}x quota` };
    case 'worker-pause':
      return { target: 'async workers', description: 'every async worker paused' };
  }
}

/** Creates the journal record of a step before it runs. */
export function newRecord(step: FaultStep): FaultRecord {
  const end = step.atS + step.durationS;
  const base = { id: step.id, kind: step.kind, ...describe(step), startS: step.atS, endS: end };
  const record: FaultRecord = { ...base, appliedAtS: null, removedAtS: null };
  if (step.kind === 'toxic') {
    record.toxic = {
      stream: step.toxic.stream ?? 'downstream',
      toxicity: step.toxic.toxicity ?? 1,
    };
  }
  return record;
}

/** Counts the requests that admission or backpressure rejected (429 and 503). */
export function shedCount(result: TopologyResult): number {
  return (result.statusCounts['429'] ?? 0) + (result.statusCounts['503'] ?? 0);
}
