/**
 * `MetricsServer`: the HTTP endpoint of `serve --metrics ADDR`, over TCP (`127.0.0.1:9464`, `[::1]:9464`) or a
 * Unix socket path (`/run/cryptobridge/metrics.sock`, mode 0600 unless told). `GET /metrics` answers a scrape
 * in the text format 0.0.4; `/` says where the metrics are; anything else is 404 (405 for methods other than GET
 * and HEAD). Deno's HTTP server does the serving: it runs beside the daemon's reactor on the main thread.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { CONTENT_TYPE } from "./exposition.ts";
import type { MetricsRegistry } from "./registry.ts";

const log = getLogger(["cryptobridge", "metrics"]);

/** Where metrics are served. */
export type MetricsAddress =
  | { readonly kind: "tcp"; readonly hostname: string; readonly port: number }
  | { readonly kind: "unix"; readonly path: string };

/** A `--metrics` value that is neither `HOST:PORT` nor a path. */
export class MetricsAddressError extends Error {
  /** Always `MetricsAddressError`. */
  override name = "MetricsAddressError";
}

/**
 * Reads a `--metrics` value: a path (it contains a `/`), or `HOST:PORT` with an IPv4 address, `localhost` or a
 * bracketed IPv6 address (`[::1]:9464`). Port 0 picks a free port.
 *
 * @param text The value.
 * @returns The address.
 * @throws MetricsAddressError saying what would do.
 */
export function parseMetricsAddress(text: string): MetricsAddress {
  if (text.includes("/")) return { kind: "unix", path: text };
  const m = /^(\[[0-9a-fA-F:.]+\]|[0-9.]+|localhost):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || port > 65535) {
    throw new MetricsAddressError(
      `--metrics "${text}" is not HOST:PORT or a socket path: use 127.0.0.1:9464, [::1]:9464 or ` +
        "/run/cryptobridge/metrics.sock",
    );
  }
  const host = m[1]!;
  return { kind: "tcp", hostname: host.startsWith("[") ? host.slice(1, -1) : host, port };
}

/** Options of `MetricsServer.listen`. */
export interface MetricsServerOptions {
  /** Where to listen (`parseMetricsAddress`). */
  readonly address: MetricsAddress;
  /** What a scrape shows. */
  readonly registry: MetricsRegistry;
  /** Permission bits of a Unix socket file. Default 0600. */
  readonly mode?: number;
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || hostname.startsWith("127.");
}

/** Removes a socket file nobody serves; refuses to touch a served one or a non-socket. */
async function clearStale(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  if (!info.isSocket) {
    throw new MetricsAddressError(`Cannot serve metrics on ${path}: it exists and is not a socket`);
  }
  try {
    (await Deno.connect({ transport: "unix", path })).close();
  } catch (e) {
    if (e instanceof Deno.errors.ConnectionRefused) {
      Deno.removeSync(path);
      return;
    }
    throw e;
  }
  throw new MetricsAddressError(`Cannot serve metrics on ${path}: another process is serving it`);
}

/** The metrics endpoint, serving. */
export class MetricsServer {
  readonly #server: Deno.HttpServer;
  readonly #address: string;
  readonly #path: string | null;
  #closing: Promise<void> | null = null;

  private constructor(server: Deno.HttpServer, address: string, path: string | null) {
    this.#server = server;
    this.#address = address;
    this.#path = path;
  }

  /**
   * Listens and serves until `close()`.
   *
   * @param options Address, registry, socket mode.
   * @returns The server, listening.
   * @throws MetricsAddressError for a path in use or not a socket; Deno.errors.AddrInUse for a port in use.
   */
  static async listen(options: MetricsServerOptions): Promise<MetricsServer> {
    const { address, registry } = options;
    const handler = (request: Request): Promise<Response> => answer(request, registry);
    if (address.kind === "unix") {
      await clearStale(address.path);
      const server = Deno.serve({ path: address.path, onListen: () => {} }, handler);
      Deno.chmodSync(address.path, options.mode ?? 0o600);
      return new MetricsServer(server, address.path, address.path);
    }
    if (!isLoopback(address.hostname)) {
      log.warning("metrics on {host}: readable by anyone who can reach it", { host: address.hostname });
    }
    const server = Deno.serve(
      { hostname: address.hostname, port: address.port, onListen: () => {} },
      handler,
    );
    const addr = server.addr as Deno.NetAddr;
    const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
    return new MetricsServer(server, `${host}:${addr.port}`, null);
  }

  /** Where it listens: `HOST:PORT` (the port chosen when 0 was asked) or the socket path. */
  get address(): string {
    return this.#address;
  }

  /** Stops serving (and removes the socket file). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#server.shutdown();
      if (this.#path !== null) {
        try {
          Deno.removeSync(this.#path);
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        }
      }
    })();
    return this.#closing;
  }
}

async function answer(request: Request, registry: MetricsRegistry): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("Only GET and HEAD\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  const path = new URL(request.url).pathname;
  if (path === "/") return new Response("cryptobridge: metrics are at /metrics\n");
  if (path !== "/metrics") return new Response("Not found: metrics are at /metrics\n", { status: 404 });
  try {
    const text = await registry.render();
    return new Response(request.method === "HEAD" ? null : text, {
      headers: { "content-type": CONTENT_TYPE },
    });
  } catch (e) {
    log.error("metrics scrape failed: {error}", { error: (e as Error).message });
    return new Response(`Scrape failed: ${(e as Error).message}\n`, { status: 500 });
  }
}
