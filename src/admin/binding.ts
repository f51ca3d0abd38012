/**
 * Giving a PCI function to vfio-pci and back (`cryptobridge bind`, `unbind`), as library calls with typed results:
 * the same code the command line runs.
 *
 * @module
 */

import { Binder, type BindResult } from "../pci/mod.ts";
import { canonicalBdf, type HostOptions, requireRoot, stateOf, sysfsOf } from "./host.ts";

/** Options of `unbindFunction`. */
export interface UnbindOptions extends HostOptions {
  /** Plan only: change nothing, return the sysfs writes it would do (needs no root). Default false. */
  readonly dryRun?: boolean;
  /** Loads a kernel module (tests); default `modprobe`. */
  readonly loadModule?: (name: string) => void;
}

/** Options of `bindFunction`. */
export interface BindFunctionOptions extends UnbindOptions {
  /** The VFIO driver. Default `vfio-pci`. */
  readonly driver?: string;
  /** Allow the unsafe no-IOMMU mode on a machine without an IOMMU. Default false. */
  readonly noIommu?: boolean;
}

/** What a bind or unbind did (or, in a dry run, would do). */
export interface BindOutcome {
  /** The function. */
  readonly bdf: string;
  /** Its driver before. */
  readonly from: string | null;
  /** Its driver after (null: none; undefined: the kernel chooses). */
  readonly to: string | null | undefined;
  /** Whether anything was written. */
  readonly changed: boolean;
  /** A dry run with something to do. */
  readonly dryRun: boolean;
  /** The sysfs writes, one line each (those of the plan, done or not). */
  readonly steps: readonly string[];
  /** What the operator should know (a module that was loaded, a no-IOMMU taint). */
  readonly notes: readonly string[];
}

/**
 * Binds a function to vfio-pci (or `options.driver`), after checking its IOMMU group; rolls back on failure.
 *
 * @param bdf The function's address.
 * @param options Dry run, driver, no-IOMMU, sysfs, state file.
 * @returns What was done.
 * @throws AdminError `not-root`; PciError (`bad-address`, `not-found`, `group-not-viable`, `no-iommu`,
 *   `module-missing`, `bind-failed`).
 *
 * @example Bind, use, give back
 * ```ts ignore
 * import { bindFunction, unbindFunction } from "./mod.ts";
 * const bound = bindFunction("0000:3b:00.0");
 * try {
 *   // … serve it …
 * } finally {
 *   if (bound.changed) unbindFunction(bound.bdf);
 * }
 * ```
 */
export function bindFunction(bdf: string, options: BindFunctionOptions = {}): BindOutcome {
  const { binder, dryRun, canonical } = prepare("bind", bdf, options);
  const result = binder.bind(canonical, {
    dryRun,
    noIommu: options.noIommu === true,
    ...(options.driver === undefined ? {} : { driver: options.driver }),
  });
  return outcome(binder, result);
}

/**
 * Gives a function back to the driver it had before `bindFunction` (or lets the kernel choose).
 *
 * @param bdf The function's address.
 * @param options Dry run, sysfs, state file.
 * @returns What was done.
 * @throws AdminError `not-root`; PciError (`bad-address`, `not-found`, `unbind-failed`).
 */
export function unbindFunction(bdf: string, options: UnbindOptions = {}): BindOutcome {
  const { binder, dryRun, canonical } = prepare("unbind", bdf, options);
  return outcome(binder, binder.unbind(canonical, { dryRun }));
}

function prepare(
  action: string,
  bdf: string,
  options: UnbindOptions,
): { binder: Binder; dryRun: boolean; canonical: string } {
  const canonical = canonicalBdf(bdf);
  const sysfs = sysfsOf(options);
  const dryRun = options.dryRun === true;
  if (!dryRun) requireRoot(action, sysfs);
  const binder = new Binder({
    sysfs,
    state: stateOf(options),
    ...(options.loadModule === undefined ? {} : { loadModule: options.loadModule }),
  });
  return { binder, dryRun, canonical };
}

function outcome(binder: Binder, result: BindResult): BindOutcome {
  const steps = binder.describe(result.plan);
  return {
    bdf: result.bdf,
    from: result.from,
    to: result.to,
    changed: result.changed,
    dryRun: !result.changed && result.plan.steps.length > 0,
    steps,
    notes: result.plan.notes,
  };
}
