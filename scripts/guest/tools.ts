/**
 * Host tools of the guest lab: finding them (with an error that names the Debian package to install), running
 * them, and the lab's one error class.
 *
 * @module
 */

/** What went wrong, for callers that react to it (a missing tool is a set-up problem, a timeout is a bug). */
export type GuestLabErrorKind =
  | "missing-tool"
  | "kernel-package"
  | "image"
  | "command-failed"
  | "qemu"
  | "timeout"
  | "no-exit-marker";

/** An error of the guest lab. `log` holds the serial console when the error comes from a boot. */
export class GuestLabError extends Error {
  /** Always `GuestLabError`. */
  override name = "GuestLabError";
  /** The class of failure. */
  readonly kind: GuestLabErrorKind;
  /** Serial console and QEMU output of the failed boot, if any. */
  readonly log: string;

  /**
   * Creates the error.
   *
   * @param kind The class of failure.
   * @param message What happened and what to do about it.
   * @param options `log`: the console log; `cause`: the underlying error.
   */
  constructor(kind: GuestLabErrorKind, message: string, options?: { log?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.log = options?.log ?? "";
  }
}

/** The Debian package that provides each host tool the lab runs (the list to install is guest_packages.txt). */
const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  "qemu-system-x86_64": "qemu-system-x86",
  busybox: "busybox-static",
  cpio: "cpio",
  depmod: "kmod",
  openssl: "openssl",
  "apt-get": "apt",
  "apt-cache": "apt",
  "dpkg-deb": "dpkg",
  setpriv: "util-linux",
};

/** `scripts/guest_packages.txt`: the packages `.ci/run` installs for the guest lab. */
export const PACKAGES_FILE: string = new URL("../guest_packages.txt", import.meta.url).pathname;

// Non-root shells often lack the sbin directories, where depmod lives.
const EXTRA_PATH = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/**
 * Finds an executable in `PATH` (plus the sbin directories).
 *
 * @param name The program name.
 * @returns Its absolute path, or `undefined` when it is not installed.
 */
export function findTool(name: string): string | undefined {
  const dirs = [...(Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":"), ...EXTRA_PATH];
  for (const dir of dirs) {
    if (dir === "") continue;
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return `${dir}/${name}`;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * Finds a host tool or throws an error that names the package to install.
 *
 * @param name The program name, such as `cpio`.
 * @returns Its absolute path.
 * @throws {GuestLabError} `missing-tool`, naming the package and the full list in guest_packages.txt.
 */
export function requireTool(name: string): string {
  const path = findTool(name);
  if (path !== undefined) return path;
  throw missingPackage(name, `\`${name}\` is not installed`);
}

/**
 * The error for a missing or unusable host tool.
 *
 * @param tool The tool, which selects the package named in the message.
 * @param problem What is wrong with it.
 * @returns A `missing-tool` error whose message says what to install.
 */
export function missingPackage(tool: string, problem: string): GuestLabError {
  const pkg = TOOL_PACKAGES[tool] ?? tool;
  return new GuestLabError(
    "missing-tool",
    `Cannot run the guest lab: ${problem}: install the Debian package '${pkg}' ` +
      `(all guest lab packages: apt-get install --no-install-recommends ${guestPackages().join(" ")})`,
  );
}

/**
 * The packages listed in `scripts/guest_packages.txt`.
 *
 * @returns The package names, one per non-empty line.
 */
export function guestPackages(): string[] {
  try {
    return Deno.readTextFileSync(PACKAGES_FILE).split("\n").map((l) => l.trim()).filter((l) => l !== "");
  } catch {
    return Object.values(TOOL_PACKAGES);
  }
}

/** Options of `runTool`. */
export interface RunToolOptions {
  /** Working directory. */
  readonly cwd?: string;
  /** Bytes for the tool's stdin (otherwise stdin is /dev/null). */
  readonly stdin?: Uint8Array;
}

/**
 * Runs a host tool to completion.
 *
 * @param tool The program name (looked up with `requireTool`).
 * @param args Its arguments.
 * @param options Working directory and stdin.
 * @returns Its stdout, as bytes.
 * @throws {GuestLabError} `missing-tool` if it is not installed, `command-failed` (with its stderr) if it fails.
 */
export async function runTool(
  tool: string,
  args: readonly string[],
  options: RunToolOptions = {},
): Promise<Uint8Array<ArrayBuffer>> {
  const command = new Deno.Command(requireTool(tool), {
    args: [...args],
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const child = command.spawn();
  const output = child.output();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(options.stdin).catch(() => {}); // the tool may exit early; its status says why
    await writer.close().catch(() => {});
  }
  const { success, code, stdout, stderr } = await output;
  if (!success) {
    const err = new TextDecoder().decode(stderr).trim();
    throw new GuestLabError(
      "command-failed",
      `Cannot run ${tool} ${args.join(" ")}: exit code ${code}: ${err}`,
    );
  }
  return stdout;
}

/**
 * `runTool` for text output.
 *
 * @param tool The program name.
 * @param args Its arguments.
 * @param options Working directory and stdin.
 * @returns Its stdout, decoded as UTF-8.
 */
export async function runToolText(
  tool: string,
  args: readonly string[],
  options: RunToolOptions = {},
): Promise<string> {
  return new TextDecoder().decode(await runTool(tool, args, options));
}

/**
 * Whether a path exists (for the scripts: a stat, no FFI).
 *
 * @param path The path.
 * @returns true when `stat` succeeds.
 */
export function fileExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
