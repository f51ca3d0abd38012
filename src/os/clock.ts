/**
 * `monotonicMs`: CLOCK_MONOTONIC in milliseconds, what `performance.now()` measures but from another origin (the
 * boot, not the isolate's start), for the per-request timing of the data path. `performance.now()` costs ~100 ns
 * a call in Deno 2.9.6; this FFI call into glibc's vDSO `clock_gettime` ~47 ns, and a request reads the clock
 * twice (the metering of docs/operations.md, "Metrics"): without those two reads `serve --poll` served 1.24M-1.47M
 * requests/s of 64 B against 0.82M-0.97M. Compare its values with each other only, never with
 * `performance.now()`.
 *
 * @module
 */

import { libc } from "../../ffi/libc.ts";

const CLOCK_MONOTONIC = 1;
// struct timespec { time_t tv_sec; long tv_nsec; } on x86-64, read as 32-bit halves: seconds since boot fit in
// the low half, so no BigInt is needed. One per isolate (a thread reads only its own).
const timespec = new Int32Array(4);

/**
 * The monotonic clock.
 *
 * @returns Milliseconds since an arbitrary origin (the boot), with sub-microsecond resolution.
 */
export function monotonicMs(): number {
  libc.clock_gettime(CLOCK_MONOTONIC, timespec);
  return timespec[0]! * 1000 + timespec[2]! / 1e6;
}
