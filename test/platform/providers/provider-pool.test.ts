import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  createProviderClient,
  isProviderError,
  type ProviderClient,
} from '../../../src/platform/providers/index.js';
import { DispatchGate } from '../../../src/platform/providers/response-channel.js';

const CALL = {
  model: 'm',
  messages: [{ role: 'user' as const, content: 'hi' }],
  maxOutputTokens: 8,
};
const COMPLETION =
  'data: {"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\n' +
  'data: [DONE]\n\n';

/**
 * Starts a provider that keeps every request open in `hang` mode (after sending the response
 * head when `headFirst` is set) and completes it otherwise.
 */
async function startProvider(headFirst = false) {
  const state = { hang: true, requests: 0, connections: 0 };
  const heldResponses: ServerResponse[] = [];
  const server: Server = createServer((_req, res) => {
    state.requests += 1;
    if (state.hang) {
      heldResponses.push(res);
      if (headFirst) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
      }
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(COMPLETION);
  });
  server.on('connection', () => {
    state.connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    state,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const res of heldResponses) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Runs one streamed call; returns 'ok' or the error class that ended it. */
async function outcome(client: ProviderClient, deadlineMs: number): Promise<string> {
  try {
    for await (const _event of client.stream(CALL, { deadlineMs })) {
      // Only the end of the call matters here.
    }
    return 'ok';
  } catch (error) {
    return isProviderError(error) ? error.errorClass : String(error);
  }
}

describe('provider client connection pool', () => {
  let provider: Awaited<ReturnType<typeof startProvider>> | undefined;
  let client: ProviderClient | undefined;

  afterEach(async () => {
    await provider?.close();
    await client?.close();
    provider = undefined;
    client = undefined;
  });

  it('serves a call at once after 1,000 calls hit their deadline', async function () {
    this.timeout(20_000);
    provider = await startProvider();
    const pooled = createProviderClient('openai', {
      provider: 'p',
      endpoint: { baseUrl: provider.url, apiKey: 'sk-test' },
      connections: 2,
    });
    client = pooled;
    const started = performance.now();
    const burst = await Promise.all(Array.from({ length: 1_000 }, () => outcome(pooled, 100)));
    const burstMs = performance.now() - started;
    assert.equal(burst.filter((result) => result === 'deadline_exceeded').length, 1_000);
    assert.ok(burstMs < 2_000, `the burst took ${burstMs} ms`);
    // The two calls that took the connections reached the provider. When one of them hit its
    // deadline, a waiting call whose deadline had not fired yet could take the freed
    // connection, which happens a few times on a loaded machine that starts the calls slowly.
    const { connections, requests } = provider.state;
    assert.ok(requests >= 2, `${requests} requests reached the provider`);
    assert.ok(requests < 50, `${requests} requests reached the provider`);

    provider.state.hang = false;
    assert.equal(await outcome(pooled, 500), 'ok');
    // An aborted call in flight closes its socket, and a waiting call whose deadline had not
    // fired yet may open one before it aborts too. Calls that timed out while waiting open
    // none, where undici's own queue would have opened one for each of the 1,000.
    assert.ok(connections < 50, `${connections} connections during the burst`);
  });
});

describe('provider client stall limit', () => {
  it('ends complete() when the body never starts after the head', async function () {
    this.timeout(10_000);
    const provider = await startProvider(true);
    const client = createProviderClient('openai', {
      provider: 'p',
      endpoint: { baseUrl: provider.url, apiKey: 'sk-test' },
    });
    try {
      const started = performance.now();
      const error = await client.complete(CALL, { stallTimeoutMs: 200 }).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      const elapsedMs = performance.now() - started;
      assert.ok(isProviderError(error));
      assert.equal(error.errorClass, 'stream_stalled');
      assert.ok(elapsedMs < 2_000, `took ${elapsedMs} ms`);
    } finally {
      await provider.close();
      await client.close();
    }
  });
});

describe('DispatchGate', () => {
  it('starts calls up to its capacity and queues the rest in order', () => {
    const gate = new DispatchGate(2);
    const started: string[] = [];
    for (const name of ['a', 'b', 'c', 'd']) gate.enter(() => started.push(name));
    assert.deepEqual(started, ['a', 'b']);
    assert.equal(gate.active, 2);
    assert.equal(gate.waiting, 2);
    gate.leave();
    assert.deepEqual(started, ['a', 'b', 'c']);
    assert.equal(gate.active, 2);
    gate.leave();
    gate.leave();
    assert.deepEqual(started, ['a', 'b', 'c', 'd']);
    assert.equal(gate.active, 1);
    gate.leave();
    assert.equal(gate.active, 0);
    assert.equal(gate.waiting, 0);
  });
});
