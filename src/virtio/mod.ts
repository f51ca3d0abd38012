/**
 * The split virtqueue (VIRTIO v1.2, 2.7), pure TypeScript: the device side (`SplitQueue`, `DescriptorChain`,
 * `ChainReader`/`ChainWriter`/`ChainCursor`), the driver side (`DriverQueue`) that tests and the benchmark use to
 * play the guest, ring layout constants, transport feature bits and little-endian helpers. Nothing here loads FFI,
 * so it runs without permissions.
 *
 * @example A request round trip through both sides
 * ```ts
 * import assert from "node:assert/strict";
 * import { RegionGuestMemory } from "../memory/mod.ts";
 * import { DescriptorChain, DriverQueue, SplitQueue, splitRingLayout, UsedBuffer } from "./mod.ts";
 *
 * const mem = new RegionGuestMemory([
 *   { gpa: 0, size: 0x10000, frontendVa: 0, bytes: new Uint8Array(0x10000), address: 0n },
 * ]);
 * const layout = splitRingLayout(0, 16);
 * const driver = new DriverQueue<string>(mem, { size: 16, ...layout });
 * driver.add({ out: [{ gpa: 0x8000, len: 72 }], in: [{ gpa: 0x9000, len: 1 }] }, {}, "req");
 * driver.publish();
 *
 * const queue = new SplitQueue(16);
 * queue.setAddresses(layout);
 * queue.setReady(true);
 * const chain = new DescriptorChain(16);
 * queue.popChain(mem, chain);
 * queue.addUsed(mem, chain.head, 1);
 * queue.publishUsed(mem);
 *
 * const done = new UsedBuffer<string>();
 * assert.ok(driver.popUsed(done));
 * assert.deepEqual([done.token, done.len], ["req", 1]);
 * ```
 *
 * @module
 */

export { ChainCursor, ChainReader, ChainWriter } from "./chain_io.ts";
export { DescriptorChain } from "./descriptor_chain.ts";
export { DriverBufferList, type DriverChain, type GuestBuffer, UsedBuffer } from "./driver_buffers.ts";
export { type DriverAddOptions, DriverQueue, type DriverQueueOptions } from "./driver_queue.ts";
export type { HeadOrder } from "./head_order.ts";
export { CHAIN_ERROR_KINDS, VirtqueueError, type VirtqueueErrorKind } from "./errors.ts";
export * from "../spec/virtio.ts";
export {
  readU16,
  readU32,
  readU64,
  readU64Number,
  readU8,
  writeU16,
  writeU32,
  writeU64,
  writeU64Number,
  writeU8,
} from "./le.ts";
export * from "./ring.ts";
export { SplitQueue } from "./split_queue.ts";
