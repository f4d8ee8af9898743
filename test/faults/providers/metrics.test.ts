import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import { request } from 'undici';

import type { MockProvider } from '../../../src/faults/providers/index.js';
import { chatBody, OPENAI_AUTH, postJson, postStream, startInstant } from './support.js';

describe('MockProvider metrics', () => {
  let provider: MockProvider;

  beforeEach(async () => {
    provider = await startInstant();
  });

  afterEach(async () => {
    await provider.close();
  });

  async function scrape(): Promise<string> {
    const response = await request(`${provider.url}/metrics`);
    assert.equal(response.statusCode, 200);
    return response.body.text();
  }

  it('counts requests per model and status', async () => {
    const url = `${provider.url}/v1/chat/completions`;
    await postJson(url, chatBody(), OPENAI_AUTH);
    await postJson(url, chatBody(), OPENAI_AUTH);
    await postJson(url, chatBody({ model: 'instant-b' }), OPENAI_AUTH);
    await postJson(url, chatBody());
    const text = await scrape();
    const key = createHash('sha256').update('test-key').digest('hex').slice(0, 12);
    const line = (labels: string) =>
      `mock_provider_requests_total{${labels},provider="test-provider"}`;
    assert.ok(text.includes(`${line(`model="instant",key="${key}",status="200"`)} 2`));
    assert.ok(text.includes(`${line(`model="instant-b",key="${key}",status="200"`)} 1`));
    assert.ok(text.includes(`${line('model="unknown",key="none",status="401"')} 1`));
  });

  it('counts output tokens actually sent', async () => {
    provider.setFaults({ streamCutAfterTokens: 7 });
    const headers = { ...OPENAI_AUTH, 'x-scalegate-output-tokens': '30' };
    await postStream(`${provider.url}/v1/chat/completions`, chatBody(), headers);
    const text = await scrape();
    assert.match(
      text,
      /mock_provider_tokens_total\{model="instant",[^}]*direction="output"[^}]*\} 7\n/,
    );
    assert.match(text, /mock_provider_faults_total\{model="instant",fault="stream_cut"[^}]*\} 1\n/);
  });

  it('never exposes the API key', async () => {
    await postJson(`${provider.url}/v1/chat/completions`, chatBody(), OPENAI_AUTH);
    const text = await scrape();
    assert.equal(text.includes('test-key'), false);
  });
});
