import { Toxiproxy, ToxiproxyError } from 'toxiproxy-node-client';

/** The HTTP client type that toxiproxy-node-client's proxies and toxics call through. */
type ToxiproxyApi = Toxiproxy['api'];

/**
 * Creates a toxiproxy-node-client for the Toxiproxy API at `url` whose requests reject every
 * redirect. toxiproxy-node-client 4.1 sends its requests with the global `fetch`, which follows
 * redirects, so a Toxiproxy on loopback could otherwise send the platform's requests to
 * another machine.
 */
export function createToxiproxyClient(url: string): Toxiproxy {
  const toxiproxy = new Toxiproxy(url);
  // Proxies and toxics copy `api` when they are created, so it is replaced before any call.
  toxiproxy.api = noRedirectApi() as unknown as ToxiproxyApi;
  return toxiproxy;
}

/** Returns the public methods of toxiproxy-node-client's HTTP client, sending with `redirect: 'error'`. */
function noRedirectApi() {
  return {
    async get(url: string) {
      return { data: await sendJson('GET', url) };
    },
    async post(url: string, body?: unknown) {
      return { data: await sendJson('POST', url, body) };
    },
    async delete(url: string): Promise<void> {
      await sendJson('DELETE', url);
    },
    async getText(url: string): Promise<string> {
      return (await send('GET', url)).text();
    },
  };
}

/** Sends a request and parses its JSON reply. An empty reply gives undefined. */
async function sendJson(method: string, url: string, body?: unknown): Promise<unknown> {
  const text = await (await send(method, url, body)).text();
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const cause = error as Error;
    throw new ToxiproxyError(cause.name, `invalid JSON from ${method} ${url}: ${cause.message}`);
  }
}

/**
 * Sends a request that fails on a redirect.
 * @throws ToxiproxyError when the request fails, as on a redirect, or the status is not 2xx.
 */
async function send(method: string, url: string, body?: unknown): Promise<Response> {
  const init: RequestInit = { method, redirect: 'error' };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    const cause = error instanceof Error ? error : new Error(String(error));
    // Node's fetch puts the reason, such as a redirect it rejected, in `cause`.
    const reason = cause.cause instanceof Error ? `: ${cause.cause.message}` : '';
    throw new ToxiproxyError(cause.name, `${method} ${url} failed: ${cause.message}${reason}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new ToxiproxyError(
      'Error',
      `${method} ${url} failed: Request failed with status code ${response.status}`,
    );
  }
  return response;
}
