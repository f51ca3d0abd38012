/**
 * sysfs through libc: read, write, readlink and list files under a root directory (`/sys` by default, a temporary
 * tree in tests).
 *
 * Why libc and not Deno's file APIs: Deno 2.9 treats /sys as special files, so `Deno.readTextFile`, `readDir` and
 * `readLink` there need `--allow-all` even with `--allow-read=/sys` (vfio-ffi.md §4.9, denoland/deno#27564 and
 * PR #34393). Going through `open`/`read`/`write`/`readlink`/`getdents64` makes the same code work under
 * `--allow-ffi` (which grants everything anyway) and on an ordinary directory tree, with no permission prompt.
 *
 * Paths given to the methods are relative to the root (`bus/pci/devices/0000:00:04.0/vendor`).
 *
 * @module
 */

import { checkSize, cString, lastErrno, libc } from "../../ffi/libc.ts";
import { O_DIRECTORY, O_RDONLY, O_WRONLY } from "../../ffi/constants.ts";
import { Errno, ErrnoError } from "../../ffi/errno.ts";
import { LinuxDirent64 } from "../../ffi/structs.ts";
import { openPath, openPathIfExists, pathExists } from "./file.ts";

/**
 * What code that reads and writes sysfs needs. `Sysfs` is the real one; the PCI binder's tests script a fake that
 * plays the kernel's reactions to writes (a temporary tree cannot unbind a driver).
 */
export interface SysfsAccess {
  /** Root of the tree, for messages (`/sys`). */
  readonly root: string;
  /**
   * Reads a text attribute, trailing newline removed.
   *
   * @returns The text, or `null` when the file does not exist.
   */
  readText(path: string): string | null;
  /** Writes `text` in one write(2), as `echo -n text > file` would. @throws ErrnoError with the kernel's errno. */
  write(path: string, text: string): void;
  /** The target of a symbolic link, or `null` when there is no link at `path`. */
  readlink(path: string): string | null;
  /** Names in a directory, sorted, without `.` and `..`; empty when the directory does not exist. */
  list(path: string): string[];
  /** Whether something exists at `path` (following links). */
  exists(path: string): boolean;
}

/** Largest sysfs read accepted (attributes are at most a page; `config` is at most 4 KiB). */
const MAX_READ = 1 << 20;
const READ_CHUNK = 4096;
const DIRENT_BUFFER = 32 * 1024;

/** sysfs (or a tree laid out like it) under a root directory, read and written through libc. */
export class Sysfs implements SysfsAccess {
  /** The root directory, without a trailing slash. */
  readonly root: string;
  readonly #decoder = new TextDecoder();
  readonly #encoder = new TextEncoder();

  /**
   * A sysfs rooted at `root`.
   *
   * @param root The root directory; default `/sys`.
   */
  constructor(root = "/sys") {
    this.root = root.length > 1 ? root.replace(/\/+$/, "") : root;
  }

  /**
   * The absolute path of a relative one.
   *
   * @param path Relative to the root.
   * @returns `root/path`.
   */
  resolve(path: string): string {
    return `${this.root}/${path}`;
  }

  /**
   * Reads a whole file as bytes (binary attributes such as a PCI function's `config`).
   *
   * @param path Relative to the root.
   * @returns The bytes, or `null` when the file does not exist.
   * @throws ErrnoError for other failures (EACCES, EIO).
   */
  readBytes(path: string): Uint8Array<ArrayBuffer> | null {
    using fd = openPathIfExists(this.resolve(path), O_RDONLY);
    if (fd === null) return null;
    let out = new Uint8Array(new ArrayBuffer(READ_CHUNK));
    let length = 0;
    for (;;) {
      if (length === out.length) out = grow(out, path);
      const n = checkSize(
        libc.read(fd.raw, out.subarray(length), BigInt(out.length - length)),
        "read",
        this.resolve(path),
      );
      if (n === 0) return out.slice(0, length);
      length += n;
    }
  }

  readText(path: string): string | null {
    const bytes = this.readBytes(path);
    return bytes === null ? null : this.#decoder.decode(bytes).replace(/\n$/, "");
  }

  write(path: string, text: string): void {
    using fd = openPath(this.resolve(path), O_WRONLY);
    const bytes = this.#encoder.encode(text);
    // One write: a sysfs store callback sees exactly this buffer, and reports its error as this write's errno.
    const n = checkSize(libc.write(fd.raw, bytes, BigInt(bytes.length)), "write", this.resolve(path));
    if (n !== bytes.length) {
      throw new ErrnoError(Errno.EIO, "write", `${this.resolve(path)} (${n} of ${bytes.length} bytes)`);
    }
  }

  readlink(path: string): string | null {
    const buffer = new Uint8Array(new ArrayBuffer(READ_CHUNK));
    const n = libc.readlink(cString(this.resolve(path)), buffer, BigInt(buffer.length));
    if (n < 0n) {
      const errno = lastErrno();
      if (errno === Errno.ENOENT || errno === Errno.EINVAL) return null; // EINVAL: not a link
      throw new ErrnoError(errno, "readlink", this.resolve(path));
    }
    return this.#decoder.decode(buffer.subarray(0, Number(n)));
  }

  list(path: string): string[] {
    using fd = openPathIfExists(this.resolve(path), O_RDONLY | O_DIRECTORY);
    if (fd === null) return [];
    const buffer = new Uint8Array(new ArrayBuffer(DIRENT_BUFFER));
    const view = new DataView(buffer.buffer);
    const names: string[] = [];
    for (;;) {
      const n = checkSize(libc.getdents64(fd.raw, buffer, BigInt(buffer.length)), "getdents64", path);
      if (n === 0) break;
      for (let at = 0; at < n;) {
        const reclen = view.getUint16(at + LinuxDirent64.RECLEN, true);
        const nameStart = at + LinuxDirent64.NAME;
        const name = this.#decoder.decode(buffer.subarray(nameStart, buffer.indexOf(0, nameStart)));
        if (name !== "." && name !== "..") names.push(name);
        at += reclen;
      }
    }
    return names.sort();
  }

  exists(path: string): boolean {
    return pathExists(this.resolve(path));
  }
}

function grow(out: Uint8Array<ArrayBuffer>, path: string): Uint8Array<ArrayBuffer> {
  if (out.length >= MAX_READ) {
    throw new RangeError(`Cannot read ${path}: it must be at most ${MAX_READ} bytes`);
  }
  const bigger = new Uint8Array(new ArrayBuffer(out.length * 2));
  bigger.set(out);
  return bigger;
}
