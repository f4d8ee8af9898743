import type { ProviderProfile } from '../../faults/providers/index.js';
import type { FleetProxyOptions, ProviderFleet } from './providers.js';

/** Messages from the parent to a fleet child process. */
export type FleetRequest =
  | {
      type: 'start';
      profiles: ProviderProfile[];
      seed: number;
      timeScale: number;
      proxy: FleetProxyOptions;
    }
  | { type: 'stop' };

/** The serialisable part of a fleet, as the child reports it. */
export type FleetDescription = Omit<ProviderFleet, 'close'>;

/** Messages from a fleet child process to its parent. */
export type FleetResponse =
  | { type: 'ready'; fleet: FleetDescription }
  | { type: 'failed'; message: string }
  | { type: 'stopped' };
