/**
 * The back-end `cryptobridge bench` measures when no `--socket` is given: `cryptobridge serve` in a separate
 * process, as QEMU sees it, optionally pinned to a CPU with `taskset`; and pinning of the bench process itself.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { withServeV8Flags } from "../os/jit_budget.ts";

/** How to start the serve process. */
export interface ServeProcessOptions {
  /** Socket path (its folder must exist). */
  readonly socket: string;
  /** More VMs' sockets of the same serve (`--socket` again; each VM on its own thread). */
  readonly moreSockets?: readonly string[];
  /** `serve --poll`. */
  readonly poll: boolean;
  /** `serve --busy-poll US`. */
  readonly busyPollUs?: number;
  /** Pin the process (all its threads) to this CPU with `taskset -c`. */
  readonly cpu?: number;
  /** Extra `deno run` flags (for example `--cpu-prof`), ignored for a compiled binary. */
  readonly denoFlags?: readonly string[];
  /** How long to wait for the socket. Default 20000 ms. */
  readonly startTimeoutMs?: number;
}

/** A running `cryptobridge serve`. */
export interface ServeProcess extends AsyncDisposable {
  /** The socket it listens on (the first VM's). */
  readonly socket: string;
  /** Every VM's socket, the first one first. */
  readonly sockets: readonly string[];
  /** Its process id. */
  readonly pid: number;
  /** The command line it was started with. */
  readonly command: readonly string[];
  /** SIGTERM, then SIGKILL after 5 s; resolves once it exited. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The command line that runs `cryptobridge <args>` the way this process runs: the same binary when compiled,
 * else `deno run` on this checkout's `mod.ts` with the daemon's permissions (and, for `serve`, `SERVE_V8_FLAGS`).
 *
 * @param args The cryptobridge arguments.
 * @param denoFlags Extra `deno run` flags.
 * @returns Program and arguments.
 */
export function selfCommand(args: readonly string[], denoFlags: readonly string[] = []): string[] {
  if (Deno.build.standalone) return [Deno.execPath(), ...args]; // compiled with SERVE_V8_FLAGS (deno.json)
  const mod = fileURLToPath(new URL("../../mod.ts", import.meta.url));
  const permissions = ["--allow-ffi", "--allow-read", "--allow-write", "--allow-env"];
  const flags = args[0] === "serve" ? withServeV8Flags(denoFlags) : denoFlags;
  return [Deno.execPath(), "run", ...permissions, ...flags, mod, ...args];
}

/**
 * Starts `cryptobridge serve` and waits until its socket exists.
 *
 * @param o Socket, poll mode, CPU.
 * @returns The process.
 * @throws Error when it exits or does not listen in time (with the end of its stderr).
 */
export async function startServe(o: ServeProcessOptions): Promise<ServeProcess> {
  const command = serveCommand(o);
  isSocket(o.socket); // a missing --allow-read throws here, before a child is started
  const child = new Deno.Command(command[0]!, {
    args: command.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = collectTail(child.stderr);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const deadline = Date.now() + (o.startTimeoutMs ?? 20000);
  const sockets = [o.socket, ...(o.moreSockets ?? [])];
  while (!sockets.every(isSocket)) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGKILL");
      const s = await status;
      const why = exited ? `it exited with code ${s.code}` : "its socket did not appear in time";
      throw new Error(
        `Cannot start cryptobridge serve (${command.join(" ")}): ${why}\n${await stderr.text()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited) child.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (!exited) child.kill("SIGKILL");
      }, 5000);
      await status;
      clearTimeout(timer);
      await stderr.done;
    })();
    return stopping;
  };
  return { socket: o.socket, sockets, pid: child.pid, command, stop, [Symbol.asyncDispose]: stop };
}

/** `cryptobridge serve` with the options asked, under `taskset -c` when pinned. */
function serveCommand(o: ServeProcessOptions): string[] {
  const serveArgs = [
    "serve",
    ...[o.socket, ...(o.moreSockets ?? [])].flatMap((s) => ["--socket", s]),
    "--log-level",
    "warning",
    ...(o.poll ? ["--poll"] : []),
    ...(o.busyPollUs !== undefined ? ["--busy-poll", String(o.busyPollUs)] : []),
  ];
  const base = selfCommand(serveArgs, o.denoFlags);
  return o.cpu === undefined ? base : ["taskset", "-c", String(o.cpu), ...base];
}

function isSocket(path: string): boolean {
  try {
    return Deno.statSync(path).isSocket === true;
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) throw e; // a missing --allow-read: say so, do not wait for nothing
    return false;
  }
}

/** Reads a stream to its end in the background, keeping the last 8 KiB. */
function collectTail(stream: ReadableStream<Uint8Array>): { text(): Promise<string>; done: Promise<void> } {
  let tail = "";
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const chunk of stream) tail = (tail + decoder.decode(chunk, { stream: true })).slice(-8192);
  })().catch(() => {});
  return { text: async () => (await done, tail.trim()), done };
}

/**
 * Pins every thread of this process (and the threads it creates later) to one CPU with `taskset -a -p -c`.
 *
 * @param cpu The CPU number.
 * @throws Error when `taskset` is missing or refuses.
 */
export async function pinSelf(cpu: number): Promise<void> {
  const out = await new Deno.Command("taskset", {
    args: ["-a", "-p", "-c", String(cpu), String(Deno.pid)],
    stdout: "null",
    stderr: "piped",
  }).output().catch((e: Error) => {
    throw new Error(`Cannot pin to CPU ${cpu}: taskset failed to start: ${e.message}`);
  });
  if (!out.success) {
    throw new Error(`Cannot pin to CPU ${cpu}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}
