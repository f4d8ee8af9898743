import assert from 'node:assert/strict';

import { request } from 'undici';

import {
  FaultConfigError,
  isFaultConfigError,
  type MockProvider,
} from '../../../src/faults/providers/index.js';
import { startInstant } from './support.js';

interface ControlResponse {
  status: number;
  body: Record<string, unknown>;
}

async function control(url: string, method: 'GET' | 'PUT' | 'DELETE', body?: string) {
  const response = await request(`${url}/_control/faults`, {
    method,
    body,
    headers: { 'content-type': 'application/json' },
  });
  const text = await response.body.text();
  const parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  return { status: response.statusCode, body: parsed } satisfies ControlResponse;
}

describe('MockProvider fault control endpoint', () => {
  let provider: MockProvider;

  beforeEach(async () => {
    provider = await startInstant({ errorRate: 0.25 });
  });

  afterEach(async () => {
    await provider.close();
  });

  it('returns the active faults on GET', async () => {
    const response = await control(provider.url, 'GET');
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { errorRate: 0.25 });
  });

  it('replaces the faults on PUT', async () => {
    const faults = { streamCutAfterTokens: 4, models: { instant: { errorStatus: 529 } } };
    const response = await control(provider.url, 'PUT', JSON.stringify(faults));
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, faults);
    assert.deepEqual(provider.faults(), faults);
  });

  it('clears the faults on DELETE', async () => {
    const response = await control(provider.url, 'DELETE');
    assert.equal(response.status, 204);
    assert.deepEqual(provider.faults(), {});
  });

  it('rejects an out-of-range field with 400 naming it', async () => {
    const response = await control(provider.url, 'PUT', JSON.stringify({ errorRate: 2 }));
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.field, 'errorRate');
    assert.match(String(error.message), /errorRate/);
    assert.deepEqual(provider.faults(), { errorRate: 0.25 });
  });

  it('rejects an unknown nested field with 400 naming its path', async () => {
    const body = JSON.stringify({ models: { instant: { stallForever: true } } });
    const response = await control(provider.url, 'PUT', body);
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.field, 'models.instant.stallForever');
    assert.match(
      String(error.message),
      /stallForever is not a known field; known fields: errorRate, errorStatus, .*hangBeforeHeaders$/,
    );
  });

  it('rejects an override for a model the provider lacks', async () => {
    const body = JSON.stringify({ models: { 'no-such-model': { errorRate: 1 } } });
    const response = await control(provider.url, 'PUT', body);
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.field, 'models.no-such-model');
    assert.match(String(error.message), /names no model of this provider; use one of \S+/);
    assert.deepEqual(provider.faults(), { errorRate: 0.25 });
  });

  it('rejects firstTokenDelayMs above the timer maximum with 400', async () => {
    const body = JSON.stringify({ firstTokenDelayMs: 3_000_000_000 });
    const response = await control(provider.url, 'PUT', body);
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.field, 'firstTokenDelayMs');
    assert.equal(
      error.message,
      'invalid fault config: field firstTokenDelayMs must be <= 2147483647, got 3000000000',
    );
    assert.deepEqual(provider.faults(), { errorRate: 0.25 });
  });

  it('rejects a per-model delay above the timer maximum with 400', async () => {
    const body = JSON.stringify({ models: { instant: { firstTokenDelayMs: 2_147_483_648 } } });
    const response = await control(provider.url, 'PUT', body);
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.field, 'models.instant.firstTokenDelayMs');
  });

  it('rejects retryAfterSeconds above one day with 400', async () => {
    const response = await control(provider.url, 'PUT', '{"retryAfterSeconds":1e308}');
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.field, 'retryAfterSeconds');
    assert.equal(
      error.message,
      'invalid fault config: field retryAfterSeconds must be <= 86400, got 1e+308',
    );
  });

  it('rejects a token count above the safe integer range with 400', async () => {
    const response = await control(provider.url, 'PUT', '{"streamCutAfterTokens":1e300}');
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.field, 'streamCutAfterTokens');
  });

  it('accepts the largest firstTokenDelayMs', async () => {
    const body = JSON.stringify({ firstTokenDelayMs: 2_147_483_647 });
    const response = await control(provider.url, 'PUT', body);
    assert.equal(response.status, 200);
    assert.deepEqual(provider.faults(), { firstTokenDelayMs: 2_147_483_647 });
  });

  it('rejects a body that is not JSON with 400', async () => {
    const response = await control(provider.url, 'PUT', '{errorRate');
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(error.code, 'invalid_fault_config');
    assert.match(String(error.message), /^body is not valid JSON: .*JSON.*; send one JSON object/);
    assert.match(String(error.message), /or DELETE \/_control\/faults to clear them$/);
    assert.deepEqual(provider.faults(), { errorRate: 0.25 });
  });

  it('rejects an empty body with 400', async () => {
    const response = await control(provider.url, 'PUT', '');
    assert.equal(response.status, 400);
    const error = response.body.error as Record<string, unknown>;
    assert.equal(
      error.message,
      'body is not valid JSON: the body is empty; send one JSON object of fault settings, ' +
        'such as {"errorRate":1,"errorStatus":503}, or DELETE /_control/faults to clear them',
    );
    assert.deepEqual(provider.faults(), { errorRate: 0.25 });
  });

  it('rejects a body over 1 MiB with 413', async () => {
    const body = JSON.stringify({ errorRate: 1, padding: 'x'.repeat(1024 * 1024) });
    const response = await control(provider.url, 'PUT', body);
    assert.equal(response.status, 413);
    const error = response.body.error as Record<string, unknown>;
    assert.match(
      String(error.message),
      /^request body exceeds 1048576 bytes; send one JSON object of fault settings/,
    );
    assert.deepEqual(provider.faults(), { errorRate: 0.25 });
  });

  it('rejects POST with 405 naming the methods', async () => {
    const response = await request(`${provider.url}/_control/faults`, {
      method: 'POST',
      body: '{"errorRate":1}',
      headers: { 'content-type': 'application/json' },
    });
    const body = (await response.body.json()) as { error: Record<string, unknown> };
    assert.equal(response.statusCode, 405);
    assert.equal(response.headers.allow, 'GET, PUT, DELETE');
    assert.equal(body.error.code, 'method_not_allowed');
    assert.equal(
      body.error.message,
      'POST /_control/faults is not supported; use GET to read the faults, PUT to replace ' +
        'them or DELETE to clear them',
    );
    assert.deepEqual(provider.faults(), { errorRate: 0.25 });
  });

  it('lists the endpoints for an unknown path', async () => {
    const response = await request(`${provider.url}/_control/fault`);
    const body = (await response.body.json()) as { error: Record<string, unknown> };
    assert.equal(response.statusCode, 404);
    assert.equal(
      body.error.message,
      'no route for GET /_control/fault; the mock provider serves POST /v1/chat/completions, ' +
        'POST /v1/messages, GET, PUT and DELETE /_control/faults, GET /metrics and GET /healthz',
    );
  });

  it('throws FaultConfigError from setFaults', () => {
    assert.throws(
      () => provider.setFaults({ errorStatus: 200 }),
      (error: unknown) => isFaultConfigError(error) && error.field === 'errorStatus',
    );
    assert.equal(new FaultConfigError('x', 'is bad').code, 'invalid_fault_config');
  });
});
