/**
 * The iommufd path (Linux >= 6.6 with CONFIG_VFIO_DEVICE_CDEV): `/dev/iommu` owns I/O address spaces (IOAS), and
 * each device cdev (`/dev/vfio/devices/vfioN`) is bound to it and attached to an IOAS instead of joining a group
 * and a container (vfio-ffi.md §1.7). Only iommufd ioctls are sent to this fd; the device-side ioctls
 * (BIND_IOMMUFD, ATTACH_IOMMUFD_PT) are `VfioDevice` methods.
 *
 * @module
 */

import {
  IOMMU_DESTROY,
  IOMMU_IOAS_ALLOC,
  IOMMU_IOAS_IOVA_RANGES,
  IOMMU_IOAS_MAP,
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_IOAS_UNMAP,
  O_RDWR,
} from "../../ffi/constants.ts";
import {
  encodeIommuIoasMap,
  IommuDestroy,
  IommuIoasAlloc,
  IommuIoasIovaRanges,
  IommuIoasUnmap,
  readU64Clamped,
  VFIO_ARGSZ,
  writeU64,
} from "../../ffi/vfio_structs.ts";
import { Errno, ErrnoError, type Fd, IoctlArg, ioctlArg, openPathIfExists } from "../os/mod.ts";
import { dmaError } from "./container.ts";
import type { DmaMapper } from "./dma.ts";
import { VfioError } from "./errors.ts";
import type { IovaRange } from "./regions.ts";

/** Default path of the iommufd device. */
export const IOMMUFD_PATH = "/dev/iommu";

/** What IOMMU_IOAS_IOVA_RANGES reports. */
export interface IoasRanges {
  /** Allowed ranges, inclusive ends. */
  readonly ranges: readonly IovaRange[];
  /** Every IOVA and length must be a multiple of this. */
  readonly alignment: number;
}

/** An iommufd (`/dev/iommu`). */
export class Iommufd implements Disposable {
  readonly #fd: Fd;
  readonly #arg = new IoctlArg(64);
  readonly #map = new IoctlArg(40);

  private constructor(fd: Fd) {
    this.#fd = fd;
  }

  /**
   * Opens `/dev/iommu`.
   *
   * @param path Default `/dev/iommu`.
   * @returns The iommufd.
   * @throws VfioError `unavailable` when the kernel has no iommufd.
   */
  static open(path: string = IOMMUFD_PATH): Iommufd {
    const fd = openPathIfExists(path, O_RDWR);
    if (fd === null) throw new VfioError("unavailable", `No iommufd on this machine: ${path} does not exist`);
    return new Iommufd(fd);
  }

  /** The raw fd (VFIO_DEVICE_BIND_IOMMUFD takes it). */
  get fd(): number {
    return this.#fd.raw;
  }

  /** IOMMU_IOAS_ALLOC: a new, empty I/O address space. @returns Its id. */
  allocIoas(): number {
    const v = this.#arg.reset(IommuIoasAlloc.SIZE);
    v.setUint32(VFIO_ARGSZ, IommuIoasAlloc.SIZE, true);
    ioctlArg(
      this.#fd.raw,
      IOMMU_IOAS_ALLOC,
      this.#arg.bytes.subarray(0, IommuIoasAlloc.SIZE),
      "IOMMU_IOAS_ALLOC",
    );
    return v.getUint32(IommuIoasAlloc.OUT_IOAS_ID, true);
  }

  /**
   * IOMMU_IOAS_IOVA_RANGES. Ask again after each attach: attached devices narrow the ranges.
   *
   * @param ioasId The IOAS.
   * @returns Allowed ranges and alignment.
   */
  iovaRanges(ioasId: number): IoasRanges {
    for (let capacity = 8;;) {
      const ranges = new Uint8Array(new ArrayBuffer(capacity * IommuIoasIovaRanges.RANGE_SIZE));
      const v = this.#arg.reset(IommuIoasIovaRanges.SIZE);
      v.setUint32(VFIO_ARGSZ, IommuIoasIovaRanges.SIZE, true);
      v.setUint32(IommuIoasIovaRanges.IOAS_ID, ioasId, true);
      v.setUint32(IommuIoasIovaRanges.NUM_IOVAS, capacity, true);
      // A pointer inside the argument: `ranges` stays referenced until the call has returned.
      writeU64(
        v,
        IommuIoasIovaRanges.ALLOWED_IOVAS,
        Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(ranges))),
      );
      try {
        ioctlArg(
          this.#fd.raw,
          IOMMU_IOAS_IOVA_RANGES,
          this.#arg.bytes.subarray(0, IommuIoasIovaRanges.SIZE),
          "IOMMU_IOAS_IOVA_RANGES",
        );
      } catch (e) {
        // EMSGSIZE: the array was too small; num_iovas now holds the count needed.
        if (e instanceof ErrnoError && e.errno === Errno.EMSGSIZE) {
          capacity = v.getUint32(IommuIoasIovaRanges.NUM_IOVAS, true);
          continue;
        }
        throw e;
      }
      return decodeIoasRanges(v, ranges);
    }
  }

  /**
   * IOMMU_IOAS_MAP at a fixed IOVA, readable and writable.
   *
   * @param ioasId The IOAS.
   * @param map Host virtual address, IOVA and length.
   */
  mapFixed(
    ioasId: number,
    map: { readonly vaddr: number; readonly iova: number; readonly size: number },
  ): void {
    const flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
    encodeIommuIoasMap(this.#map.view, flags, {
      ioasId,
      userVa: map.vaddr,
      length: map.size,
      iova: map.iova,
    });
    try {
      ioctlArg(this.#fd.raw, IOMMU_IOAS_MAP, this.#map.bytes, "IOMMU_IOAS_MAP");
    } catch (e) {
      throw dmaError(e, `map 0x${map.size.toString(16)} bytes at IOVA 0x${map.iova.toString(16)}`);
    }
  }

  /**
   * IOMMU_IOAS_UNMAP.
   *
   * @param ioasId The IOAS.
   * @param iova Start of a mapped range.
   * @param size Its length.
   * @returns Bytes unmapped.
   */
  unmap(ioasId: number, iova: number, size: number): number {
    const v = this.#arg.reset(IommuIoasUnmap.SIZE);
    v.setUint32(VFIO_ARGSZ, IommuIoasUnmap.SIZE, true);
    v.setUint32(IommuIoasUnmap.IOAS_ID, ioasId, true);
    writeU64(v, IommuIoasUnmap.IOVA, iova);
    writeU64(v, IommuIoasUnmap.LENGTH, size);
    try {
      ioctlArg(
        this.#fd.raw,
        IOMMU_IOAS_UNMAP,
        this.#arg.bytes.subarray(0, IommuIoasUnmap.SIZE),
        "IOMMU_IOAS_UNMAP",
      );
    } catch (e) {
      throw dmaError(e, `unmap IOVA 0x${iova.toString(16)}`);
    }
    return readU64Clamped(v, IommuIoasUnmap.LENGTH);
  }

  /** IOMMU_DESTROY of an object (an IOAS once its devices are gone). */
  destroy(id: number): void {
    const v = this.#arg.reset(IommuDestroy.SIZE);
    v.setUint32(VFIO_ARGSZ, IommuDestroy.SIZE, true);
    v.setUint32(IommuDestroy.ID, id, true);
    ioctlArg(this.#fd.raw, IOMMU_DESTROY, this.#arg.bytes.subarray(0, IommuDestroy.SIZE), "IOMMU_DESTROY");
  }

  /** Closes the iommufd (the kernel destroys what is left in it); idempotent. Close bound devices first. */
  close(): void {
    this.#fd.close();
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Decodes the answer of IOMMU_IOAS_IOVA_RANGES.
 *
 * @param view The 32-byte argument after the call.
 * @param ranges The `allowed_iovas` array it pointed to.
 * @returns Ranges (inclusive) and alignment.
 */
export function decodeIoasRanges(view: DataView, ranges: Uint8Array): IoasRanges {
  const count = view.getUint32(IommuIoasIovaRanges.NUM_IOVAS, true);
  const r = new DataView(ranges.buffer, ranges.byteOffset, ranges.byteLength);
  const out: IovaRange[] = [];
  for (let i = 0; i < count && (i + 1) * IommuIoasIovaRanges.RANGE_SIZE <= ranges.length; i++) {
    const at = i * IommuIoasIovaRanges.RANGE_SIZE;
    out.push({ start: readU64Clamped(r, at), end: readU64Clamped(r, at + 8) });
  }
  return {
    ranges: out,
    alignment: Math.max(1, readU64Clamped(view, IommuIoasIovaRanges.OUT_IOVA_ALIGNMENT)),
  };
}

/** An IOAS as a `DmaMapper`, so `DmaSpace` works the same on both paths. */
export class IoasMapper implements DmaMapper {
  readonly #iommufd: Iommufd;
  /** The IOAS id. */
  readonly ioasId: number;

  /**
   * The mapper of one IOAS.
   *
   * @param iommufd The iommufd holding the IOAS.
   * @param ioasId The IOAS.
   */
  constructor(iommufd: Iommufd, ioasId: number) {
    this.#iommufd = iommufd;
    this.ioasId = ioasId;
  }

  mapDma(vaddr: number, iova: number, size: number): void {
    this.#iommufd.mapFixed(this.ioasId, { vaddr, iova, size });
  }

  unmapDma(iova: number, size: number): number {
    return this.#iommufd.unmap(this.ioasId, iova, size);
  }
}
