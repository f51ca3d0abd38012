/**
 * The device path in one thread, for `deno bench`: a `CryptoDevice` over a memfd guest RAM, its data queue served
 * by `processQueue()` exactly as a VM thread serves it after a kick, and the driver side (`DriverQueue`) refilling
 * the ring with the load generator's prebuilt requests (`benchWorkload`). One `DevicePath.round()` is one batch:
 * `depth` requests added and published, one `processQueue()`, every used element taken back.
 *
 * What it leaves out is what crosses threads (kicks, calls, the other core's cache lines), so its figure is the
 * device's own cost per request, free of the machine's noise; `cryptobridge bench` measures the rest. Stages are
 * measured by difference: `ring` completes every chain with status OK without parsing it (popChain, addUsed,
 * publish, popUsed), `parse` adds the request parser, `device` is the whole data queue with the software engine.
 *
 * @module
 */

import { CryptoDevice } from "../../src/crypto/device.ts";
import { SoftwareEngine } from "../../src/engine/software/mod.ts";
import { GuestRam } from "../../src/frontend/guest_ram.ts";
import { benchWorkload } from "../../src/frontend/workloads.ts";
import {
  DescriptorChain,
  DriverBufferList,
  DriverQueue,
  indirectAreaSize,
  SplitQueue,
  splitRingLayout,
  UsedBuffer,
} from "../../src/virtio/mod.ts";
import type { VringHandle } from "../../src/vhost_user/backend.ts";
import { CipherAlgo } from "../../src/spec/virtio_crypto.ts";

const QUEUE_SIZE = 1024;
const RAM = 64 << 20;
const BASE = 0x4000_0000;

/** What one round serves: AES-128-CBC encryption requests of `size` bytes, `depth` at a time. */
export interface DevicePathOptions {
  readonly size: number;
  readonly depth: number;
  readonly indirect: boolean;
}

/** A device and a driver on one ring in one thread. */
export class DevicePath {
  readonly device: CryptoDevice;
  readonly vring: VringHandle;
  readonly #driver: DriverQueue<number>;
  readonly #lists: DriverBufferList[] = [];
  readonly #indirect: boolean;
  readonly #used = new UsedBuffer<number>();
  readonly #chain = new DescriptorChain(QUEUE_SIZE);

  constructor(o: DevicePathOptions) {
    const ram = new GuestRam(RAM, BASE);
    const layout = splitRingLayout(BASE, QUEUE_SIZE);
    const indirectArea = layout.end + 4096 - (layout.end % 4096);
    this.#driver = new DriverQueue<number>(ram.memory, {
      size: QUEUE_SIZE,
      ...layout,
      indirectArea,
      eventIdx: true,
    });
    const queue = new SplitQueue(QUEUE_SIZE);
    queue.setAddresses(layout);
    queue.eventIdx = true;
    queue.setReady(true);
    const memory = ram.memory;
    this.vring = { index: 0, queue, memory, flush: () => queue.publishUsed(memory) };
    this.device = new CryptoDevice({ engine: new SoftwareEngine(), maxQueueSize: QUEUE_SIZE });
    this.device.setFeatures(1n << 3n); // REVISION_1 not acked: the legacy layout, as QEMU 7.2 negotiates
    const key = new Uint8Array(16).fill(1);
    const { id } = this.device.sessions.create({
      service: "cipher",
      algo: CipherAlgo.AES_CBC,
      key,
      direction: 1,
    });
    this.#indirect = o.indirect;
    let at = indirectArea + indirectAreaSize(QUEUE_SIZE, 16);
    const workload = benchWorkload("aes-128-cbc", o.size);
    for (let slot = 0; slot < o.depth; slot++) {
      const req = workload.request(BigInt(id), "legacy", slot);
      const list = new DriverBufferList(req.out.length + req.inLengths.length + 1);
      for (const bytes of req.out) {
        ram.view(at, bytes.length).set(bytes);
        list.push(at, bytes.length, false);
        at += align64(bytes.length);
      }
      for (const len of [...req.inLengths, 1]) {
        list.push(at, len, true);
        at += len;
      }
      at = align64(at);
      this.#lists.push(list);
    }
  }

  /** The driver's side of the ring (tests set its `used_event`). */
  get driver(): DriverQueue<number> {
    return this.#driver;
  }

  /** One batch through the whole device: add, publish, `processQueue`, take the used elements back. */
  round(): number {
    this.submit();
    this.device.processQueue(this.vring);
    return this.#reap();
  }

  /** One batch through the ring only: every chain popped and completed without being parsed. */
  ringRound(): number {
    this.submit();
    const { queue, memory } = this.vring;
    while (queue.popChain(memory, this.#chain)) queue.addUsed(memory, this.#chain.head, 1);
    this.vring.flush();
    return this.#reap();
  }

  /**
   * What a polling driver does between two of the device's `used.idx` stores: takes what completed and sends
   * those slots again.
   *
   * @param more Whether to send the slots again (false: only take them).
   * @returns The completions taken.
   */
  refill(more = true): number {
    let n = 0;
    while (this.#driver.popUsed(this.#used)) {
      const slot = this.#used.token!;
      if (more) this.#driver.addList(this.#lists[slot]!, this.#indirect, slot);
      n++;
    }
    if (more) this.#driver.publish();
    return n;
  }

  /** Adds every slot's chain to the avail ring and publishes them. */
  submit(): void {
    for (let slot = 0; slot < this.#lists.length; slot++) {
      this.#driver.addList(this.#lists[slot]!, this.#indirect, slot);
    }
    this.#driver.publish();
  }

  #reap(): number {
    let n = 0;
    while (this.#driver.popUsed(this.#used)) n++;
    if (n !== this.#lists.length) throw new Error(`round completed ${n} of ${this.#lists.length}`);
    return n;
  }
}

function align64(n: number): number {
  return Math.ceil(n / 64) * 64;
}
