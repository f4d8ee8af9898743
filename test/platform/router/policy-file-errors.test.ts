import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPolicyValidationError, loadPolicy } from '../../../src/platform/router/index.js';
import { editPolicy, ONE_ROUTE, problemLines } from './policy-yaml-fixtures.js';
import { CATALOG } from './router-fixtures.js';

const NOT_UTF8 =
  'as a binary, compressed or UTF-16 file does; save the policy as UTF-8 YAML, as policies/default.yaml is';

/** Writes `bytes` to a fresh file, loads it and returns the problem lines, with `FILE` for its path. */
async function fileProblemLines(bytes: Buffer): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'scalegate-policy-bytes-'));
  try {
    const path = join(dir, 'policy.yaml');
    await writeFile(path, bytes);
    const error = await loadPolicy(path, CATALOG).then(
      () => assert.fail('expected a PolicyValidationError'),
      (thrown: unknown) => thrown,
    );
    assert.ok(isPolicyValidationError(error), String(error));
    return error.message
      .split('\n')
      .slice(1)
      .map((line) => line.replaceAll(path, 'FILE'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('policy file errors', () => {
  it('names a repeated route key', () => {
    const text = `${ONE_ROUTE}  chat:\n    qualityFloor: 2\n`;
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:20:3: invalid YAML: key "chat" is written twice in /routes, first on line 3, and a map key must be unique; remove one of the two, or rename this one',
    ]);
  });

  it('names a repeated setting key', () => {
    const text = editPolicy(ONE_ROUTE, [
      ['deadlineMs: 8000', 'deadlineMs: 8000\n    deadlineMs: 9000'],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:11:5: invalid YAML: key "deadlineMs" is written twice in /routes/chat, first on line 10, and a map key must be unique; remove one of the two, or rename this one',
    ]);
  });

  it('names a repeated key in a flow map', () => {
    const text = editPolicy(ONE_ROUTE, [
      ['model: m1, weight: 1', 'model: m1, weight: 1, model: m2'],
    ]);
    assert.deepEqual(problemLines(text), [
      '  policies/x.yaml:6:47: invalid YAML: key "model" is written twice in /routes/chat/candidates/0, first on line 6, and a map key must be unique; remove one of the two, or rename this one',
    ]);
  });

  it('names a repeated top-level key', () => {
    assert.deepEqual(problemLines(`${ONE_ROUTE}version: 1\n`), [
      '  policies/x.yaml:20:1: invalid YAML: key "version" is written twice at the top level, first on line 1, and a map key must be unique; remove one of the two, or rename this one',
    ]);
  });

  it('rejects a file with a NUL byte', async () => {
    const bytes = Buffer.from('version: 1\nroutes:\n  a\u0000b: 1\n', 'utf8');
    assert.deepEqual(await fileProblemLines(bytes), [
      `  FILE:3:4: the file is not text: it contains a NUL byte, ${NOT_UTF8}`,
    ]);
  });

  it('rejects a file that is not UTF-8', async () => {
    const bytes = Buffer.concat([Buffer.from('version: 1\nro'), Buffer.from([0xff, 0x00])]);
    assert.deepEqual(await fileProblemLines(bytes), [
      `  FILE:2:3: the file is not UTF-8 text: it contains a byte sequence that is not UTF-8, ${NOT_UTF8}`,
    ]);
  });

  it('rejects a UTF-16 file at its first byte', async () => {
    const bytes = Buffer.from('\ufeffversion: 1\n', 'utf16le');
    assert.deepEqual(await fileProblemLines(bytes), [
      `  FILE:1:1: the file is not UTF-8 text: it contains a byte sequence that is not UTF-8, ${NOT_UTF8}`,
    ]);
  });

  it('accepts a UTF-8 file with a byte order mark', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scalegate-policy-bytes-'));
    try {
      const path = join(dir, 'policy.yaml');
      await writeFile(path, `\ufeff${ONE_ROUTE}`, 'utf8');
      const policy = await loadPolicy(path, CATALOG);
      assert.deepEqual(Object.keys(policy.routes), ['chat']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
