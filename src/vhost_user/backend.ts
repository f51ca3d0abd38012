/**
 * The `Backend` interface: all a device implements to be served over vhost-user (rust-vmm's `VhostUserBackend`).
 * The protocol handler owns the socket, the memory table and the vrings; the device sees guest memory and rings,
 * never a socket, and device-specific messages (26/27 for crypto) reach it through one opaque hook.
 *
 * @module
 */

import type { RateLimitedLog } from "../log/mod.ts";
import type { GuestMemory } from "../memory/mod.ts";
import type { SplitQueue } from "../virtio/mod.ts";

/** What a device sees of one vring: the queue, the memory it lives in, and the way to notify the driver. */
export interface VringHandle {
  /** Vring index (QEMU's crypto device: data queues 0..n-1; a test front-end may add the control queue n). */
  readonly index: number;
  /** The device-side split queue. */
  readonly queue: SplitQueue;
  /** The memory table current when the ring was last processed; `generation` tells a newer one apart. */
  readonly memory: GuestMemory;
  /**
   * Ends a batch: publishes the used entries added since the last flush (one `used.idx` store) and signals the
   * call eventfd if the driver needs a notification.
   */
  flush(): void;
}

/** A device served over vhost-user. */
export interface Backend {
  /** Vrings the device uses. */
  readonly numQueues: number;
  /** Data queues it reports in GET_QUEUE_NUM (QEMU compares it with `queues=`). */
  readonly numDataQueues: number;
  /** Largest queue size it accepts in SET_VRING_NUM. */
  readonly maxQueueSize: number;
  /** Virtio feature bits it offers (device and transport bits; the handler adds VHOST_USER_F_PROTOCOL_FEATURES). */
  readonly features: bigint;
  /** vhost-user protocol feature bits the device needs (crypto: CRYPTO_SESSION). */
  readonly protocolFeatures: bigint;

  /** SET_FEATURES: the bits the front-end acknowledged (QEMU's crypto path sends only bit 30). */
  setFeatures(features: bigint): void;
  /**
   * A vring has buffers (a kick, or the poll loop): pop, serve and complete what is available, then `flush()`.
   * Must not throw for guest input; a ring error surfaces as `queue.broken`.
   */
  processQueue(vring: VringHandle): void;
  /** Requests popped from a vring and not completed yet (asynchronous engines); 0 for a synchronous device. */
  inflight(vring: VringHandle): number;
  /**
   * A device-specific request (crypto: CREATE/CLOSE_CRYPTO_SESSION).
   *
   * @returns The reply payload, or `null` when the request has no reply.
   * @throws VhostUserError when the request is malformed: the connection is dropped.
   */
  handleDeviceRequest(request: number, payload: Uint8Array): Uint8Array | null;
  /** The front-end went away or reset the device: forget every session and per-connection state. */
  reset(): void;
  /**
   * Optional: a new memory table is in use (an empty one once the front-end went away). Called with no request in
   * flight and before the previous table is unmapped, so whatever the device handed the old regions to (an
   * accelerator's DMA mappings) can let go of them first.
   */
  setMemory?(memory: GuestMemory): void;
  /**
   * Optional: the VM's rate-limited log, which the server also uses for the lines its front-end causes, so one
   * set of suppressed counts covers the VM (the server makes its own when the device has none).
   */
  readonly logLimit?: RateLimitedLog;
}
