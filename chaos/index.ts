import type { DrillSpec } from '../src/harness/drill/spec.js';
import { specsByName } from '../src/harness/specs-by-name.js';
import { providerOutageDrill } from './provider-outage.js';
import { workerLossDrill } from './worker-loss.js';

/** Shipped drills by name, in the order `drill --help` lists them. */
export const DRILLS: Readonly<Record<string, DrillSpec>> = specsByName('drill', 'chaos/index.ts', [
  providerOutageDrill,
  workerLossDrill,
]);
