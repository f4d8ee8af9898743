import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { ReasonPhraseResponse, reasonPhrase } from '../../src/platform/reason-phrase.js';

/** Serves each request with `respond` on 127.0.0.1 and returns the server's origin. */
async function serve(respond: (response: ServerResponse) => void): Promise<{
  origin: string;
  server: Server;
}> {
  const server = createServer({ ServerResponse: ReasonPhraseResponse }, (_request, response) =>
    respond(response),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, server };
}

async function statusLineOf(respond: (response: ServerResponse) => void) {
  const { origin, server } = await serve(respond);
  try {
    const response = await fetch(origin);
    await response.arrayBuffer();
    return { status: response.status, reason: response.statusText };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('reasonPhrase', () => {
  const cases: [number, string][] = [
    [200, 'OK'],
    [404, 'Not Found'],
    [499, 'Client Closed Request'],
    [529, 'Overloaded'],
    [460, 'Client Error'],
    [598, 'Server Error'],
    [299, 'Successful'],
    [700, 'Unknown'],
  ];
  for (const [status, phrase] of cases) {
    it(`names ${status} ${phrase}`, () => {
      assert.equal(reasonPhrase(status), phrase);
    });
  }
});

describe('ReasonPhraseResponse', () => {
  it('sends 499 Client Closed Request', async () => {
    const line = await statusLineOf((response) => {
      response.writeHead(499, { 'content-type': 'text/plain' }).end('closed');
    });
    assert.equal(line.status, 499);
    assert.equal(line.reason, 'Client Closed Request');
  });

  it('names an implicit 529 header', async () => {
    const line = await statusLineOf((response) => {
      response.statusCode = 529;
      response.end();
    });
    assert.equal(line.status, 529);
    assert.equal(line.reason, 'Overloaded');
  });

  it('keeps a reason given to writeHead', async () => {
    const line = await statusLineOf((response) => {
      response.writeHead(499, 'Gone Away').end();
    });
    assert.equal(line.reason, 'Gone Away');
  });

  it('keeps a statusMessage set before writeHead', async () => {
    const line = await statusLineOf((response) => {
      response.statusMessage = 'Gone Away';
      response.writeHead(499).end();
    });
    assert.equal(line.reason, 'Gone Away');
  });

  it("keeps Node's phrase for a standard status", async () => {
    const line = await statusLineOf((response) => {
      response.writeHead(503).end();
    });
    assert.equal(line.reason, 'Service Unavailable');
  });
});
