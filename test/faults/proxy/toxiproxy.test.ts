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
