import assert from 'node:assert/strict';

import {
  checkLoadedFiles,
  isChangedLoadedFileError,
  type LoadedFiles,
} from '../../../src/platform/runtime/loaded-files.js';

const TENANTS_SHA256 = 'a'.repeat(64);
const PRICES_SHA256 = 'b'.repeat(64);
const POLICY_SHA256 = 'd'.repeat(64);
const OTHER_SHA256 = `0123456789ab${'c'.repeat(52)}`;

const loaded: LoadedFiles = {
  tenants: { path: 'fixtures/tenants.yaml', sha256: TENANTS_SHA256 },
  prices: { path: 'fixtures/prices.yaml', sha256: PRICES_SHA256 },
  policy: { path: 'policies/default.yaml', sha256: POLICY_SHA256 },
};

const recorded = {
  tenantsSha256: TENANTS_SHA256,
  pricesSha256: PRICES_SHA256,
  policySha256: POLICY_SHA256,
};

describe('checkLoadedFiles', () => {
  it('accepts the recorded hashes', () => {
    assert.doesNotThrow(() => checkLoadedFiles(loaded, recorded));
  });

  it('names a changed tenants file', () => {
    assert.throws(
      () =>
        checkLoadedFiles(loaded, {
          tenantsSha256: OTHER_SHA256,
          pricesSha256: OTHER_SHA256,
          policySha256: OTHER_SHA256,
        }),
      (error: unknown) => {
        assert.ok(isChangedLoadedFileError(error));
        assert.equal(error.kind, 'tenants file');
        assert.equal(error.recordedSha256, OTHER_SHA256);
        assert.equal(
          error.message,
          'tenants file fixtures/tenants.yaml changed while the platform started: it was ' +
            'checked and recorded with sha256 0123456789ab, but the platform loaded sha256 ' +
            'aaaaaaaaaaaa; leave the file unchanged during the run and run it again',
        );
        return true;
      },
    );
  });

  it('names a changed price table', () => {
    assert.throws(
      () =>
        checkLoadedFiles(loaded, {
          ...recorded,
          pricesSha256: OTHER_SHA256,
          policySha256: OTHER_SHA256,
        }),
      (error: unknown) => {
        assert.ok(isChangedLoadedFileError(error));
        assert.equal(error.kind, 'price table');
        assert.equal(error.file.path, 'fixtures/prices.yaml');
        assert.match(error.message, /^price table fixtures\/prices\.yaml changed /);
        return true;
      },
    );
  });

  it('names a changed route policy', () => {
    assert.throws(
      () => checkLoadedFiles(loaded, { ...recorded, policySha256: OTHER_SHA256 }),
      (error: unknown) => {
        assert.ok(isChangedLoadedFileError(error));
        assert.equal(error.kind, 'route policy');
        assert.equal(error.file.path, 'policies/default.yaml');
        assert.equal(error.recordedSha256, OTHER_SHA256);
        assert.equal(
          error.message,
          'route policy policies/default.yaml changed while the platform started: it was ' +
            'checked and recorded with sha256 0123456789ab, but the platform loaded sha256 ' +
            'dddddddddddd; leave the file unchanged during the run and run it again',
        );
        return true;
      },
    );
  });
});
