/** Titles and symptoms of the incidents that fault proxy toxics give. */
import type { ToxicType } from '../drill/spec.js';

/** Names and wording of the runbook incident of one toxic type. */
export interface ToxicKindText {
  title: string;
  symptom: string;
  /**
   * True when the toxic fails calls, so the success rate and the provider's error classes
   * are its signals; false when it only slows them.
   */
  failsCalls: boolean;
  /**
   * Set on the text of an upstream toxic that acts on the platform's requests, which reads
   * unlike the downstream one, so its incident is kept apart from a downstream toxic's.
   */
  onRequests?: true;
}

/**
 * Returns how the runbook names an upstream toxic of a type whose effect depends on the
 * direction: one on the platform's requests to `target`, not on its responses. Undefined for
 * a type that reads the same in both directions.
 */
function upstreamToxicText(type: ToxicType | undefined, target: string): ToxicKindText | undefined {
  const requests = `the platform's requests to ${target} through its proxy`;
  switch (type) {
    case 'bandwidth':
      return {
        title: `Bandwidth limit on requests to ${target}`,
        symptom: `The proxy passes ${requests} at a capped rate, so each request reaches ${target} later, the larger it is, and the time to first token and the latency of its calls rise.`,
        failsCalls: false,
        onRequests: true,
      };
    case 'slicer':
      return {
        title: `Sliced requests to ${target}`,
        symptom: `The proxy splits ${requests} into small chunks with a delay between them, so each request reaches ${target} later, the larger it is, and the time to first token of its calls rises.`,
        failsCalls: false,
        onRequests: true,
      };
    case 'limit_data':
      return {
        title: `Data limit on requests to ${target}`,
        symptom: `The proxy closes each connection of ${requests} once the platform has sent a set number of bytes on it, so a request that passes that count, with the earlier requests of a reused connection, never arrives whole and its call fails.`,
        failsCalls: true,
        onRequests: true,
      };
    default:
      return undefined;
  }
}

/**
 * Returns how the runbook names a `type` toxic on the proxy in front of `target`, or a
 * generic network fault when the record names no known type. `stream` is the direction the
 * toxic acted on; a report written before it was recorded gives undefined, read as
 * downstream, the drill's default.
 */
export function toxicKindText(
  type: ToxicType | undefined,
  target: string,
  stream?: 'upstream' | 'downstream',
): ToxicKindText {
  const upstream = stream === 'upstream' ? upstreamToxicText(type, target) : undefined;
  if (upstream !== undefined) return upstream;
  const calls = `calls through the proxy in front of ${target}`;
  switch (type) {
    case 'latency':
      return {
        title: `Latency spike on ${target}`,
        symptom: `Data on ${calls} arrives late, so the time to first token and the latency of the tasks ${target} serves rise.`,
        failsCalls: false,
      };
    case 'bandwidth':
      return {
        title: `Bandwidth limit on ${target}`,
        symptom: `The proxy passes the data of ${calls} at a capped rate, so long completions stream slowly and their latency rises.`,
        failsCalls: false,
      };
    case 'slicer':
      return {
        title: `Sliced stream on ${target}`,
        symptom: `The proxy splits the data of ${calls} into small chunks with a delay between them, so streams arrive in pieces and take longer.`,
        failsCalls: false,
      };
    case 'slow_close':
      return {
        title: `Slow connection close on ${target}`,
        symptom: `The proxy delays the close of each connection of ${calls}, so a call that waits for the close takes longer.`,
        failsCalls: false,
      };
    case 'timeout':
      return {
        title: `Connection timeout on ${target}`,
        symptom: `The proxy drops all data of ${calls}, so no answer arrives and calls fail at their route's time limits in the policy or when the proxy closes the connection.`,
        failsCalls: true,
      };
    case 'reset_peer':
      return {
        title: `Connection resets on ${target}`,
        symptom: `The proxy resets each connection of ${calls} after its first data, so calls fail with connection errors.`,
        failsCalls: true,
      };
    case 'limit_data':
      return {
        title: `Data limit on ${target}`,
        symptom: `The proxy closes each connection of ${calls} after a set number of bytes, so long completions end early and their calls fail.`,
        failsCalls: true,
      };
    case undefined:
      return {
        title: `Network fault on ${target}`,
        symptom: `A fault proxy toxic acts on ${calls}; the runbook does not read its type, so read it in the injected settings below.`,
        failsCalls: false,
      };
  }
}
