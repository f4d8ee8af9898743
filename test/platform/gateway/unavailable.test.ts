import assert from 'node:assert/strict';

import { ReplyError } from 'ioredis';

import {
  isUnavailableError,
  storeUnavailableError,
} from '../../../src/platform/gateway/unavailable.js';
import { OperationTimeoutError } from '../../../src/platform/timeout.js';

function errorWithCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

function maxRetriesError(): Error {
  const error = new Error('Reached the max retries per request limit (which is 3).');
  error.name = 'MaxRetriesPerRequestError';
  return error;
}

describe('isUnavailableError', () => {
  const unavailable: [string, Error][] = [
    ['a timed-out wait', new OperationTimeoutError('task create', 2000)],
    ['failed reconnects', maxRetriesError()],
    ['a closed connection', new Error('Connection is closed.')],
    ['a refused connection', errorWithCode('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED')],
    ['a command timeout', new Error('Command timed out')],
  ];
  for (const [name, error] of unavailable) {
    it(`is true for ${name}`, () => {
      assert.equal(isUnavailableError(error), true);
    });
  }

  const other: [string, unknown][] = [
    ['a Redis reply error', new ReplyError('ERR Error running script')],
    ['a RangeError', new RangeError('task t-1 exists')],
    ['a string', 'Connection is closed.'],
  ];
  for (const [name, error] of other) {
    it(`is false for ${name}`, () => {
      assert.equal(isUnavailableError(error), false);
    });
  }
});

describe('storeUnavailableError', () => {
  it('names the store and the reason', () => {
    const error = storeUnavailableError('the task store on Redis', maxRetriesError());
    assert.equal(error.status, 503);
    assert.equal(error.code, 'store_unavailable');
    assert.equal(error.details.retryAfterSeconds, 1);
    assert.equal(
      error.message,
      'the task store on Redis is unavailable (no connection, reconnecting); retry after 1 s',
    );
  });

  it('leaves the server address out', () => {
    const refused = errorWithCode('connect ECONNREFUSED 127.0.0.1:6390', 'ECONNREFUSED');
    const error = storeUnavailableError('the task store on Redis', refused);
    assert.equal(
      error.message,
      'the task store on Redis is unavailable (connect ECONNREFUSED its server); retry after 1 s',
    );
  });
});
