import assert from 'node:assert/strict';

import {
  checkRedis,
  isRedisUnavailableError,
  withoutCredentials,
} from '../../../src/platform/runtime/redis-check.js';
import { freePort, OwnRedisServer } from '../../support/redis-server.js';

describe('checkRedis', function () {
  this.timeout(20_000);

  it('names a wrong password as a rejected login', async () => {
    const redis = await OwnRedisServer.start('right-password');
    try {
      const url = `redis://:wrong-password@127.0.0.1:${redis.port}`;
      await assert.rejects(checkRedis(url, 2_000), (error: unknown) => {
        assert.ok(isRedisUnavailableError(error));
        assert.match(
          error.message,
          /^Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ rejected the login \(/,
        );
        assert.match(error.message, /fix the user name and password in --redis-url or REDIS_URL$/);
        assert.doesNotMatch(error.message, /wrong-password/);
        return true;
      });
    } finally {
      await redis.kill();
    }
  });

  it('masks a password given as a query parameter', async () => {
    const redis = await OwnRedisServer.start('right-password');
    try {
      const url = `redis://127.0.0.1:${redis.port}/?password=wrong-password`;
      await assert.rejects(checkRedis(url, 2_000), (error: unknown) => {
        assert.ok(isRedisUnavailableError(error));
        assert.match(error.message, /rejected the login/);
        assert.doesNotMatch(error.message, /wrong-password/);
        assert.doesNotMatch(error.url, /wrong-password/);
        return true;
      });
    } finally {
      await redis.kill();
    }
  });

  it('names a closed port as unreachable', async () => {
    const port = await freePort();
    await assert.rejects(checkRedis(`redis://127.0.0.1:${port}`, 2_000), (error: unknown) => {
      assert.ok(isRedisUnavailableError(error));
      assert.match(error.message, /^cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(/);
      return true;
    });
  });

  it('passes with the right password', async () => {
    const redis = await OwnRedisServer.start('right-password');
    try {
      await assert.doesNotReject(checkRedis(redis.url, 2_000));
    } finally {
      await redis.kill();
    }
  });
});

describe('withoutCredentials', () => {
  it('drops user name and password', () => {
    assert.equal(
      withoutCredentials('redis://app:pw-1@127.0.0.1:6379/2'),
      'redis://127.0.0.1:6379/2',
    );
  });

  it('masks credential query parameters', () => {
    const masked = withoutCredentials(
      'redis://127.0.0.1:6379/?username=app&password=pw-2&sentinelPassword=pw-3&db=2',
    );
    assert.doesNotMatch(masked, /app|pw-2|pw-3/);
    assert.equal(
      masked,
      'redis://127.0.0.1:6379/?username=***&password=***&sentinelPassword=***&db=2',
    );
  });
});
