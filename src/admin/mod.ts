/**
 * Host administration as a library: list the crypto accelerators, bind one to vfio-pci and give it back, and
 * report what VFIO shows of it. `cryptobridge list`, `bind`, `unbind` and `info` are thin printers over these calls,
 * and scripts can use them directly (typed results, typed errors: `AdminError`, `PciError`, `VfioError`).
 *
 * @example Bind a function, serve it, give it back (also after an error)
 * ```ts ignore
 * import { bindFunction, unbindFunction } from "./mod.ts";
 * const bound = bindFunction("0000:00:04.0");
 * try {
 *   // … runDaemon({ device: bound.bdf, … }) …
 * } finally {
 *   if (bound.changed) unbindFunction(bound.bdf);
 * }
 * ```
 *
 * @module
 */

export { AdminError, type AdminErrorKind } from "./errors.ts";
export { canonicalBdf, type HostOptions } from "./host.ts";
export { type ListEntry, listEntry, listFunctions, type ListOptions } from "./list.ts";
export {
  bindFunction,
  type BindFunctionOptions,
  type BindOutcome,
  unbindFunction,
  type UnbindOptions,
} from "./binding.ts";
export {
  deviceInfo,
  featureNames,
  type InfoReport,
  type IrqReport,
  type RegionReport,
  type VirtioReport,
} from "./info.ts";
