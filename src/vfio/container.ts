/**
 * `VfioContainer`: the legacy VFIO container (`/dev/vfio/vfio`), which owns the type1 IOMMU domain of the groups
 * attached to it and maps DMA (vfio-ffi.md §1.5, §1.6). Only container ioctls are sent to this fd.
 *
 * @module
 */

import {
  O_RDWR,
  VFIO_API_VERSION,
  VFIO_CHECK_EXTENSION,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_GET_API_VERSION,
  VFIO_IOMMU_GET_INFO,
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_MAP_DMA,
  VFIO_IOMMU_UNMAP_DMA,
  VFIO_SET_IOMMU,
} from "../../ffi/constants.ts";
import {
  encodeVfioDmaMap,
  readU64Clamped,
  VFIO_ARGSZ,
  VfioDmaMap,
  VfioDmaUnmap,
  VfioIommuType1Info,
  writeU64,
} from "../../ffi/vfio_structs.ts";
import { Errno, ErrnoError, type Fd, IoctlArg, ioctlArg, ioctlValue, openPathIfExists } from "../os/mod.ts";
import type { DmaMapper } from "./dma.ts";
import { VfioError } from "./errors.ts";
import { argszNeeded, decodeIommuInfo, type IommuInfo } from "./regions.ts";

/** Default path of the container device. */
export const VFIO_CONTAINER_PATH = "/dev/vfio/vfio";

/** A VFIO container. Attach groups (`VfioGroup.setContainer`), then `setIommu`, then map DMA. */
export class VfioContainer implements DmaMapper, Disposable {
  readonly #fd: Fd;
  // One argument buffer per struct: MAP/UNMAP may run often (one per vhost-user memory region at least).
  readonly #map = new IoctlArg(VfioDmaMap.SIZE);
  readonly #unmap = new IoctlArg(VfioDmaUnmap.SIZE);
  readonly #info = new IoctlArg(VfioIommuType1Info.SIZE);

  private constructor(fd: Fd) {
    this.#fd = fd;
  }

  /**
   * Opens the container and checks the API version.
   *
   * @param path Default `/dev/vfio/vfio`.
   * @returns The container.
   * @throws VfioError `unavailable` when the file does not exist (vfio not loaded), `unsupported` for another
   *   API version.
   */
  static open(path: string = VFIO_CONTAINER_PATH): VfioContainer {
    const fd = openPathIfExists(path, O_RDWR);
    if (fd === null) {
      throw new VfioError(
        "unavailable",
        `No VFIO on this machine: ${path} does not exist: load the vfio-pci module`,
      );
    }
    const container = new VfioContainer(fd);
    try {
      const version = ioctlValue(fd.raw, VFIO_GET_API_VERSION, 0, "VFIO_GET_API_VERSION");
      if (version !== VFIO_API_VERSION) {
        throw new VfioError(
          "unsupported",
          `Cannot use VFIO: API version ${version}, expected ${VFIO_API_VERSION}`,
        );
      }
    } catch (e) {
      container.close();
      throw e;
    }
    return container;
  }

  /** The raw fd (VFIO_GROUP_SET_CONTAINER takes it). */
  get fd(): number {
    return this.#fd.raw;
  }

  /**
   * VFIO_CHECK_EXTENSION.
   *
   * @param extension VFIO_TYPE1v2_IOMMU, VFIO_NOIOMMU_IOMMU, …
   * @returns Whether the kernel supports it.
   */
  checkExtension(extension: number): boolean {
    return ioctlValue(this.#fd.raw, VFIO_CHECK_EXTENSION, extension, "VFIO_CHECK_EXTENSION") > 0;
  }

  /**
   * VFIO_SET_IOMMU: choose the IOMMU model, after at least one group is attached.
   *
   * @param type VFIO_TYPE1v2_IOMMU (or VFIO_NOIOMMU_IOMMU).
   */
  setIommu(type: number): void {
    ioctlValue(this.#fd.raw, VFIO_SET_IOMMU, type, "VFIO_SET_IOMMU");
  }

  /**
   * VFIO_IOMMU_GET_INFO with its capability chain: page sizes and usable IOVA ranges.
   *
   * @returns The IOMMU's limits.
   */
  iommuInfo(): IommuInfo {
    let size = Math.max(this.#info.size, VfioIommuType1Info.SIZE);
    for (let attempt = 0;; attempt++) {
      const v = this.#info.reset(size);
      v.setUint32(VFIO_ARGSZ, this.#info.size, true);
      ioctlArg(this.#fd.raw, VFIO_IOMMU_GET_INFO, this.#info.bytes, "VFIO_IOMMU_GET_INFO");
      const needed = argszNeeded(v, VFIO_IOMMU_INFO_CAPS, VfioIommuType1Info.CAP_OFFSET);
      if (needed === 0 || attempt > 0) return decodeIommuInfo(v);
      size = needed;
    }
  }

  mapDma(vaddr: number, iova: number, size: number): void {
    encodeVfioDmaMap(this.#map.view, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, { vaddr, iova, size });
    try {
      ioctlArg(this.#fd.raw, VFIO_IOMMU_MAP_DMA, this.#map.bytes, "VFIO_IOMMU_MAP_DMA");
    } catch (e) {
      throw dmaError(e, `map 0x${size.toString(16)} bytes at IOVA 0x${iova.toString(16)}`);
    }
  }

  unmapDma(iova: number, size: number): number {
    const v = this.#unmap.reset();
    v.setUint32(VFIO_ARGSZ, VfioDmaUnmap.SIZE, true);
    writeU64(v, VfioDmaUnmap.IOVA, iova);
    writeU64(v, VfioDmaUnmap.UNMAP_SIZE, size);
    try {
      ioctlArg(this.#fd.raw, VFIO_IOMMU_UNMAP_DMA, this.#unmap.bytes, "VFIO_IOMMU_UNMAP_DMA");
    } catch (e) {
      throw dmaError(e, `unmap IOVA 0x${iova.toString(16)}`);
    }
    return readU64Clamped(v, VfioDmaUnmap.UNMAP_SIZE);
  }

  /** Closes the container (the kernel drops its DMA mappings); idempotent. Close groups and devices first. */
  close(): void {
    this.#fd.close();
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * A DMA ioctl failure as a `VfioError` that says what the errno means here.
 *
 * @param e The ErrnoError.
 * @param what `map … at IOVA …`.
 * @returns The error to throw.
 */
export function dmaError(e: unknown, what: string): unknown {
  if (!(e instanceof ErrnoError)) return e;
  const hint = e.errno === Errno.EEXIST
    ? ": the IOVA range overlaps an existing mapping"
    : e.errno === Errno.ENOMEM
    ? ": pinning the pages exceeds RLIMIT_MEMLOCK (raise it, or run with CAP_IPC_LOCK)"
    : e.errno === Errno.ENOTTY
    ? ": this container cannot map DMA (no-IOMMU mode)"
    : "";
  return new VfioError("dma", `Cannot ${what}: ${e.code}${hint}`, { cause: e });
}
