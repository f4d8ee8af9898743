import type { IncomingHttpHeaders } from 'node:http';

import type { Dispatcher } from 'undici';

import type { Clock } from '../clock.js';

/** Status and headers of a response. */
export interface ResponseHead {
  status: number;
  headers: IncomingHttpHeaders;
}

/** Body chunks held for a slow reader before the connection is paused. */
const HIGH_WATER_CHUNKS = 16;

/**
 * A first-in, first-out limit on the requests one dispatcher has in flight. Set to the
 * pool's connection count, it keeps undici's own queue empty. A call aborted while it
 * waits here is dropped at no cost. In undici's queue it would still take a connection,
 * and close it, when its turn came.
 */
export class DispatchGate {
  readonly #capacity: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Requests in flight. */
  get active(): number {
    return this.#active;
  }

  /** Calls waiting for a free slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `start` now when a slot is free, else when one frees up; `start` takes the slot. */
  enter(start: () => void): void {
    if (this.#active < this.#capacity) {
      this.#active += 1;
      start();
      return;
    }
    this.#waiting.push(start);
  }

  /** Frees a slot and hands it to the longest-waiting call. */
  leave(): void {
    const next = this.#waiting.shift();
    if (next === undefined) {
      this.#active -= 1;
      return;
    }
    next();
  }
}

/**
 * One request dispatched on an undici dispatcher, read as a pull stream of body
 * chunks with no Readable stream in between. Chunks queue until the reader takes
 * them, and at HIGH_WATER_CHUNKS waiting chunks the connection pauses.
 *
 * The request waits in a DispatchGate until a slot is free. `abort` ends the
 * call at once: a request still waiting in the gate is never sent, and one in
 * flight is aborted in undici, which closes its socket.
 *
 * One reader at a time: `head`, `next` and `text` must not be awaited together.
 */
export class ResponseChannel implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | undefined;
  #head: ResponseHead | undefined;
  readonly #chunks: Buffer[] = [];
  #ended = false;
  #error: Error | undefined;
  /** Set once the caller gave up on the body: chunks are dropped instead of queued. */
  #discarding = false;
  #wake: (() => void) | undefined;
  /** Callback that `release` sets, run once when the body ends or the call fails. */
  #onSettled: (() => void) | undefined;
  /** Gate whose slot this request takes while undici works on it. */
  #gate: DispatchGate | undefined;

  /**
   * Dispatches `options` on `dispatcher` once `gate` has a free slot, and returns the
   * channel that reads the response. The slot is freed when the request ends or fails.
   */
  static open(
    dispatcher: Dispatcher,
    options: Dispatcher.DispatchOptions,
    gate: DispatchGate,
  ): ResponseChannel {
    const channel = new ResponseChannel();
    gate.enter(() => channel.#start(dispatcher, options, gate));
    return channel;
  }

  #start(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, gate: DispatchGate): void {
    if (this.#error !== undefined) {
      // Aborted while it waited for the slot: never sent.
      gate.leave();
      return;
    }
    this.#gate = gate;
    try {
      dispatcher.dispatch(options, this);
    } catch (error) {
      this.onResponseError(undefined, error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Whether the whole body arrived. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Resolves with the status and headers, or rejects when the call fails first. */
  async head(): Promise<ResponseHead> {
    for (;;) {
      if (this.#head !== undefined) return this.#head;
      if (this.#error !== undefined) throw this.#error;
      await this.#waitForEvent();
    }
  }

  /** Resolves with the next body chunk, or undefined after the last one. */
  async next(): Promise<Buffer | undefined> {
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk !== undefined) {
        if (this.#chunks.length === 0 && this.#controller?.paused === true) {
          this.#controller.resume();
        }
        return chunk;
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return undefined;
      await this.#waitForEvent();
    }
  }

  /** Reads the rest of the body as UTF-8 text and calls `onChunk` as each chunk arrives. */
  async text(onChunk: () => void): Promise<string> {
    const decoder = new TextDecoder();
    let text = '';
    for (let chunk = await this.next(); chunk !== undefined; chunk = await this.next()) {
      onChunk();
      text += decoder.decode(chunk, { stream: true });
    }
    return text + decoder.decode();
  }

  /** Ends the call with `reason`, unless the body already ended or the call failed. */
  abort(reason: Error): void {
    if (this.#ended || this.#error !== undefined) return;
    this.#error = reason;
    this.#chunks.length = 0;
    this.#controller?.abort(reason);
    this.#notify();
  }

  /**
   * Frees the connection. An unfinished body is aborted, so its socket does not go back
   * to the pool half read. With `drain`, the caller already has everything it needs and
   * the rest of the body is read and dropped within `drainLimitMs`, which keeps the socket.
   */
  release(drain: boolean, clock: Clock, drainLimitMs: number): void {
    this.#discarding = true;
    this.#chunks.length = 0;
    if (this.#ended || this.#error !== undefined) return;
    const reason = new Error('response body released before its end');
    if (!drain) {
      this.abort(reason);
      return;
    }
    this.#controller?.resume();
    const timer = clock.setTimeout(() => this.abort(reason), drainLimitMs);
    this.#onSettled = () => clock.clearTimeout(timer);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    // An abort that came while the request waited for a connection.
    if (this.#error !== undefined) controller.abort(this.#error);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    this.#head = { status: statusCode, headers };
    this.#notify();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#discarding) return;
    this.#chunks.push(chunk);
    if (this.#chunks.length >= HIGH_WATER_CHUNKS) controller.pause();
    this.#notify();
  }

  onResponseEnd(): void {
    this.#ended = true;
    this.#leaveGate();
    this.#notify();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.#error ??= error;
    this.#leaveGate();
    this.#notify();
  }

  /** Frees the gate slot once undici is done with the request. */
  #leaveGate(): void {
    const gate = this.#gate;
    this.#gate = undefined;
    gate?.leave();
  }

  #waitForEvent(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    if (this.#onSettled !== undefined && (this.#ended || this.#error !== undefined)) {
      this.#onSettled();
      this.#onSettled = undefined;
    }
  }
}
