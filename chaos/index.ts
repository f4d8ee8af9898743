import type { DrillSpec } from '../src/harness/drill/spec.js';
import { providerOutageDrill } from './provider-outage.js';
import { workerLossDrill } from './worker-loss.js';

/** Shipped drills by name. */
export const DRILLS: Readonly<Record<string, DrillSpec>> = {
  [providerOutageDrill.name]: providerOutageDrill,
  [workerLossDrill.name]: workerLossDrill,
};
