/**
 * `cryptobridge selftest --device BDF`: the accelerator self-test (issue 11 item 6), printed as a table or JSON,
 * with an exit code scripts can test: 0 passed, 1 a mismatch or an error, 2 a usage error, 3 the device could
 * not be opened.
 *
 * @module
 */

import type { OpenAcceleratorOptions } from "../accel/open.ts";
import { VERSION } from "../daemon/version.ts";
import { SoftwareEngine } from "../engine/software/mod.ts";
import { Sysfs } from "../os/mod.ts";
import { normalizeBdf } from "../pci/mod.ts";
import { openForSelftest, runSelftest, type SelftestSubject } from "../selftest/mod.ts";
import { ErrnoError } from "../../ffi/errno.ts";
import { intOption, parseCommand } from "./args.ts";
import { UsageError } from "./errors.ts";
import { isMissingPermission } from "./permission_error.ts";
import { SYSFS_OPTION } from "./pci_args.ts";
import { formatSelftest } from "./selftest_format.ts";

/** Exit code when the device cannot be opened. */
export const EXIT_CANNOT_OPEN = 3;

/** `selftest --help`. */
export const SELFTEST_HELP = `cryptobridge selftest: known-answer vectors and speed on an accelerator itself

Usage: cryptobridge selftest --device BDF [--duration MS] [--depth N] [--json]

Opens the function with the driver its ids call for (virtio-crypto 1af4:1054, or a QAT gen4 VF 8086:4941,
4943, 4945) and, for each algorithm it advertises, runs the published known-answer vectors on the device
itself, never falling back to software: NIST SP 800-38A (AES-CBC, AES-CTR), the GCM specification's test cases
(AES-GCM, 96-bit IVs), FIPS 180-4 (SHA-2), RFC 4231 (HMAC-SHA-2) and the others the software engine is tested
with; AES-CBC + HMAC-SHA256 chained is checked against SP 800-38A F.2.1 and the software engine's HMAC of that
ciphertext. Then it measures the device's operations per second at 64 B and 4 KiB against the software engine
(OpenSSL), with completions polled.

Options:
  --device BDF     the function, on vfio-pci (\`cryptobridge bind BDF\` first; stop a serve that uses it)
  --duration MS    each speed measurement's length, 0-60000 (default 200); 0: the vectors only
  --depth N        requests in flight on the device during speed runs, 1-64 (default 16)
  --json           one JSON object, for scripts and for sending back
  --sysfs PATH     another sysfs tree (default /sys; for tests)
  -h, --help       show this help

RESULT: pass; MISMATCH (the device answered with other bytes, accepted a forged tag or refused a good one);
ERROR (it failed a request or did not answer); refused (advertised, but it refused the session: serve runs it
in software); skipped (not advertised, or no vector). RATIO is device / software ops/s: wall-clock figures on
a machine that may be busy, for the order of magnitude.
Exit codes: 0 no mismatch and no error, 1 a mismatch or an error, 2 a usage error, 3 the device could not be
opened. Needs root (it opens /dev/vfio), or a user the function's VFIO group is given to.`;

/** What tests inject: how the function is opened (device models instead of VFIO). */
export interface SelftestCommandOptions {
  readonly open?: OpenAcceleratorOptions;
}

/**
 * Runs `selftest`.
 *
 * @param args Arguments after `selftest`.
 * @param options How to open the function (tests).
 * @returns The exit code.
 */
export async function selftest(args: string[], options: SelftestCommandOptions = {}): Promise<number> {
  const { values, positionals } = parseCommand("selftest", args, {
    device: { type: "string" },
    duration: { type: "string" },
    depth: { type: "string" },
    json: { type: "boolean" },
    ...SYSFS_OPTION,
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(SELFTEST_HELP);
    return 0;
  }
  const bdf = deviceOf(values.device, positionals);
  const durationMs = intOption("--duration", values.duration, 200, 0, 60_000);
  const depth = intOption("--depth", values.depth, 16, 1, 64);
  const sysfs = typeof values.sysfs === "string" ? { sysfs: new Sysfs(values.sysfs) } : {};
  const subject = open(bdf, { ...sysfs, ...options.open });
  if (typeof subject === "number") return subject;
  const software = new SoftwareEngine();
  try {
    const report = await runSelftest(subject, software, { durationMs, depth }, { version: VERSION });
    console.log(values.json ? JSON.stringify(report, null, 2) : formatSelftest(report).join("\n"));
    return report.passed ? 0 : 1;
  } finally {
    subject.engine.close();
    software.close();
  }
}

function deviceOf(value: string | boolean | undefined, positionals: readonly string[]): string {
  const given = typeof value === "string" ? value : undefined;
  if (positionals.length > 0) {
    const hint = given === undefined && normalizeBdf(positionals[0]!) !== null
      ? `: did you mean \`cryptobridge selftest --device ${positionals[0]}\`?`
      : "";
    throw new UsageError(
      `selftest takes the function as --device BDF, not "${positionals.join(" ")}"${hint}`,
    );
  }
  if (given === undefined) {
    throw new UsageError(
      "selftest needs --device BDF: run `cryptobridge list` to see the crypto functions and their addresses",
    );
  }
  const bdf = normalizeBdf(given);
  if (bdf === null) {
    throw new UsageError(
      `"${given}" is not a PCI address (such as 0000:00:04.0): run \`cryptobridge list\` to see the crypto functions`,
    );
  }
  return bdf;
}

// The subject, or the exit code after saying why the function cannot be opened.
function open(bdf: string, options: OpenAcceleratorOptions): SelftestSubject | number {
  try {
    return openForSelftest(bdf, options);
  } catch (e) {
    if (isMissingPermission(e)) throw e; // main() names the flag
    const denied = e instanceof Deno.errors.PermissionDenied ||
      (e instanceof ErrnoError && (e.code === "EACCES" || e.code === "EPERM"));
    const advice = denied ? ": run it as root, or as a user the function's VFIO group is given to" : "";
    console.error(`cryptobridge: selftest cannot open ${bdf}: ${(e as Error).message}${advice}`);
    return EXIT_CANNOT_OPEN;
  }
}
