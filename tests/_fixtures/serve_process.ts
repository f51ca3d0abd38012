/**
 * Test fixture: `cryptobridge serve` as a process of its own (as QEMU sees it), with its whole stderr kept, so a
 * test can kill it, limit it (prlimit) and read what it logged.
 *
 * @module
 */

import { selfCommand } from "../../src/cli/bench_serve.ts";
import { Sysfs, UnixConnection } from "../../src/os/mod.ts";

/** A running serve process. */
export interface Served extends AsyncDisposable {
  readonly socket: string;
  readonly child: Deno.ChildProcess;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Open descriptors of the process now (/proc/PID/fd). */
  fdCount(): number;
  /** The lowest descriptor number the process does not use: the next one it would get. */
  lowestFreeFd(): number;
  /** Stops it (SIGTERM, then SIGKILL) unless it exited; resolves with its status. */
  stop(): Promise<Deno.CommandStatus>;
}

/**
 * Starts `serve --socket SOCKET` and waits until it listens.
 *
 * @param socket The socket path.
 * @param args More serve options.
 * @returns The process.
 */
export async function spawnServe(socket: string, args: readonly string[] = []): Promise<Served> {
  const command = selfCommand(["serve", "--socket", socket, ...args]);
  const child = new Deno.Command(command[0]!, {
    args: command.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stderr) text += decoder.decode(chunk, { stream: true });
  })().catch(() => {});
  let exited: Deno.CommandStatus | null = null;
  const status = child.status.then((s) => (exited = s));
  const deadline = Date.now() + 20_000;
  // A socket file left by a killed serve is there before the new one listens: wait until a connect succeeds.
  while (!listening(socket)) {
    if (exited !== null || Date.now() > deadline) {
      if (exited === null) child.kill("SIGKILL");
      await status;
      throw new Error(`serve did not start: ${text}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const stop = async (): Promise<Deno.CommandStatus> => {
    if (exited === null) child.kill("SIGTERM");
    const timer = setTimeout(() => exited === null && child.kill("SIGKILL"), 5000);
    const s = await status;
    clearTimeout(timer);
    await reading;
    return s;
  };
  return {
    socket,
    child,
    stderr: () => text,
    fdCount: () => fds(child.pid).size,
    lowestFreeFd: () => {
      const used = fds(child.pid);
      let n = 0;
      while (used.has(n)) n++;
      return n;
    },
    stop,
    [Symbol.asyncDispose]: async () => void await stop(),
  };
}

function listening(path: string): boolean {
  try {
    UnixConnection.connect(path).close();
    return true;
  } catch {
    return false;
  }
}

function fds(pid: number): Set<number> {
  // Through libc: Deno's own readDir wants --allow-all under /proc.
  return new Set(new Sysfs("/proc").list(`${pid}/fd`).map(Number));
}
