/**
 * Boots the guest in QEMU (TCG, q35, shareable memfd RAM), runs one shell command in it and collects the serial
 * console, the markers `/init` prints and the files the command wrote to the results share.
 *
 * @module
 */

import { ensureGuestImage, type GuestImage } from "./image.ts";
import { findTool, GuestLabError, requireTool } from "./tools.ts";

/** The virtio-crypto device the guest gets. */
export type CryptoDevice =
  /** QEMU's software back-end (`cryptodev-backend-builtin`), the known-good reference. */
  | { readonly kind: "builtin" }
  /** A vhost-user back-end (such as cryptobridge) listening on `socket`; it must listen before the boot. */
  | { readonly kind: "vhost-user"; readonly socket: string }
  /** No crypto device. */
  | { readonly kind: "none" };

/** Options of `bootGuest`. */
export interface BootOptions {
  /**
   * Shell script run by the host's `/bin/sh` in `chroot` to the host root, in the host's working directory. It
   * sees `$DENO` (the host's Deno binary), `$GUEST_RESULTS` (`/run/results`, the writable share),
   * `DENO_DIR=/run/deno` and `HOME=/run` (both tmpfs). Its exit code becomes `GuestRun.exitCode`.
   */
  readonly command: string;
  /** The image; default: `ensureGuestImage()`. */
  readonly image?: GuestImage;
  /** Default: `{ kind: "builtin" }`. */
  readonly crypto?: CryptoDevice;
  /** Files written to the results share before the boot: name → content (guest path `/run/results/<name>`). */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
  /** Extra environment variables for the command. */
  readonly env?: Readonly<Record<string, string>>;
  /** More QEMU arguments, appended last. */
  readonly extraArgs?: readonly string[];
  /** QEMU is killed after this long. Default 180 000 ms. */
  readonly timeoutMs?: number;
  /** Guest RAM. Default 512 MiB. */
  readonly memoryMiB?: number;
  /**
   * Tier 4 (VFIO in the guest): a virtual Intel IOMMU with interrupt remapping (`-device intel-iommu,intremap=on`,
   * placed before the crypto device so the device's DMA is translated by it), kernel `intel_iommu=on`, and a crypto
   * device with `iommu_platform=on` (without it QEMU's virtio device bypasses the IOMMU and reads guest-physical
   * addresses, so DMA through VFIO would hit the wrong pages). Default false.
   */
  readonly iommu?: boolean;
  /** More kernel command-line arguments, after `console=ttyS0 quiet panic=-1`. */
  readonly kernelArgs?: readonly string[];
  /** Use this host directory as the results share (kept afterwards). Default: a new temporary directory. */
  readonly resultsDir?: string;
  /** Keep the temporary results directory after `dispose()` or an error. Default: `GUEST_LAB_KEEP=1`. */
  readonly keepResults?: boolean;
  /** Receives console output as it arrives (for example to echo it while debugging). */
  readonly onConsole?: (text: string) => void;
}

/** A console line `GUEST-<NAME> [text]`. */
export interface GuestMarker {
  /** Such as `GUEST-EXIT`. */
  readonly name: string;
  /** The rest of the line, trimmed. */
  readonly text: string;
}

/** A finished boot. Dispose of it (`await using`) to delete the temporary results directory. */
export interface GuestRun extends AsyncDisposable {
  /** The command's exit code, from `GUEST-EXIT`. */
  readonly exitCode: number;
  /** Every marker line on the console, in order. */
  readonly markers: readonly GuestMarker[];
  /** The serial console (carriage returns removed) and QEMU's stderr. Also in `<resultsDir>/console.log`. */
  readonly log: string;
  /** The command's stdout and stderr (`<resultsDir>/output.txt`). */
  readonly output: string;
  /** Host path of the results share. */
  readonly resultsDir: string;
  /** Wall time from QEMU's start to its exit. */
  readonly durationMs: number;
  /** Deletes the results directory unless it is kept. Idempotent. */
  dispose(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 180_000;
const DEFAULT_MEMORY_MIB = 512;
const MARKER_RE = /^(GUEST-[A-Z0-9-]+)(?:[ \t]+(.*))?$/;

/**
 * Boots the guest, runs `options.command` in it and waits for it to power off. QEMU is killed on timeout and on
 * any error; if this process dies, `setpriv --pdeathsig` kills it too.
 *
 * @example
 * ```ts ignore
 * await using run = await bootGuest({ command: "cat /proc/crypto", crypto: { kind: "builtin" } });
 * console.log(run.exitCode, run.output);
 * ```
 *
 * @param options The command, crypto device, files for the results share, limits.
 * @returns The exit code, markers, console log and results directory.
 * @throws {GuestLabError} `timeout`, `qemu` (QEMU failed to start or died) or `no-exit-marker` (the guest
 *   ended without `GUEST-EXIT`, for example on `GUEST-ERROR` or a panic); the error's `log` holds the console.
 */
export async function bootGuest(options: BootOptions): Promise<GuestRun> {
  const image = options.image ?? await ensureGuestImage();
  const qemu = requireTool("qemu-system-x86_64");
  checkCryptoDevice(options.crypto ?? { kind: "builtin" });
  const owned = options.resultsDir === undefined;
  const resultsDir = options.resultsDir ?? await Deno.makeTempDir({ prefix: "guest-lab-" });
  const keep = !owned || (options.keepResults ?? Deno.env.get("GUEST_LAB_KEEP") === "1");
  const dispose = async (): Promise<void> => {
    if (!keep) await Deno.remove(resultsDir, { recursive: true }).catch(() => {});
  };
  try {
    await prepareResults(resultsDir, options);
    const args = qemuArgs(options, image, resultsDir);
    const started = performance.now();
    const run = await runQemu([qemu, ...args], resultsDir, options);
    const durationMs = Math.round(performance.now() - started);
    const markers = parseMarkers(run.log);
    const exitCode = checkOutcome(run, markers, {
      resultsDir,
      keep,
      durationMs,
      timeoutMs: timeoutOf(options),
    });
    const output = readOptional(`${resultsDir}/output.txt`);
    return {
      exitCode,
      markers,
      log: run.log,
      output,
      resultsDir,
      durationMs,
      dispose,
      [Symbol.asyncDispose]: dispose,
    };
  } catch (e) {
    await dispose();
    throw e;
  }
}

function timeoutOf(options: BootOptions): number {
  return options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
}

function checkCryptoDevice(device: CryptoDevice): void {
  if (device.kind !== "vhost-user") return;
  let isSocket = false;
  try {
    isSocket = Deno.statSync(device.socket).isSocket === true;
  } catch {
    // reported below
  }
  if (!isSocket) {
    throw new GuestLabError(
      "qemu",
      `Cannot boot the guest: no vhost-user socket at ${device.socket}: start the back-end first ` +
        "(QEMU connects as the client and reads HW_READY once, at reset)",
    );
  }
}

/** Single-quotes a string for sh. */
function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Writes the caller's files and `command.sh` to the results share. */
async function prepareResults(resultsDir: string, options: BootOptions): Promise<void> {
  for (const [name, content] of Object.entries(options.files ?? {})) {
    if (name.includes("/") || name === "command.sh") {
      throw new GuestLabError(
        "qemu",
        `Cannot place file '${name}' on the results share: use a plain file name`,
      );
    }
    if (typeof content === "string") await Deno.writeTextFile(`${resultsDir}/${name}`, content);
    else await Deno.writeFile(`${resultsDir}/${name}`, content);
  }
  const env: Record<string, string> = {
    DENO: Deno.realPathSync(Deno.execPath()),
    DENO_NO_UPDATE_CHECK: "1",
    DENO_NO_PROMPT: "1",
    NO_COLOR: "1",
    ...options.env,
  };
  const lines = [
    "# generated by scripts/guest/boot.ts; run by /init as: chroot /mnt /bin/sh /run/results/command.sh",
    ...Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    `cd ${shellQuote(Deno.cwd())} || exit 125`,
    options.command,
    "",
  ];
  await Deno.writeTextFile(`${resultsDir}/command.sh`, lines.join("\n"));
}

/**
 * The QEMU command line (without the program) for a boot: TCG, q35, memfd RAM shared with vhost-user back-ends,
 * the 9p shares, the crypto device, then `extraArgs`.
 *
 * @param options Memory, crypto device and extra arguments.
 * @param image The kernel and initramfs.
 * @param resultsDir The host directory shared as `results`.
 * @returns The arguments.
 */
export function qemuArgs(options: BootOptions, image: GuestImage, resultsDir: string): string[] {
  const mem = options.memoryMiB ?? DEFAULT_MEMORY_MIB;
  const iommu = options.iommu === true;
  const append = [
    "console=ttyS0 quiet panic=-1",
    ...(iommu ? ["intel_iommu=on"] : []),
    ...options.kernelArgs ?? [],
  ];
  return [
    ...["-accel", "tcg", "-M", "q35", "-m", `${mem}`, "-nographic", "-no-reboot", "-nic", "none"],
    ...["-object", `memory-backend-memfd,id=mem,size=${mem}M,share=on`, "-numa", "node,memdev=mem"],
    ...["-kernel", image.kernel, "-initrd", image.initrd, "-append", append.join(" ")],
    // The IOMMU comes before every PCI device: QEMU gives a device its DMA address space when it is created.
    ...(iommu ? ["-device", "intel-iommu,intremap=on"] : []),
    ...["-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"],
    ...["-virtfs", `local,path=${resultsDir},mount_tag=results,security_model=none`],
    ...cryptoArgs(options.crypto ?? { kind: "builtin" }, iommu),
    ...(options.extraArgs ?? []),
  ];
}

function cryptoArgs(device: CryptoDevice, iommu: boolean): string[] {
  switch (device.kind) {
    case "builtin":
      return [
        ...["-object", "cryptodev-backend-builtin,id=cd0"],
        ...["-device", `virtio-crypto-pci,id=crypto0,cryptodev=cd0${iommu ? ",iommu_platform=on" : ""}`],
      ];
    case "vhost-user":
      // vectors=0 (INTx): with MSI-X, QEMU 7.2 under TCG segfaults when the driver starts a vhost-user
      // device (guest-lab.md, tier 3).
      return [
        ...["-chardev", `socket,id=vu0,path=${device.socket}`],
        ...["-object", "cryptodev-vhost-user,id=cd0,chardev=vu0"],
        ...["-device", "virtio-crypto-pci,id=crypto0,cryptodev=cd0,vectors=0"],
      ];
    case "none":
      return [];
  }
}

/** What `runQemu` observed. */
interface QemuRun {
  readonly status: Deno.CommandStatus;
  readonly log: string;
  readonly timedOut: boolean;
}

/** Runs QEMU to its end or the timeout, streaming its console into `console.log` and `options.onConsole`. */
async function runQemu(argv: readonly string[], resultsDir: string, options: BootOptions): Promise<QemuRun> {
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

/**
 * The marker lines of a console log.
 *
 * @param log The console text.
 * @returns Each `GUEST-<NAME> [text]` line, in order.
 */
export function parseMarkers(log: string): GuestMarker[] {
  const markers: GuestMarker[] = [];
  for (const line of log.split("\n")) {
    const m = MARKER_RE.exec(line.trim());
    if (m !== null) markers.push({ name: m[1]!, text: (m[2] ?? "").trim() });
  }
  return markers;
}

interface OutcomeContext {
  readonly resultsDir: string;
  readonly keep: boolean;
  readonly durationMs: number;
  readonly timeoutMs: number;
}

/** The exit code from `GUEST-EXIT`, or the error that explains why there is none. */
function checkOutcome(run: QemuRun, markers: readonly GuestMarker[], ctx: OutcomeContext): number {
  const exit = markers.findLast((m) => m.name === "GUEST-EXIT");
  const where = ctx.keep
    ? ` (console log: ${ctx.resultsDir}/console.log)`
    : " (set GUEST_LAB_KEEP=1 to keep it)";
  const tail = `\n--- last console lines${where} ---\n${lastLines(run.log, 40)}`;
  if (run.timedOut) {
    return fail(
      "timeout",
      `Cannot finish the guest run: killed QEMU after ${ctx.timeoutMs} ms${tail}`,
      run.log,
    );
  }
  if (exit === undefined || !/^\d+$/.test(exit.text)) {
    const error = markers.find((m) => m.name === "GUEST-ERROR");
    const panic = /Kernel panic - not syncing: (.*)/.exec(run.log);
    const why = error !== undefined
      ? `the guest's /init failed: ${error.text}`
      : panic !== null
      ? `the guest kernel panicked: ${panic[1]}`
      : `QEMU exited with code ${run.status.code} after ${ctx.durationMs} ms without GUEST-EXIT`;
    return fail(
      run.status.success || error !== undefined ? "no-exit-marker" : "qemu",
      `Cannot finish the guest run: ${why}${tail}`,
      run.log,
    );
  }
  return Number(exit.text);
}

function fail(kind: "timeout" | "qemu" | "no-exit-marker", message: string, log: string): never {
  throw new GuestLabError(kind, message, { log });
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}

function readOptional(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}
