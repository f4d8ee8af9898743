import type { Clock } from '../clock.js';

/** One emulated function instance; `busy` while it runs an invocation or its cold start. */
export interface ServerlessInstance {
  readonly id: number;
  busy: boolean;
  idleSince: number;
  reclaimTimer: NodeJS.Timeout | undefined;
}

/** Reason no instance was available. */
export type ThrottleReason = 'concurrency' | 'scale_out';

export type Acquisition =
  | { kind: 'warm'; instance: ServerlessInstance }
  | { kind: 'cold'; instance: ServerlessInstance }
  | { kind: 'throttled'; reason: ThrottleReason; retryAfterSeconds: number };

interface PoolSettings {
  maxInstances: number;
  scaleOutPerSecond: number;
  idleReclaimMs: number;
}

/**
 * Instances of one emulated function: reuses the most recently idle instance,
 * starts new ones within the concurrency cap and the scale-out rate (a token
 * bucket holding one second of starts), and reclaims instances left idle.
 */
export class ServerlessPool {
  readonly #instances = new Map<number, ServerlessInstance>();
  readonly #idle: ServerlessInstance[] = [];
  readonly #settings: PoolSettings;
  readonly #clock: Clock;
  readonly #onReclaim: (instance: ServerlessInstance) => void;
  #nextId = 1;
  /** Set by clear(): instances released afterwards are dropped, not kept warm. */
  #cleared = false;
  #startTokens: number;
  #tokensAt: number;

  constructor(settings: PoolSettings, clock: Clock, onReclaim: (i: ServerlessInstance) => void) {
    this.#settings = settings;
    this.#clock = clock;
    this.#onReclaim = onReclaim;
    this.#startTokens = this.#bucketSize();
    this.#tokensAt = clock.monotonic();
  }

  get size(): number {
    return this.#instances.size;
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  acquire(): Acquisition {
    const warm = this.#idle.pop();
    if (warm !== undefined) {
      if (warm.reclaimTimer !== undefined) this.#clock.clearTimeout(warm.reclaimTimer);
      warm.reclaimTimer = undefined;
      warm.busy = true;
      return { kind: 'warm', instance: warm };
    }
    if (this.#instances.size >= this.#settings.maxInstances) {
      return { kind: 'throttled', reason: 'concurrency', retryAfterSeconds: 1 };
    }
    return this.#startInstance();
  }

  /** Returns a finished instance to the idle list and arms its reclaim timer. */
  release(instance: ServerlessInstance): void {
    instance.busy = false;
    if (this.#cleared) {
      this.#instances.delete(instance.id);
      return;
    }
    instance.idleSince = this.#clock.monotonic();
    instance.reclaimTimer = this.#clock.setTimeout(
      () => this.#reclaim(instance),
      this.#settings.idleReclaimMs,
    );
    // An idle instance must not keep the process alive for its reclaim delay.
    instance.reclaimTimer.unref?.();
    this.#idle.push(instance);
  }

  /** Removes an instance for good, as after a function timeout. */
  discard(instance: ServerlessInstance): void {
    this.#instances.delete(instance.id);
  }

  /** Drops every instance and its timer. */
  clear(): void {
    this.#cleared = true;
    for (const instance of this.#idle) {
      if (instance.reclaimTimer !== undefined) this.#clock.clearTimeout(instance.reclaimTimer);
    }
    this.#idle.length = 0;
    this.#instances.clear();
  }

  #startInstance(): Acquisition {
    this.#refillTokens();
    if (this.#startTokens < 1) {
      const waitSeconds = (1 - this.#startTokens) / this.#settings.scaleOutPerSecond;
      return { kind: 'throttled', reason: 'scale_out', retryAfterSeconds: Math.ceil(waitSeconds) };
    }
    this.#startTokens -= 1;
    const instance: ServerlessInstance = {
      id: this.#nextId++,
      busy: true,
      idleSince: 0,
      reclaimTimer: undefined,
    };
    this.#instances.set(instance.id, instance);
    return { kind: 'cold', instance };
  }

  #refillTokens(): void {
    const now = this.#clock.monotonic();
    const earned = ((now - this.#tokensAt) / 1000) * this.#settings.scaleOutPerSecond;
    this.#startTokens = Math.min(this.#bucketSize(), this.#startTokens + earned);
    this.#tokensAt = now;
  }

  #bucketSize(): number {
    return Math.max(1, this.#settings.scaleOutPerSecond);
  }

  #reclaim(instance: ServerlessInstance): void {
    const index = this.#idle.indexOf(instance);
    if (index === -1) return;
    this.#idle.splice(index, 1);
    this.#instances.delete(instance.id);
    this.#onReclaim(instance);
  }
}
