/**
 * `Binder`: executes bind and unbind plans against sysfs, remembers original drivers, and rolls a failed bind
 * back to the driver the function had (dpdk-devbind's `saved_driver` behaviour).
 *
 * All sysfs access goes through `SysfsAccess`, so the tests run it on a scripted fake kernel; module loading is
 * injectable for the same reason.
 *
 * @module
 */

import type { SysfsAccess } from "../os/mod.ts";
import {
  type BindOptions,
  type BindPlan,
  type BindStep,
  describeStep,
  planBind,
  planRollback,
  planUnbind,
} from "./bind_plan.ts";
import type { BindState } from "./bind_state.ts";
import { currentDriver } from "./enumerate.ts";
import { PciError, type PciErrorKind } from "./errors.ts";
import { loadModule as modprobe } from "./modules.ts";

/** What a bind or unbind did (or, in a dry run, would do). */
export interface BindResult {
  /** The function. */
  readonly bdf: string;
  /** Its driver before. */
  readonly from: string | null;
  /** Its driver after (in a dry run: the planned one; `undefined` when the kernel chooses). */
  readonly to: string | null | undefined;
  /** The plan that was (or would be) executed. */
  readonly plan: BindPlan;
  /** Whether anything was written. */
  readonly changed: boolean;
}

/** Options of `new Binder()`. */
export interface BinderOptions {
  /** sysfs: the real one, or a fake in tests. */
  readonly sysfs: SysfsAccess;
  /** Where original drivers are remembered. */
  readonly state: BindState;
  /** Loads a kernel module; default `modprobe`. */
  readonly loadModule?: (name: string) => void;
}

/** Binds PCI functions to VFIO and gives them back. */
export class Binder {
  readonly #sysfs: SysfsAccess;
  readonly #state: BindState;
  readonly #loadModule: (name: string) => void;

  /**
   * A binder working on `options.sysfs`.
   *
   * @param options sysfs, state and module loader.
   */
  constructor(options: BinderOptions) {
    this.#sysfs = options.sysfs;
    this.#state = options.state;
    this.#loadModule = options.loadModule ?? modprobe;
  }

  /**
   * Binds a function to a VFIO driver. Refuses before writing anything when VFIO could not use it (see
   * `planBind`); a failure after the first write puts the original driver back.
   *
   * @param bdf The function (canonical address).
   * @param options Driver, no-IOMMU permission, dry run.
   * @returns What was done.
   * @throws PciError (`bind-failed` says whether the rollback worked).
   */
  bind(bdf: string, options: BindOptions = {}): BindResult {
    const plan = planBind(this.#sysfs, bdf, options);
    if (options.dryRun === true || plan.steps.length === 0) return this.#result(plan, false);
    this.#run(plan.prepare, "module-missing");
    const { fn } = plan;
    if (this.#state.get(bdf) === undefined) {
      const at = new Date().toISOString();
      this.#state.set(bdf, { driver: fn.driver, override: fn.driverOverride, boundTo: plan.target!, at });
    }
    try {
      this.#run(plan.steps, "bind-failed");
    } catch (e) {
      throw this.#rollBack(plan, e);
    }
    return this.#result(plan, true);
  }

  /**
   * Gives a function back to the driver it had before `bind`, and forgets the record.
   *
   * @param bdf The function.
   * @param options `dryRun`.
   * @returns What was done.
   * @throws PciError `not-bound`, `unbind-failed`.
   */
  unbind(bdf: string, options: { readonly dryRun?: boolean } = {}): BindResult {
    const plan = planUnbind(this.#sysfs, bdf, this.#state.get(bdf));
    if (options.dryRun === true) return this.#result(plan, false);
    this.#run(plan.steps, "unbind-failed");
    this.#state.delete(bdf);
    return this.#result(plan, plan.steps.length > 0);
  }

  /**
   * The plan's steps as lines, for `--dry-run`.
   *
   * @param plan A plan from a dry-run result.
   * @returns One line per step, numbered.
   */
  describe(plan: BindPlan): string[] {
    return [...plan.prepare, ...plan.steps].map((s, i) => `${i + 1}. ${describeStep(s, this.#sysfs.root)}`);
  }

  #result(plan: BindPlan, changed: boolean): BindResult {
    const to = changed ? currentDriver(this.#sysfs, plan.fn.bdf) : plan.target;
    return { bdf: plan.fn.bdf, from: plan.fn.driver, to, plan, changed };
  }

  /** Runs steps in order. A tolerated write failure only counts if the next verify fails (dpdk-devbind). */
  #run(steps: readonly BindStep[], kind: PciErrorKind): void {
    let forgiven: unknown;
    for (const step of steps) {
      if (step.kind === "modprobe") this.#load(step.module);
      else if (step.kind === "verify") {
        this.#verify(step, kind, forgiven);
        forgiven = undefined;
      } else {
        try {
          this.#sysfs.write(step.path, step.value);
        } catch (e) {
          if (step.tolerate !== true) throw this.#writeFailed(step, kind, e);
          forgiven = e;
        }
      }
    }
  }

  /** modprobe, then check the driver registered: a module that loads but registers nothing is no better. */
  #load(module: string): void {
    this.#loadModule(module);
    if (!this.#sysfs.exists(`bus/pci/drivers/${module}`)) {
      throw new PciError(
        "module-missing",
        `Cannot use ${module}: the module loaded but ${this.#sysfs.root}/bus/pci/drivers/${module} does not exist`,
      );
    }
  }

  #verify(step: BindStep & { kind: "verify" }, kind: PciErrorKind, cause: unknown): void {
    const actual = currentDriver(this.#sysfs, step.bdf);
    if (actual === step.driver) return;
    const why = cause instanceof Error ? ` (${cause.message})` : "";
    throw new PciError(
      kind,
      `${step.bdf} is on ${actual ?? "no driver"} instead of ${step.driver ?? "no driver"}${why}`,
      { cause },
    );
  }

  /** Puts the function back on its original driver; the error says whether that worked. */
  #rollBack(plan: BindPlan, error: unknown): PciError {
    const { fn } = plan;
    const what = `Cannot bind ${fn.bdf} to ${plan.target}: ${(error as Error).message}`;
    try {
      this.#run(planRollback(this.#sysfs, fn), "bind-failed");
    } catch (again) {
      const now = currentDriver(this.#sysfs, fn.bdf) ?? "no driver";
      return new PciError(
        "bind-failed",
        `${what}; rolling back failed too: ${
          (again as Error).message
        }: it is on ${now}, run \`cryptobridge unbind ${fn.bdf}\``,
        { cause: error },
      );
    }
    this.#state.delete(fn.bdf);
    return new PciError("bind-failed", `${what}: rolled back, it is on ${fn.driver ?? "no driver"} again`, {
      cause: error,
    });
  }

  #writeFailed(step: BindStep & { kind: "write" }, kind: PciErrorKind, cause: unknown): PciError {
    const why = cause instanceof Error ? cause.message : String(cause);
    return new PciError(kind, `${describeStep(step, this.#sysfs.root)} failed: ${why}`, { cause });
  }
}
