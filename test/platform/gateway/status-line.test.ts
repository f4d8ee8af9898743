import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';

import { ALPHA_KEY, fakePlatform, SYNC_TASK } from './fake-platform.js';

describe('gateway status line', () => {
  it('names 499 client_aborted', async () => {
    const platform = fakePlatform();
    platform.router.behaviour = async () => {
      throw new DOMException('the caller aborted the task', 'AbortError');
    };
    await platform.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { port } = platform.app.server.address() as AddressInfo;
      const send = () =>
        fetch(`http://127.0.0.1:${port}/v1/tasks`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${ALPHA_KEY}`,
            'content-type': 'application/json',
            'idempotency-key': 'status-line-1',
          },
          body: JSON.stringify(SYNC_TASK),
        });

      const first = await send();
      const firstBody = (await first.json()) as { error: { code: string } };
      assert.equal(first.status, 499);
      assert.equal(first.statusText, 'Client Closed Request');
      assert.equal(firstBody.error.code, 'client_aborted');

      const replay = await send();
      const replayBody = (await replay.json()) as { error: { code: string } };
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.equal(replay.status, 499);
      assert.equal(replay.statusText, 'Client Closed Request');
      assert.equal(replayBody.error.code, 'client_aborted');
      assert.equal(platform.router.calls.length, 1);
    } finally {
      await platform.app.close();
    }
  });
});
