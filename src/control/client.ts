/**
 * `ControlClient`: talks to a daemon's control socket (docs/control.md), for the CLI (`cryptobridge status`,
 * `cryptobridge vm …`) and for scripts. It uses Deno's own Unix sockets, not the FFI ones: a client needs only
 * `--allow-read`, `--allow-write` and `--allow-net=unix:` scoped to the socket path, never `--allow-ffi`
 * (README, "Least privilege"). Import it from this file: the folder's `mod.ts` also loads the server, and with it FFI.
 *
 * @module
 */

import { ErrorCode, JSONRPC_VERSION, type Params, type RequestId, RpcError } from "./protocol.ts";

/** Why the client could not talk to a daemon. */
export type ControlClientErrorKind =
  /** Nothing listens at the path (ENOENT, ECONNREFUSED): no daemon, or another path. */
  | "no-daemon"
  /** The socket exists and this user may not open it (EACCES: mode 0600 of another user). */
  | "permission"
  /** No answer in time. */
  | "timeout"
  /** The daemon closed the connection (it stopped, or refused this client). */
  | "closed"
  /** The daemon answered with something that is not a JSON-RPC 2.0 response. */
  | "protocol";

/** The client could not talk to a daemon (an error answer from one is an `RpcError`). */
export class ControlClientError extends Error {
  /** Always `ControlClientError`. */
  override name = "ControlClientError";
  /** Why. */
  readonly kind: ControlClientErrorKind;
  /** The socket path. */
  readonly path: string;

  /**
   * @param kind Why.
   * @param path The socket path.
   * @param message What happened.
   * @param options The cause.
   */
  constructor(kind: ControlClientErrorKind, path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
    this.path = path;
  }
}

/** Options of `ControlClient.connect`. */
export interface ControlClientOptions {
  /** How long one call may wait for its answer, in milliseconds. Default 30000. */
  readonly timeoutMs?: number;
}

interface Response {
  readonly id: RequestId;
  readonly result?: unknown;
  readonly error?: { readonly code: number; readonly message: string; readonly data?: unknown };
}

/** A connection to a daemon's control socket; one call at a time. */
export class ControlClient implements Disposable {
  readonly #conn: Deno.UnixConn;
  readonly #path: string;
  readonly #timeoutMs: number;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = "";
  #nextId = 1;
  #closed = false;

  private constructor(conn: Deno.UnixConn, path: string, timeoutMs: number) {
    this.#conn = conn;
    this.#path = path;
    this.#timeoutMs = timeoutMs;
    this.#reader = conn.readable.getReader();
  }

  /**
   * Connects.
   *
   * @param path The control socket.
   * @param options The call timeout.
   * @returns The client.
   * @throws ControlClientError `no-daemon`, `permission`; Deno.errors.NotCapable when the `--allow-*` flags do
   *   not cover the path.
   */
  static async connect(path: string, options: ControlClientOptions = {}): Promise<ControlClient> {
    let conn: Deno.UnixConn;
    try {
      conn = await Deno.connect({ transport: "unix", path });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.ConnectionRefused) {
        throw new ControlClientError("no-daemon", path, `No daemon answers on ${path}`, { cause: e });
      }
      if (e instanceof Deno.errors.PermissionDenied) {
        throw new ControlClientError("permission", path, `Cannot open ${path}: permission denied`, {
          cause: e,
        });
      }
      throw e;
    }
    return new ControlClient(conn, path, options.timeoutMs ?? 30_000);
  }

  /**
   * Calls one method and waits for its answer.
   *
   * @param method The method.
   * @param params Its parameters.
   * @returns The result.
   * @throws RpcError when the daemon answered with an error; ControlClientError `timeout`, `closed`, `protocol`.
   */
  async call<T = unknown>(method: string, params?: Params): Promise<T> {
    const id = this.#nextId++;
    const request = { jsonrpc: JSONRPC_VERSION, method, id, ...(params === undefined ? {} : { params }) };
    await this.#write(`${JSON.stringify(request)}\n`);
    for (;;) {
      const response = await this.#readResponse();
      if (response.id !== id && response.id !== null) continue; // an answer to an abandoned call
      if (response.error !== undefined) {
        throw new RpcError(response.error.code, response.error.message, response.error.data);
      }
      return response.result as T;
    }
  }

  /** Closes the connection; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reader.releaseLock();
    try {
      this.#conn.close();
    } catch {
      // closed by the peer already
    }
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  async #write(text: string): Promise<void> {
    const bytes = new TextEncoder().encode(text);
    try {
      for (let at = 0; at < bytes.length;) at += await this.#conn.write(bytes.subarray(at));
    } catch (e) {
      throw new ControlClientError(
        "closed",
        this.#path,
        `The daemon on ${this.#path} closed the connection`,
        {
          cause: e,
        },
      );
    }
  }

  async #readResponse(): Promise<Response> {
    const line = await this.#readLine();
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw this.#protocol(`not JSON: ${line.slice(0, 80)}`);
    }
    const r = value as Record<string, unknown>;
    if (typeof value !== "object" || value === null || r["jsonrpc"] !== JSONRPC_VERSION || !("id" in r)) {
      throw this.#protocol(`not a JSON-RPC 2.0 response: ${line.slice(0, 80)}`);
    }
    return r as unknown as Response;
  }

  async #readLine(): Promise<string> {
    const deadline = Date.now() + this.#timeoutMs;
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        return line;
      }
      const chunk = await this.#readChunk(deadline - Date.now());
      if (chunk === null) {
        throw new ControlClientError(
          "closed",
          this.#path,
          `The daemon on ${this.#path} closed the connection`,
        );
      }
      this.#buffer += this.#decoder.decode(chunk, { stream: true });
    }
  }

  async #readChunk(waitMs: number): Promise<Uint8Array | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), waitMs));
    try {
      const r = await Promise.race([this.#reader.read(), timeout]);
      if (r === "timeout") {
        this.close(); // a late answer would be taken for the next call's
        throw new ControlClientError(
          "timeout",
          this.#path,
          `The daemon on ${this.#path} did not answer within ${this.#timeoutMs} ms`,
        );
      }
      return r.done ? null : r.value;
    } catch (e) {
      if (e instanceof ControlClientError) throw e;
      throw new ControlClientError(
        "closed",
        this.#path,
        `The daemon on ${this.#path} closed the connection`,
        {
          cause: e,
        },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  #protocol(problem: string): ControlClientError {
    return new ControlClientError("protocol", this.#path, `The daemon on ${this.#path} answered ${problem}`);
  }
}

export { ErrorCode, RpcError };
