import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Responses of the fake gateway to `POST /v1/tasks`. */
export interface FakeGatewayBehaviour {
  /** Delay before each POST response, in milliseconds. @defaultValue 0 */
  delayMs?: number;
  /** Status of a sync reply. @defaultValue 200 */
  status?: number;
  /** Error code sent in the body of a non-2xx reply. */
  errorCode?: string;
  /** Time after submission when an async task reaches `succeeded`; never when undefined. */
  asyncCompleteAfterMs?: number;
  /** Leaves POST requests without a response. */
  hang?: boolean;
  /** Leaves every POST request after this many without a response. */
  hangAfter?: number;
}

export interface FakeGateway {
  url: string;
  /** Requests received, by method and path. */
  received: string[];
  /** Bodies of the `POST /v1/tasks` requests received, parsed. */
  submittedBodies: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts a gateway stand-in on 127.0.0.1 with an ephemeral port. */
export async function startFakeGateway(behaviour: FakeGatewayBehaviour = {}): Promise<FakeGateway> {
  const received: string[] = [];
  const submittedBodies: Record<string, unknown>[] = [];
  const submitted = new Map<string, number>();
  let posts = 0;
  const server = createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    if (req.method === 'POST') posts += 1;
    const hangAfter = behaviour.hangAfter;
    const hang = behaviour.hang === true || (hangAfter !== undefined && posts > hangAfter);
    void handle(req, res, { ...behaviour, hang }, { submitted, submittedBodies });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    submittedBodies,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  behaviour: FakeGatewayBehaviour,
  records: { submitted: Map<string, number>; submittedBodies: Record<string, unknown>[] },
): Promise<void> {
  const { submitted } = records;
  const body = await readBody(req);
  if (req.method === 'GET' && req.url === '/healthz') return reply(res, 200, { ok: true });
  if (req.method === 'GET' && req.url?.startsWith('/v1/tasks/')) {
    const id = req.url.slice('/v1/tasks/'.length);
    const at = submitted.get(id);
    if (at === undefined) return reply(res, 404, { error: { code: 'not_found', message: id } });
    const done =
      behaviour.asyncCompleteAfterMs !== undefined &&
      Date.now() - at >= behaviour.asyncCompleteAfterMs;
    return reply(res, 200, { id, state: done ? 'succeeded' : 'running', createdAt: at });
  }
  if (req.method !== 'POST' || req.url !== '/v1/tasks') return reply(res, 404, {});
  records.submittedBodies.push(JSON.parse(body) as Record<string, unknown>);
  if (behaviour.hang === true) return;
  await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs ?? 0));
  const task = JSON.parse(body) as { mode?: string };
  if (task.mode === 'async') {
    const id = `task-${submitted.size + 1}`;
    submitted.set(id, Date.now());
    res.setHeader('location', `/v1/tasks/${id}`);
    return reply(res, 202, { id, state: 'queued' });
  }
  const status = behaviour.status ?? 200;
  if (status >= 400)
    return reply(res, status, { error: { code: behaviour.errorCode, message: 'fake error' } });
  return reply(res, status, { id: 'sync', state: 'succeeded' });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
