/**
 * Runs inside the tier-4 guest (booted by `vfio_test.ts`): the whole VFIO path on QEMU's emulated
 * virtio-crypto-pci behind a virtual Intel IOMMU, as root, with the host's Deno.
 *
 * 1. `cryptobridge list --json` finds 1af4:1054 (then `list` prints the table).
 * 2. `cryptobridge bind <bdf>` moves it from virtio-pci to vfio-pci.
 * 3. `cryptobridge info <bdf>` (and `--json`) shows its BARs and virtio capabilities.
 * 4. A VFIO session in this process: container, group, device; a DMA buffer mapped and unmapped; the BAR with the
 *    common configuration mapped and `device_feature` read (VERSION_1 must be set); MSI-X with two eventfds; a
 *    minimal virtio driver (reset, ACKNOWLEDGE | DRIVER, features, FEATURES_OK, the control queue in DMA memory
 *    with MSI-X vector 1, DRIVER_OK) submits one CIPHER_CREATE_SESSION for AES-128-CBC, kicks, waits on the
 *    vector's eventfd in the reactor, and reads the answer from the used ring.
 * 5. `cryptobridge unbind <bdf>` gives it back to virtio-pci.
 *
 * Each step's outcome goes to the JSON file named by the first argument; the host asserts on it. Steps after a
 * failed one are skipped, except unbind, which always runs once bind worked, so the guest ends as it began.
 *
 * Usage (in the guest): deno run --no-check --no-lock --cached-only -A tests/guest/_vfio_guest.ts RESULT.json
 *
 * @module
 */

import { Sysfs } from "../../src/os/mod.ts";
import { runVirtioSession } from "./_vfio_session.ts";

/** One step's outcome. */
export interface GuestStep {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number;
  /** The CLI's stdout (and stderr) for CLI steps. */
  readonly output?: string;
  readonly error?: string;
  readonly details?: Record<string, unknown>;
}

/** The result file. */
export interface VfioGuestResult {
  readonly version: 1;
  readonly bdf: string | null;
  readonly steps: GuestStep[];
}

const MOD = new URL("../../mod.ts", import.meta.url).pathname;
const CLI_FLAGS = ["run", "--no-check", "--no-lock", "--cached-only", "-A", MOD];

/** Runs the real CLI in its own process, as a user would. */
async function cli(args: string[]): Promise<{ code: number; output: string; stdout: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...CLI_FLAGS, ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  return { code: out.code, output: stdout + stderr, stdout };
}

async function step(
  result: VfioGuestResult,
  name: string,
  body: () => Promise<{ output?: string; details?: Record<string, unknown> }>,
): Promise<boolean> {
  const t0 = performance.now();
  try {
    const r = await body();
    result.steps.push({ name, ok: true, ms: Math.round(performance.now() - t0), ...r });
    console.log(`GUEST-STEP ${name} ok`);
    return true;
  } catch (e) {
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    result.steps.push({ name, ok: false, ms: Math.round(performance.now() - t0), error });
    console.log(`GUEST-STEP ${name} failed: ${error}`);
    return false;
  }
}

async function cliStep(args: string[]): Promise<{ output: string; stdout: string }> {
  const r = await cli(args);
  console.log(`$ cryptobridge ${args.join(" ")}\n${r.output}`);
  if (r.code !== 0) {
    throw new Error(`cryptobridge ${args.join(" ")} exited with ${r.code}: ${r.output.trim()}`);
  }
  return r;
}

function driverOf(bdf: string): string | null {
  return new Sysfs().readlink(`bus/pci/devices/${bdf}/driver`)?.split("/").pop() ?? null;
}

/** list --json must show 1af4:1054; returns its address. */
async function listStep(
  found: (bdf: string) => void,
): Promise<{ output: string; details: Record<string, unknown> }> {
  const json = JSON.parse((await cliStep(["list", "--json"])).stdout) as {
    bdf: string;
    vendor: string;
    device: string;
  }[];
  const fn = json.find((f) => f.vendor === "1af4" && f.device === "1054");
  if (fn === undefined) throw new Error("list --json has no 1af4:1054");
  found(fn.bdf);
  return {
    output: (await cliStep(["list"])).output,
    details: { list: json, driverBefore: driverOf(fn.bdf) },
  };
}

async function bindStep(bdf: string): Promise<{ output: string; details: Record<string, unknown> }> {
  const r = await cliStep(["bind", bdf]);
  const devVfio = [...Deno.readDirSync("/dev/vfio")].map((e) => e.name).sort();
  return { output: r.output, details: { driverAfter: driverOf(bdf), devVfio } };
}

async function infoStep(bdf: string): Promise<{ output: string; details: Record<string, unknown> }> {
  const text = await cliStep(["info", bdf]);
  return {
    output: text.output,
    details: { info: JSON.parse((await cliStep(["info", bdf, "--json"])).stdout) },
  };
}

async function unbindStep(bdf: string): Promise<{ output: string; details: Record<string, unknown> }> {
  const r = await cliStep(["unbind", bdf]);
  return { output: r.output, details: { driverAfter: driverOf(bdf) } };
}

async function main(resultPath: string): Promise<number> {
  const result: VfioGuestResult = { version: 1, bdf: null, steps: [] };
  let bdf = "";
  const listed = await step(result, "list", () => listStep((found) => bdf = found));
  const bound = listed && await step(result, "bind", () => bindStep(bdf));
  const shown = bound && await step(result, "info", () => infoStep(bdf));
  if (shown) {
    await step(result, "vfio-session", async () => ({ details: { ...(await runVirtioSession(bdf)) } }));
  }
  // Once bound, always give the device back, so the guest ends as it began.
  if (bound) await step(result, "unbind", () => unbindStep(bdf));
  Deno.writeTextFileSync(resultPath, JSON.stringify({ ...result, bdf }, null, 2));
  return result.steps.every((s) => s.ok) ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args[0] ?? "/run/results/vfio.json"));
