/**
 * One line in, one line out: parses a request or a batch (JSON-RPC 2.0 §6), runs each request, and builds the
 * answer. Notifications (no `id`) get no response, not even for errors (§4.1), so a line of notifications only
 * gets no line back. Requests of a batch run one after another, in order.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { invoke } from "./methods.ts";
import {
  checkRequest,
  ErrorCode,
  failure,
  parseLine,
  type RequestId,
  RpcError,
  type RpcResponse,
  success,
} from "./protocol.ts";
import type { DaemonControl } from "./reports.ts";

const log = getLogger(["cryptobridge", "control"]);

/** Most requests in one batch (a bigger batch is answered with one Invalid Request error). Default 64. */
export const DEFAULT_MAX_BATCH = 64;

async function answerOne(control: DaemonControl, item: unknown): Promise<RpcResponse | null> {
  let request;
  try {
    request = checkRequest(item);
  } catch (e) {
    const error = e as RpcError;
    const id = (error.data as { id?: RequestId } | undefined)?.id ?? null;
    return failure(id, new RpcError(error.code, error.message));
  }
  const notification = !("id" in request);
  const id = request.id ?? null;
  try {
    const result = await invoke(control, request.method, request.params);
    return notification ? null : success(id, result);
  } catch (e) {
    const error = e as RpcError;
    if (error.code === ErrorCode.INTERNAL_ERROR) {
      log.error("control method {method} failed: {error}", { method: request.method, error: error.data });
    }
    return notification ? null : failure(id, error);
  }
}

/**
 * Answers one line.
 *
 * @param control The daemon.
 * @param line The line, without its newline.
 * @param maxBatch Most requests in a batch.
 * @returns The response line (JSON, without newline), or null when nothing is to be sent back.
 */
export async function answerLine(control: DaemonControl, line: string, maxBatch = DEFAULT_MAX_BATCH): Promise<
  string | null
> {
  let parsed;
  try {
    parsed = parseLine(line);
  } catch (e) {
    return JSON.stringify(failure(null, e as RpcError));
  }
  if (parsed.batch && parsed.items.length > maxBatch) {
    const error = new RpcError(
      ErrorCode.INVALID_REQUEST,
      `Invalid Request: a batch may hold at most ${maxBatch} requests: got ${parsed.items.length}`,
      { limit: maxBatch },
    );
    return JSON.stringify(failure(null, error));
  }
  const responses: RpcResponse[] = [];
  for (const item of parsed.items) {
    const r = await answerOne(control, item);
    if (r !== null) responses.push(r);
  }
  if (responses.length === 0) return null;
  return JSON.stringify(parsed.batch ? responses : responses[0]);
}
