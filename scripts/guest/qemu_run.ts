/**
 * Running QEMU for a guest boot: to its end or the timeout, killed with this process (`setpriv --pdeathsig`),
 * its serial console and stderr collected into one log, `<resultsDir>/console.log` and `onConsole`.
 *
 * @module
 */

import { type BootOptions, timeoutOf } from "./boot_options.ts";
import { findTool } from "./tools.ts";

/** What `runQemu` observed. */
export interface QemuRun {
  readonly status: Deno.CommandStatus;
  readonly log: string;
  readonly timedOut: boolean;
}

/** Runs QEMU to its end or the timeout, streaming its console into `console.log` and `options.onConsole`. */
export async function runQemu(
  argv: readonly string[],
  resultsDir: string,
  options: BootOptions,
): Promise<QemuRun> {
  // setpriv (util-linux) makes the kernel kill QEMU if this process dies before it does.
  const setpriv = findTool("setpriv");
  const full = setpriv === undefined ? argv : [setpriv, "--pdeathsig", "KILL", ...argv];
  using file = await Deno.open(`${resultsDir}/console.log`, { write: true, create: true, truncate: true });
  const sink = new ConsoleSink(file, options.onConsole);
  const command = new Deno.Command(full[0]!, {
    args: full.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const child = command.spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill(child);
  }, timeoutOf(options));
  try {
    const pumps = [pump(child.stdout, (s) => sink.console(s)), pump(child.stderr, (s) => sink.stderr(s))];
    const status = await child.status;
    await Promise.all(pumps);
    sink.flush();
    return { status, log: sink.log, timedOut };
  } finally {
    clearTimeout(timer);
    kill(child);
    await child.status;
  }
}

function kill(child: Deno.ChildProcess): void {
  try {
    child.kill("SIGKILL");
  } catch {
    // already exited
  }
}

async function pump(stream: ReadableStream<Uint8Array>, sink: (text: string) => void): Promise<void> {
  for await (const text of stream.pipeThrough(new TextDecoderStream())) sink(text);
}

/** Collects the console and QEMU's stderr into one log; stderr joins it a whole line at a time. */
class ConsoleSink {
  #file: Deno.FsFile;
  #onConsole: ((text: string) => void) | undefined;
  #encoder = new TextEncoder();
  #stderrPartial = "";
  log = "";

  constructor(file: Deno.FsFile, onConsole: ((text: string) => void) | undefined) {
    this.#file = file;
    this.#onConsole = onConsole;
  }

  console(text: string): void {
    this.#append(text.replaceAll("\r", ""));
  }

  stderr(text: string): void {
    const lines = (this.#stderrPartial + text).split("\n");
    this.#stderrPartial = lines.pop()!;
    for (const line of lines) this.#append(`\n[qemu stderr] ${line}\n`);
  }

  flush(): void {
    if (this.#stderrPartial !== "") this.#append(`\n[qemu stderr] ${this.#stderrPartial}\n`);
    this.#stderrPartial = "";
  }

  #append(text: string): void {
    this.log += text;
    this.#file.writeSync(this.#encoder.encode(text));
    try {
      this.#onConsole?.(text);
    } catch {
      // a failing observer must not stop the console capture (nor leave QEMU running)
    }
  }
}
