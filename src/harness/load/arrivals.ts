import type { ArrivalProfile, BurstArrival, RampArrival } from '../scenario/types.js';
import type { Random } from './random.js';

type RateProfile = Exclude<ArrivalProfile, { kind: 'trace' }>;

/** Arrival rate in requests per second at `tSec` seconds into the run. */
export function rateAt(profile: RateProfile, tSec: number): number {
  switch (profile.kind) {
    case 'constant':
      return profile.ratePerSec;
    case 'ramp':
      return rampRateAt(profile, tSec);
    case 'burst':
      return burstRateAt(profile, tSec);
  }
}

/** Highest rate the profile reaches, used as the thinning envelope. */
export function peakRate(profile: RateProfile): number {
  switch (profile.kind) {
    case 'constant':
      return profile.ratePerSec;
    case 'ramp':
      return Math.max(profile.startRatePerSec, ...profile.stages.map((s) => s.targetRatePerSec));
    case 'burst':
      return Math.max(profile.baseRatePerSec, profile.burstRatePerSec);
  }
}

/**
 * Poisson arrival offsets in milliseconds over `durationSec`. A time-varying rate
 * uses thinning: candidates at the peak rate are kept with probability rate(t) / peak.
 */
export function poissonOffsetsMs(
  profile: RateProfile,
  durationSec: number,
  random: Random,
): number[] {
  const peak = peakRate(profile);
  const offsets: number[] = [];
  if (peak <= 0) return offsets;
  let tSec = random.exponential(peak);
  while (tSec < durationSec) {
    if (random.next() * peak < rateAt(profile, tSec)) offsets.push(tSec * 1000);
    tSec += random.exponential(peak);
  }
  return offsets;
}

function rampRateAt(profile: RampArrival, tSec: number): number {
  let from = profile.startRatePerSec;
  let stageStart = 0;
  for (const stage of profile.stages) {
    if (tSec < stageStart + stage.durationSec) {
      const progress = (tSec - stageStart) / stage.durationSec;
      return from + (stage.targetRatePerSec - from) * progress;
    }
    from = stage.targetRatePerSec;
    stageStart += stage.durationSec;
  }
  return from;
}

function burstRateAt(profile: BurstArrival, tSec: number): number {
  const inWindow = profile.windows.some(
    (w) => tSec >= w.startSec && tSec < w.startSec + w.durationSec,
  );
  return inWindow ? profile.burstRatePerSec : profile.baseRatePerSec;
}

/** Total duration of a ramp's stages, in seconds. */
export function rampDurationSec(profile: RampArrival): number {
  return profile.stages.reduce((sum, stage) => sum + stage.durationSec, 0);
}
