/**
 * DMA memory for a device behind an IOMMU: an IOVA allocator confined to the ranges the IOMMU allows, and DMA
 * buffers (anonymous mmap, page-aligned, mapped at an allocated IOVA through a container or an iommufd IOAS).
 *
 * The IOMMU translates what the device emits, so the daemon chooses the IOVAs (vfio-ffi.md §1.5): ranges exclude
 * holes such as the x86 MSI window 0xFEE00000-0xFEEFFFFF, and every map is page-aligned in VA, IOVA and size.
 *
 * @module
 */

import { Mapping } from "../os/mod.ts";
import { VfioError } from "./errors.ts";
import type { IovaRange } from "./regions.ts";

/** What a VFIO container or an iommufd IOAS does for DMA. */
export interface DmaMapper {
  /**
   * Maps `size` bytes of host memory at `vaddr` to `iova`, readable and writable by the device.
   *
   * @throws VfioError `dma` (an overlapping IOVA: EEXIST; pinning over RLIMIT_MEMLOCK: ENOMEM).
   */
  mapDma(vaddr: number, iova: number, size: number): void;
  /**
   * Unmaps an IOVA range mapped by `mapDma`.
   *
   * @returns The bytes the kernel unmapped.
   */
  unmapDma(iova: number, size: number): number;
}

/** A free or used interval [start, end) of IOVA space. */
interface Interval {
  start: number;
  end: number;
}

/**
 * First-fit IOVA allocator over the IOMMU's allowed ranges. IOVA 0 is never handed out: a zero address in a
 * device ring looks like an unset field.
 */
export class IovaAllocator {
  /** Alignment of every allocation (the IOMMU's smallest page). */
  readonly pageSize: number;
  // Sorted, disjoint, half-open free intervals.
  #free: Interval[];

  /**
   * An allocator over `ranges`.
   *
   * @param ranges Allowed ranges (inclusive ends), from the IOMMU.
   * @param pageSize The IOMMU's smallest page size (a power of 2).
   */
  constructor(ranges: readonly IovaRange[], pageSize = 4096) {
    if (!Number.isInteger(Math.log2(pageSize))) {
      throw new RangeError(
        `Cannot allocate IOVAs: page size must be a power of 2: current value is ${pageSize}`,
      );
    }
    this.pageSize = pageSize;
    // Page 0 stays in the free list so that `reserve()` can take it (a guest's RAM starts at GPA 0), but
    // `allocate()` never hands it out.
    this.#free = ranges
      .map((r) => ({ start: alignUp(r.start, pageSize), end: alignDown(r.end + 1, pageSize) }))
      .filter((r) => r.end > r.start)
      .sort((a, b) => a.start - b.start);
  }

  /** Free bytes in all ranges (page 0, which `allocate()` never hands out, not counted). */
  get freeBytes(): number {
    return this.#free.reduce((sum, r) => sum + Math.max(0, r.end - this.#lowest(r)), 0);
  }

  /** The lowest address `allocate()` may hand out in a free range. */
  #lowest(r: Interval): number {
    return Math.max(r.start, this.pageSize);
  }

  /**
   * Takes a free IOVA range of `size` bytes: the lowest one, or with `placement` "high" the highest one.
   *
   * A driver that maps a guest's RAM at IOVA = guest-physical address puts its own buffers high, where guest
   * RAM does not reach (design.md decision 4): then the two never collide.
   *
   * @param size Bytes (rounded up to the page size).
   * @param placement "low" (default) or "high".
   * @returns The IOVA.
   * @throws VfioError `iova-exhausted`.
   */
  allocate(size: number, placement: "low" | "high" = "low"): number {
    const length = alignUp(size, this.pageSize);
    const iova = placement === "high" ? this.#highest(length) : this.#lowestFit(length);
    if (iova === undefined) {
      throw new VfioError(
        "iova-exhausted",
        `Cannot allocate ${length} bytes of IOVA space: no free range is large enough`,
      );
    }
    this.#take(iova, length);
    return iova;
  }

  #lowestFit(length: number): number | undefined {
    const r = this.#free.find((f) => f.end - this.#lowest(f) >= length);
    return r === undefined ? undefined : this.#lowest(r);
  }

  #highest(length: number): number | undefined {
    for (let i = this.#free.length - 1; i >= 0; i--) {
      const r = this.#free[i]!;
      if (r.end - length >= this.#lowest(r)) return r.end - length;
    }
    return undefined;
  }

  /**
   * Takes a given IOVA range (IOVA = guest-physical address, for example).
   *
   * @param iova Page-aligned start.
   * @param size Bytes (rounded up to the page size).
   * @throws VfioError `iova-exhausted` when the range is not entirely free and allowed.
   */
  reserve(iova: number, size: number): void {
    const length = alignUp(size, this.pageSize);
    if (iova % this.pageSize !== 0 || !this.#free.some((r) => r.start <= iova && iova + length <= r.end)) {
      throw new VfioError(
        "iova-exhausted",
        `Cannot reserve IOVA 0x${iova.toString(16)}+0x${
          length.toString(16)
        }: it is not free, allowed and page-aligned`,
      );
    }
    this.#take(iova, length);
  }

  /**
   * Returns a range to the free list (merging neighbours).
   *
   * @param iova What `allocate` or `reserve` took.
   * @param size The same size.
   */
  free(iova: number, size: number): void {
    const end = iova + alignUp(size, this.pageSize);
    const at = this.#free.findIndex((r) => r.start >= end);
    const index = at < 0 ? this.#free.length : at;
    this.#free.splice(index, 0, { start: iova, end });
    const prev = this.#free[index - 1];
    const next = this.#free[index + 1];
    const self = this.#free[index]!;
    if (next !== undefined && next.start === self.end) {
      self.end = next.end;
      this.#free.splice(index + 1, 1);
    }
    if (prev !== undefined && prev.end === self.start) {
      prev.end = self.end;
      this.#free.splice(index, 1);
    }
  }

  #take(iova: number, length: number): void {
    const i = this.#free.findIndex((r) => r.start <= iova && iova + length <= r.end);
    const r = this.#free[i]!;
    const pieces = [{ start: r.start, end: iova }, { start: iova + length, end: r.end }].filter((p) =>
      p.end > p.start
    );
    this.#free.splice(i, 1, ...pieces);
  }
}

function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

function alignDown(n: number, align: number): number {
  return Math.floor(n / align) * align;
}

/** Host memory the device reaches at `iova`. */
export class DmaBuffer {
  /** Where the device sees it. */
  readonly iova: number;
  /** Size in bytes (page-aligned). */
  readonly size: number;
  readonly #mapping: Mapping;

  /** @internal Created by `DmaSpace.allocate`. */
  constructor(mapping: Mapping, iova: number) {
    this.#mapping = mapping;
    this.iova = iova;
    this.size = mapping.length;
  }

  /** The memory, zero-copy. Invalid once freed. */
  get bytes(): Uint8Array {
    return this.#mapping.bytes;
  }

  /** Host virtual address of the first byte. */
  get address(): bigint {
    return this.#mapping.address;
  }

  /** Whether it is still mapped. */
  get isMapped(): boolean {
    return this.#mapping.isMapped;
  }

  /** @internal Unmaps the host memory (after the IOMMU mapping is gone). */
  release(): void {
    this.#mapping.unmap();
  }
}

/** DMA buffers of one IOMMU domain; frees everything, newest first, on `close()`. */
export class DmaSpace implements Disposable {
  readonly #mapper: DmaMapper;
  readonly #iovas: IovaAllocator;
  readonly #buffers = new Set<DmaBuffer>();
  // IOVA -> size of each `mapFixed` mapping.
  readonly #fixed = new Map<number, number>();
  #closed = false;

  /**
   * A DMA space mapping through `mapper`.
   *
   * @param mapper The container or IOAS that maps.
   * @param iovas The IOVA allocator for its allowed ranges.
   */
  constructor(mapper: DmaMapper, iovas: IovaAllocator) {
    this.#mapper = mapper;
    this.#iovas = iovas;
  }

  /** The allocator (to reserve fixed IOVAs). */
  get iovas(): IovaAllocator {
    return this.#iovas;
  }

  /**
   * Allocates zeroed, page-aligned host memory and maps it for the device.
   *
   * @param size Bytes (rounded up to the page size).
   * @param placement Where in IOVA space: "low" (default) or "high" (see `IovaAllocator.allocate`).
   * @returns The buffer.
   * @throws VfioError `iova-exhausted` or `dma`.
   */
  allocate(size: number, placement: "low" | "high" = "low"): DmaBuffer {
    if (this.#closed) throw new VfioError("closed", "Cannot allocate DMA memory: the DMA space is closed");
    const length = Math.ceil(size / this.#iovas.pageSize) * this.#iovas.pageSize;
    const mapping = Mapping.anonymous(length);
    let iova: number | undefined;
    try {
      iova = this.#iovas.allocate(length, placement);
      this.#mapper.mapDma(Number(mapping.address), iova, length);
    } catch (e) {
      if (iova !== undefined) this.#iovas.free(iova, length);
      mapping.unmap();
      throw e;
    }
    const buffer = new DmaBuffer(mapping, iova);
    this.#buffers.add(buffer);
    return buffer;
  }

  /**
   * Unmaps a buffer from the device, then from the process. Idempotent.
   *
   * @param buffer From `allocate`.
   * @throws VfioError `dma` when the kernel unmapped a different size.
   */
  free(buffer: DmaBuffer): void {
    if (!this.#buffers.delete(buffer)) return;
    try {
      const unmapped = this.#mapper.unmapDma(buffer.iova, buffer.size);
      if (unmapped !== buffer.size) {
        throw new VfioError(
          "dma",
          `Unmapped ${unmapped} bytes at IOVA 0x${buffer.iova.toString(16)}, expected ${buffer.size}`,
        );
      }
      this.#iovas.free(buffer.iova, buffer.size);
    } finally {
      // Only now may the pages go: the device could still reach them while the IOMMU mapping existed.
      buffer.release();
    }
  }

  /**
   * Maps memory the caller owns (a guest RAM region mapped from its vhost-user fd) at a fixed IOVA, typically its
   * guest-physical address, so descriptors can carry guest addresses unchanged (design.md decision 4). The IOVA
   * range is reserved, so no later `allocate()` lands on it.
   *
   * @param address Host address of the memory (page-aligned); the caller keeps it mapped until `unmapFixed`.
   * @param iova Where the device sees it (page-aligned, free and allowed).
   * @param size Bytes (a multiple of the page size).
   * @throws VfioError `iova-exhausted` (outside the allowed ranges, or taken), `dma` (pinning failed), `closed`.
   */
  mapFixed(address: bigint, iova: number, size: number): void {
    if (this.#closed) throw new VfioError("closed", "Cannot map DMA memory: the DMA space is closed");
    const page = this.#iovas.pageSize;
    if (Number(address % BigInt(page)) !== 0 || size % page !== 0 || size <= 0) {
      throw new VfioError(
        "dma",
        `Cannot map 0x${address.toString(16)}+0x${size.toString(16)} for DMA: address and size must be ` +
          `multiples of ${page}`,
      );
    }
    this.#iovas.reserve(iova, size);
    try {
      this.#mapper.mapDma(Number(address), iova, size);
    } catch (e) {
      this.#iovas.free(iova, size);
      throw e;
    }
    this.#fixed.set(iova, size);
  }

  /**
   * Maps memory the caller owns at `preferred` when that IOVA range is free and allowed (the daemon prefers IOVA =
   * the memory's host address, as DPDK and SPDK do: unique in the process, so VMs never collide), else at a range
   * the allocator picks (an IOMMU with fewer address bits than the process's mappings need).
   *
   * @param address Host address (page-aligned); kept mapped by the caller until `unmapFixed`.
   * @param size Bytes (a multiple of the page size).
   * @param preferred The IOVA wanted.
   * @returns The IOVA it got.
   * @throws VfioError `iova-exhausted` (no room at all), `dma` (pinning failed), `closed`.
   */
  mapAnywhere(address: bigint, size: number, preferred: number): number {
    try {
      this.mapFixed(address, preferred, size);
      return preferred;
    } catch (e) {
      if (!(e instanceof VfioError) || e.kind !== "iova-exhausted") throw e;
    }
    const iova = this.#iovas.allocate(size, "low");
    this.#iovas.free(iova, size); // mapFixed reserves it again
    this.mapFixed(address, iova, size);
    return iova;
  }

  /**
   * Unmaps what `mapFixed` mapped at `iova` (the device can no longer reach it) and frees the IOVA range.
   * Idempotent.
   *
   * @param iova The IOVA given to `mapFixed`.
   * @throws VfioError `dma` when the kernel unmapped a different size.
   */
  unmapFixed(iova: number): void {
    const size = this.#fixed.get(iova);
    if (size === undefined) return;
    this.#fixed.delete(iova);
    const unmapped = this.#mapper.unmapDma(iova, size);
    this.#iovas.free(iova, size);
    if (unmapped !== size) {
      throw new VfioError(
        "dma",
        `Unmapped ${unmapped} bytes at IOVA 0x${iova.toString(16)}, expected ${size}`,
      );
    }
  }

  /**
   * Frees every buffer (newest first) and unmaps every fixed mapping; idempotent. Every one is tried; the first
   * failure is thrown after.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    let first: { error: unknown } | undefined;
    const steps = [
      ...[...this.#fixed.keys()].map((iova) => () => this.unmapFixed(iova)),
      ...[...this.#buffers].reverse().map((buffer) => () => this.free(buffer)),
    ];
    for (const step of steps) {
      try {
        step();
      } catch (e) {
        first ??= { error: e };
      }
    }
    if (first !== undefined) throw first.error;
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
