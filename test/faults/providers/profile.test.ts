import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  isProviderProfileError,
  loadProviderCatalog,
  loadProviderProfile,
  type ProviderProfileError,
} from '../../../src/faults/providers/index.js';

const VALID = `name: sample
format: anthropic
rateLimits: { requestsPerMinute: 10, tokensPerMinute: 1000 }
models:
  - name: m1
    qualityTier: 2
    maxOutputTokens: 8192
    contextWindowTokens: 200000
    ttftMs: { median: 100, p95: 300 }
    outputTokensPerSecond: { mean: 50, stddev: 5 }
`;

describe('loadProviderProfile', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-profiles-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function loadError(text: string): Promise<ProviderProfileError> {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, text);
    try {
      await loadProviderProfile(file);
    } catch (error) {
      if (isProviderProfileError(error)) {
        return error;
      }
      throw error;
    }
    assert.fail('expected a ProviderProfileError');
  }

  it('loads the shipped catalog', async () => {
    const catalog = await loadProviderCatalog();
    assert.deepEqual(
      catalog.map((profile) => [profile.name, profile.format]),
      [
        ['instant', 'openai'],
        ['provider-a', 'openai'],
        ['provider-b', 'anthropic'],
        ['provider-c', 'openai'],
      ],
    );
    const tiers = catalog.flatMap((profile) =>
      profile.models.map((m) => `${m.name}:${m.qualityTier}`),
    );
    assert.deepEqual(tiers, [
      'instant:1',
      'gpt-4o:3',
      'gpt-4o-mini:2',
      'claude-sonnet:3',
      'claude-haiku:2',
      'llama-70b:2',
      'llama-8b:1',
    ]);
  });

  it('loads each model output limit', async () => {
    const catalog = await loadProviderCatalog();
    const limits = catalog.flatMap((profile) =>
      profile.models.map((m) => `${m.name}:${m.maxOutputTokens}`),
    );
    assert.deepEqual(limits, [
      'instant:200000',
      'gpt-4o:16384',
      'gpt-4o-mini:16384',
      'claude-sonnet:8192',
      'claude-haiku:8192',
      'llama-70b:8192',
      'llama-8b:4096',
    ]);
  });

  it('loads each model context window', async () => {
    const catalog = await loadProviderCatalog();
    const windows = catalog.flatMap((profile) =>
      profile.models.map((m) => `${m.name}:${m.contextWindowTokens}`),
    );
    assert.deepEqual(windows, [
      'instant:2200000',
      'gpt-4o:128000',
      'gpt-4o-mini:128000',
      'claude-sonnet:200000',
      'claude-haiku:200000',
      'llama-70b:131072',
      'llama-8b:8192',
    ]);
  });

  it('loads a profile by name', async () => {
    const profile = await loadProviderProfile('provider-b');
    assert.equal(profile.format, 'anthropic');
  });

  it('names the file and a missing field', async () => {
    const error = await loadError(VALID.replace('format: anthropic\n', ''));
    assert.equal(error.field, 'format');
    assert.ok(error.file.endsWith('bad.yaml'));
    assert.match(error.message, /bad\.yaml: field format is required$/);
  });

  it('names a nested invalid field', async () => {
    const error = await loadError(VALID.replace('mean: 50', 'mean: -1'));
    assert.equal(error.field, 'models.0.outputTokensPerSecond.mean');
  });

  it('rejects a missing output limit', async () => {
    const error = await loadError(VALID.replace('    maxOutputTokens: 8192\n', ''));
    assert.equal(error.field, 'models.0.maxOutputTokens');
    assert.equal(
      error.message,
      `invalid provider profile ${join(dir, 'bad.yaml')}: field models.0.maxOutputTokens ` +
        'is required; set it to the largest max_tokens the provider accepts for m1, such as 8192',
    );
  });

  it('rejects an output limit of 0', async () => {
    const error = await loadError(VALID.replace('maxOutputTokens: 8192', 'maxOutputTokens: 0'));
    assert.equal(error.field, 'models.0.maxOutputTokens');
    assert.equal(
      error.message,
      `invalid provider profile ${join(dir, 'bad.yaml')}: field models.0.maxOutputTokens ` +
        'must be a positive integer of tokens, got 0; set it to the largest max_tokens the ' +
        'provider accepts for m1, such as 8192',
    );
  });

  it('rejects a fractional output limit', async () => {
    const error = await loadError(VALID.replace('maxOutputTokens: 8192', 'maxOutputTokens: 8.5'));
    assert.equal(error.field, 'models.0.maxOutputTokens');
    assert.match(error.message, /must be a positive integer of tokens, got 8\.5; set it/);
  });

  it('rejects an output limit written as text', async () => {
    const error = await loadError(VALID.replace('maxOutputTokens: 8192', 'maxOutputTokens: 8k'));
    assert.equal(error.field, 'models.0.maxOutputTokens');
    assert.match(error.message, /must be a positive integer of tokens, got "8k"; set it/);
  });

  it('rejects a missing context window', async () => {
    const error = await loadError(VALID.replace('    contextWindowTokens: 200000\n', ''));
    assert.equal(error.field, 'models.0.contextWindowTokens');
    assert.equal(
      error.message,
      `invalid provider profile ${join(dir, 'bad.yaml')}: field models.0.contextWindowTokens ` +
        'is required; set it to the context window of m1 in tokens, such as 128000',
    );
  });

  it('rejects a context window of 0', async () => {
    const error = await loadError(
      VALID.replace('contextWindowTokens: 200000', 'contextWindowTokens: 0'),
    );
    assert.equal(error.field, 'models.0.contextWindowTokens');
    assert.equal(
      error.message,
      `invalid provider profile ${join(dir, 'bad.yaml')}: field models.0.contextWindowTokens ` +
        'must be a positive integer of tokens, got 0; set it to the context window of m1 in ' +
        'tokens, such as 128000',
    );
  });

  it('rejects a context window written as text', async () => {
    const error = await loadError(
      VALID.replace('contextWindowTokens: 200000', 'contextWindowTokens: 200k'),
    );
    assert.equal(error.field, 'models.0.contextWindowTokens');
    assert.match(error.message, /must be a positive integer of tokens, got "200k"; set it/);
  });

  it('rejects a context window below the output limit', async () => {
    const error = await loadError(
      VALID.replace('contextWindowTokens: 200000', 'contextWindowTokens: 8191'),
    );
    assert.equal(error.field, 'models.0.contextWindowTokens');
    assert.equal(
      error.message,
      `invalid provider profile ${join(dir, 'bad.yaml')}: field models.0.contextWindowTokens ` +
        'must be at least maxOutputTokens (8192), got 8191, because the window counts the ' +
        'output as well as the input; raise contextWindowTokens or lower maxOutputTokens',
    );
  });

  it('accepts a context window equal to the output limit', async () => {
    const file = join(dir, 'equal.yaml');
    await writeFile(
      file,
      VALID.replace('contextWindowTokens: 200000', 'contextWindowTokens: 8192'),
    );
    const profile = await loadProviderProfile(file);
    assert.equal(profile.models[0]?.contextWindowTokens, 8192);
  });

  it('rejects a p95 below the median', async () => {
    const error = await loadError(VALID.replace('p95: 300', 'p95: 50'));
    assert.equal(error.field, 'models.0.ttftMs.p95');
  });

  it('validates the faults block', async () => {
    const error = await loadError(`${VALID}faults: { errorRate: 1.5 }\n`);
    assert.equal(error.field, 'faults.errorRate');
  });

  it('rejects a file that is not YAML', async () => {
    const error = await loadError('name: [unclosed');
    assert.equal(error.field, '');
    assert.equal(error.code, 'invalid_provider_profile');
  });

  it('rejects a missing profile name', async () => {
    await assert.rejects(loadProviderProfile('no-such-provider'), isProviderProfileError);
  });

  it('rejects two files with one provider name', async () => {
    await writeFile(join(dir, 'one.yaml'), VALID);
    await writeFile(join(dir, 'two.yaml'), VALID);
    await assert.rejects(
      loadProviderCatalog(dir),
      (error: unknown) => isProviderProfileError(error) && error.field === 'name',
    );
  });
});
