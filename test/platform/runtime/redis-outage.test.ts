/**
 * A platform on a redis-server of the test's own, which the test pauses with
 * SIGSTOP: connections stay open and Redis sends no reply, the hardest outage
 * for a client to notice. Every request must still get a reply in bounded time.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';

import pino from 'pino';
import { request } from 'undici';

import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { OwnRedisServer } from '../../support/redis-server.js';
import { postTask, waitFor } from './platform-support.js';

interface TimedReply {
  status: number;
  headers: Record<string, unknown>;
  json: Record<string, unknown>;
  elapsedMs: number;
}

async function timedGet(url: string, key?: string): Promise<TimedReply> {
  const started = Date.now();
  const headers = key === undefined ? {} : { authorization: `Bearer ${key}` };
  const response = await request(url, { headers, headersTimeout: 20_000, bodyTimeout: 20_000 });
  const text = await response.body.text();
  const json = (text.startsWith('{') ? JSON.parse(text) : { text }) as TimedReply['json'];
  return {
    status: response.statusCode,
    headers: response.headers,
    json,
    elapsedMs: Date.now() - started,
  };
}

function checkOf(reply: TimedReply, name: string): Record<string, unknown> | undefined {
  const checks = reply.json.checks as Record<string, Record<string, unknown>> | undefined;
  return checks?.[name];
}

describe('platform with Redis paused', function () {
  this.timeout(90_000);
  let redis: OwnRedisServer;
  let platform: Platform | undefined;
  const logs: string[] = [];

  before(async () => {
    redis = await OwnRedisServer.start();
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    platform = await startPlatform({
      topology: 'workers=2 serverless_burst=disabled',
      redisUrl: redis.url,
      keyPrefix: `test-outage-${randomUUID()}`,
      workerProcesses: 1,
      logger: pino({ level: 'info' }, stream),
    });
  });

  after(async () => {
    redis.resume();
    await platform?.stop();
    await redis.kill();
  });

  afterEach(() => {
    redis.resume();
  });

  it('reports readiness from a Redis PING', async () => {
    const gateway = platform?.urls.gateway ?? '';
    const ready = await timedGet(`${gateway}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(checkOf(ready, 'redis')?.status, 'ok');

    redis.pause();
    const notReady = await timedGet(`${gateway}/readyz`);
    assert.equal(notReady.status, 503);
    assert.ok(notReady.elapsedMs < 5000, `/readyz took ${notReady.elapsedMs} ms`);
    assert.equal(notReady.headers['retry-after'], '1');
    assert.equal(checkOf(notReady, 'redis')?.status, 'failed');
    assert.match(String(checkOf(notReady, 'redis')?.message), /^Redis at redis:\/\/127\.0\.0\.1:/);
    const health = await timedGet(`${gateway}/healthz`);
    assert.equal(health.status, 200);
    assert.ok(health.elapsedMs < 5000, `/healthz took ${health.elapsedMs} ms`);
    assert.equal(checkOf(health, 'redis')?.status, 'failed');
    const lost = logs.filter((line) => line.includes('Redis connection lost'));
    assert.equal(lost.length, 1);

    redis.resume();
    const deadline = Date.now() + 10_000;
    let again = await timedGet(`${gateway}/readyz`);
    while (again.status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      again = await timedGet(`${gateway}/readyz`);
    }
    assert.equal(again.status, 200);
    assert.equal(logs.filter((line) => line.includes('Redis connection recovered')).length, 1);
  });

  it('scrapes /metrics in bounded time', async () => {
    const gateway = platform?.urls.gateway ?? '';
    redis.pause();
    const scrape = await timedGet(`${gateway}/metrics`);
    assert.equal(scrape.status, 200);
    assert.ok(scrape.elapsedMs < 5000, `/metrics took ${scrape.elapsedMs} ms`);
    assert.match(String(scrape.json.text), /^scalegate_queue_depth\{queue="tasks"\} \d+$/m);
  });

  it('rejects task requests with 503 and recovers', async () => {
    const live = platform as Platform;
    const gateway = live.urls.gateway;
    const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
    const task = { route: 'bench', maxOutputTokens: 8, mode: 'async' };
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const reply = await postTask(gateway, key, task);
      assert.equal(reply.status, 202);
      ids.push(String(reply.json.id));
    }

    redis.pause();
    const started = Date.now();
    const rejected = await postTask(gateway, key, task);
    const postMs = Date.now() - started;
    assert.equal(rejected.status, 503);
    assert.ok(postMs < 6000, `POST /v1/tasks took ${postMs} ms`);
    assert.equal(rejected.headers['retry-after'], '1');
    const error = rejected.json.error as { code: string; message: string };
    assert.equal(error.code, 'store_unavailable');
    assert.match(error.message, /^the task store on Redis is unavailable \(/);
    assert.doesNotMatch(error.message, /127\.0\.0\.1/);
    const read = await timedGet(`${gateway}/v1/tasks/${ids[0]}`, key);
    assert.equal(read.status, 503);
    assert.ok(read.elapsedMs < 6000, `GET /v1/tasks/:id took ${read.elapsedMs} ms`);
    assert.equal((read.json.error as { code: string }).code, 'store_unavailable');

    redis.resume();
    await waitFor(async () => {
      const counts = await live.store.accounting();
      return counts.queued + counts.running === 0;
    }, 30_000);
    const counts = await live.store.accounting();
    assert.equal(counts.accepted, counts.succeeded + counts.failed + counts.dead_lettered);
    for (const id of ids) {
      assert.equal((await live.store.get('tenant-alpha', id))?.state, 'succeeded');
    }
    const accepted = await postTask(gateway, key, task);
    assert.equal(accepted.status, 202);
  });
});
