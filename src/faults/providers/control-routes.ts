import type { IncomingMessage, ServerResponse } from 'node:http';

import { isFaultConfigError } from './errors.js';
import type { FaultConfig } from './fault-config.js';
import { isBodyTooLargeError, readBody, sendJson } from './http-io.js';

/** Path of the fault control endpoint. */
export const FAULTS_PATH = '/_control/faults';

const MAX_CONTROL_BODY_BYTES = 1024 * 1024;

/** Advice that ends the error of a PUT body that is too large or not JSON. */
const FAULTS_BODY_FIX =
  'send one JSON object of fault settings, such as {"errorRate":1,"errorStatus":503}, or DELETE /_control/faults to clear them';

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
  sendJson(
    res,
    405,
    JSON.stringify({
      error: {
        code: 'method_not_allowed',
        message: `${req.method} ${FAULTS_PATH} is not supported; use GET to read the faults, PUT to replace them or DELETE to clear them`,
      },
    }),
    { allow: 'GET, PUT, DELETE' },
  );
}

async function replaceFaults(
  control: FaultControl,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let text: string;
  try {
    text = await readBody(req, MAX_CONTROL_BODY_BYTES);
  } catch (error) {
    if (!isBodyTooLargeError(error)) {
      throw error;
    }
    sendControlError(res, 413, `${error.message}; ${FAULTS_BODY_FIX}`);
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    const reason = text.trim() === '' ? 'the body is empty' : (error as SyntaxError).message;
    sendControlError(res, 400, `body is not valid JSON: ${reason}; ${FAULTS_BODY_FIX}`);
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
