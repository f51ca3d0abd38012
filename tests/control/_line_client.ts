/**
 * Test fixture: a raw client of the control socket that sends any bytes and reads answer lines, and a server on a
 * fake daemon in a temporary folder.
 *
 * @module
 */

import { ControlServer, type ControlServerOptions } from "../../src/control/mod.ts";
import { FakeControl } from "./_fake_control.ts";

/** A raw line client. */
export class LineClient implements Disposable {
  readonly conn: Deno.UnixConn;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buffer = "";
  readonly #decoder = new TextDecoder();

  private constructor(conn: Deno.UnixConn) {
    this.conn = conn;
    this.#reader = conn.readable.getReader();
  }

  static async connect(path: string): Promise<LineClient> {
    return new LineClient(await Deno.connect({ transport: "unix", path }));
  }

  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    for (let at = 0; at < bytes.length;) at += await this.conn.write(bytes.subarray(at));
  }

  /** The next line, or null at end of stream. */
  async line(timeoutMs = 5000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        return line;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<null>((r) => timer = setTimeout(() => r(null), deadline - Date.now()));
      const r = await Promise.race([this.#reader.read(), timeout]);
      clearTimeout(timer);
      if (r === null) {
        throw new Error(`No answer line within ${timeoutMs} ms (have: ${this.#buffer.slice(0, 80)})`);
      }
      if (r.done) return null;
      this.#buffer += this.#decoder.decode(r.value, { stream: true });
    }
  }

  /** Sends a line and parses the answer line. */
  async ask(line: string): Promise<unknown> {
    await this.send(`${line}\n`);
    const answer = await this.line();
    if (answer === null) throw new Error("The server closed the connection");
    return JSON.parse(answer);
  }

  close(): void {
    try {
      this.#reader.releaseLock();
      this.conn.close();
    } catch {
      // closed already
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A control server on a fake daemon; disposing closes it and removes its folder. */
export interface ServerRig extends AsyncDisposable {
  readonly server: ControlServer;
  readonly control: FakeControl;
  readonly dir: string;
  readonly path: string;
}

export function startServer(options: Partial<ControlServerOptions> = {}): ServerRig {
  const dir = Deno.makeTempDirSync({ prefix: "cb-control-" });
  const path = `${dir}/control.sock`;
  const control = new FakeControl();
  const server = ControlServer.listen({ path, control, ...options });
  return {
    server,
    control,
    dir,
    path,
    async [Symbol.asyncDispose](): Promise<void> {
      await server.close();
      Deno.removeSync(dir, { recursive: true });
    },
  };
}
