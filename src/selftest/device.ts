/**
 * The self-test of a PCI function, whole: open it with the driver its ids call for (`src/accel/open.ts`, polling
 * completions: no reactor), run the self-test, close it. The CLI opens and runs in two steps, so that a device
 * that cannot be opened gets an exit code of its own.
 *
 * @module
 */

import { openAccelerator, type OpenAcceleratorOptions } from "../accel/open.ts";
import { SoftwareEngine } from "../engine/software/mod.ts";
import type { SelftestReport } from "./report.ts";
import { runSelftest, type SelftestOptions, type SelftestSubject } from "./selftest.ts";

/**
 * Opens the accelerator for a self-test. Nothing is bound: a function not on vfio-pci is refused with the
 * `cryptobridge bind` to run first.
 *
 * @param bdf The function (canonical address).
 * @param open sysfs, ports (device models in tests), kind.
 * @returns The subject; close its engine when done.
 * @throws AcceleratorKindError (a QAT PF, an unknown id), PciError `not-found`, VfioError (not on vfio-pci, no
 *   IOMMU group access), VirtioPciError, QatError (the device does not start).
 */
export function openForSelftest(bdf: string, open: OpenAcceleratorOptions = {}): SelftestSubject {
  const { kind, engine } = openAccelerator(bdf, { ...open, poll: true });
  return { device: bdf, kind, engine };
}

/** Options of `selftestDevice`. */
export interface SelftestDeviceOptions extends SelftestOptions {
  /** How the function is opened (sysfs, device models). */
  readonly open?: OpenAcceleratorOptions;
  /** The version the report names. */
  readonly version?: string;
}

/**
 * Opens a function, self-tests it and closes it (the library form of `cryptobridge selftest`).
 *
 * @param bdf The function.
 * @param options Duration, depth, how to open it.
 * @returns The report: `passed` is false on any mismatch or error.
 * @throws What `openForSelftest` throws.
 *
 * @example
 * ```ts ignore
 * import { selftest } from "./mod.ts";
 * const report = await selftest("0000:6b:00.1", { durationMs: 100 });
 * for (const a of report.algorithms) console.log(a.name, a.result, a.speed[0]?.ratio);
 * ```
 */
export async function selftestDevice(
  bdf: string,
  options: SelftestDeviceOptions = {},
): Promise<SelftestReport> {
  const subject = openForSelftest(bdf, options.open);
  const software = new SoftwareEngine();
  try {
    return await runSelftest(subject, software, options, { version: options.version ?? "unknown" });
  } finally {
    subject.engine.close();
    software.close();
  }
}
