import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { FastifyInstance } from 'fastify';

import { systemClock } from '../../../src/platform/clock.js';
import { ServerlessExecutor } from '../../../src/platform/executors/serverless-executor.js';
import { withTimeout } from '../../../src/platform/timeout.js';
import {
  ALPHA_KEY,
  completion,
  type FakePlatform,
  type FakePlatformOptions,
  fakePlatform,
  SYNC_TASK,
} from './fake-platform.js';

/** A provider that sends headers and one chunk, then keeps the response open. */
interface HangingProvider {
  url: string;
  /** Requests whose connection closed before the provider ended the response. */
  closedEarly: number;
  /** Resolves on the first request the provider receives. */
  firstRequest: Promise<void>;
  /** Resolves when a connection first closes before the provider ended its response. */
  firstEarlyClose: Promise<void>;
  close(): Promise<void>;
}

async function startHangingProvider(): Promise<HangingProvider> {
  let onFirst: () => void = () => undefined;
  const firstRequest = new Promise<void>((resolve) => {
    onFirst = resolve;
  });
  let onEarlyClose: () => void = () => undefined;
  const firstEarlyClose = new Promise<void>((resolve) => {
    onEarlyClose = resolve;
  });
  const provider = {
    url: '',
    closedEarly: 0,
    firstRequest,
    firstEarlyClose,
    close: () => closeServer(server),
  };
  const server = createServer((_request, response) => {
    response.on('close', () => {
      if (response.writableEnded) return;
      provider.closedEarly += 1;
      onEarlyClose();
    });
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.write('partial');
    onFirst();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  provider.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return provider;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Posts a sync task on a real socket and destroys it once `closeWhen` resolves. */
function postThenDisconnect(port: number, closeWhen: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const post = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/tasks',
      headers: { authorization: `Bearer ${ALPHA_KEY}`, 'content-type': 'application/json' },
    });
    post.on('error', () => resolve());
    post.on('close', () => resolve());
    post.end(JSON.stringify(SYNC_TASK));
    void closeWhen.then(() => post.destroy());
  });
}

/** Returns the id of the first task the gateway logged as admitted. */
function admittedTaskId(platform: FakePlatform): string {
  const line = platform.logs.find((entry) => entry.includes('"task admitted"'));
  const id = line === undefined ? undefined : (JSON.parse(line) as { taskId?: string }).taskId;
  return id ?? assert.fail('the gateway logged no admitted task');
}

/** Polls the admitted task until it leaves `running`, for at most 5 s. */
async function endedTask(platform: FakePlatform) {
  const id = admittedTaskId(platform);
  for (let poll = 0; poll < 100; poll += 1) {
    const task = await platform.store.get('tenant-alpha', id);
    if (task !== undefined && task.state !== 'running' && task.state !== 'queued') return task;
    await systemClock.sleep(50);
  }
  return assert.fail('the task did not end within 5 s of the disconnect');
}

const EXECUTORS: { name: string; options: FakePlatformOptions }[] = [
  { name: 'direct', options: {} },
  {
    name: 'serverless',
    options: {
      executor: (router, finisher) =>
        new ServerlessExecutor({
          router,
          finisher,
          clock: systemClock,
          emulator: { coldStartMs: 0 },
        }),
    },
  },
];

describe('gateway sync disconnect', () => {
  for (const { name, options } of EXECUTORS) {
    it(`aborts the ${name} task on client close`, async () => {
      const provider = await startHangingProvider();
      // `task admitted`, which names the task, is logged at debug.
      const platform = fakePlatform({ ...options, logLevel: 'debug' });
      platform.router.behaviour = async (input) => {
        const response = await fetch(provider.url, { signal: input.signal ?? null });
        await response.text();
        return completion('never sent');
      };
      const app: FastifyInstance = platform.app;
      await app.listen({ host: '127.0.0.1', port: 0 });
      try {
        const port = (app.server.address() as AddressInfo).port;
        await postThenDisconnect(port, provider.firstRequest);
        const task = await endedTask(platform);
        assert.equal(task.state, 'failed');
        assert.equal(task.error?.code, 'client_aborted');
        // The provider's socket closes a little after the task ends, later still on a busy
        // machine, so the count is read once the close event arrived.
        await withTimeout(provider.firstEarlyClose, 5_000, 'provider connection close');
        assert.equal(provider.closedEarly, 1);
        const usage = await platform.admission.usage({ id: 'tenant-alpha' });
        assert.equal(usage.inFlight, 0);
      } finally {
        await app.close();
        await provider.close();
      }
    });
  }
});
