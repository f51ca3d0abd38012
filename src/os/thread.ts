/**
 * The calling thread: its kernel id and its CPU affinity. A VM's Worker pins itself with `pinThread` (its own
 * thread id, not the process: the other threads keep their CPUs).
 *
 * @module
 */

import { check, libc } from "../../ffi/libc.ts";

/** Bytes of the `cpu_set_t` passed to the kernel: 1024 CPUs, glibc's CPU_SETSIZE. */
const CPU_SET_BYTES = 128;

/**
 * The calling thread's kernel id (gettid).
 *
 * @returns The id.
 */
export function threadId(): number {
  return libc.gettid();
}

/**
 * Pins the calling thread to the given CPUs (sched_setaffinity on its own thread id).
 *
 * @param cpus CPU numbers, each in 0..1023.
 * @throws RangeError for an empty list or a CPU out of range; ErrnoError EINVAL when none of them is online or
 *   allowed (a cgroup's cpuset).
 */
export function pinThread(cpus: readonly number[]): void {
  if (cpus.length === 0) throw new RangeError("Cannot pin thread: no CPU given");
  const mask = new Uint8Array(CPU_SET_BYTES);
  for (const cpu of cpus) {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= CPU_SET_BYTES * 8) {
      throw new RangeError(
        `Cannot pin thread: CPU must be in 0..${CPU_SET_BYTES * 8 - 1}: current value is ${cpu}`,
      );
    }
    mask[cpu >> 3]! |= 1 << (cpu & 7);
  }
  check(
    libc.sched_setaffinity(libc.gettid(), BigInt(CPU_SET_BYTES), mask),
    "sched_setaffinity",
    `to CPUs ${cpus}`,
  );
}

/**
 * The CPUs the calling thread may run on.
 *
 * @returns CPU numbers, ascending.
 * @throws ErrnoError when sched_getaffinity fails.
 */
export function threadAffinity(): number[] {
  const mask = new Uint8Array(CPU_SET_BYTES);
  check(libc.sched_getaffinity(libc.gettid(), BigInt(CPU_SET_BYTES), mask), "sched_getaffinity");
  const cpus: number[] = [];
  for (let cpu = 0; cpu < CPU_SET_BYTES * 8; cpu++) {
    if ((mask[cpu >> 3]! & (1 << (cpu & 7))) !== 0) cpus.push(cpu);
  }
  return cpus;
}
