/**
 * Test fixture: `cryptobridge serve` as a separate process, as QEMU sees it in production.
 *
 * @module
 */

/** A running `cryptobridge serve`. */
export interface ServeProcess extends AsyncDisposable {
  readonly socket: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Sends SIGTERM and waits; returns the exit code. */
  stop(): Promise<number>;
}

const MOD = new URL("../../mod.ts", import.meta.url).pathname;

/**
 * Starts `deno run mod.ts serve --socket SOCKET` and waits until the socket exists.
 *
 * @param socket Socket path.
 * @param extraArgs More `serve` options.
 */
export async function startServe(socket: string, extraArgs: string[] = []): Promise<ServeProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: serveArgs(socket, extraArgs),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const collect = async (stream: ReadableStream<Uint8Array>): Promise<void> => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  };
  const pumps = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited: number | null = null;
  const status = child.status.then((s) => exited = s.code);
  for (let i = 0; i < 300 && !exists(socket) && exited === null; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!exists(socket)) {
    child.kill("SIGKILL");
    await status;
    await pumps;
    throw new Error(`cryptobridge serve did not create ${socket}:\n${text}`);
  }
  let stopped: Promise<number> | null = null;
  const stop = (): Promise<number> => {
    stopped ??= (async () => {
      if (exited === null) child.kill("SIGTERM");
      await status;
      await pumps;
      return exited!;
    })();
    return stopped;
  };
  return {
    socket,
    output: () => text,
    stop,
    async [Symbol.asyncDispose](): Promise<void> {
      await stop();
    },
  };
}

/** `deno run` arguments of `serve` with the daemon's permissions (README "Commands"). */
function serveArgs(socket: string, extraArgs: readonly string[]): string[] {
  const permissions = ["--allow-ffi", "--allow-read", "--allow-write", "--allow-env"];
  return ["run", ...permissions, MOD, "serve", "--socket", socket, ...extraArgs];
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
