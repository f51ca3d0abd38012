/**
 * Choosing and building the engines (design.md decision 5): software only, or a virtio-crypto accelerator behind
 * a `RouterEngine` with the software engine for everything the accelerator does not do.
 *
 * - `software`: the OpenSSL engine alone; a device, if named, is ignored (and said so).
 * - `auto` (default): with a device, the accelerator and software behind the router; when the accelerator
 *   cannot be brought up, the error is logged and the daemon serves in software. Without a device: software.
 * - `accel`: like `auto` with a device, but failing to bring the accelerator up is fatal; a device is required.
 *
 * Bringing the accelerator up: bind the function to vfio-pci when it is not (the `cryptobridge bind` checks:
 * IOMMU group, modules, rollback), open it through VFIO, start it with MSI-X into the daemon's reactor.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type AcceleratorEngine, drivableKind, openAccelerator as openByKind } from "../accel/open.ts";
import { openQatVfioPort, QatHost, type QatPort } from "../accel/qat/mod.ts";
import { openVfioPort, VirtioPciHost, type VirtioPciPort } from "../accel/virtio_pci/mod.ts";
import type { Capabilities, CryptoEngine } from "../engine/engine.ts";
import { RouterEngine } from "../engine/router.ts";
import { SoftwareEngine } from "../engine/software/mod.ts";
import { type Reactor, Sysfs } from "../os/mod.ts";
import { Binder, FileBindState, normalizeBdf } from "../pci/mod.ts";

const log = getLogger(["cryptobridge", "daemon"]);

/** Which engines serve (`serve --engine`). */
export type EngineChoice = "auto" | "software" | "accel";

/** The choices, for usage messages. */
export const ENGINE_CHOICES: readonly EngineChoice[] = ["auto", "software", "accel"];

/** What `setUpEngines` needs. */
export interface EngineSetupOptions {
  /** The choice. */
  readonly choice: EngineChoice;
  /** The accelerator's PCI address, if any. */
  readonly device?: string;
  /** The daemon's reactor (MSI-X eventfds join it). */
  readonly reactor: Reactor;
  /** Opens the accelerator (tests pass a device model); default: bind when needed, then VFIO. */
  readonly openPort?: (bdf: string) => VirtioPciPort;
  /** Opens a QAT gen4 VF (tests pass the model); default: bind when needed, then VFIO. */
  readonly openQatPort?: (bdf: string) => QatPort;
  /** Poll the accelerator's used ring instead of waiting for MSI-X (`serve --poll`: a busy core, less latency). */
  readonly poll?: boolean;
}

/** The engines of a daemon. */
export interface Engines {
  /** What the device submits to: the router, or the software engine alone. */
  readonly engine: CryptoEngine;
  /** The router, when an accelerator is in use. */
  readonly router: RouterEngine | null;
  /** The accelerator (virtio-pci or QAT), when it came up. */
  readonly accel: AcceleratorEngine | null;
}

/** A configuration that cannot work (`accel` without a device, a malformed address). */
export class EngineSetupError extends Error {
  /** Always `"EngineSetupError"`. */
  override name = "EngineSetupError";
}

/**
 * Builds the engines for a choice.
 *
 * @param options Choice, device, reactor.
 * @returns The engines.
 * @throws EngineSetupError for `accel` without a device or a malformed address; with `accel`, whatever kept the
 *   accelerator from coming up (PciError, VfioError, VirtioPciError).
 */
export function setUpEngines(options: EngineSetupOptions): Engines {
  const { choice, device } = options;
  if (choice === "accel" && device === undefined) {
    throw new EngineSetupError("Cannot use --engine accel without a device: give --device BDF");
  }
  const software = new SoftwareEngine();
  if (choice === "software" || device === undefined) {
    if (device !== undefined) log.warn("--engine software: device {device} is not used", { device });
    return { engine: software, router: null, accel: null };
  }
  let accel: AcceleratorEngine | null = null;
  try {
    accel = openAccelerator(device, options);
  } catch (e) {
    if (choice === "accel") {
      software.close();
      throw e;
    }
    log.error("accelerator {device} is not available ({error}): serving in software", {
      device,
      error: (e as Error).message,
    });
  }
  const router = new RouterEngine(accel, software);
  return { engine: router, router, accel };
}

// The driver by vendor and device id (src/accel/open.ts); a model port in tests stands for its kind.
function openAccelerator(device: string, options: EngineSetupOptions): AcceleratorEngine {
  const bdf = options.openPort === undefined && options.openQatPort === undefined
    ? canonical(device)
    : device;
  const { engine } = openByKind(bdf, {
    reactor: options.reactor,
    poll: options.poll === true,
    ports: {
      virtio: (b) => options.openPort?.(b) ?? openVfioPort(bindForVfio(b)),
      qat: (b) => options.openQatPort?.(b) ?? openQatVfioPort(bindForVfio(b)),
    },
    ...(modelKind(options) === undefined ? {} : { kind: modelKind(options)! }),
  });
  logReady(engine.name, engine.capabilities(), engine.stats().refused);
  return engine;
}

function modelKind(
  options: Pick<EngineSetupOptions, "openPort" | "openQatPort">,
): "virtio-crypto" | "qat-gen4-vf" | undefined {
  if (options.openQatPort !== undefined) return "qat-gen4-vf";
  return options.openPort === undefined ? undefined : "virtio-crypto";
}

/** The accelerator's port: the test model, or the function bound to vfio-pci and opened through VFIO. */
function openPort(device: string, options: Pick<EngineSetupOptions, "openPort">): VirtioPciPort {
  const bdf = options.openPort === undefined ? canonical(device) : device;
  return options.openPort?.(bdf) ?? openVfioPort(bindForVfio(bdf));
}

function logReady(name: string, caps: Capabilities, refused: readonly string[]): void {
  const claims = [
    ...caps.cipher.values(),
    ...caps.hash.values(),
    ...caps.mac.values(),
    ...caps.aead.values(),
  ];
  log.info("accelerator {name} ready, serving {claims}; refused when probed: {refused}", {
    name,
    claims: claims.map((c) => c.name).join(", ") || "nothing",
    refused: refused.join(", ") || "nothing",
  });
}

/** What `openSharedAccelerator` needs. */
export interface SharedAcceleratorOptions {
  /** The choice (`software` opens nothing). */
  readonly choice: EngineChoice;
  /** The accelerator's PCI address, if any. */
  readonly device?: string;
  /** The main thread's reactor (the configuration interrupt joins it). */
  readonly reactor: Reactor;
  /** Opens the accelerator instead of binding and VFIO (tests pass a device model). */
  readonly openPort?: (bdf: string) => VirtioPciPort;
  /** Opens a QAT gen4 VF instead of binding and VFIO (tests pass the model). */
  readonly openQatPort?: (bdf: string) => QatPort;
  /** The VMs' threads poll completions instead of taking MSI-X. */
  readonly poll?: boolean;
  /** VMs to serve (past the device's data queues, the last queue is shared). */
  readonly expectedVms?: number;
}

/**
 * The accelerator every VM's thread shares (design.md decision 2): its host on the main thread (a virtio-crypto
 * function's `VirtioPciHost`, or a QAT gen4 VF's `QatHost`, a ring pair per VM), or null to serve in software (no
 * device, `--engine software`, or `auto` with a device that cannot start: logged).
 *
 * @param options Choice, device, reactor.
 * @returns The host, or null.
 * @throws EngineSetupError for `accel` without a device; with `accel`, what kept the device from starting.
 */
export function openSharedAccelerator(options: SharedAcceleratorOptions): VirtioPciHost | QatHost | null {
  const { choice, device } = options;
  if (choice === "accel" && device === undefined) {
    throw new EngineSetupError("Cannot use --engine accel without a device: give --device BDF");
  }
  if (choice === "software" || device === undefined) {
    if (device !== undefined) log.warn("--engine software: device {device} is not used", { device });
    return null;
  }
  try {
    const host = openHost(device, options);
    logReady(host.name, host.capabilities(), host.stats().refused);
    return host;
  } catch (e) {
    if (choice === "accel") throw e;
    log.error("accelerator {device} is not available ({error}): serving in software", {
      device,
      error: (e as Error).message,
    });
    return null;
  }
}

// The host by vendor and device id (anything else, a QAT PF or an unknown id, is refused with what to do); a
// model port in tests stands for its kind.
function openHost(device: string, options: SharedAcceleratorOptions): VirtioPciHost | QatHost {
  const kind = modelKind(options) ?? drivableKind(canonical(device));
  if (kind === "qat-gen4-vf") {
    const bdf = options.openQatPort === undefined ? canonical(device) : device;
    const port = options.openQatPort?.(bdf) ?? openQatVfioPort(bindForVfio(bdf));
    return QatHost.open(port, { poll: options.poll === true });
  }
  return VirtioPciHost.open(openPort(device, options), {
    reactor: options.reactor,
    completions: options.poll === true ? "poll" : "interrupt",
    ...(options.expectedVms === undefined ? {} : { expectedVms: options.expectedVms }),
  });
}

function canonical(device: string): string {
  const bdf = normalizeBdf(device);
  if (bdf === null) {
    throw new EngineSetupError(
      `"${device}" is not a PCI address (such as 0000:00:04.0): run \`cryptobridge list\` to see the accelerators`,
    );
  }
  return bdf;
}

/** Binds the function to vfio-pci unless it is on a VFIO driver already; returns its address. */
function bindForVfio(bdf: string): string {
  const binder = new Binder({ sysfs: new Sysfs(), state: new FileBindState() });
  const result = binder.bind(bdf);
  if (result.changed) {
    log.info("{bdf}: {from} -> {to}", { bdf, from: result.from ?? "no driver", to: result.to });
  }
  return bdf;
}
