/**
 * The guest image: Debian's kernel (downloaded with `apt-get download`, never installed on the host) and an
 * initramfs built around it, cached by kernel version and by a hash of everything else that goes into it.
 *
 * Cache layout (`.cache/guest` in the repository by default):
 * - `debs/<package>_<version>_amd64.deb`: the downloaded kernel package, kept so a new `/init` needs no download.
 * - `<kernel version>-<hash>/vmlinuz`, `initrd.gz`, `image.json`: one built image. `<hash>` covers the `/init`
 *   script, the module list, the busybox binary and the format version of this file.
 *
 * @module
 */

import { buildInitramfs, GUEST_MODULES, INIT_SCRIPT, resolveModules } from "./initramfs.ts";
import { GuestLabError, requireTool, runTool, runToolText } from "./tools.ts";

/** Bump when the image layout changes, so old cache entries are not reused. */
const FORMAT_VERSION = 1;
/** The metapackage whose first dependency names the current kernel package. */
const KERNEL_METAPACKAGE = "linux-image-amd64";

/** The repository's `.cache/guest`, whatever the working directory. */
export const DEFAULT_CACHE_DIR: string = new URL("../../.cache/guest", import.meta.url).pathname;

/** A built guest image. */
export interface GuestImage {
  /** The kernel release, such as `6.1.0-56-amd64`. */
  readonly kernelVersion: string;
  /** Absolute path of the kernel (`-kernel`). */
  readonly kernel: string;
  /** Absolute path of the gzip-compressed initramfs (`-initrd`). */
  readonly initrd: string;
  /** The modules `/init` loads, in load order. */
  readonly modules: readonly string[];
  /** `true` when the image came from the cache without building. */
  readonly cached: boolean;
}

/** Options of `ensureGuestImage`. */
export interface EnsureImageOptions {
  /** Progress messages (download, build); silent by default. */
  readonly log?: (message: string) => void;
}

/**
 * Returns the guest image, building it on first use: downloads the kernel package that `linux-image-amd64`
 * currently depends on, unpacks it, runs `depmod -b`, resolves module dependencies, builds the initramfs. A second
 * call with the same kernel and `/init` only asks apt-cache for the kernel version and stats two files.
 *
 * @param cacheDir The cache directory; relative paths are relative to the working directory. Default: the
 *   repository's `.cache/guest`.
 * @param options Progress logging.
 * @returns Paths of the kernel and initramfs.
 * @throws {GuestLabError} `missing-tool` naming the package to install, `kernel-package` when apt does not know
 *   the kernel (run `apt-get update`), `image` or `command-failed` when building fails.
 */
export async function ensureGuestImage(
  cacheDir: string = DEFAULT_CACHE_DIR,
  options: EnsureImageOptions = {},
): Promise<GuestImage> {
  const log = options.log ?? (() => {});
  for (const tool of ["apt-cache", "apt-get", "dpkg-deb", "depmod", "cpio", "busybox"]) requireTool(tool);
  const cache = absolute(cacheDir);
  const pkg = await currentKernelPackage(cache);
  const kernelVersion = pkg.slice("linux-image-".length);
  const dir = `${cache}/${kernelVersion}-${await imageHash()}`;
  const cached = readImage(dir);
  if (cached !== undefined) return cached;

  await Deno.mkdir(cache, { recursive: true });
  const deb = await downloadKernel(pkg, `${cache}/debs`, log);
  await buildImage({ deb, pkg, kernelVersion, cache, target: dir }, log);
  const image = readImage(dir);
  if (image === undefined) {
    throw new GuestLabError("image", `Cannot read the guest image just built in ${dir}`);
  }
  await pruneCache(cache, dir, pkg);
  log(`Guest image ready in ${dir}`);
  return { ...image, cached: false };
}

/** What `buildImage` builds from. */
interface BuildInput {
  readonly deb: string;
  readonly pkg: string;
  readonly kernelVersion: string;
  readonly cache: string;
  /** The image directory to create. */
  readonly target: string;
}

/** Unpacks the kernel package, resolves the modules, builds the initramfs and publishes the image directory. */
async function buildImage(input: BuildInput, log: (message: string) => void): Promise<void> {
  const { deb, kernelVersion } = input;
  const work = await Deno.makeTempDir({ dir: input.cache, prefix: "build-" });
  try {
    log(`Unpacking ${deb}`);
    await runTool("dpkg-deb", ["-x", deb, `${work}/root`]);
    await runTool("depmod", ["-b", `${work}/root`, kernelVersion]);
    const moduleDir = `${work}/root/lib/modules/${kernelVersion}`;
    const modules = resolveModules(moduleDir, GUEST_MODULES);
    await Deno.mkdir(`${work}/image`);
    log(`Building the initramfs (${modules.length} modules)`);
    await buildInitramfs({ moduleDir, modules, output: `${work}/image/initrd.gz` });
    await Deno.copyFile(`${work}/root/boot/vmlinuz-${kernelVersion}`, `${work}/image/vmlinuz`);
    const meta = {
      kernelVersion,
      package: input.pkg,
      modules: modules.map(baseName),
      built: new Date().toISOString(),
    };
    await Deno.writeTextFile(`${work}/image/image.json`, JSON.stringify(meta, null, 2) + "\n");
    await publish(`${work}/image`, input.target);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

function absolute(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * The package `linux-image-amd64` depends on, such as `linux-image-6.1.0-56-amd64`. `apt-cache` takes about a
 * second, so the answer is remembered in the cache until apt's package lists change (`apt-get update`).
 */
async function currentKernelPackage(cache: string): Promise<string> {
  const memo = `${cache}/kernel-package.json`;
  const lists = listsStamp();
  try {
    const saved = JSON.parse(Deno.readTextFileSync(memo)) as { lists: string; pkg: string };
    if (lists !== "" && saved.lists === lists) return saved.pkg;
  } catch {
    // not remembered yet
  }
  const pkg = await askAptForKernelPackage();
  await Deno.mkdir(cache, { recursive: true });
  await Deno.writeTextFile(memo, JSON.stringify({ lists, pkg }) + "\n");
  return pkg;
}

/** Changes whenever `apt-get update` rewrites the package lists. */
function listsStamp(): string {
  try {
    const info = Deno.statSync("/var/lib/apt/lists");
    return `${info.mtime?.getTime() ?? ""}`;
  } catch {
    return "";
  }
}

async function askAptForKernelPackage(): Promise<string> {
  let text = "";
  try {
    text = await runToolText("apt-cache", ["depends", KERNEL_METAPACKAGE]);
  } catch (e) {
    if (e instanceof GuestLabError && e.kind === "missing-tool") throw e;
  }
  const match = /Depends:\s*(linux-image-\S+)/.exec(text);
  if (match === null) {
    throw new GuestLabError(
      "kernel-package",
      `Cannot find the Debian kernel package: apt-cache knows no ${KERNEL_METAPACKAGE}; run \`apt-get update\` ` +
        "(as root) and try again",
    );
  }
  return match[1]!;
}

/** sha256 over what goes into an image besides the kernel: /init, the module list, busybox, the format. */
async function imageHash(): Promise<string> {
  const busybox = await Deno.readFile(requireTool("busybox"));
  const busyboxHash = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", busybox)));
  const key = JSON.stringify({ FORMAT_VERSION, INIT_SCRIPT, GUEST_MODULES, busyboxHash });
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  return hex(new Uint8Array(digest)).slice(0, 16);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A complete image directory, or `undefined`. */
function readImage(dir: string): GuestImage | undefined {
  try {
    const meta = JSON.parse(Deno.readTextFileSync(`${dir}/image.json`)) as {
      kernelVersion: string;
      modules: string[];
    };
    Deno.statSync(`${dir}/vmlinuz`);
    Deno.statSync(`${dir}/initrd.gz`);
    return {
      kernelVersion: meta.kernelVersion,
      kernel: `${dir}/vmlinuz`,
      initrd: `${dir}/initrd.gz`,
      modules: meta.modules,
      cached: true,
    };
  } catch {
    return undefined;
  }
}

/** Downloads the kernel .deb into `debDir` unless it is there already. */
async function downloadKernel(pkg: string, debDir: string, log: (message: string) => void): Promise<string> {
  await Deno.mkdir(debDir, { recursive: true });
  const existing = findDeb(debDir, pkg);
  if (existing !== undefined) return existing;
  const tmp = await Deno.makeTempDir({ dir: debDir, prefix: "download-" });
  try {
    log(`Downloading ${pkg} with apt-get download`);
    // As root, apt drops to the _apt user for downloads, which cannot write to a directory under /root.
    const sandbox = Deno.uid() === 0 ? ["-o", "APT::Sandbox::User=root"] : [];
    try {
      await runTool("apt-get", [...sandbox, "download", pkg], { cwd: tmp });
    } catch (e) {
      throw new GuestLabError(
        "kernel-package",
        `Cannot download ${pkg}: run \`apt-get update\` (as root) and check the network; ${
          (e as Error).message
        }`,
        { cause: e },
      );
    }
    const deb = findDeb(tmp, pkg);
    if (deb === undefined) throw new GuestLabError("kernel-package", `apt-get download ${pkg} wrote no .deb`);
    const target = `${debDir}/${baseName(deb)}`;
    await Deno.rename(deb, target);
    return target;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

function findDeb(dir: string, pkg: string): string | undefined {
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isFile && entry.name.startsWith(`${pkg}_`) && entry.name.endsWith(".deb")) {
      return `${dir}/${entry.name}`;
    }
  }
  return undefined;
}

/** Removes images and kernel packages other than the current ones (QEMU reads them only at start-up). */
async function pruneCache(cache: string, keepDir: string, pkg: string): Promise<void> {
  const imageDir = /^\d[\w.+~-]*-[0-9a-f]{16}$/;
  for (const entry of Deno.readDirSync(cache)) {
    const path = `${cache}/${entry.name}`;
    if (entry.isDirectory && imageDir.test(entry.name) && path !== keepDir) {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    }
  }
  for (const entry of Deno.readDirSync(`${cache}/debs`)) {
    if (entry.isFile && entry.name.endsWith(".deb") && !entry.name.startsWith(`${pkg}_`)) {
      await Deno.remove(`${cache}/debs/${entry.name}`).catch(() => {});
    }
  }
}

/** Moves a finished image into place; a concurrent build that got there first wins. */
async function publish(from: string, to: string): Promise<void> {
  try {
    await Deno.rename(from, to);
  } catch (e) {
    if (readImage(to) === undefined) throw e;
  }
}
