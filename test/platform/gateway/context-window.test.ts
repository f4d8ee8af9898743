import assert from 'node:assert/strict';

import { defaultPolicyPlatform, submitTask } from './fake-platform.js';

describe('gateway context windows', () => {
  it('rejects inputTokens above every window with 400', async () => {
    const platform = await defaultPolicyPlatform();
    const response = await submitTask(platform, {
      route: 'summarize',
      inputTokens: 2_000_000,
      maxOutputTokens: 1024,
      mode: 'sync',
    });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), {
      error: {
        code: 'context_length_exceeded',
        message:
          'inputTokens 2000000 plus maxOutputTokens 1024 exceed the context window of route ' +
          '"summarize": its largest context window among candidate models that accept ' +
          'maxOutputTokens 1024 is 200000 tokens, which leaves room for 198976 input tokens; ' +
          'send at most 198976 input tokens, or lower maxOutputTokens',
        field: 'inputTokens',
        limit: 'contextWindowTokens',
      },
    });
    assert.equal(platform.router.calls.length, 0);
  });

  it('rejects an async task before it is queued', async () => {
    const platform = await defaultPolicyPlatform();
    const response = await submitTask(platform, {
      route: 'summarize',
      inputTokens: 198_977,
      maxOutputTokens: 1024,
      mode: 'async',
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.code, 'context_length_exceeded');
    assert.equal(platform.enqueued.length, 0);
  });

  it('accepts input that fills the largest window exactly', async () => {
    const platform = await defaultPolicyPlatform();
    const response = await submitTask(platform, {
      route: 'summarize',
      inputTokens: 198_976,
      maxOutputTokens: 1024,
      mode: 'sync',
    });
    assert.equal(response.statusCode, 200);
    assert.equal(platform.router.calls[0]?.inputTokens, 198_976);
  });

  it('counts only windows of models that accept maxOutputTokens', async () => {
    // Only gpt-4o-mini accepts 10,000 output tokens, so its 128,000 window is the limit
    // although claude-haiku's is 200,000.
    const platform = await defaultPolicyPlatform();
    const response = await submitTask(platform, {
      route: 'summarize',
      inputTokens: 118_001,
      maxOutputTokens: 10_000,
      mode: 'sync',
    });
    assert.equal(response.statusCode, 400);
    assert.match(
      response.json().error.message,
      /maxOutputTokens 10000 is 128000 tokens, which leaves room for 118000 input tokens; send at most 118000 input tokens, or lower maxOutputTokens$/,
    );
  });

  it('estimates messages at four characters per token', async () => {
    // 472,004 characters are 118,001 tokens, one above the room of 118,000.
    const platform = await defaultPolicyPlatform();
    const response = await submitTask(platform, {
      route: 'summarize',
      messages: [
        { role: 'user', content: 'a'.repeat(200_000) },
        { role: 'user', content: 'b'.repeat(200_000) },
        { role: 'user', content: 'c'.repeat(72_004) },
      ],
      maxOutputTokens: 10_000,
      mode: 'sync',
    });
    assert.equal(response.statusCode, 400);
    const error = response.json().error;
    assert.equal(error.code, 'context_length_exceeded');
    assert.equal(error.field, 'messages');
    assert.match(
      error.message,
      /^messages of about 118001 tokens \(4 characters per token\) plus maxOutputTokens 10000 /,
    );
  });

  it('checks the output limit before the window', async () => {
    const platform = await defaultPolicyPlatform();
    const response = await submitTask(platform, {
      route: 'summarize',
      inputTokens: 2_000_000,
      maxOutputTokens: 20_000,
      mode: 'sync',
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.field, 'maxOutputTokens');
  });
});
