/**
 * A current QEMU beside Debian 12's 7.2, for the guest tests that need one (QEMU >= 8.1 sends the session layout C
 * in CREATE_CRYPTO_SESSION, interop.md §1.3): Debian 13 (trixie) is bootstrapped into a directory with
 * `debootstrap`, and `qemu-system-x86` is installed there from trixie-backports (QEMU 11.1).
 *
 * The host's glibc (2.36) is too old for those binaries, so they run with the tree's own dynamic loader and
 * libraries, not in a chroot: a wrapper script `qemu-system-x86_64` in the directory starts
 * `root/lib64/ld-linux-x86-64.so.2 --library-path … root/usr/bin/qemu-system-x86_64` with the tree's firmware
 * (`-L`) and modules (`QEMU_MODULE_DIR`). Every path QEMU is given (kernel, sockets, results) is then the host's
 * own, as with the packaged QEMU. Preparing needs root (debootstrap, apt-get in the chroot), the Debian mirror
 * and about 500 MB; it takes a few minutes once and is reused.
 *
 * @module
 */

import { fileExists } from "./tools.ts";

/** The repository's `.cache/qemu-trixie`. */
export const DEFAULT_NEWER_QEMU_DIR: string = new URL("../../.cache/qemu-trixie", import.meta.url).pathname;

/** The environment variable that names a newer QEMU binary (or wrapper) for the guest tests. */
export const NEWER_QEMU_ENV = "GUEST_LAB_NEWER_QEMU";

const MIRROR = "http://deb.debian.org/debian";
const SUITE = "trixie";

/** Where the wrapper of a prepared directory is. */
export function wrapperPath(dir: string = DEFAULT_NEWER_QEMU_DIR): string {
  return `${dir}/qemu-system-x86_64`;
}

/**
 * The newer QEMU to test with: `GUEST_LAB_NEWER_QEMU` if set, else the default directory's wrapper if prepared.
 *
 * @returns Its path, or undefined when there is none.
 */
export function findNewerQemu(): string | undefined {
  const named = Deno.env.get(NEWER_QEMU_ENV);
  const path = named !== undefined && named !== "" ? named : wrapperPath();
  try {
    return Deno.statSync(path).isFile ? path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A QEMU binary's version, from `--version`.
 *
 * @param qemu The binary or wrapper.
 * @returns Major and minor, e.g. [11, 1].
 * @throws Error when it does not run or prints no version.
 */
export async function qemuVersion(qemu: string): Promise<[number, number]> {
  const out = await new Deno.Command(qemu, { args: ["--version"], stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  const m = /QEMU emulator version (\d+)\.(\d+)/.exec(text);
  if (!out.success || m === null) {
    throw new Error(`${qemu} --version failed: ${text}${new TextDecoder().decode(out.stderr)}`);
  }
  return [Number(m[1]), Number(m[2])];
}

/**
 * Bootstraps trixie into `dir/root` (unless already there), installs QEMU from trixie-backports and writes the
 * wrapper. Runs as root.
 *
 * @param dir The directory.
 * @param log Progress lines.
 * @returns The wrapper's path.
 * @throws Error when a step fails (its output in the message).
 */
export async function prepareNewerQemu(
  dir: string = DEFAULT_NEWER_QEMU_DIR,
  log: (line: string) => void = console.log,
): Promise<string> {
  const root = `${dir}/root`;
  if (!fileExists(`${root}/usr/bin/apt-get`)) {
    log(`debootstrap ${SUITE} into ${root} (a few minutes)`);
    await run("debootstrap", ["--variant=minbase", SUITE, root, MIRROR]);
  }
  if (!fileExists(`${root}/usr/bin/qemu-system-x86_64`)) {
    log("installing qemu-system-x86 and seabios from trixie-backports");
    Deno.writeTextFileSync(
      `${root}/etc/apt/sources.list.d/backports.list`,
      `deb ${MIRROR} ${SUITE}-backports main\n`,
    );
    const apt = "DEBIAN_FRONTEND=noninteractive apt-get";
    await run("chroot", [
      root,
      "sh",
      "-c",
      `${apt} update -q && ${apt} install -y -q --no-install-recommends -t ${SUITE}-backports qemu-system-x86 seabios`,
    ]);
  }
  const wrapper = wrapperPath(dir);
  Deno.writeTextFileSync(wrapper, wrapperScript(root), { mode: 0o755 });
  Deno.chmodSync(wrapper, 0o755);
  return wrapper;
}

/**
 * The wrapper: the tree's loader, libraries, firmware and modules around its QEMU.
 *
 * @param root The bootstrapped tree.
 * @returns A POSIX shell script.
 */
export function wrapperScript(root: string): string {
  const libs = `${root}/lib/x86_64-linux-gnu:${root}/usr/lib/x86_64-linux-gnu`;
  const firmware = ["usr/share/qemu", "usr/share/seabios", "usr/lib/ipxe/qemu"].map((d) => `-L ${root}/${d}`);
  return [
    "#!/bin/sh",
    "# Written by scripts/newer_qemu.ts: QEMU from Debian trixie-backports, run with its own glibc.",
    `export QEMU_MODULE_DIR=${root}/usr/lib/x86_64-linux-gnu/qemu`,
    // --version and --help take no firmware options before them.
    'case "$1" in --version|--help|-version) set -- "$1";; *) set -- ' + firmware.join(" ") + ' "$@";; esac',
    `exec ${root}/lib64/ld-linux-x86-64.so.2 --library-path ${libs} ${root}/usr/bin/qemu-system-x86_64 "$@"`,
    "",
  ].join("\n");
}

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (out.success) return;
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}):\n${text.slice(-4000)}`);
}
