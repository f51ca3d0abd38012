/**
 * Setting up a virtio-crypto device over vhost-user, as QEMU does before the guest driver runs: the handshake and
 * the rings in guest RAM, and a ring's restart. `VirtioCryptoDriver` uses it.
 *
 * @module
 */

import { CryptoFeature } from "../spec/virtio_crypto.ts";
import { EventFd } from "../os/mod.ts";
import { ProtocolFeature, Request, VHOST_USER_F_PROTOCOL_FEATURES } from "../vhost_user/mod.ts";
import {
  DriverQueue,
  type HeadOrder,
  splitRingLayout,
  VIRTIO_F_VERSION_1,
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
} from "../virtio/mod.ts";
import type { GuestRam } from "./guest_ram.ts";
import type { VhostUserFrontend } from "./vhost_user_frontend.ts";

/** What `negotiate` acknowledges (a subset of `DriverOptions`). */
export interface NegotiateOptions {
  /** Only bit 30, as QEMU 7.2 does. */
  readonly qemuFeatures?: boolean;
  /** VIRTIO_CRYPTO_F_REVISION_1. */
  readonly revision1?: boolean;
  /** With `revision1`, the stateless bits too (default true). */
  readonly stateless?: boolean;
}

/** A ring set up by `setUpVring`. */
export interface SetUpRing<T> {
  readonly index: number;
  readonly driver: DriverQueue<T>;
  readonly kick: EventFd;
  readonly call: EventFd;
  /** Guest-physical ring addresses (SET_VRING_ADDR is sent again on restart). */
  readonly rings: { readonly desc: number; readonly avail: number; readonly used: number };
}

/**
 * The vhost-user handshake QEMU does at start (interop.md §1.2): features, protocol features (CRYPTO_SESSION, MQ,
 * REPLY_ACK), the queue count, SET_OWNER, then SET_FEATURES with what this driver uses.
 *
 * @param frontend The connection.
 * @param dataQueues Data queues wanted.
 * @param o What to negotiate.
 * @returns The features acknowledged.
 * @throws Error when the back-end lacks what a crypto front-end needs.
 */
export async function negotiate(
  frontend: VhostUserFrontend,
  dataQueues: number,
  o: NegotiateOptions,
): Promise<bigint> {
  const offered = await frontend.getFeatures();
  const protocolBit = 1n << BigInt(VHOST_USER_F_PROTOCOL_FEATURES);
  if ((offered & protocolBit) === 0n) {
    throw new Error("Back-end does not offer VHOST_USER_F_PROTOCOL_FEATURES");
  }
  const protocol = await frontend.getProtocolFeatures();
  const want = (1n << BigInt(ProtocolFeature.CRYPTO_SESSION)) | (1n << BigInt(ProtocolFeature.MQ)) |
    (1n << BigInt(ProtocolFeature.REPLY_ACK));
  if ((protocol & (1n << BigInt(ProtocolFeature.CRYPTO_SESSION))) === 0n) {
    throw new Error("Back-end does not offer VHOST_USER_PROTOCOL_F_CRYPTO_SESSION");
  }
  await frontend.setProtocolFeatures(protocol & want);
  frontend.replyAck = (protocol & want & (1n << BigInt(ProtocolFeature.REPLY_ACK))) !== 0n;
  if ((protocol & (1n << BigInt(ProtocolFeature.MQ))) !== 0n) {
    const n = await frontend.getQueueNum();
    if (n < dataQueues) {
      throw new Error(`Back-end serves ${n} data queues, fewer than the ${dataQueues} asked`);
    }
  }
  await frontend.setOwner();
  const features = o.qemuFeatures
    ? protocolBit
    : offered & wantedFeatures(o.revision1 ?? false, o.stateless ?? true) | protocolBit;
  await frontend.setFeatures(features);
  return features;
}

function wantedFeatures(revision1: boolean, stateless: boolean): bigint {
  let f = (1n << BigInt(VIRTIO_F_VERSION_1)) | (1n << BigInt(VIRTIO_RING_F_INDIRECT_DESC)) |
    (1n << BigInt(VIRTIO_RING_F_EVENT_IDX));
  if (revision1) {
    f |= 1n << BigInt(CryptoFeature.REVISION_1);
    if (stateless) {
      for (const bit of Object.values(CryptoFeature)) f |= 1n << BigInt(bit);
    }
  }
  return f;
}

/**
 * Lays out one split ring (and its indirect tables) in guest RAM at `base` and hands it to the back-end: NUM, BASE,
 * ADDR (front-end VAs), CALL, KICK.
 *
 * @returns The driver-side queue and its eventfds.
 */
export async function setUpVring<T>(
  frontend: VhostUserFrontend,
  ram: GuestRam,
  ring: {
    readonly index: number;
    readonly size: number;
    readonly base: number;
    readonly eventIdx: boolean;
    readonly headOrder?: HeadOrder;
  },
): Promise<SetUpRing<T>> {
  const { index, size, base, eventIdx, headOrder = "free-list" } = ring;
  const layout = splitRingLayout(base, size);
  const indirectArea = align(layout.end, 4096);
  const driver = new DriverQueue<T>(ram.memory, {
    size,
    ...layout,
    indirectArea,
    indirectEntries: 64,
    eventIdx,
    headOrder,
  });
  const kick = new EventFd();
  const call = new EventFd();
  await frontend.setVringNum(index, size);
  await frontend.setVringBase(index, 0);
  await frontend.setVringAddr(index, {
    desc: ram.frontendVa(layout.desc),
    avail: ram.frontendVa(layout.avail),
    used: ram.frontendVa(layout.used),
  });
  await frontend.setVringFd(Request.SET_VRING_CALL, index, call.fd);
  await frontend.setVringFd(Request.SET_VRING_KICK, index, kick.fd);
  return { index, driver, kick, call, rings: { desc: layout.desc, avail: layout.avail, used: layout.used } };
}

/**
 * Sends VHOST_USER_SET_VRING_ENABLE(index, 1) for rings 0..n-1. With VHOST_USER_F_PROTOCOL_FEATURES negotiated
 * a ring starts disabled (vhost-user spec, "Ring states"); QEMU never enables crypto rings, and DPDK's
 * vhost_crypto serves none until it is sent. Call it after every ring is set up, before the first kick.
 *
 * @param frontend The connection.
 * @param n Rings to enable.
 */
export async function enableVrings(frontend: VhostUserFrontend, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await frontend.setVringEnable(i, true);
}

/**
 * Starts a stopped ring again the way QEMU's `vhost_virtqueue_start` does: SET_VRING_NUM, SET_VRING_BASE,
 * SET_VRING_ADDR, SET_VRING_KICK, then SET_VRING_CALL (the call fd comes last, as with QEMU's
 * `vhost_virtqueue_mask`).
 *
 * @param frontend The connection.
 * @param ram Guest RAM (for the front-end VAs of the rings).
 * @param ring The ring `setUpVring` set up.
 * @param base The avail index to resume at.
 */
export async function restartVring<T>(
  frontend: VhostUserFrontend,
  ram: GuestRam,
  ring: SetUpRing<T>,
  base: number,
): Promise<void> {
  const { index, driver, rings } = ring;
  await frontend.setVringNum(index, driver.size);
  await frontend.setVringBase(index, base);
  await frontend.setVringAddr(index, {
    desc: ram.frontendVa(rings.desc),
    avail: ram.frontendVa(rings.avail),
    used: ram.frontendVa(rings.used),
  });
  await frontend.setVringFd(Request.SET_VRING_KICK, index, ring.kick.fd);
  await frontend.setVringFd(Request.SET_VRING_CALL, index, ring.call.fd);
}

/** `n` rounded up to a multiple of `a`. */
export function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
