import assert from 'node:assert/strict';

import { ServerlessError } from '../../../src/platform/executors/serverless-errors.js';
import { ProviderError } from '../../../src/platform/providers/errors.js';
import { RouterError, routerErrorFrom } from '../../../src/platform/router/router-errors.js';
import {
  describeFailure,
  failureStatusOf,
  taskErrorOf,
} from '../../../src/platform/runtime/failure.js';
import { SpentTokensError } from '../../../src/platform/runtime/model-router.js';
import {
  PlatformShutdownError,
  TaskDeadlineError,
} from '../../../src/platform/runtime/run-limits.js';

describe('describeFailure', () => {
  it('keeps the router status and code', () => {
    const failure = describeFailure(
      new RouterError('provider_unavailable', 'no provider', { retryAfterMs: 2_500 }),
    );
    assert.equal(failure.status, 503);
    assert.equal(failure.code, 'provider_unavailable');
    assert.equal(failure.retryAfterSeconds, 3);
  });

  it('describes a failure that spent tokens by the failure itself', () => {
    const cut = new RouterError('stream_interrupted', 'cut after 2 tokens');
    const failure = describeFailure(new SpentTokensError(cut, 0.002));
    assert.equal(failure.status, 502);
    assert.equal(failure.code, 'stream_interrupted');
    assert.equal(failure.message, 'cut after 2 tokens');
  });

  it('maps serverless errors', () => {
    assert.equal(describeFailure(new ServerlessError('throttled', 'cap', 1)).status, 429);
    assert.equal(describeFailure(new ServerlessError('integration_timeout', 'late')).status, 504);
    assert.equal(describeFailure(new ServerlessError('function_timeout', 'late')).status, 504);
  });

  it('maps provider errors by class', () => {
    const details = { provider: 'provider-a', model: 'gpt-4o' };
    assert.equal(describeFailure(new ProviderError('status_5xx', 'boom', details)).status, 502);
    assert.equal(
      describeFailure(new ProviderError('deadline_exceeded', 'slow', details)).status,
      504,
    );
  });

  it('withholds provider addresses from a router error', () => {
    const details = { provider: 'provider-b', model: 'claude-sonnet' };
    const cause = new ProviderError(
      'connection_error',
      'connect ECONNREFUSED 127.0.0.1:4100',
      details,
    );
    const failure = describeFailure(routerErrorFrom(cause, []));
    assert.equal(failure.message, 'provider-b/claude-sonnet: connect ECONNREFUSED provider-b');
    assert.equal(
      failure.logMessage,
      'provider-b/claude-sonnet: connect ECONNREFUSED 127.0.0.1:4100',
    );
    assert.equal(taskErrorOf(failure).message, failure.message);
    assert.ok(!('logMessage' in taskErrorOf(failure)));
  });

  it('withholds provider addresses from a provider error', () => {
    const details = { provider: 'provider-a', model: 'gpt-4o' };
    const error = new ProviderError('connection_error', 'connect ETIMEDOUT [::1]:4100', details);
    const failure = describeFailure(error);
    assert.equal(failure.message, 'provider-a/gpt-4o: connect ETIMEDOUT provider-a');
  });

  it('names no provider when none is known', () => {
    const failure = describeFailure(new RouterError('upstream_error', 'reset by 10.0.0.7:443'));
    assert.equal(failure.message, 'reset by the provider');
  });

  it('sets no log message without an address', () => {
    const failure = describeFailure(new RouterError('upstream_error', 'HTTP 500 overloaded'));
    assert.equal(failure.message, 'HTTP 500 overloaded');
    assert.equal(failure.logMessage, undefined);
  });

  it('hides unknown errors behind 500', () => {
    const failure = describeFailure(new Error('disk on fire'));
    assert.equal(failure.status, 500);
    assert.equal(failure.code, 'internal_error');
  });
});

describe('failureStatusOf', () => {
  const details = { provider: 'provider-a', model: 'gpt-4o' };
  const aborted = new Error('aborted');
  aborted.name = 'AbortError';
  const failures: ReadonlyArray<readonly [string, unknown]> = [
    ['router provider_unavailable', new RouterError('provider_unavailable', 'none')],
    ['router budget_exhausted', new RouterError('budget_exhausted', 'spent')],
    ['router upstream_auth_failed', new RouterError('upstream_auth_failed', '401')],
    ['provider status_5xx', new ProviderError('status_5xx', 'upstream 500', details)],
    ['provider first_token_timeout', new ProviderError('first_token_timeout', 'slow', details)],
    ['provider deadline_exceeded', new ProviderError('deadline_exceeded', 'slow', details)],
    ['serverless throttled', new ServerlessError('throttled', 'cap', 1)],
    ['serverless function_timeout', new ServerlessError('function_timeout', 'late')],
    ['task deadline', new TaskDeadlineError(1_000)],
    ['platform shutdown', new PlatformShutdownError()],
    ['client abort', aborted],
    ['uncoded error', new Error('boom')],
  ];

  for (const [name, thrown] of failures) {
    it(`matches describeFailure for ${name}`, () => {
      const failure = describeFailure(thrown);
      assert.equal(failureStatusOf(failure.code), failure.status);
    });
  }

  it('gives 500 for an unknown code', () => {
    assert.equal(failureStatusOf('no_such_code'), 500);
  });
});
