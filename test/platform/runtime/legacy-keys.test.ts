import assert from 'node:assert/strict';

import { legacyKeyWarnings } from '../../../src/platform/runtime/legacy-keys.js';
import { recordingLogger } from './platform-support.js';

describe('legacyKeyWarnings', () => {
  it('names the keys it found', async () => {
    const { logger, records } = recordingLogger();
    const keys = ['demo:cost:tasks'];

    const warnings = await legacyKeyWarnings({ legacyKeys: async () => keys }, 'demo', logger);

    const message =
      "Redis keys demo:cost:tasks hold every task's cost record or accepted id in the layout " +
      'of an earlier scalegate version, which kept them for good; this version neither reads ' +
      'nor deletes them, so once their costs are no longer needed delete them with redis-cli ' +
      'UNLINK demo:cost:tasks';
    assert.deepEqual(warnings, [message]);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.level, 40);
    assert.deepEqual(records[0]?.keys, keys);
    assert.equal(records[0]?.msg, message);
  });

  it('stays quiet without such keys', async () => {
    const { logger, records } = recordingLogger();

    const warnings = await legacyKeyWarnings({ legacyKeys: async () => [] }, 'demo', logger);

    assert.deepEqual(warnings, []);
    assert.deepEqual(records, []);
  });

  it('logs a failed read and returns none', async () => {
    const { logger, records } = recordingLogger();
    const failing = {
      legacyKeys: async (): Promise<string[]> => {
        throw new Error('Connection is closed.');
      },
    };

    const warnings = await legacyKeyWarnings(failing, 'demo', logger);

    assert.deepEqual(warnings, []);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.level, 40);
    assert.equal(
      records[0]?.msg,
      'looking for keys an earlier scalegate version left under key prefix demo failed; the platform starts without that check',
    );
    assert.equal(
      (records[0]?.err as { message?: string } | undefined)?.message,
      'Connection is closed.',
    );
  });
});
