/**
 * MSI-X through VFIO: one eventfd per vector, registered with VFIO_DEVICE_SET_IRQS (vfio-ffi.md §1.4), so each
 * interrupt becomes a readable eventfd the reactor can wait on. The MSI-X table itself is never written by hand:
 * the kernel programs it.
 *
 * @module
 */

import {
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_PCI_MSIX_IRQ_INDEX,
} from "../../ffi/constants.ts";
import { EventFd } from "../os/mod.ts";
import type { VfioDevice } from "./device.ts";
import { VfioError } from "./errors.ts";

/** Enabled MSI-X vectors of a device, each with its eventfd. */
export class MsixVectors implements Disposable {
  readonly #device: VfioDevice;
  readonly #eventfds: EventFd[];
  readonly #index: number;
  #enabled = true;

  private constructor(device: VfioDevice, eventfds: EventFd[], index: number) {
    this.#device = device;
    this.#eventfds = eventfds;
    this.#index = index;
  }

  /**
   * Enables vectors 0..count-1 of MSI-X, each signalling a new non-blocking eventfd.
   *
   * @param device The device.
   * @param count Vectors (1..table size).
   * @param index The IRQ index: MSI-X (default), or MSI for a function that has only MSI (the same eventfd
   *   signalling; vfio-pci enables MSI with `count` vectors the same way).
   * @returns The vectors.
   * @throws VfioError `irq` when the device has fewer vectors or no eventfd support.
   */
  static enable(device: VfioDevice, count: number, index: number = VFIO_PCI_MSIX_IRQ_INDEX): MsixVectors {
    const info = device.irqInfo(index);
    if (!info.eventfd || count < 1 || count > info.count) {
      throw new VfioError(
        "irq",
        `Cannot enable ${count} ${
          index === VFIO_PCI_MSIX_IRQ_INDEX ? "MSI-X" : "MSI"
        } vectors on ${device.name}: ` +
          `it has ${info.count}` +
          (info.eventfd ? "" : " and no eventfd signalling"),
      );
    }
    const eventfds: EventFd[] = [];
    try {
      for (let i = 0; i < count; i++) eventfds.push(new EventFd());
      const flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
      device.setIrqs(flags, index, { start: 0, count }, eventfds.map((e) => e.fd));
    } catch (e) {
      for (const efd of eventfds) efd.close();
      throw e;
    }
    return new MsixVectors(device, eventfds, index);
  }

  /** Number of vectors. */
  get count(): number {
    return this.#eventfds.length;
  }

  /** Whether MSI-X is still enabled. */
  get isEnabled(): boolean {
    return this.#enabled;
  }

  /**
   * The eventfd of a vector (register its `fd` with the reactor; `consume()` reads and resets the count).
   *
   * @param vector The vector.
   * @returns Its eventfd.
   */
  eventfd(vector: number): EventFd {
    const efd = this.#eventfds[vector];
    if (efd === undefined) throw new RangeError(`No MSI-X vector ${vector}: there are ${this.count}`);
    return efd;
  }

  /** Disables MSI-X (DATA_NONE | ACTION_TRIGGER with count 0); the eventfds stay open. Idempotent. */
  disable(): void {
    if (!this.#enabled) return;
    this.#enabled = false;
    if (this.#device.isOpen) {
      this.#device.setIrqs(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, this.#index, {
        start: 0,
        count: 0,
      });
    }
  }

  /** Disables MSI-X, then closes the eventfds (remove them from the reactor first). Idempotent. */
  close(): void {
    try {
      this.disable();
    } finally {
      for (const efd of this.#eventfds) efd.close();
    }
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
