/**
 * JSON-RPC 2.0 (https://www.jsonrpc.org/specification) as the control socket speaks it: one request, batch or
 * response per line (newline-delimited JSON). Pure: no I/O; the server and the client both use it.
 *
 * @module
 */

/** The protocol version every message carries (`"jsonrpc": "2.0"`). */
export const JSONRPC_VERSION = "2.0";

/**
 * Error codes: the specification's (§5.1) and, in its range for implementation-defined server errors
 * (-32000 to -32099), cryptobridge's own (docs/control.md).
 */
export const ErrorCode = {
  /** Invalid JSON was received. */
  PARSE_ERROR: -32700,
  /** The JSON sent is not a valid Request object (also: a line longer than the limit). */
  INVALID_REQUEST: -32600,
  /** The method does not exist. */
  METHOD_NOT_FOUND: -32601,
  /** Invalid method parameter(s): a missing, unknown or mistyped parameter, or a value the daemon refused. */
  INVALID_PARAMS: -32602,
  /** Internal JSON-RPC error: the daemon failed while answering. */
  INTERNAL_ERROR: -32603,
  /** Too many connections: close one and retry. */
  SERVER_BUSY: -32000,
  /** No such object (a VM name, an accelerator). */
  NOT_FOUND: -32001,
  /** The object exists already (a VM name or socket in use). */
  ALREADY_EXISTS: -32002,
  /** The daemon cannot do it in its present state (no accelerator; stopping). */
  UNAVAILABLE: -32003,
  /** Another operation on the same object is in progress. */
  CONFLICT: -32004,
  /** The operation was tried and failed (binding a socket, resetting a device). */
  FAILED: -32005,
  /** The peer's user may not use this socket. */
  PERMISSION_DENIED: -32006,
} as const;

/** A request id: a string, a number, or null (§4). */
export type RequestId = string | number | null;

/** Parameters: by position or by name (§4.2). */
export type Params = readonly unknown[] | Readonly<Record<string, unknown>>;

/** A checked Request object. `id` absent: a notification, which gets no response (§4.1). */
export interface RpcRequest {
  readonly jsonrpc: typeof JSONRPC_VERSION;
  readonly method: string;
  readonly params?: Params;
  readonly id?: RequestId;
}

/** The error member of a response (§5.1). */
export interface RpcErrorObject {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

/** A Response object (§5): exactly one of `result` and `error`. */
export type RpcResponse =
  | { readonly jsonrpc: typeof JSONRPC_VERSION; readonly id: RequestId; readonly result: unknown }
  | { readonly jsonrpc: typeof JSONRPC_VERSION; readonly id: RequestId; readonly error: RpcErrorObject };

/** A JSON-RPC error: thrown where a request fails, sent as the response's `error`, rethrown by the client. */
export class RpcError extends Error {
  /** Always `RpcError`. */
  override name = "RpcError";
  /** The JSON-RPC error code (`ErrorCode`). */
  readonly code: number;
  /** Details (a field name, a limit), JSON. */
  readonly data: unknown;

  /**
   * @param code The error code.
   * @param message One line saying what went wrong and what to do.
   * @param data Details, if any.
   */
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }

  /** The response's `error` member. */
  toObject(): RpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is RequestId {
  return v === null || typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
}

/**
 * Checks one Request object (§4).
 *
 * @param value A parsed JSON value (one element of a batch, or the whole line).
 * @returns The request.
 * @throws RpcError INVALID_REQUEST, with the request's id in `data.id` when it had a valid one.
 */
export function checkRequest(value: unknown): RpcRequest {
  if (!isObject(value)) {
    throw new RpcError(ErrorCode.INVALID_REQUEST, "Invalid Request: a request must be a JSON object");
  }
  const id = value["id"];
  const withId = (problem: string): RpcError =>
    new RpcError(ErrorCode.INVALID_REQUEST, `Invalid Request: ${problem}`, isId(id) ? { id } : undefined);
  if (value["jsonrpc"] !== JSONRPC_VERSION) throw withId('"jsonrpc" must be exactly "2.0"');
  if (typeof value["method"] !== "string") throw withId('"method" must be a string');
  const params = value["params"];
  if (params !== undefined && (typeof params !== "object" || params === null)) {
    throw withId('"params" must be an array or an object');
  }
  if ("id" in value && !isId(id)) throw withId('"id" must be a string, a number or null');
  return value as unknown as RpcRequest;
}

/**
 * A success response.
 *
 * @param id The request's id.
 * @param result The result (JSON).
 * @returns The response.
 */
export function success(id: RequestId, result: unknown): RpcResponse {
  return { jsonrpc: JSONRPC_VERSION, id, result: result === undefined ? null : result };
}

/**
 * An error response.
 *
 * @param id The request's id (null when it could not be read).
 * @param error The error.
 * @returns The response.
 */
export function failure(id: RequestId, error: RpcError): RpcResponse {
  return { jsonrpc: JSONRPC_VERSION, id, error: error.toObject() };
}

/**
 * What one line holds: a single request, a batch (§6), or an error that answers the whole line.
 *
 * @param line The line's text, without its newline.
 * @returns The parsed items (each a JSON value to check with `checkRequest`) and whether it was a batch.
 * @throws RpcError PARSE_ERROR for invalid JSON; INVALID_REQUEST for an empty batch.
 */
export function parseLine(line: string): { items: unknown[]; batch: boolean } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new RpcError(ErrorCode.PARSE_ERROR, `Parse error: ${(e as Error).message}`);
  }
  if (!Array.isArray(value)) return { items: [value], batch: false };
  if (value.length === 0) {
    throw new RpcError(ErrorCode.INVALID_REQUEST, "Invalid Request: a batch must hold at least one request");
  }
  return { items: value, batch: true };
}
