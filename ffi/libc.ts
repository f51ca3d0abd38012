/**
 * libc through Deno FFI: the project's only `Deno.dlopen` of libc. Every symbol is declared once, with the C
 * parameter names as comments. Only `src/os/` imports this file.
 *
 * FFI facts this table relies on (measured with Deno 2.9.6, see docs/ffi.md):
 * - `usize`/`i64` parameters take the fast call path only when given a `bigint`; a `number` there costs ~140 ns.
 * - `pointer` parameters are fastest with a `PointerObject` (or `null`); `buffer` takes any TypedArray.
 * - a raw address does not keep its buffer alive: keep a reference to the buffer while C may use it.
 * - `ioctl` is variadic; glibc's x86-64 entry reads the third argument from %rdx only, so fixed prototypes
 *   under different keys are safe (vfio-ffi.md §4.2).
 *
 * @module
 */

import { ErrnoError } from "./errno.ts";
import { LIBC_SYMBOLS as symbols } from "./libc_symbols.ts";

let library: Deno.DynamicLibrary<typeof symbols>;
try {
  library = Deno.dlopen("libc.so.6", symbols);
} catch (e) {
  // A missing --allow-ffi is not a missing library: rethrown as is, so the CLI can name the flag.
  if (e instanceof Deno.errors.NotCapable) throw e;
  throw new Error("Cannot load libc.so.6: cryptobridge needs glibc on x86-64 Linux", { cause: e });
}

/** The libc symbols. Call them through the wrappers in `src/os/`, which check results and read errno. */
export const libc: Deno.StaticForeignLibraryInterface<typeof symbols> = library.symbols;

// errno is per thread, at a fixed address for each: this module is evaluated once per isolate (the main thread, and
// each Worker on its own thread), so each thread's view, created once, reads that thread's errno in ~2 ns.
const errnoView = new Int32Array(Deno.UnsafePointerView.getArrayBuffer(libc.__errno_location()!, 4));

/**
 * errno of the calling thread. Read it right after the failing call, before any other FFI call.
 *
 * @returns The current errno value.
 */
export function lastErrno(): number {
  return errnoView[0]!;
}

/**
 * Throws `ErrnoError` if a libc call returned a negative value; otherwise returns the value.
 *
 * Call it around the libc call itself, so nothing runs between the call and the errno read:
 * `check(libc.close(fd), "close")`.
 *
 * @param result The call's return value.
 * @param syscall The call's name, for the error message.
 * @param detail Optional context, such as a path.
 * @returns `result`, when it is not negative.
 */
export function check(result: number, syscall: string, detail?: string): number {
  if (result < 0) throw new ErrnoError(lastErrno(), syscall, detail);
  return result;
}

/**
 * `check` for calls whose result is `ssize_t` (a bigint through FFI).
 *
 * @param result The call's return value.
 * @param syscall The call's name, for the error message.
 * @param detail Optional context.
 * @returns The result as a number (byte counts here are far below 2^53).
 */
export function checkSize(result: bigint, syscall: string, detail?: string): number {
  if (result < 0n) throw new ErrnoError(lastErrno(), syscall, detail);
  return Number(result);
}

/**
 * A NUL-terminated C string.
 *
 * @param s The JS string.
 * @returns Its UTF-8 bytes followed by a NUL.
 */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}
