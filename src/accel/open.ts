/**
 * The accelerator factory: which driver a PCI function gets, by its vendor and device ids in sysfs
 * (`src/pci/kind.ts`), and the engine that driver opens on it. virtio-crypto (1af4:1054) gets the virtio-pci
 * driver, a QAT gen4 VF (8086:4941, 4943, 4945) the QAT driver; a QAT PF or any other function is refused with
 * an `AcceleratorKindError` that says what to do instead. `serve --device` and `selftest --device` open their
 * device through it.
 *
 * @module
 */

import type { CryptoEngine } from "../engine/engine.ts";
import { type Reactor, Sysfs, type SysfsAccess } from "../os/mod.ts";
import {
  type AcceleratorKind,
  acceleratorKind,
  idString,
  notDrivableReason,
  readPciFunction,
} from "../pci/mod.ts";
import { openQatVfioPort, QatEngine, type QatPort } from "./qat/mod.ts";
import { openVfioPort, VirtioPciEngine, type VirtioPciPort, type VirtioPciStats } from "./virtio_pci/mod.ts";

/** A function cryptobridge has no driver for, or one it must not drive (a QAT PF). */
export class AcceleratorKindError extends Error {
  /** Always `AcceleratorKindError`. */
  override name = "AcceleratorKindError";
  /** What the function is. */
  readonly kind: AcceleratorKind;
  /** Its address. */
  readonly bdf: string;

  /**
   * @param kind What the function is.
   * @param bdf Its address.
   * @param message Why it is refused and what to do instead.
   */
  constructor(kind: AcceleratorKind, bdf: string, message: string) {
    super(message);
    this.kind = kind;
    this.bdf = bdf;
  }
}

/** What the daemon and the self-test use of either driver's engine. */
export interface AcceleratorEngine extends CryptoEngine {
  /** `ready`, `failed` or `closed`. */
  readonly state: string;
  /** Its counters (both drivers report at least the virtio-pci engine's). */
  stats(): VirtioPciStats;
  /** Fault injection: a reset behind the driver's back. */
  injectReset(): void;
}

/** How to reach each kind of function: VFIO by default, device models in tests. */
export interface AcceleratorPorts {
  /** Opens a virtio-crypto function. Default `openVfioPort`. */
  readonly virtio?: (bdf: string) => VirtioPciPort;
  /** Opens a QAT gen4 VF. Default `openQatVfioPort`. */
  readonly qat?: (bdf: string) => QatPort;
}

/** Options of `openAccelerator`. */
export interface OpenAcceleratorOptions {
  /** Where the ids are read (and, with the default ports, VFIO's view of the function). Default `/sys`. */
  readonly sysfs?: SysfsAccess;
  /** The reactor completions' interrupts join; without one the engine polls. */
  readonly reactor?: Reactor;
  /** Poll completions even with a reactor (`serve --poll`). Default false. */
  readonly poll?: boolean;
  /** How to open the function once its kind is known. */
  readonly ports?: AcceleratorPorts;
  /** The kind when it is known without sysfs (a device model in tests); default: read from sysfs. */
  readonly kind?: OpenedAccelerator["kind"];
}

/** An opened accelerator and what it is. */
export interface OpenedAccelerator {
  readonly kind: "virtio-crypto" | "qat-gen4-vf";
  readonly engine: AcceleratorEngine;
}

/**
 * What a function is, from its ids in sysfs.
 *
 * @param bdf The function (canonical address).
 * @param sysfs Where to read. Default `/sys`.
 * @returns Its kind.
 * @throws PciError `not-found`.
 */
export function identifyAccelerator(bdf: string, sysfs: SysfsAccess = new Sysfs()): AcceleratorKind {
  const fn = readPciFunction(sysfs, bdf);
  return acceleratorKind(fn.vendor, fn.device);
}

/**
 * The kind of a function, refused unless cryptobridge drives it.
 *
 * @param bdf The function.
 * @param sysfs Where to read.
 * @returns `virtio-crypto` or `qat-gen4-vf`.
 * @throws AcceleratorKindError for a QAT PF (create VFs), another QAT, or an unknown id; PciError `not-found`.
 */
export function drivableKind(bdf: string, sysfs: SysfsAccess = new Sysfs()): OpenedAccelerator["kind"] {
  const fn = readPciFunction(sysfs, bdf);
  const kind = acceleratorKind(fn.vendor, fn.device);
  const reason = notDrivableReason(kind, bdf, idString(fn));
  if (reason !== null) throw new AcceleratorKindError(kind, bdf, `Cannot drive ${bdf}: ${reason}`);
  return kind as OpenedAccelerator["kind"];
}

/**
 * Opens a function with the driver its ids call for and brings the device up.
 *
 * @param bdf The function (canonical address), on vfio-pci unless `ports` opens a model.
 * @param options sysfs, reactor, polling, ports.
 * @returns The engine and its kind.
 * @throws AcceleratorKindError (see `drivableKind`); the driver's errors (VfioError, VirtioPciError, QatError).
 */
export function openAccelerator(bdf: string, options: OpenAcceleratorOptions = {}): OpenedAccelerator {
  const kind = options.kind ?? drivableKind(bdf, options.sysfs);
  const completions = options.reactor === undefined || options.poll === true ? "poll" : "interrupt";
  const reactor = options.reactor === undefined ? {} : { reactor: options.reactor };
  // VFIO reads the function's driver and IOMMU group from the same sysfs tree its kind came from.
  const vfio = options.sysfs === undefined ? {} : { sysfs: options.sysfs };
  if (kind === "qat-gen4-vf") {
    const port = (options.ports?.qat ?? ((b: string) => openQatVfioPort(b, vfio)))(bdf);
    return { kind, engine: QatEngine.open(port, { ...reactor, completions }) };
  }
  const port = (options.ports?.virtio ?? ((b: string) => openVfioPort(b, vfio)))(bdf);
  return { kind, engine: VirtioPciEngine.open(port, { ...reactor, completions }) };
}
