import type { IncomingMessage, ServerResponse } from 'node:http';

import type { ProxyCollection } from './collection.js';
import { FaultProxyError, MethodNotAllowedError } from './errors.js';
import { readJson, sendJson, sendNoContent } from './http-io.js';

/** Version reported by `GET /version`: the Toxiproxy 2 API, served by scalegate. */
export const API_VERSION = '2.0.0+scalegate';

type Handler = (
  proxies: ProxyCollection,
  request: IncomingMessage,
  response: ServerResponse,
  params: readonly string[],
) => Promise<void>;

type Route = Partial<Record<string, Handler>>;

/** Routes by path shape; `*` matches one path segment, passed to the handler. */
const ROUTES: ReadonlyArray<readonly [string, Route]> = [
  ['/version', { GET: version }],
  ['/metrics', { GET: metrics }],
  ['/reset', { POST: reset }],
  ['/populate', { POST: populate }],
  ['/proxies', { GET: listProxies, POST: createProxy }],
  ['/proxies/*', { GET: showProxy, POST: updateProxy, PATCH: updateProxy, DELETE: deleteProxy }],
  ['/proxies/*/toxics', { GET: listToxics, POST: createToxic }],
  [
    '/proxies/*/toxics/*',
    { GET: showToxic, POST: updateToxic, PATCH: updateToxic, DELETE: deleteToxic },
  ],
];

/**
 * Handles one API request. Requests from browsers (a `Mozilla/` user agent) get 403, so a
 * web page cannot drive the proxy; every failure becomes `{"error", "status"}`.
 */
export async function handleApiRequest(
  proxies: ProxyCollection,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  try {
    if (request.headers['user-agent']?.startsWith('Mozilla/') === true) {
      throw new FaultProxyError('browser_rejected', 'requests from browsers are rejected');
    }
    const { handler, params } = resolveRoute(request);
    await handler(proxies, request, response, params);
  } catch (error) {
    const failure =
      error instanceof FaultProxyError
        ? error
        : new FaultProxyError('internal', `internal error: ${String(error)}`);
    if (!response.headersSent) {
      if (failure instanceof MethodNotAllowedError) response.setHeader('allow', failure.allow);
      sendJson(response, failure.status, failure.toJSON());
    }
  }
}

function resolveRoute(request: IncomingMessage): { handler: Handler; params: string[] } {
  const target = request.url ?? '/';
  // A target such as `//x` is a path here, while the URL parser would read `x` as a host.
  const url = target.startsWith('/')
    ? new URL(`http://127.0.0.1${target}`)
    : new URL(target, 'http://127.0.0.1');
  const path = withoutTrailingSlashes(url.pathname);
  const segments = path.split('/').slice(1);
  for (const [pattern, route] of ROUTES) {
    const params = matchPattern(pattern, segments);
    if (params === undefined) {
      continue;
    }
    const handler = route[request.method ?? 'GET'];
    if (handler === undefined) {
      throw new MethodNotAllowedError(request.method ?? '', path, Object.keys(route));
    }
    return { handler, params };
  }
  throw new FaultProxyError(
    'route_not_found',
    `route not found: ${request.method ?? ''} ${path || '/'}`,
  );
}

/**
 * Drops the slashes that end `path`: `/proxies/` and `/proxies` name one route. A loop, not
 * `/\/+$/`, whose matching takes time quadratic in a path of many inner slashes.
 */
export function withoutTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end -= 1;
  return path.slice(0, end);
}

function matchPattern(pattern: string, segments: readonly string[]): string[] | undefined {
  const parts = pattern.split('/').slice(1);
  if (parts.length !== segments.length) {
    return undefined;
  }
  const params: string[] = [];
  for (const [index, part] of parts.entries()) {
    const segment = segments[index] ?? '';
    if (part === '*') params.push(decodePathSegment(segment));
    else if (part !== segment) return undefined;
  }
  return params;
}

/** Decodes one path segment, or throws a 400 when it is not percent-encoded UTF-8. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new FaultProxyError(
      'invalid_path',
      `invalid path segment "${segment}": malformed percent-encoding or UTF-8`,
    );
  }
}

function param(params: readonly string[], index: number): string {
  return params[index] ?? '';
}

async function version(
  _proxies: ProxyCollection,
  _request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  sendJson(response, 200, { version: API_VERSION });
}

/**
 * Serves the proxies' byte counters in the Prometheus text format. Toxiproxy 2.x serves
 * `/metrics` only when started with `-proxy-metrics` or `-runtime-metrics`. This proxy
 * always serves its proxy counters and has no runtime metrics.
 */
async function metrics(
  proxies: ProxyCollection,
  _request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const body = await proxies.metrics.render();
  response.writeHead(200, {
    'content-type': proxies.metrics.contentType,
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

async function reset(
  proxies: ProxyCollection,
  _request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  await proxies.reset();
  sendNoContent(response);
}

async function populate(
  proxies: ProxyCollection,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const result = await proxies.populate(await readJson(request));
  if (result.error === undefined) {
    sendJson(response, 201, { proxies: result.proxies });
    return;
  }
  sendJson(response, result.error.status, { ...result.error.toJSON(), proxies: result.proxies });
}

async function listProxies(
  proxies: ProxyCollection,
  _request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const body = Object.fromEntries(proxies.list().map((proxy) => [proxy.name, proxy.toJSON()]));
  sendJson(response, 200, body);
}

async function createProxy(
  proxies: ProxyCollection,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const proxy = await proxies.create(await readJson(request));
  sendJson(response, 201, proxy.toJSON());
}

async function showProxy(
  proxies: ProxyCollection,
  _request: IncomingMessage,
  response: ServerResponse,
  params: readonly string[],
): Promise<void> {
  sendJson(response, 200, proxies.get(param(params, 0)).toJSON());
}

async function updateProxy(
  proxies: ProxyCollection,
  request: IncomingMessage,
  response: ServerResponse,
  params: readonly string[],
): Promise<void> {
  const proxy = proxies.get(param(params, 0));
  const updated = await proxies.update(proxy.name, await readJson(request));
  sendJson(response, 200, updated.toJSON());
}

async function deleteProxy(
  proxies: ProxyCollection,
  _request: IncomingMessage,
  response: ServerResponse,
  params: readonly string[],
): Promise<void> {
  await proxies.remove(param(params, 0));
  sendNoContent(response);
}

async function listToxics(
  proxies: ProxyCollection,
  _request: IncomingMessage,
  response: ServerResponse,
  params: readonly string[],
): Promise<void> {
  sendJson(response, 200, proxies.get(param(params, 0)).toxics());
}

async function createToxic(
  proxies: ProxyCollection,
  request: IncomingMessage,
  response: ServerResponse,
  params: readonly string[],
): Promise<void> {
  const proxy = proxies.get(param(params, 0));
  sendJson(response, 200, proxy.addToxic(await readJson(request)));
}

async function showToxic(
  proxies: ProxyCollection,
  _request: IncomingMessage,
  response: ServerResponse,
  params: readonly string[],
): Promise<void> {
  sendJson(response, 200, proxies.get(param(params, 0)).toxic(param(params, 1)));
}

async function updateToxic(
  proxies: ProxyCollection,
  request: IncomingMessage,
  response: ServerResponse,
  params: readonly string[],
): Promise<void> {
  const proxy = proxies.get(param(params, 0));
  proxy.toxic(param(params, 1));
  const toxic = await proxy.updateToxic(param(params, 1), await readJson(request));
  sendJson(response, 200, toxic);
}

async function deleteToxic(
  proxies: ProxyCollection,
  _request: IncomingMessage,
  response: ServerResponse,
  params: readonly string[],
): Promise<void> {
  await proxies.get(param(params, 0)).removeToxic(param(params, 1));
  sendNoContent(response);
}
