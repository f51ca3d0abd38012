/**
 * Host memory as engines see it: a zero-copy byte view plus the host address of its first byte.
 *
 * A guest memory region, an engine's own scratch buffer and a test buffer all have this shape. Software engines
 * hand `address + offset` to C (OpenSSL) and use `bytes` for the rare small copies; DMA engines use the guest
 * physical address an `SgList` carries beside it.
 *
 * @module
 */

/** A block of host memory with a stable address (mmapped, or an off-heap ArrayBuffer kept alive by `bytes`). */
export interface HostMemory {
  /** A view of the whole block; it keeps an ArrayBuffer-backed block alive. */
  readonly bytes: Uint8Array;
  /** Host virtual address of `bytes[0]`, as a bigint so it goes to FFI `usize` parameters on the fast path. */
  readonly address: bigint;
}

/**
 * Wraps a fresh off-heap ArrayBuffer as `HostMemory`.
 *
 * `new ArrayBuffer(n)` keeps its backing store off the V8 heap, so its address is stable for its whole life;
 * a small `new Uint8Array(n)` may live on the heap and move, so never take the address of one.
 *
 * @param size Size in bytes (> 0).
 * @returns The block; keep a reference to it as long as C may use the address.
 *
 * @example
 * ```ts
 * import { allocHostMemory } from "./host_memory.ts";
 * const m = allocHostMemory(64);
 * if (m.bytes.length !== 64 || m.address === 0n) throw new Error("bad block");
 * ```
 */
export function allocHostMemory(size: number): HostMemory {
  if (!(size > 0)) {
    throw new RangeError(`Cannot allocate host memory: size must be > 0: current value is ${size}`);
  }
  const bytes = new Uint8Array(new ArrayBuffer(size));
  const address = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
  return { bytes, address };
}
