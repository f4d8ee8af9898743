import assert from 'node:assert/strict';
import { Writable } from 'node:stream';

import { pino } from 'pino';
import { request } from 'undici';

import type { Platform } from '../../../src/platform/runtime.js';
import { isTerminal } from '../../../src/platform/store/task-store.js';
import type { TaskRecord } from '../../../src/platform/task.js';

/** Small HTTP helpers for tests that drive a real platform on 127.0.0.1. */
export async function postTask(
  gateway: string,
  key: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; json: Record<string, unknown> }> {
  const response = await request(`${gateway}/v1/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const json = (await response.body.json()) as Record<string, unknown>;
  return { status: response.statusCode, headers: response.headers, json };
}

export async function getJson(url: string, key: string): Promise<Record<string, unknown>> {
  const response = await request(url, { headers: { authorization: `Bearer ${key}` } });
  return (await response.body.json()) as Record<string, unknown>;
}

export async function setFaults(url: string | undefined, faults: unknown): Promise<void> {
  const response = await request(`${url ?? ''}/_control/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  assert.equal(response.statusCode, 200);
  await response.body.dump();
}

export async function clearFaults(url: string | undefined): Promise<void> {
  const response = await request(`${url ?? ''}/_control/faults`, { method: 'DELETE' });
  await response.body.dump();
}

export async function scrape(gateway: string): Promise<string> {
  const response = await request(`${gateway}/metrics`);
  return response.body.text();
}

/** Value of the sample `name{labels}` in Prometheus text, or undefined when absent. */
export function sample(text: string, name: string, labels: string): number | undefined {
  const prefix = `${name}{${labels}} `;
  const line = text.split('\n').find((item) => item.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

/** Polls `check` every 20 ms until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`condition not met within ${timeoutMs} ms`);
}

/**
 * An async task of two steps, each a provider call of the same price and then a 5 s tool
 * wait, so a run stopped or killed after its first call is still in its first tool wait.
 */
export const TWO_STEP_TASK = {
  route: 'chat',
  inputTokens: 100,
  maxOutputTokens: 8,
  forcedOutputTokens: 8,
  mode: 'async',
  steps: 2,
  toolWaitMs: 5_000,
};

/** Polls the platform's store until the task is terminal, within `timeoutMs`, and returns it. */
export async function terminalRecord(
  platform: Platform,
  id: string,
  timeoutMs: number,
): Promise<TaskRecord> {
  let record: TaskRecord | undefined;
  await waitFor(async () => {
    record = await platform.store.getById(id);
    return record !== undefined && isTerminal(record.state);
  }, timeoutMs);
  assert.ok(record !== undefined);
  return record;
}

/** Creates a pino logger at info that keeps each record, parsed. */
export function recordingLogger() {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      records.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), records };
}
