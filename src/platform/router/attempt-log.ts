import type { ProviderErrorClass } from '../providers/errors.js';
import type { AttemptRecord, TokenUsage } from '../task.js';
import type { Candidate } from './policy-types.js';
import type { SkipReason } from './router-events.js';
import { candidateRef, type TaskRunContext } from './task-run-context.js';

/**
 * The attempt records of one task. Each record is also emitted: a call as
 * `attempt_end`, a candidate passed over as `attempt_skipped`.
 */
export class AttemptLog {
  readonly #records: AttemptRecord[] = [];
  readonly #routeName: string;
  readonly #emit: TaskRunContext['emit'];
  readonly #candidateRouteOf: TaskRunContext['candidateRouteOf'];

  constructor(context: Pick<TaskRunContext, 'routeName' | 'emit' | 'candidateRouteOf'>) {
    this.#routeName = context.routeName;
    this.#emit = context.emit;
    this.#candidateRouteOf = context.candidateRouteOf;
  }

  /** Returns a copy of the records so far, in call order. */
  list(): AttemptRecord[] {
    return [...this.#records];
  }

  succeeded(candidate: Candidate, latencyMs: number): void {
    this.#records.push({ ...candidateRef(candidate), outcome: 'success', latencyMs });
    this.#emit('attempt_end', {
      route: this.#routeName,
      candidateRoute: this.#candidateRouteOf(candidate),
      ...candidateRef(candidate),
      outcome: 'success',
      latencyMs,
    });
  }

  /** Records a failed call with `usage`, the tokens its provider bills for it. */
  failed(
    candidate: Candidate,
    errorClass: ProviderErrorClass,
    latencyMs: number,
    usage?: TokenUsage,
  ): void {
    const record = {
      ...candidateRef(candidate),
      outcome: 'failed' as const,
      errorClass,
      latencyMs,
    };
    this.#records.push(usage === undefined ? record : { ...record, usage });
    const candidateRoute = this.#candidateRouteOf(candidate);
    this.#emit('attempt_end', { route: this.#routeName, candidateRoute, ...record });
  }

  skipped(candidate: Candidate, reason: SkipReason): void {
    this.#records.push({
      ...candidateRef(candidate),
      outcome: 'skipped',
      errorClass: reason,
      latencyMs: 0,
    });
    this.#emit('attempt_skipped', {
      route: this.#routeName,
      ...candidateRef(candidate),
      reason,
    });
  }
}
