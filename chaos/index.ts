import type { DrillSpec } from '../src/harness/drill/spec.js';
import { providerOutageDrill } from './provider-outage.js';

/** Shipped drills by name. */
export const DRILLS: Readonly<Record<string, DrillSpec>> = {
  [providerOutageDrill.name]: providerOutageDrill,
};
