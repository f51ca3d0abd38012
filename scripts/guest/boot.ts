/**
 * Boots the guest in QEMU (TCG, q35, shareable memfd RAM), runs one shell command in it and collects the serial
 * console, the markers `/init` prints and the files the command wrote to the results share.
 *
 * @module
 */

import { type BootOptions, type GuestRun, timeoutOf } from "./boot_options.ts";
import { ensureGuestImage } from "./image.ts";
import { checkCryptoDevice, qemuArgs } from "./qemu_args.ts";
import { runQemu } from "./qemu_run.ts";
import { prepareResults, readOptional } from "./results_share.ts";
import { checkOutcome, parseMarkers } from "./run_outcome.ts";
import { requireTool } from "./tools.ts";

/**
 * Boots the guest, runs `options.command` in it and waits for it to power off. QEMU is killed on timeout and on
 * any error; if this process dies, `setpriv --pdeathsig` kills it too.
 *
 * @example
 * ```ts ignore
 * await using run = await bootGuest({ command: "cat /proc/crypto", crypto: { kind: "builtin" } });
 * console.log(run.exitCode, run.output);
 * ```
 *
 * @param options The command, crypto device, files for the results share, limits.
 * @returns The exit code, markers, console log and results directory.
 * @throws {GuestLabError} `timeout`, `qemu` (QEMU failed to start or died) or `no-exit-marker` (the guest
 *   ended without `GUEST-EXIT`, for example on `GUEST-ERROR` or a panic); the error's `log` holds the console.
 */
export async function bootGuest(options: BootOptions): Promise<GuestRun> {
  const image = options.image ?? await ensureGuestImage();
  const qemu = options.qemu ?? requireTool("qemu-system-x86_64");
  checkCryptoDevice(options.crypto ?? { kind: "builtin" });
  const owned = options.resultsDir === undefined;
  const resultsDir = options.resultsDir ?? await Deno.makeTempDir({ prefix: "guest-lab-" });
  const keep = !owned || (options.keepResults ?? Deno.env.get("GUEST_LAB_KEEP") === "1");
  const dispose = async (): Promise<void> => {
    if (!keep) await Deno.remove(resultsDir, { recursive: true }).catch(() => {});
  };
  try {
    await prepareResults(resultsDir, options);
    const args = qemuArgs(options, image, resultsDir);
    const started = performance.now();
    const run = await runQemu([qemu, ...args], resultsDir, options);
    const durationMs = Math.round(performance.now() - started);
    const markers = parseMarkers(run.log);
    const exitCode = checkOutcome(run, markers, {
      resultsDir,
      keep,
      durationMs,
      timeoutMs: timeoutOf(options),
    });
    const output = readOptional(`${resultsDir}/output.txt`);
    return {
      exitCode,
      markers,
      log: run.log,
      output,
      resultsDir,
      durationMs,
      dispose,
      [Symbol.asyncDispose]: dispose,
    };
  } catch (e) {
    await dispose();
    throw e;
  }
}
