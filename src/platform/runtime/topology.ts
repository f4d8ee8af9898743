/** Executor layout of a platform run. */
export interface Topology {
  /** Async consumers (jobs run at once) pulling from the queue. */
  workers: number;
  /** Sync tasks run on the serverless emulator when true, in the gateway process when false. */
  serverlessBurst: boolean;
}

export const DEFAULT_TOPOLOGY: Topology = { workers: 24, serverlessBurst: true };

/**
 * Parses `workers=<n> serverless_burst=enabled|disabled` (either part may be
 * left out), the form reports print.
 * @throws RangeError naming the part that is invalid.
 */
export function parseTopology(text: string): Topology {
  const topology = { ...DEFAULT_TOPOLOGY };
  const seen = new Set<string>();
  for (const part of text
    .trim()
    .split(/\s+/)
    .filter((item) => item.length > 0)) {
    // Split at the first `=` only, so a part such as `workers=2=3` keeps `2=3` and fails.
    const equals = part.indexOf('=');
    const name = equals < 0 ? part : part.slice(0, equals);
    const value = equals < 0 ? '' : part.slice(equals + 1);
    if (seen.has(name)) {
      throw new RangeError(`invalid topology: ${name} is given twice; keep one ${name}= part`);
    }
    seen.add(name);
    if (name === 'workers' && /^\d+$/.test(value) && !Number.isSafeInteger(Number(value))) {
      // Number() would round such a count, so the run and its outputs would name another one.
      throw new RangeError(
        `invalid topology part ${JSON.stringify(part)}: workers is above ${Number.MAX_SAFE_INTEGER}, the largest integer a JavaScript number stores exactly, so pass a smaller worker count`,
      );
    }
    if (name === 'workers' && /^\d+$/.test(value) && Number(value) >= 1) {
      topology.workers = Number(value);
    } else if (name === 'serverless_burst' && (value === 'enabled' || value === 'disabled')) {
      topology.serverlessBurst = value === 'enabled';
    } else {
      throw new RangeError(
        `invalid topology part ${JSON.stringify(part)}: expected workers=<integer >= 1> or serverless_burst=enabled|disabled, with a space between parts`,
      );
    }
  }
  return topology;
}

/** Formats a topology as `workers=<n> serverless_burst=enabled|disabled`. */
export function formatTopology(topology: Topology): string {
  const burst = topology.serverlessBurst ? 'enabled' : 'disabled';
  return `workers=${topology.workers} serverless_burst=${burst}`;
}
