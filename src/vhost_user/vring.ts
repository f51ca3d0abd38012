/**
 * `Vring`: one virtqueue as the vhost-user handler holds it: the split queue, its front-end ring addresses, and
 * the kick, call and err eventfds (rust-vmm `VringState`).
 *
 * @module
 */

import type { GuestMemory } from "../memory/mod.ts";
import type { EventFd } from "../os/mod.ts";
import { SplitQueue } from "../virtio/mod.ts";
import type { VringHandle } from "./backend.ts";

/** Ring addresses as SET_VRING_ADDR gives them: front-end (QEMU) virtual addresses. */
export interface FrontendRingAddresses {
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
}

/** One vring and its doorbells. */
export class Vring implements VringHandle {
  readonly index: number;
  readonly queue: SplitQueue;
  /** SET_VRING_ADDR's addresses, translated to GPAs whenever a memory table arrives. */
  frontendAddresses: FrontendRingAddresses | null = null;
  /** Reactor registration of the kick eventfd, or -1. */
  kickToken = -1;
  /** SET_VRING_ENABLE's last value (recorded, never required: interop.md §1.9). */
  enabled = false;
  /** Started by SET_VRING_KICK, stopped by GET_VRING_BASE ("Ring states" in vhost-user.rst). */
  started = false;
  /** Polled instead of kicked (SET_VRING_KICK with the NOFD bit, or `serve --poll`). */
  polled = false;
  #kick: EventFd | null = null;
  #call: EventFd | null = null;
  #err: EventFd | null = null;
  #memory: GuestMemory;

  /**
   * @param index Vring index.
   * @param maxSize Largest queue size.
   * @param memory The memory table (possibly empty until SET_MEM_TABLE).
   */
  constructor(index: number, maxSize: number, memory: GuestMemory) {
    this.index = index;
    this.queue = new SplitQueue(maxSize);
    this.#memory = memory;
  }

  get memory(): GuestMemory {
    return this.#memory;
  }

  /** Points the ring at a new memory table (after in-flight requests drained). */
  setMemory(memory: GuestMemory): void {
    this.#memory = memory;
  }

  /** The kick eventfd, or null (none yet, or NOFD). */
  get kick(): EventFd | null {
    return this.#kick;
  }

  /** Replaces the kick eventfd; the old one is closed. */
  setKick(fd: EventFd | null): void {
    this.#kick?.close();
    this.#kick = fd;
  }

  /** Replaces the call eventfd; the old one is closed. */
  setCall(fd: EventFd | null): void {
    this.#call?.close();
    this.#call = fd;
  }

  /** Replaces the err eventfd; the old one is closed. */
  setErr(fd: EventFd | null): void {
    this.#err?.close();
    this.#err = fd;
  }

  flush(): void {
    const mem = this.#memory;
    this.queue.publishUsed(mem);
    if (this.queue.needsNotification(mem)) this.#call?.signal();
  }

  /** Tells the front-end the ring broke (SET_VRING_ERR's eventfd), if it gave one. */
  signalError(): void {
    this.#err?.signal();
  }

  /** Closes the doorbells and resets the queue (a new connection starts from a clean state). */
  close(): void {
    this.setKick(null);
    this.setCall(null);
    this.setErr(null);
    this.queue.reset();
    this.frontendAddresses = null;
    this.started = false;
    this.enabled = false;
    this.polled = false;
  }
}
