import assert from 'node:assert/strict';
import {
  parseAnthropicRateLimit,
  parseOpenAiRateLimit,
  parseResetDuration,
  parseRetryAfter,
} from '../../../src/platform/providers/rate-limit-headers.js';

describe('rate-limit headers', () => {
  it('parses Retry-After seconds', () => {
    assert.equal(parseRetryAfter('47', 0), 47_000);
  });

  it('parses Retry-After HTTP dates', () => {
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now), 30_000);
  });

  it('ignores an invalid Retry-After', () => {
    assert.equal(parseRetryAfter('soon', 0), undefined);
  });

  it('parses OpenAI reset durations', () => {
    assert.equal(parseResetDuration('6m0s'), 360_000);
    assert.equal(parseResetDuration('1.5s'), 1500);
    assert.equal(parseResetDuration('20ms'), 20);
    assert.equal(parseResetDuration('later'), undefined);
  });

  it('reads OpenAI remaining quota', () => {
    const info = parseOpenAiRateLimit(
      {
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-remaining-tokens': '1200',
        'x-ratelimit-reset-requests': '2s',
      },
      0,
    );
    assert.equal(info.remainingRequests, 0);
    assert.equal(info.remainingTokens, 1200);
    assert.equal(info.requestsResetMs, 2000);
  });

  it('reads Anthropic remaining quota', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const info = parseAnthropicRateLimit(
      {
        'anthropic-ratelimit-requests-remaining': '3',
        'anthropic-ratelimit-tokens-remaining': '0',
        'anthropic-ratelimit-tokens-reset': '2026-01-01T00:00:05Z',
      },
      now,
    );
    assert.equal(info.remainingRequests, 3);
    assert.equal(info.remainingTokens, 0);
    assert.equal(info.tokensResetMs, 5000);
  });
});
