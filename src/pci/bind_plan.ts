/**
 * Bind and unbind plans: every check that can refuse runs here, before anything is written, and the result is the
 * exact list of sysfs writes (what `--dry-run` prints and what `Binder` then executes).
 *
 * The bind sequence is the driver_override one (vfio-ffi.md §2.1; dpdk-devbind prefers it to `new_id`, which binds
 * every matching device): set `driver_override`, unbind the current driver, write the address to `drivers_probe`
 * (which honours the override), check the `driver` link, clear the override.
 *
 * @module
 */

import type { SysfsAccess } from "../os/mod.ts";
import type { BindRecord } from "./bind_state.ts";
import { currentDriver, functionPath, type PciFunction, readPciFunction } from "./enumerate.ts";
import { acceleratorKind, pfAdvice } from "./kind.ts";
import { PciError } from "./errors.ts";
import { isVfioDriver } from "./ids.ts";
import { checkIommuGroup, groupNotViable, hasIommu } from "./iommu_group.ts";

/** One action of a plan. Paths are relative to the sysfs root. */
export type BindStep =
  /** Load a kernel module (before any write). */
  | { readonly kind: "modprobe"; readonly module: string }
  /** One write(2) to a sysfs file; `tolerate`: a failure is forgiven if the next `verify` passes (dpdk-devbind). */
  | {
    readonly kind: "write";
    readonly path: string;
    readonly value: string;
    readonly why: string;
    readonly tolerate?: boolean;
  }
  /** Check the function's `driver` link: `driver` is the expected name, `null` for unbound. */
  | { readonly kind: "verify"; readonly bdf: string; readonly driver: string | null };

/** What a bind or unbind will do. */
export interface BindPlan {
  /** The function as it is now. */
  readonly fn: PciFunction;
  /** The driver it will be on (`null`: unbound; `undefined`: the kernel's choice, unknown in advance). */
  readonly target: string | null | undefined;
  /** Steps that change nothing about the function (module load, no-IOMMU mode); never rolled back. */
  readonly prepare: readonly BindStep[];
  /** The function's own writes and checks; empty when it is already where it should be. */
  readonly steps: readonly BindStep[];
  /** Warnings for the user (no-IOMMU mode, no record of the original driver). */
  readonly notes: readonly string[];
}

/** Options of a bind. */
export interface BindOptions {
  /** The VFIO driver to bind; default `vfio-pci`. */
  readonly driver?: string;
  /** Allow unsafe no-IOMMU mode on a machine without an IOMMU. */
  readonly noIommu?: boolean;
  /** Print the plan, change nothing. */
  readonly dryRun?: boolean;
}

/** The no-IOMMU module parameter (vfio-ffi.md §1.8). */
export const NOIOMMU_PARAMETER = "module/vfio/parameters/enable_unsafe_noiommu_mode";
const CLEAR = "\n"; // what `echo > driver_override` writes; the kernel then clears the override

function write(path: string, value: string, why: string, tolerate = false): BindStep {
  return tolerate ? { kind: "write", path, value, why, tolerate } : { kind: "write", path, value, why };
}

/**
 * Plans binding a function to a VFIO driver, refusing what VFIO could not use.
 *
 * @param sysfs The sysfs to read (nothing is written).
 * @param bdf The function (canonical address).
 * @param options Driver and no-IOMMU permission.
 * @returns The plan.
 * @throws PciError `not-found`, `no-iommu`, `no-iommu-group`, `group-not-viable`, `bind-failed` (not a VFIO driver).
 */
export function planBind(sysfs: SysfsAccess, bdf: string, options: BindOptions = {}): BindPlan {
  const target = options.driver ?? "vfio-pci";
  if (!isVfioDriver(target)) {
    throw new PciError(
      "bind-failed",
      `Cannot bind ${bdf} to ${target}: only VFIO drivers (vfio-pci, *_vfio_pci)`,
    );
  }
  const fn = readPciFunction(sysfs, bdf);
  if (acceleratorKind(fn.vendor, fn.device) === "qat-gen4-pf") {
    // The PF must stay with qat_4xxx: it loads the firmware and answers every VF's mailbox.
    throw new PciError("physical-function", `Cannot bind ${bdf}: ${pfAdvice(bdf)}`);
  }
  if (fn.driver === target) {
    return { fn, target, prepare: [], steps: [], notes: [`${bdf} is on ${target} already`] };
  }
  const { prepare, notes } = prepareSteps(sysfs, fn, target, options.noIommu === true);
  const override = functionPath(bdf, "driver_override");
  const steps: BindStep[] = [write(override, target, `only ${target} may bind ${bdf} from now on`)];
  if (fn.driver !== null) steps.push(write(functionPath(bdf, "driver/unbind"), bdf, `unbind ${fn.driver}`));
  steps.push(
    write("bus/pci/drivers_probe", bdf, `probe ${bdf}: ${target} binds it`, true),
    { kind: "verify", bdf, driver: target },
    write(override, CLEAR, "clear the override: the kernel chooses the driver again at the next probe"),
  );
  return { fn, target, prepare, steps, notes };
}

/** The IOMMU and module checks of a bind, and the steps they need. */
function prepareSteps(
  sysfs: SysfsAccess,
  fn: PciFunction,
  target: string,
  noIommu: boolean,
): { prepare: BindStep[]; notes: string[] } {
  const prepare: BindStep[] = [];
  const notes: string[] = [];
  const iommu = hasIommu(sysfs);
  if (iommu) checkGroup(sysfs, fn);
  else if (!noIommu) {
    throw new PciError(
      "no-iommu",
      `Cannot bind ${fn.bdf}: this machine has no IOMMU (${sysfs.root}/class/iommu is empty): enable it ` +
        "(intel_iommu=on or amd_iommu=on), or pass --noiommu for unsafe no-IOMMU mode, where the device can " +
        "write anywhere in memory and the kernel is tainted",
    );
  }
  const module = target.replaceAll("-", "_");
  if (!sysfs.exists(`module/${module}`) && !sysfs.exists(`bus/pci/drivers/${target}`)) {
    prepare.push({ kind: "modprobe", module: target });
  }
  if (!iommu && sysfs.readText(NOIOMMU_PARAMETER) !== "Y") {
    prepare.push(write(NOIOMMU_PARAMETER, "1", "enable unsafe no-IOMMU mode, as --noiommu asks"));
  }
  if (!iommu) {
    notes.push("Warning: unsafe no-IOMMU mode: no DMA isolation for this device; the kernel is tainted");
  }
  return { prepare, notes };
}

function checkGroup(sysfs: SysfsAccess, fn: PciFunction): void {
  if (fn.iommuGroup === null) {
    throw new PciError(
      "no-iommu-group",
      `Cannot bind ${fn.bdf}: it has no IOMMU group although the machine has an IOMMU: check dmesg for IOMMU errors`,
    );
  }
  const report = checkIommuGroup(sysfs, fn.bdf, fn.iommuGroup);
  if (report.offenders.length > 0) throw groupNotViable(fn.bdf, report);
}

/**
 * Plans giving a function back to the driver it had before `bind` (from the state file). Without a record, the
 * override is cleared and the kernel chooses; a function that had no driver is left unbound.
 *
 * @param sysfs The sysfs to read.
 * @param bdf The function.
 * @param record Its bind record, if any.
 * @returns The plan (no steps when it is already back).
 * @throws PciError `not-found`; `not-bound` when it is not on a VFIO driver.
 */
export function planUnbind(sysfs: SysfsAccess, bdf: string, record: BindRecord | undefined): BindPlan {
  const fn = readPciFunction(sysfs, bdf);
  if (fn.driver === null || !isVfioDriver(fn.driver)) {
    if (record !== undefined && fn.driver === record.driver) {
      return { fn, target: fn.driver, prepare: [], steps: [], notes: [`${bdf} is on ${fn.driver} already`] };
    }
    throw new PciError(
      "not-bound",
      `${bdf} is not on a VFIO driver (it is on ${fn.driver ?? "no driver"}): there is nothing to give back`,
    );
  }
  const override = functionPath(bdf, "driver_override");
  const restoreOverride = write(override, record?.override ?? CLEAR, "restore the previous driver_override");
  const steps: BindStep[] = [write(functionPath(bdf, "driver/unbind"), bdf, `unbind ${fn.driver}`)];
  if (record === undefined) {
    steps.push(
      write(override, CLEAR, "clear the override"),
      write("bus/pci/drivers_probe", bdf, "probe: the kernel chooses"),
    );
    const note = `No record of ${bdf}'s original driver (state file): the kernel chooses one`;
    return { fn, target: undefined, prepare: [], steps, notes: [note] };
  }
  if (record.driver === null) {
    steps.push(restoreOverride, { kind: "verify", bdf, driver: null });
    return {
      fn,
      target: null,
      prepare: [],
      steps,
      notes: [`${bdf} had no driver before bind: it stays unbound`],
    };
  }
  steps.push(
    write(override, record.driver, `only ${record.driver} may bind ${bdf}`),
    write("bus/pci/drivers_probe", bdf, `probe ${bdf}: ${record.driver} binds it`, true),
    { kind: "verify", bdf, driver: record.driver },
    restoreOverride,
  );
  return { fn, target: record.driver, prepare: [], steps, notes: [] };
}

/**
 * Plans putting a function back as `fn` describes it (its state before a bind that failed half-way).
 *
 * @param sysfs The sysfs to read.
 * @param fn The function as it was before the bind.
 * @returns The steps: unbind whatever holds it now, probe with the original driver as override, verify, restore
 *   the original override.
 */
export function planRollback(sysfs: SysfsAccess, fn: PciFunction): BindStep[] {
  const { bdf } = fn;
  const now = currentDriver(sysfs, bdf);
  const override = functionPath(bdf, "driver_override");
  const steps: BindStep[] = [];
  if (now !== null && now !== fn.driver) {
    steps.push(write(functionPath(bdf, "driver/unbind"), bdf, `unbind ${now}`));
  }
  if (fn.driver !== null && now !== fn.driver) {
    steps.push(
      write(override, fn.driver, `only ${fn.driver} may bind ${bdf}`),
      write("bus/pci/drivers_probe", bdf, `probe ${bdf}: ${fn.driver} binds it`, true),
      { kind: "verify", bdf, driver: fn.driver },
    );
  }
  steps.push(write(override, fn.driverOverride ?? CLEAR, "restore the previous driver_override"));
  return steps;
}

/**
 * One line describing a step, for `--dry-run` and error messages.
 *
 * @param step The step.
 * @param root The sysfs root, to print full paths.
 * @returns Such as `write "vfio-pci" to /sys/bus/pci/devices/0000:00:04.0/driver_override (only …)`.
 */
export function describeStep(step: BindStep, root: string): string {
  switch (step.kind) {
    case "modprobe":
      return `run modprobe ${step.module} (the module is not loaded)`;
    case "write":
      return `write ${JSON.stringify(step.value)} to ${root}/${step.path} (${step.why})`;
    case "verify":
      return `check that the driver is ${step.driver ?? "none"}`;
  }
}
