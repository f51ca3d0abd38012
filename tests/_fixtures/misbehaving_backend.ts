/**
 * Test fixture: a vhost-user crypto back-end that breaks one virtio rule on purpose, so the departure report of
 * `cryptobridge bench` can be shown to catch it. It is the project's own `CryptoDevice` (software engine) behind
 * the project's `VhostUserServer`, with the data queue's `SplitQueue` patched on first use:
 *
 * - `used-at-head`: each used element is written at the used ring slot numbered by its head id, and the slot at
 *   `used.idx` is left as it was (what DPDK's vhost_crypto does: right only when heads come in avail order);
 * - `used-len-zero`: each used element says `len` 0;
 * - `drop-large`: a request whose writable part is over 2176 + 1 bytes is never completed (as DPDK drops a
 *   request that does not fit its mbuf);
 * - `spurious-call`: the call eventfd is signalled after every batch, whatever `used_event` says;
 * - `no-call`: the call eventfd is never signalled;
 * - `suppress-kicks`: after each batch the device says it needs no kick (`avail_event` half the index space
 *   ahead, VRING_USED_F_NO_NOTIFY) but serves only when kicked, and only what was available at the kick.
 *
 * @module
 */

import type { CryptoDevice } from "../../src/crypto/device.ts";
import type { GuestMemory } from "../../src/memory/mod.ts";
import type { Backend, VringHandle } from "../../src/vhost_user/mod.ts";
import {
  type SplitQueue,
  VIRTQ_USED_ELEM_SIZE,
  VIRTQ_USED_RING,
  VRING_USED_F_NO_NOTIFY,
} from "../../src/virtio/mod.ts";
import { startVmServer } from "./vm_server.ts";

/** Which rule the back-end breaks. */
export type Misbehaviour =
  | "used-at-head"
  | "used-len-zero"
  | "drop-large"
  | "spurious-call"
  | "no-call"
  | "suppress-kicks";

/** DPDK's largest request: one mbuf of RTE_MBUF_DEFAULT_BUF_SIZE; its used len adds the status byte. */
const LARGEST_USED_LEN = 2176 + 1;

/** A running misbehaving back-end. */
export interface MisbehavingServer extends AsyncDisposable {
  readonly socket: string;
  /** Stops serving and frees everything; idempotent. */
  close(): Promise<void>;
}

/**
 * Serves a misbehaving device on `socket`.
 *
 * @param socket The socket path (its folder must exist).
 * @param mode The rule to break.
 * @returns The running server.
 */
export function startMisbehavingServer(socket: string, mode: Misbehaviour): MisbehavingServer {
  return startVmServer(socket, {}, (device) => misbehaving(device, mode));
}

/** The device, with each data queue patched the first time it is served. */
function misbehaving(device: CryptoDevice, mode: Misbehaviour): Backend {
  const patched = new WeakSet<SplitQueue>();
  const backend: Backend = {
    numQueues: device.numQueues,
    numDataQueues: device.numDataQueues,
    maxQueueSize: device.maxQueueSize,
    features: device.features,
    protocolFeatures: device.protocolFeatures,
    setFeatures: (f) => device.setFeatures(f),
    processQueue: (vring: VringHandle) => {
      if (vring.index < device.numDataQueues && !patched.has(vring.queue)) {
        patched.add(vring.queue);
        patch(vring.queue, mode);
      }
      if (mode === "suppress-kicks") kickedAvail.set(vring.queue, availIdx(vring.queue, vring.memory));
      device.processQueue(vring);
      // Again after the batch: popping an empty ring wrote `avail_event` back to "kick me".
      if (mode === "suppress-kicks" && vring.index < device.numDataQueues) {
        suppressKicks(vring.queue, vring.memory);
      }
    },
    inflight: (vring) => device.inflight(vring),
    handleDeviceRequest: (request, payload) => device.handleDeviceRequest(request, payload),
    reset: () => device.reset(),
    setMemory: (memory) => device.setMemory?.(memory),
  };
  return backend;
}

/** `suppress-kicks`: each queue's `avail.idx` when it was last kicked (the device serves up to there only). */
const kickedAvail = new WeakMap<SplitQueue, number>();

function patch(queue: SplitQueue, mode: Misbehaviour): void {
  const addUsed = queue.addUsed.bind(queue);
  if (mode === "used-len-zero") {
    queue.addUsed = (mem, head) => addUsed(mem, head, 0);
  } else if (mode === "drop-large") {
    queue.addUsed = (mem, head, len) => {
      if (len <= LARGEST_USED_LEN) addUsed(mem, head, len);
    };
  } else if (mode === "used-at-head") {
    queue.addUsed = (mem, head, len) => {
      const at = queue.nextUsed & (queue.size - 1);
      const saved = new Uint8Array(VIRTQ_USED_ELEM_SIZE);
      mem.read(usedSlot(queue, at), saved);
      addUsed(mem, head, len); // advances used.idx (and the in-flight count) as the device should
      mem.write(usedSlot(queue, at), saved);
      writeUsedElem(mem, usedSlot(queue, head), head, len);
    };
  } else if (mode === "suppress-kicks") {
    // Before completions are published, too: a driver woken by them must already see "no kick needed", or it
    // kicks and the device never has to be rescued (a race the loaded CI machine lost).
    const publishUsed = queue.publishUsed.bind(queue);
    queue.publishUsed = (mem) => {
      suppressKicks(queue, mem);
      publishUsed(mem);
    };
    // Only what was there at the kick: a driver woken by a publication in the middle of the batch refills at once,
    // and a device that kept popping would serve that without a kick.
    const popChain = queue.popChain.bind(queue);
    queue.popChain = (mem, chain) => queue.nextAvail !== kickedAvail.get(queue) && popChain(mem, chain);
  } else if (mode === "spurious-call" || mode === "no-call") {
    const needs = queue.needsNotification.bind(queue);
    queue.needsNotification = (mem) => {
      needs(mem); // keeps the queue's own bookkeeping
      return mode === "spurious-call";
    };
  }
}

/** Writes `avail_event` far ahead and sets VRING_USED_F_NO_NOTIFY: "no kick needed", though none is polled for. */
function suppressKicks(queue: SplitQueue, memory: GuestMemory): void {
  const used = queue.addresses!.used;
  const word = new Uint8Array(2);
  new DataView(word.buffer).setUint16(0, (queue.nextAvail + 0x8000) & 0xffff, true);
  memory.write(used + VIRTQ_USED_RING + VIRTQ_USED_ELEM_SIZE * queue.size, word);
  memory.write(used, new Uint8Array([VRING_USED_F_NO_NOTIFY, 0]));
}

function availIdx(queue: SplitQueue, memory: GuestMemory): number {
  const word = new Uint8Array(2);
  memory.read(queue.addresses!.avail + 2, word);
  return word[0]! | word[1]! << 8;
}

function usedSlot(queue: SplitQueue, index: number): number {
  return queue.addresses!.used + VIRTQ_USED_RING + VIRTQ_USED_ELEM_SIZE * index;
}

function writeUsedElem(mem: GuestMemory, gpa: number, id: number, len: number): void {
  const elem = new Uint8Array(VIRTQ_USED_ELEM_SIZE);
  const view = new DataView(elem.buffer);
  view.setUint32(0, id, true);
  view.setUint32(4, len, true);
  mem.write(gpa, elem);
}
