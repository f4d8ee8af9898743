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
 * Describes why a circuit changed state, such as `half-open probe succeeded`. An open
 * names the error class of the call that tripped it and the wait before the first probe.
 */
export function transitionReason(transition: BreakerTransition): string {
  const { from, to } = transition;
  if (to.kind === 'open') {
    const waitMs = Math.round(to.reopensAt - to.openedAt);
    const cause =
      from === 'half_open'
        ? `half-open probe failed with ${to.errorClass}`
        : `failure threshold reached, last error ${to.errorClass}`;
    return `${cause}; half-open in ${waitMs} ms`;
  }
  if (to.kind === 'half_open') return 'open wait ended';
  return from === 'half_open' ? 'half-open probe succeeded' : `${from} to closed`;
}

/**
 * Error classes that reveal nothing about the provider's health by themselves, so they
 * do not count against a circuit. These are caller errors, the caller's own abort and
 * the task's deadline. A call's deadline is the task's remaining time, which earlier
 * attempts may have used up, so `deadline_exceeded` counts only when the call had at
 * least {@link SLOW_CALL_DEADLINE_SHARE} of the route's deadline (see
 * `blamesProvider` in provider-attempt.ts).
 */
export const NEUTRAL_ERROR_CLASSES: ReadonlySet<ProviderErrorClass> = new Set([
  'status_400',
  'context_length_exceeded',
  'status_401',
  'status_403',
  'status_404',
  'status_413',
  'status_4xx',
  'aborted',
  'deadline_exceeded',
]);

/**
 * Share of the route's deadline a call must have had for a deadline ending to count
 * against the provider. A provider that cannot finish within half the task's time is
 * too slow for the route, and without this its circuit would never open.
 */
export const SLOW_CALL_DEADLINE_SHARE = 0.5;
