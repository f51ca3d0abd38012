/**
 * `Mapping`: an mmap of a memfd, a file or anonymous memory, with a zero-copy view (design.md decision 3).
 *
 * Only this file creates views of foreign memory. A view outlives nothing: after `unmap()` any access through it is
 * a SIGSEGV, so owners drain every request that points into a mapping before unmapping it (style.md rule 10a).
 *
 * @module
 */

import { lastErrno, libc } from "../../ffi/libc.ts";
import { ErrnoError } from "../../ffi/errno.ts";
import { currentLedger } from "./ledger.ts";
import {
  MAP_ANONYMOUS,
  MAP_FAILED,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
} from "../../ffi/constants.ts";

/** Options of `Mapping.fromFd`. */
export interface MapOptions {
  /** File offset of the mapping (page-aligned). Default 0. */
  readonly offset?: number;
  /** PROT_* bits. Default read + write. */
  readonly prot?: number;
  /** MAP_SHARED (default) or MAP_PRIVATE, plus extra flags. */
  readonly flags?: number;
}

/** A mapped range of host memory; `bytes` and `address` make it usable as engine `HostMemory`. */
export class Mapping implements Disposable {
  #pointer: Deno.PointerObject | null;
  #bytes: Uint8Array;
  readonly #length: number;
  // Slot in this thread's resource ledger, or -1 (see ledger.ts).
  readonly #ledgerSlot: number;
  /** Host virtual address of the first byte. */
  readonly address: bigint;

  private constructor(pointer: Deno.PointerObject, length: number) {
    this.#pointer = pointer;
    this.#length = length;
    this.address = BigInt(Deno.UnsafePointer.value(pointer));
    this.#ledgerSlot = currentLedger()?.addMapping(this.address, length) ?? -1;
    // UNSAFE: a view with a no-op deleter over foreign memory; valid until unmap() (vfio-ffi.md §4.3).
    this.#bytes = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer, length));
  }

  /**
   * Maps `length` bytes of a file descriptor.
   *
   * @param fd The descriptor (a memfd from a vhost-user memory table, a VFIO device, a file).
   * @param length Bytes to map (> 0).
   * @param options Offset, protection and flags.
   * @returns The mapping.
   * @throws ErrnoError when mmap fails.
   */
  static fromFd(fd: number, length: number, options: MapOptions = {}): Mapping {
    checkLength(length);
    const p = libc.mmap(
      null,
      BigInt(length),
      options.prot ?? (PROT_READ | PROT_WRITE),
      options.flags ?? MAP_SHARED,
      fd,
      BigInt(options.offset ?? 0),
    );
    return Mapping.#checked(p, length);
  }

  /**
   * Maps anonymous private memory (zero-filled).
   *
   * @param length Bytes to map (> 0).
   * @returns The mapping.
   */
  static anonymous(length: number): Mapping {
    checkLength(length);
    const p = libc.mmap(null, BigInt(length), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0n);
    return Mapping.#checked(p, length);
  }

  static #checked(p: Deno.PointerValue, length: number): Mapping {
    if (p === null || BigInt(Deno.UnsafePointer.value(p)) === MAP_FAILED) {
      throw new ErrnoError(lastErrno(), "mmap", `(${length} bytes)`);
    }
    return new Mapping(p, length);
  }

  /**
   * The zero-copy view of the whole mapping.
   *
   * @throws Error after `unmap()`.
   */
  get bytes(): Uint8Array {
    if (this.#pointer === null) throw new Error("Cannot use mapping: it is unmapped");
    return this.#bytes;
  }

  /** Length in bytes. */
  get length(): number {
    return this.#length;
  }

  /** Whether the mapping is still in place. */
  get isMapped(): boolean {
    return this.#pointer !== null;
  }

  /** Unmaps; later calls do nothing. Views taken earlier must not be used afterwards. */
  unmap(): void {
    if (this.#pointer === null) return;
    if (this.#ledgerSlot >= 0) currentLedger()?.removeMapping(this.#ledgerSlot); // before munmap: see ledger.ts
    libc.munmap(this.#pointer, BigInt(this.#length));
    this.#pointer = null;
    this.#bytes = new Uint8Array(0);
  }

  [Symbol.dispose](): void {
    this.unmap();
  }
}

function checkLength(length: number): void {
  if (!Number.isSafeInteger(length) || length <= 0) {
    throw new RangeError(`Cannot map memory: length must be > 0: current value is ${length}`);
  }
}

/**
 * Whether the file behind `fd` is at least `length` bytes long, asked without mapping it. A shared mapping past the
 * end of its file is created without complaint and raises SIGBUS on the first access there (rust-vmm vm-memory
 * refuses such a region as `MappingPastEof`). One byte is read with pread, which moves no file offset: a received fd
 * shares its open file with the sender.
 *
 * @param fd The descriptor (a memfd or file from a vhost-user memory table).
 * @param length Bytes that must be backed (> 0).
 * @returns true or false; undefined when the fd cannot be read at an offset (not a regular file: mmap decides).
 */
export function fileCovers(fd: number, length: number): boolean | undefined {
  checkLength(length);
  const n = libc.pread(fd, new Uint8Array(1), 1n, BigInt(length - 1));
  if (n === 1n) return true;
  if (n === 0n) return false;
  return undefined;
}
