/** Titles, symptoms and error classes of the incidents that mock provider faults give. */
import type { ProviderFaultKind } from './fault-settings.js';

/** Names and wording of the runbook incident of one kind of provider fault. */
export interface ProviderKindText {
  title: string;
  /** Groups the same incident across reports, such as `provider-outage:provider-a`. */
  key: string;
  /** Word for the fault in sentences, such as `the outage started`. */
  noun: 'outage' | 'fault';
  symptom: string;
  /**
   * `error_class` label of `scalegate_provider_errors_total` that the platform counts for the
   * fault's failed calls, or undefined when the class depends on the injected status or on
   * the route's time limits.
   */
  errorClass?: string;
}

/** Returns how the runbook names a provider fault of `kind` on `provider`. */
export function providerKindText(kind: ProviderFaultKind, provider: string): ProviderKindText {
  const fault = (title: string, slug: string, symptom: string, errorClass?: string) => ({
    title: `${title}: ${provider}`,
    key: `provider-${slug}:${provider}`,
    noun: 'fault' as const,
    symptom,
    ...(errorClass === undefined ? {} : { errorClass }),
  });
  switch (kind) {
    case 'outage':
      return {
        title: `Provider outage: ${provider}`,
        key: `provider-outage:${provider}`,
        noun: 'outage',
        symptom: `${provider} fails every call with an error status, so the router sends its traffic to another provider.`,
      };
    case 'errors':
      return fault(
        'Provider errors',
        'errors',
        `${provider} fails a share of its calls with an error status and serves the others, so only the failed calls go to another provider.`,
      );
    case 'rate-limit':
      return fault(
        'Provider rate limiting',
        'rate-limit',
        `${provider} rejects calls with 429 and a \`Retry-After\`, so they go to another provider, and while the breaker of ${provider} is open it stays open at least that long.`,
        'status_429',
      );
    case 'hang':
      return fault(
        'Provider hang',
        'hang',
        `${provider} accepts each call and never answers, so each call waits for its route's time limit in the policy (\`firstTokenTimeoutMs\`, or \`stallTimeoutMs\` for a call that does not stream) and then fails.`,
      );
    case 'stream-error':
      return fault(
        'Provider stream errors',
        'stream-error',
        `${provider} starts each completion and then ends it with an error event, so calls fail after some text has arrived.`,
        'stream_error_event',
      );
    case 'stream-cut':
      return fault(
        'Provider stream cut',
        'stream-cut',
        `${provider} starts each completion and then closes the connection without the final event, so calls fail after some text has arrived.`,
        'stream_truncated',
      );
    case 'stream-stall':
      return fault(
        'Provider stream stall',
        'stream-stall',
        `${provider} sends the first token of each completion and then nothing more while it keeps the connection open, so calls fail at their route's \`stallTimeoutMs\` in the policy.`,
        'stream_stalled',
      );
    case 'malformed-stream':
      return fault(
        'Malformed provider stream',
        'malformed-stream',
        `${provider} sends a line of invalid JSON in each completion's stream, so calls fail when the platform parses that line.`,
        'malformed_response',
      );
    case 'slowdown':
      return fault(
        'Provider slowdown',
        'slowdown',
        `${provider} answers every call, but its first token arrives late, so the latency of every task it serves rises. A call fails with \`first_token_timeout\` only where the delay is longer than its route's \`firstTokenTimeoutMs\` in the policy.`,
      );
    case 'unknown':
      return fault(
        'Provider fault',
        'fault',
        `The drill set faults on ${provider} that the runbook sorts into no kind: read them in the injected settings below.`,
      );
  }
}
