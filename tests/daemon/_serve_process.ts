/**
 * Test fixture: `cryptobridge serve` as a separate process, the way systemd runs it: `$NOTIFY_SOCKET` names a
 * datagram socket the test bound, so READY=1 and STOPPING=1 arrive as they would at systemd. Its stdout and stderr
 * are kept whole, for searching.
 *
 * @module
 */

import { UnixDatagram } from "../../src/os/mod.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** A serve process and systemd's end of its notify socket. */
export interface ServeProcess extends AsyncDisposable {
  readonly dir: string;
  readonly child: Deno.ChildProcess;
  /** systemd's end: the datagrams the daemon sent. */
  readonly notify: UnixDatagram;
  /** The next notify datagram within `ms`, or null. */
  nextNotice(ms?: number): Promise<string | null>;
  /** SIGTERM, then the exit code and everything it printed. */
  stop(): Promise<{ code: number; stdout: string; stderr: string }>;
}

/**
 * Starts `serve` with `args` in a fresh folder (`{dir}` in an argument is replaced by it).
 *
 * @param args serve's arguments.
 * @returns The process (not waited for: call `nextNotice` for READY=1).
 */
export async function startServeProcess(args: readonly string[]): Promise<ServeProcess> {
  const dir = await Deno.makeTempDir({ prefix: "cb-serve-" });
  const notify = UnixDatagram.bind(`${dir}/notify`);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "serve", ...args.map((a) => a.replaceAll("{dir}", dir))],
    env: { NOTIFY_SOCKET: `${dir}/notify` },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let stopped: Promise<{ code: number; stdout: string; stderr: string }> | null = null;
  const stop = () =>
    stopped ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // exited already
      }
      const o = await output;
      const text = (b: Uint8Array) => new TextDecoder().decode(b);
      return { code: o.code, stdout: text(o.stdout), stderr: text(o.stderr) };
    })();
  return {
    dir,
    child,
    notify,
    nextNotice: (ms = 60_000) => nextDatagram(notify, ms),
    stop,
    async [Symbol.asyncDispose](): Promise<void> {
      await stop();
      notify.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function nextDatagram(rx: UnixDatagram, ms: number): Promise<string | null> {
  const buf = new Uint8Array(new ArrayBuffer(4096));
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    const n = rx.recv(buf);
    if (n >= 0) return new TextDecoder().decode(buf.subarray(0, n));
  }
  return null;
}

/** Whether a socket file is at `path`. */
export function isSocket(path: string): boolean {
  try {
    return Deno.lstatSync(path).isSocket === true;
  } catch {
    return false;
  }
}
