/**
 * A platform whose provider ports refuse connections: the fault proxy that stands for each
 * provider is disabled, so every provider call fails with `ECONNREFUSED 127.0.0.1:PORT`.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';

import { pino } from 'pino';
import { request } from 'undici';

import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { getJson, postTask, waitFor } from './platform-support.js';

const LOOPBACK_ADDRESS = /127\.0\.0\.1|localhost|\[::1\]|::1:/;
const TASK = { route: 'chat', maxOutputTokens: 8 };

/** Disables every proxy of the fault proxy at `proxyApi`, so its listen port refuses. */
async function refuseEveryProvider(proxyApi: string): Promise<void> {
  const proxies = (await (await request(`${proxyApi}/proxies`)).body.json()) as object;
  for (const name of Object.keys(proxies)) {
    const response = await request(`${proxyApi}/proxies/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: false }),
    });
    assert.equal(response.statusCode, 200);
    await response.body.dump();
  }
}

describe('platform with refused provider connections', function () {
  this.timeout(30_000);
  let platform: Platform;
  let key: string;
  const records: Record<string, unknown>[] = [];

  before(async () => {
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        records.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    platform = await startPlatform({
      topology: 'workers=2 serverless_burst=disabled',
      redisUrl: '',
      logger: pino({ level: 'warn' }, stream),
    });
    await refuseEveryProvider(platform.urls.proxyApi ?? '');
    key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
  });

  after(async () => {
    await platform.stop();
  });

  /** Returns the message of the warn record logged for `taskId`'s failure. */
  function loggedMessage(taskId: string): string {
    const record = records.find((item) => item.taskId === taskId && item.level === 40);
    assert.ok(record !== undefined, `no warn record for task ${taskId}`);
    return String(record.msg);
  }

  it('names the provider in a sync error', async () => {
    const response = await postTask(platform.urls.gateway, key, { ...TASK, mode: 'sync' });
    const { id, error } = response.json as { id: string; error: { code: string; message: string } };
    assert.equal(response.status, 502);
    assert.equal(error.code, 'upstream_error');
    assert.match(error.message, /connection failed: Error connect ECONNREFUSED provider-a;/);
    assert.doesNotMatch(error.message, LOOPBACK_ADDRESS);
    assert.match(loggedMessage(id), /^task failed: .*ECONNREFUSED 127\.0\.0\.1:\d+;/);
  });

  it('names the provider in a stream error', async () => {
    const body = { ...TASK, mode: 'sync', stream: true };
    const response = await postTask(platform.urls.gateway, key, body);
    const { id, error } = response.json as { id: string; error: { code: string; message: string } };
    assert.equal(error.code, 'upstream_error');
    assert.match(error.message, /ECONNREFUSED provider-a;/);
    assert.doesNotMatch(error.message, LOOPBACK_ADDRESS);
    assert.match(loggedMessage(id), /ECONNREFUSED 127\.0\.0\.1:\d+;/);
  });

  it('names the provider in a stored async error', async () => {
    const response = await postTask(platform.urls.gateway, key, { ...TASK, mode: 'async' });
    assert.equal(response.status, 202);
    const url = `${platform.urls.gateway}/v1/tasks/${String(response.json.id)}`;
    let task: Record<string, unknown> = {};
    await waitFor(async () => {
      task = await getJson(url, key);
      return task.state === 'dead_lettered';
    }, 20_000);
    const error = task.error as { code: string; message: string };
    assert.equal(error.code, 'upstream_error');
    assert.match(error.message, /ECONNREFUSED provider-a;/);
    assert.doesNotMatch(error.message, LOOPBACK_ADDRESS);
    assert.match(loggedMessage(String(task.id)), /ECONNREFUSED 127\.0\.0\.1:\d+;/);
  });
});
