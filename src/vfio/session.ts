/**
 * `VfioSession`: one PCI function opened through VFIO with its DMA space, on whichever path the kernel offers:
 *
 * - `iommufd`: `/dev/iommu` exists and sysfs shows the function's cdev (`vfio-dev/vfioN`, Linux >= 6.6 with
 *   CONFIG_VFIO_DEVICE_CDEV): open the cdev, bind it to the iommufd, attach it to a new IOAS (vfio-ffi.md §1.7).
 * - `legacy`: container and group, type1v2 IOMMU (vfio-ffi.md §1.6). The Debian 6.1 guest only has this one.
 *
 * Teardown runs in reverse order of setup: DMA buffers, device, group (detached from the container), container
 * or IOAS and iommufd.
 *
 * @module
 */

import { VFIO_TYPE1v2_IOMMU } from "../../ffi/constants.ts";
import { pathExists, Sysfs, type SysfsAccess } from "../os/mod.ts";
import { VfioContainer } from "./container.ts";
import { VfioDevice } from "./device.ts";
import { DmaSpace, IovaAllocator } from "./dma.ts";
import { VfioError } from "./errors.ts";
import { VfioGroup } from "./group.ts";
import { IoasMapper, Iommufd } from "./iommufd.ts";

/** Which VFIO interface a session uses. */
export type VfioPath = "iommufd" | "legacy";

/** Options of `VfioSession.open`. */
export interface VfioOpenOptions {
  /** sysfs (default `/sys`). */
  readonly sysfs?: SysfsAccess;
  /** The /dev directory (default `/dev`). */
  readonly dev?: string;
  /** Use the legacy container even when the cdev path exists. */
  readonly legacy?: boolean;
}

/** What decides the path. */
export interface PathFacts {
  /** `/dev/iommu` exists. */
  readonly iommufd: boolean;
  /** The function's cdev name (`vfio0`), or `null`. */
  readonly cdev: string | null;
  /** The caller asked for the legacy path. */
  readonly forceLegacy: boolean;
}

/**
 * The path to use. Pure.
 *
 * @param facts What the system offers.
 * @returns `iommufd` when both /dev/iommu and the cdev exist (and legacy was not forced), else `legacy`.
 */
export function chooseVfioPath(facts: PathFacts): VfioPath {
  return facts.iommufd && facts.cdev !== null && !facts.forceLegacy ? "iommufd" : "legacy";
}

/** A function opened through VFIO. */
export class VfioSession implements Disposable {
  /** The function's address. */
  readonly bdf: string;
  /** Which interface it was opened through. */
  readonly path: VfioPath;
  /** The device. */
  readonly device: VfioDevice;
  /** DMA buffers for it. */
  readonly dma: DmaSpace;
  readonly #teardown: (() => void)[];
  #closed = false;

  private constructor(
    parts: { bdf: string; path: VfioPath; device: VfioDevice; dma: DmaSpace; teardown: (() => void)[] },
  ) {
    this.bdf = parts.bdf;
    this.path = parts.path;
    this.device = parts.device;
    this.dma = parts.dma;
    this.#teardown = parts.teardown;
  }

  /**
   * Opens a function bound to a VFIO driver.
   *
   * @param bdf The function's address.
   * @param options sysfs and /dev locations; `legacy` forces the container path.
   * @returns The session; close it (or `using`) to release everything.
   * @throws VfioError `unavailable` (not bound to VFIO, no VFIO), `group-not-viable`, `unsupported`.
   */
  static open(bdf: string, options: VfioOpenOptions = {}): VfioSession {
    const sysfs = options.sysfs ?? new Sysfs();
    const dev = options.dev ?? "/dev";
    const fn = `bus/pci/devices/${bdf}`;
    const driver = sysfs.readlink(`${fn}/driver`)?.split("/").pop() ?? null;
    if (driver === null || !/vfio[-_]pci$/.test(driver)) {
      const now = driver ?? "no driver";
      throw new VfioError(
        "unavailable",
        `Cannot open ${bdf} through VFIO: it is on ${now}: run \`cryptobridge bind ${bdf}\` first`,
      );
    }
    const cdev = sysfs.list(`${fn}/vfio-dev`)[0] ?? null;
    // /dev/iommu is the misc device "iommu": sysfs tells whether it exists, also on a fake tree.
    const facts = { iommufd: sysfs.exists("class/misc/iommu"), cdev, forceLegacy: options.legacy === true };
    const path = chooseVfioPath(facts);
    const teardown: (() => void)[] = [];
    try {
      const parts = path === "iommufd"
        ? openIommufd(bdf, { cdev: `${dev}/vfio/devices/${cdev}`, iommu: `${dev}/iommu` }, teardown)
        : openLegacy(bdf, { container: `${dev}/vfio/vfio`, group: groupNode(sysfs, bdf, dev) }, teardown);
      return new VfioSession({ bdf, path, ...parts, teardown });
    } catch (e) {
      try {
        runReversed(teardown);
      } catch {
        // the setup error says more than a teardown failure after it
      }
      throw e;
    }
  }

  /** Releases DMA buffers, device, group, container (or IOAS and iommufd), in that order; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    runReversed(this.#teardown);
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

interface Opened {
  readonly device: VfioDevice;
  readonly dma: DmaSpace;
}

/** The function's group node, `/dev/vfio/<n>`. */
function groupNode(sysfs: SysfsAccess, bdf: string, dev: string): string {
  const group = sysfs.readlink(`bus/pci/devices/${bdf}/iommu_group`)?.split("/").pop();
  if (group === undefined) {
    throw new VfioError("unavailable", `Cannot open ${bdf} through VFIO: it has no IOMMU group`);
  }
  if (!pathExists(`${dev}/vfio/${group}`) && pathExists(`${dev}/vfio/noiommu-${group}`)) {
    throw new VfioError(
      "unsupported",
      `Cannot open ${bdf}: its group is in no-IOMMU mode, where DMA needs physical addresses; cryptobridge ` +
        "needs an IOMMU for DMA",
    );
  }
  return `${dev}/vfio/${group}`;
}

/** Container, group (viable), type1v2, device, DMA space; each step's undo is pushed on `teardown`. */
function openLegacy(
  bdf: string,
  paths: { container: string; group: string },
  teardown: (() => void)[],
): Opened {
  const container = VfioContainer.open(paths.container);
  teardown.push(() => container.close());
  if (!container.checkExtension(VFIO_TYPE1v2_IOMMU)) {
    throw new VfioError("unsupported", "Cannot use VFIO: the kernel has no type1v2 IOMMU support");
  }
  const group = VfioGroup.open(paths.group);
  teardown.push(() => group.close());
  if (!group.status().viable) {
    throw new VfioError(
      "group-not-viable",
      `Cannot use ${paths.group}: the group is not viable: another function in it is held by a host driver ` +
        `(\`cryptobridge bind ${bdf}\` names it)`,
    );
  }
  group.setContainer(container);
  container.setIommu(VFIO_TYPE1v2_IOMMU);
  const info = container.iommuInfo();
  const device = group.openDevice(bdf);
  teardown.push(() => device.close());
  const dma = new DmaSpace(container, new IovaAllocator(info.iovaRanges, info.minPageSize));
  teardown.push(() => dma.close());
  return { device, dma };
}

/** iommufd, IOAS, cdev bound and attached, DMA space in the IOAS's allowed ranges. */
function openIommufd(bdf: string, paths: { cdev: string; iommu: string }, teardown: (() => void)[]): Opened {
  const iommufd = Iommufd.open(paths.iommu);
  teardown.push(() => iommufd.close());
  const ioas = iommufd.allocIoas();
  teardown.push(() => iommufd.destroy(ioas));
  const device = VfioDevice.openCdev(paths.cdev, bdf);
  teardown.push(() => device.close());
  device.bindIommufd(iommufd.fd);
  device.attachIommufdPt(ioas);
  // Attaching narrows the allowed ranges to what this device's IOMMU can reach: ask afterwards.
  const { ranges, alignment } = iommufd.iovaRanges(ioas);
  const dma = new DmaSpace(
    new IoasMapper(iommufd, ioas),
    new IovaAllocator(ranges, Math.max(alignment, 4096)),
  );
  teardown.push(() => dma.close());
  return { device, dma };
}

/** Runs undo steps newest first; every step runs, the first error is thrown at the end. */
function runReversed(steps: (() => void)[]): void {
  let first: { error: unknown } | undefined;
  for (const step of steps.splice(0).reverse()) {
    try {
      step();
    } catch (e) {
      first ??= { error: e };
    }
  }
  if (first !== undefined) throw first.error;
}
