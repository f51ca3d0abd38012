/**
 * `GuestRam`: guest memory the way QEMU's `memory-backend-memfd,share=on` provides it: a memfd, mapped in this
 * process, described to the back-end by its fd, guest-physical base and our virtual address.
 *
 * @module
 */

import { type GuestRegion, RegionGuestMemory } from "../memory/mod.ts";
import { createMemfd, Fd, Mapping, type MemfdOptions } from "../os/mod.ts";

/** Where guest RAM starts by default: not 0, so a back-end that mixes up GPAs and offsets fails loudly. */
export const DEFAULT_GUEST_BASE = 0x4000_0000;

/** One memfd-backed region of guest RAM. */
export class GuestRam implements Disposable {
  /** The memfd (sent in SET_MEM_TABLE). */
  readonly fd: Fd;
  /** Our mapping of it. */
  readonly mapping: Mapping;
  /** The region as guest memory. */
  readonly region: GuestRegion;
  /** A one-region memory table over it. */
  readonly memory: RegionGuestMemory;

  /**
   * @param size Bytes of RAM (a multiple of 4096).
   * @param gpa Guest-physical base address.
   * @param memfd How the memfd is created: sealed against shrinking and growing by default, as QEMU's
   *   `memory-backend-memfd` does.
   */
  constructor(size: number, gpa = DEFAULT_GUEST_BASE, memfd: MemfdOptions | Fd = {}) {
    if (!Number.isSafeInteger(size) || size <= 0 || size % 4096 !== 0) {
      if (memfd instanceof Fd) memfd.close();
      throw new RangeError(
        `Cannot create guest RAM: size must be a positive multiple of 4096: current value is ${size}`,
      );
    }
    this.fd = memfd instanceof Fd ? memfd : createMemfd("cryptobridge-guest-ram", size, memfd);
    try {
      this.mapping = Mapping.fromFd(this.fd.raw, size);
    } catch (e) {
      this.fd.close();
      throw e;
    }
    this.region = {
      gpa,
      size,
      frontendVa: Number(this.mapping.address),
      bytes: this.mapping.bytes,
      address: this.mapping.address,
    };
    this.memory = new RegionGuestMemory([this.region], 1);
  }

  /**
   * Guest RAM over a file QEMU's `memory-backend-file` would use (tests of memory the daemon must refuse).
   *
   * @param fd An owned descriptor of a file at least `size` bytes long; closed with the RAM.
   * @param size Bytes of RAM.
   * @param gpa Guest-physical base address.
   * @returns The RAM.
   */
  static fromFd(fd: Fd, size: number, gpa = DEFAULT_GUEST_BASE): GuestRam {
    return new GuestRam(size, gpa, fd);
  }

  /** Bytes of RAM. */
  get size(): number {
    return this.region.size;
  }

  /** Our virtual address of a guest-physical address (what QEMU sends as vring addresses). */
  frontendVa(gpa: number): number {
    return this.region.frontendVa + (gpa - this.region.gpa);
  }

  /** A view of `[gpa, gpa + len)`. */
  view(gpa: number, len: number): Uint8Array {
    const off = gpa - this.region.gpa;
    if (off < 0 || off + len > this.region.size) {
      throw new RangeError(`Cannot view guest RAM: 0x${gpa.toString(16)}+${len} is outside it`);
    }
    return this.region.bytes.subarray(off, off + len);
  }

  /** Unmaps and closes. */
  close(): void {
    this.mapping.unmap();
    this.fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
