import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { GATEWAY_ERROR_CODES } from '../../../src/platform/gateway/gateway-error.js';

describe('README error codes', () => {
  it('documents every gateway error code', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const missing = GATEWAY_ERROR_CODES.filter((code) => !readme.includes(`\`${code}\``));
    assert.deepEqual(missing, [], `codes missing from README.md: ${missing.join(', ')}`);
  });
});
