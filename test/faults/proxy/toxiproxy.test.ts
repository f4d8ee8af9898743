import type { StartedTestContainer } from 'testcontainers';

import { defineToxiproxyConformance } from './conformance.js';

/**
 * Runs the conformance suite against a real Toxiproxy at TOXIPROXY_URL. That Toxiproxy
 * must reach the test's upstream servers on its own 127.0.0.1, so it runs on this host.
 */
describe('FaultProxy (real Toxiproxy)', () => {
  const url = process.env.TOXIPROXY_URL;
  if (url === undefined || url === '') {
    it('skips because TOXIPROXY_URL is unset', function () {
      this.skip();
    });
    return;
  }
  defineToxiproxyConformance(() => url);
});

/** Toxiproxy image started by testcontainers; the tag is Toxiproxy's 2.x release line. */
const TOXIPROXY_IMAGE = 'ghcr.io/shopify/toxiproxy:2.12.0';
const CONTAINER_API_PORT = 18474;

/**
 * Runs the conformance suite against Toxiproxy in a container that testcontainers starts.
 * It needs a Docker engine, which the build machines lack, so it runs only when
 * SCALEGATE_TESTCONTAINERS=1 is set. Without that it never looks for a Docker socket.
 * The container shares the host network so that it reaches the test upstreams on
 * 127.0.0.1, and its API listens on 127.0.0.1 only.
 */
describe('FaultProxy (Toxiproxy in a container)', function () {
  // NOTE: this path has not run here: no Docker engine exists on the build machines.
  if (process.env.SCALEGATE_TESTCONTAINERS !== '1') {
    it('skips unless SCALEGATE_TESTCONTAINERS=1 and a Docker engine runs', function () {
      this.skip();
    });
    return;
  }
  this.timeout(180_000);
  let container: StartedTestContainer | undefined;

  before(async () => {
    const { GenericContainer, Wait } = await import('testcontainers');
    container = await new GenericContainer(TOXIPROXY_IMAGE)
      .withNetworkMode('host')
      .withCommand(['-host', '127.0.0.1', '-port', String(CONTAINER_API_PORT)])
      .withWaitStrategy(Wait.forHttp('/version', CONTAINER_API_PORT))
      .start();
  });

  after(async () => {
    await container?.stop();
  });

  defineToxiproxyConformance(() => `http://127.0.0.1:${CONTAINER_API_PORT}`);
});
