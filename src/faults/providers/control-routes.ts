import type { IncomingMessage, ServerResponse } from 'node:http';

import { isFaultConfigError } from './errors.js';
import type { FaultConfig } from './fault-config.js';
import { isBodyTooLargeError, readBody, sendJson } from './http-io.js';

/** Path of the fault control endpoint. */
export const FAULTS_PATH = '/_control/faults';

const MAX_CONTROL_BODY_BYTES = 1024 * 1024;

/** Fault state the control endpoint reads and replaces. */
export interface FaultControl {
  faults(): FaultConfig;
  /** Validates and replaces the faults; throws FaultConfigError naming the bad field. */
  setFaults(config: unknown): FaultConfig;
  clearFaults(): void;
}

function sendControlError(
  res: ServerResponse,
  status: number,
  message: string,
  field?: string,
): void {
  sendJson(
    res,
    status,
    JSON.stringify({ error: { code: 'invalid_fault_config', message, field } }),
  );
}

/** Serves `GET|PUT|DELETE /_control/faults`; PUT replaces the whole configuration. */
export async function handleFaultControl(
  control: FaultControl,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method === 'GET') {
    sendJson(res, 200, JSON.stringify(control.faults()));
    return;
  }
  if (req.method === 'DELETE') {
    control.clearFaults();
    res.writeHead(204).end();
    return;
  }
  if (req.method === 'PUT') {
    await replaceFaults(control, req, res);
    return;
  }
  res.writeHead(405, { allow: 'GET, PUT, DELETE' }).end();
}

async function replaceFaults(
  control: FaultControl,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req, MAX_CONTROL_BODY_BYTES));
  } catch (error) {
    const tooLarge = isBodyTooLargeError(error);
    sendControlError(
      res,
      tooLarge ? 413 : 400,
      tooLarge ? error.message : 'body is not valid JSON',
    );
    return;
  }
  try {
    sendJson(res, 200, JSON.stringify(control.setFaults(body)));
  } catch (error) {
    if (!isFaultConfigError(error)) {
      throw error;
    }
    sendControlError(res, 400, error.message, error.field);
  }
}
