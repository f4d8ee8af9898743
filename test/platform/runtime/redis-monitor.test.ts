import assert from 'node:assert/strict';
import { Writable } from 'node:stream';

import pino from 'pino';

import { RedisMonitor } from '../../../src/platform/runtime/redis-monitor.js';
import { OwnRedisServer } from '../../support/redis-server.js';

interface LogLine {
  level: number;
  msg: string;
  redisUrl?: string;
  reason?: string;
}

/** Creates a pino logger that keeps every line it writes. */
function recordingLogger(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function messages(lines: readonly LogLine[], text: string): LogLine[] {
  return lines.filter((line) => line.msg.startsWith(text));
}

describe('RedisMonitor', function () {
  this.timeout(30_000);
  let redis: OwnRedisServer;
  let monitor: RedisMonitor | undefined;

  beforeEach(async () => {
    redis = await OwnRedisServer.start();
  });

  afterEach(async () => {
    await monitor?.close();
    redis.resume();
    await redis.kill();
  });

  it('fails a check while Redis is paused', async () => {
    const { logger, lines } = recordingLogger();
    monitor = new RedisMonitor({ redisUrl: redis.url, logger, intervalMs: 200, timeoutMs: 500 });
    assert.equal((await monitor.check()).status, 'ok');

    redis.pause();
    const started = Date.now();
    const result = await monitor.check();
    const elapsedMs = Date.now() - started;
    assert.equal(result.status, 'failed');
    assert.ok(elapsedMs < 3000, `the check took ${elapsedMs} ms`);
    assert.equal(monitor.lastResult().status, 'failed');
    // Several more PINGs time out, and the loss is still logged once.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(messages(lines, 'Redis connection lost').length, 1);

    redis.resume();
    await waitUntil(() => monitor?.lastResult().status === 'ok', 5000, 'recovery');
    assert.equal(messages(lines, 'Redis connection recovered').length, 1);
  });

  it('logs a killed Redis once each way', async () => {
    await redis.kill();
    redis = await OwnRedisServer.start('s3cret');
    const { logger, lines } = recordingLogger();
    monitor = new RedisMonitor({ redisUrl: redis.url, logger, intervalMs: 200 });
    assert.equal((await monitor.check()).status, 'ok');

    await redis.kill();
    await waitUntil(() => messages(lines, 'Redis connection lost').length > 0, 3000, 'the loss');
    const started = Date.now();
    const result = await monitor.check();
    assert.equal(result.status, 'failed');
    assert.ok(Date.now() - started < 2000, `the check took ${Date.now() - started} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const lost = messages(lines, 'Redis connection lost');
    assert.equal(lost.length, 1);
    assert.equal(lost[0]?.redisUrl, `redis://127.0.0.1:${redis.port}`);
    assert.equal(JSON.stringify(lines).includes('s3cret'), false);

    await redis.restart();
    await waitUntil(() => monitor?.lastResult().status === 'ok', 5000, 'recovery');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(messages(lines, 'Redis connection recovered').length, 1);
    assert.equal(messages(lines, 'Redis connection lost').length, 1);
  });
});
