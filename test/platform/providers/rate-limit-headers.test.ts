import assert from 'node:assert/strict';
import {
  parseAnthropicRateLimit,
  parseOpenAiRateLimit,
  parseResetDuration,
  parseResetTimestamp,
  MAX_RETRY_AFTER_MS,
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

  it('parses Retry-After in every HTTP-date format', () => {
    const now = Date.parse('1994-11-06T08:49:00Z');
    assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', now), 37_000);
    assert.equal(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', now), 37_000);
    assert.equal(parseRetryAfter('Sun Nov  6 08:49:37 1994', now), 37_000);
  });

  it('ignores an HTTP-date with the wrong weekday', () => {
    const now = Date.parse('1994-11-06T08:49:00Z');
    // 6 November 1994 was a Sunday.
    assert.equal(parseRetryAfter('Mon, 06 Nov 1994 08:49:37 GMT', now), undefined);
    assert.equal(parseRetryAfter('Monday, 06-Nov-94 08:49:37 GMT', now), undefined);
    assert.equal(parseRetryAfter('Mon Nov  6 08:49:37 1994', now), undefined);
  });

  it('reads a past Retry-After date as 0', () => {
    const now = Date.parse('2015-10-21T07:28:30Z');
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', now), 0);
  });

  it('caps Retry-After at one hour', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('315360000', now), 3_600_000);
    assert.equal(parseRetryAfter('99999999999999999999999', now), 3_600_000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2099 00:00:00 GMT', now), 3_600_000);
    assert.equal(parseRetryAfter('3600', now), 3_600_000);
  });

  it('ignores Retry-After values that are neither form', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const invalid = [
      '-5',
      '-1',
      '1.5',
      '1e3',
      'Infinity',
      '5, 6',
      'retry in 60',
      '120 seconds',
      '2m',
      'Tue 2099',
      'soon 2099',
      'tomorrow',
      '2026-01-01T00:00:30Z',
      'Thu, 1 Jan 2026 00:00:30 GMT',
      'Thu, 01 Jan 2026 00:00:30 UTC',
      'Thu, 31 Feb 2026 00:00:30 GMT',
      'Thu, 01 Jan 2026 24:00:00 GMT',
      '',
    ];
    for (const value of invalid) {
      assert.equal(parseRetryAfter(value, now), undefined, JSON.stringify(value));
    }
  });

  it('parses OpenAI reset durations', () => {
    assert.equal(parseResetDuration('6m0s'), 360_000);
    assert.equal(parseResetDuration('1.5s'), 1500);
    assert.equal(parseResetDuration('20ms'), 20);
    assert.equal(parseResetDuration('later'), undefined);
  });

  it('ignores a long reset duration quickly', () => {
    // Without the length cap this took about 2 s on a 2-core VM, and a 16 KiB header about 0.2 s.
    const digits = `${'1'.repeat(60_000)}x`;
    const started = performance.now();
    assert.equal(parseResetDuration(digits), undefined);
    const elapsedMs = performance.now() - started;
    assert.ok(elapsedMs < 100, `took ${elapsedMs.toFixed(1)} ms`);
    assert.equal(parseResetDuration(`${'1'.repeat(65)}s`), undefined);
    assert.equal(parseResetDuration('1m2.5s'), 62_500);
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

  it('caps OpenAI reset durations at one hour', () => {
    assert.equal(parseResetDuration('100000h'), MAX_RETRY_AFTER_MS);
  });

  it('caps Anthropic reset timestamps at one hour', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseResetTimestamp('2099-01-01T00:00:00Z', now), MAX_RETRY_AFTER_MS);
  });

  it('reads Anthropic reset timestamps with offsets', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseResetTimestamp('2026-01-01T01:00:02.5+01:00', now), 2500);
  });

  it('ignores Anthropic reset text that is no timestamp', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    for (const text of ['Tue 2099', 'soon 2099', '2099', '2026-01-01', 'now']) {
      assert.equal(parseResetTimestamp(text, now), undefined, text);
    }
  });
});
