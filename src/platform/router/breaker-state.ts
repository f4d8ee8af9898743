import type { ProviderErrorClass } from '../providers/errors.js';

/** Serialisable state of one provider/model circuit; times are monotonic milliseconds. */
export type BreakerState =
  | { kind: 'closed' }
  | { kind: 'open'; openedAt: number; reopensAt: number; errorClass: ProviderErrorClass }
  | { kind: 'half_open'; probesInFlight: number };

/** One state change of a circuit. */
export interface BreakerTransition {
  provider: string;
  model: string;
  from: BreakerState['kind'];
  to: BreakerState;
}

/**
 * Error classes that reveal nothing about the provider's health, so they never count
 * against a circuit. These are caller errors, the caller's own abort and the task's
 * deadline. A call's deadline is the task's remaining time, which earlier attempts
 * may have used up, so `deadline_exceeded` does not blame the provider.
 */
export const NEUTRAL_ERROR_CLASSES: ReadonlySet<ProviderErrorClass> = new Set([
  'status_400',
  'status_401',
  'status_403',
  'status_404',
  'status_413',
  'status_4xx',
  'aborted',
  'deadline_exceeded',
]);
