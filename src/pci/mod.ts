/**
 * PCI functions from sysfs: discovery, known accelerator names, IOMMU group checks, binding to vfio-pci with
 * rollback (driver_override), the state that remembers original drivers, and config-space parsing (capabilities,
 * MSI-X, virtio-pci vendor capabilities).
 *
 * Only the sysfs reads and writes touch the system, through `SysfsAccess` from `src/os/`; parsing is pure.
 *
 * @example Find the virtio-crypto functions and plan a bind without changing anything
 * ```ts ignore
 * import { Sysfs } from "../os/mod.ts";
 * import { Binder, FileBindState, listPciFunctions } from "./mod.ts";
 * const sysfs = new Sysfs();
 * const crypto = listPciFunctions(sysfs).filter((f) => f.name === "virtio-crypto");
 * const binder = new Binder({ sysfs, state: new FileBindState() });
 * const result = binder.bind(crypto[0]!.bdf, { dryRun: true });
 * console.log(binder.describe(result.plan).join("\n"));
 * ```
 *
 * @module
 */

export { normalizeBdf, parseBdf } from "./address.ts";
export { PciError, type PciErrorKind } from "./errors.ts";
export {
  isCryptoCapable,
  isGroupCompatibleDriver,
  isVfioDriver,
  type KnownDevice,
  knownDevice,
} from "./ids.ts";
export {
  type AcceleratorKind,
  acceleratorKind,
  isDrivable,
  KIND_LABELS,
  notDrivableReason,
  pfAdvice,
} from "./kind.ts";
export {
  currentDriver,
  functionPath,
  idString,
  linkName,
  listPciFunctions,
  PCI_DEVICES,
  type PciFunction,
  readPciFunction,
} from "./enumerate.ts";
export { checkIommuGroup, type GroupMember, type GroupReport, hasIommu } from "./iommu_group.ts";
export {
  type BindOptions,
  type BindPlan,
  type BindStep,
  describeStep,
  NOIOMMU_PARAMETER,
  planBind,
  planUnbind,
} from "./bind_plan.ts";
export { type BindRecord, type BindState, DEFAULT_STATE_FILE, FileBindState } from "./bind_state.ts";
export { Binder, type BinderOptions, type BindResult } from "./binder.ts";
export { loadModule } from "./modules.ts";
export {
  findMsix,
  type MsixCapability,
  parseCapabilities,
  parseHeader,
  PCI_STATUS_CAP_LIST,
  type PciCapability,
  PciCapId,
  PciCommand,
  PciConfig,
  type PciHeader,
} from "./config_space.ts";
export {
  parseVirtioCaps,
  virtioLayout,
  type VirtioPciCap,
  VirtioPciCapType,
  type VirtioPciLayout,
} from "./virtio_caps.ts";
