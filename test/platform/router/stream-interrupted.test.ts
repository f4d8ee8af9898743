import assert from 'node:assert/strict';

import { ProviderError, type ProviderErrorClass } from '../../../src/platform/providers/errors.js';
import { StreamInterruptedError } from '../../../src/platform/router/router-errors.js';

function interrupted(errorClass: ProviderErrorClass, message: string): StreamInterruptedError {
  const cause = new ProviderError(errorClass, message, {
    provider: 'provider-a',
    model: 'gpt-4o',
    afterFirstToken: true,
  });
  return new StreamInterruptedError(cause, 'partial ', []);
}

const STREAM_CHECK =
  "check provider-a's stream: the faults of a mock provider (GET /_control/faults) " +
  'and the toxics of its fault proxy (GET /proxies/provider-a/toxics)';

describe('StreamInterruptedError message', () => {
  it('names the stall timeout after a stall', () => {
    const error = interrupted(
      'stream_stalled',
      'no bytes within the stall timeout of 5000 ms (stallTimeoutMs)',
    );
    assert.equal(
      error.message,
      'stream interrupted after the first token: provider-a/gpt-4o: no bytes within the stall ' +
        "timeout of 5000 ms (stallTimeoutMs); raise the route's stallTimeoutMs if provider-a " +
        `pauses longer mid-stream, or ${STREAM_CHECK}`,
    );
  });

  it('names deadlineMs after the deadline', () => {
    const error = interrupted('deadline_exceeded', 'call exceeded its deadline');
    assert.equal(
      error.message,
      'stream interrupted after the first token: provider-a/gpt-4o: call exceeded its deadline; ' +
        `raise the route's deadlineMs if provider-a streams for longer, or ${STREAM_CHECK}`,
    );
  });

  it("names the provider's stream after a cut", () => {
    const error = interrupted('stream_truncated', 'stream closed before its final event');
    assert.equal(
      error.message,
      'stream interrupted after the first token: provider-a/gpt-4o: stream closed before its ' +
        `final event; ${STREAM_CHECK}`,
    );
  });

  it('keeps the code, class and partial text', () => {
    const error = interrupted('stream_error_event', 'overloaded_error');
    assert.equal(error.code, 'stream_interrupted');
    assert.equal(error.errorClass, 'stream_error_event');
    assert.equal(error.httpStatus, 502);
    assert.equal(error.partialText, 'partial ');
    assert.ok(error.message.endsWith(`; ${STREAM_CHECK}`), error.message);
  });
});
