/**
 * VFIO from Deno: a PCI function's device fd, regions (capability chains, sparse mmap), BAR mappings with aligned
 * MMIO access that never cover the MSI-X table, DMA buffers with an IOVA allocator inside the IOMMU's allowed
 * ranges, MSI-X eventfds, reset and bus mastering, through the legacy container/group interface or iommufd.
 *
 * Each fd kind is its own class (`VfioContainer`, `VfioGroup`, `VfioDevice`, `Iommufd`): some ioctl numbers mean
 * different things on different fd kinds (vfio-ffi.md §0). `VfioSession` opens the whole stack and tears it down
 * in reverse order.
 *
 * @example Open a bound function, map a DMA buffer, enable MSI-X
 * ```ts ignore
 * using session = VfioSession.open("0000:00:04.0");
 * const buffer = session.dma.allocate(65536); // zeroed, mapped at buffer.iova
 * using vectors = MsixVectors.enable(session.device, 2); // vectors.eventfd(1).fd goes into the reactor
 * ```
 *
 * @module
 */

export { VfioError, type VfioErrorKind } from "./errors.ts";
export {
  argszNeeded,
  capabilityChain,
  decodeIommuInfo,
  decodeRegionInfo,
  type InfoCap,
  type IommuInfo,
  type IovaRange,
  IRQ_NAMES,
  lowestBit,
  REGION_NAMES,
  type RegionInfo,
  type SparseArea,
} from "./regions.ts";
export { VFIO_CONTAINER_PATH, VfioContainer } from "./container.ts";
export { type GroupStatus, VfioGroup } from "./group.ts";
export { type DeviceInfo, type IrqInfo, VfioDevice } from "./device.ts";
export { decodeIoasRanges, IoasMapper, type IoasRanges, Iommufd, IOMMUFD_PATH } from "./iommufd.ts";
export { DmaBuffer, type DmaMapper, DmaSpace, IovaAllocator } from "./dma.ts";
export { MsixVectors } from "./irq.ts";
export { BarMapping, mappableAreas, MmioWindow, type MsixPlacement } from "./bar.ts";
export {
  chooseVfioPath,
  type PathFacts,
  type VfioOpenOptions,
  type VfioPath,
  VfioSession,
} from "./session.ts";
export {
  VFIO_PCI_CONFIG_REGION_INDEX,
  VFIO_PCI_INTX_IRQ_INDEX,
  VFIO_PCI_MSI_IRQ_INDEX,
  VFIO_PCI_MSIX_IRQ_INDEX,
  VFIO_PCI_ROM_REGION_INDEX,
} from "../../ffi/constants.ts";
