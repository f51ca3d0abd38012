/**
 * What a guest boot is asked and what it answers: the crypto device, `BootOptions`, and the finished run
 * (`GuestRun`) with the marker lines `/init` prints. `scripts/guest_lab.ts` re-exports them.
 *
 * @module
 */

import type { GuestImage } from "./image.ts";

/** The virtio-crypto device the guest gets. */
export type CryptoDevice =
  /** QEMU's software back-end (`cryptodev-backend-builtin`), the known-good reference. */
  | { readonly kind: "builtin" }
  /** A vhost-user back-end (such as cryptobridge) listening on `socket`; it must listen before the boot. */
  | { readonly kind: "vhost-user"; readonly socket: string }
  /** No crypto device. */
  | { readonly kind: "none" };

/** Options of `bootGuest`. */
export interface BootOptions {
  /**
   * Shell script run by the host's `/bin/sh` in `chroot` to the host root, in the host's working directory. It
   * sees `$DENO` (the host's Deno binary), `$GUEST_RESULTS` (`/run/results`, the writable share),
   * `DENO_DIR=/run/deno` and `HOME=/run` (both tmpfs). Its exit code becomes `GuestRun.exitCode`.
   */
  readonly command: string;
  /** The QEMU binary (or a wrapper such as scripts/newer_qemu.ts writes); default `qemu-system-x86_64` on PATH. */
  readonly qemu?: string;
  /** The image; default: `ensureGuestImage()`. */
  readonly image?: GuestImage;
  /** Default: `{ kind: "builtin" }`. */
  readonly crypto?: CryptoDevice;
  /** Files written to the results share before the boot: name → content (guest path `/run/results/<name>`). */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
  /** Extra environment variables for the command. */
  readonly env?: Readonly<Record<string, string>>;
  /** More QEMU arguments, appended last. */
  readonly extraArgs?: readonly string[];
  /** QEMU is killed after this long. Default 180 000 ms. */
  readonly timeoutMs?: number;
  /** Guest RAM. Default 512 MiB. */
  readonly memoryMiB?: number;
  /**
   * Tier 4 (VFIO in the guest): a virtual Intel IOMMU with interrupt remapping (`-device intel-iommu,intremap=on`,
   * placed before the crypto device so the device's DMA is translated by it), kernel `intel_iommu=on`, and a crypto
   * device with `iommu_platform=on` (without it QEMU's virtio device bypasses the IOMMU and reads guest-physical
   * addresses, so DMA through VFIO would hit the wrong pages). Default false.
   */
  readonly iommu?: boolean;
  /** More kernel command-line arguments, after `console=ttyS0 quiet panic=-1`. */
  readonly kernelArgs?: readonly string[];
  /** Use this host directory as the results share (kept afterwards). Default: a new temporary directory. */
  readonly resultsDir?: string;
  /** Keep the temporary results directory after `dispose()` or an error. Default: `GUEST_LAB_KEEP=1`. */
  readonly keepResults?: boolean;
  /** Receives console output as it arrives (for example to echo it while debugging). */
  readonly onConsole?: (text: string) => void;
}

/** A console line `GUEST-<NAME> [text]`. */
export interface GuestMarker {
  /** Such as `GUEST-EXIT`. */
  readonly name: string;
  /** The rest of the line, trimmed. */
  readonly text: string;
}

/** A finished boot. Dispose of it (`await using`) to delete the temporary results directory. */
export interface GuestRun extends AsyncDisposable {
  /** The command's exit code, from `GUEST-EXIT`. */
  readonly exitCode: number;
  /** Every marker line on the console, in order. */
  readonly markers: readonly GuestMarker[];
  /** The serial console (carriage returns removed) and QEMU's stderr. Also in `<resultsDir>/console.log`. */
  readonly log: string;
  /** The command's stdout and stderr (`<resultsDir>/output.txt`). */
  readonly output: string;
  /** Host path of the results share. */
  readonly resultsDir: string;
  /** Wall time from QEMU's start to its exit. */
  readonly durationMs: number;
  /** Deletes the results directory unless it is kept. Idempotent. */
  dispose(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 180_000;

/**
 * How long QEMU may run.
 *
 * @param options The boot's options.
 * @returns `options.timeoutMs`, or 180 000 ms.
 */
export function timeoutOf(options: BootOptions): number {
  return options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
}
