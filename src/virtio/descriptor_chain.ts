/**
 * `DescriptorChain`: a validated host copy of one descriptor chain (VIRTIO v1.2, 2.7.5), and
 * `readDescriptorChain()`, which fills it from guest memory for `SplitQueue.popChain()`.
 *
 * The chain is preallocated and refilled per request, so popping a chain allocates nothing. Each descriptor entry
 * is read from guest memory exactly once; every later check and every length the device uses come from the copy,
 * never from guest memory again (DPDK CVE-2020-14375, a TOCTOU on descriptor lengths).
 *
 * @module
 */

import type { GuestMemory } from "../memory/mod.ts";
import { VirtqueueError, type VirtqueueErrorKind } from "./errors.ts";
import { readU16, readU32 } from "./le.ts";
import { wordsOf } from "./_word_views.ts";
import {
  MAX_QUEUE_SIZE,
  type RingPart,
  VIRTQ_DESC_ADDR,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_FLAGS,
  VIRTQ_DESC_LEN,
  VIRTQ_DESC_NEXT,
  VIRTQ_DESC_SIZE,
} from "./ring.ts";

/** A chain's byte total must stay below 2^32 (VIRTIO v1.2, 2.7.5.2), so the sum fits a used `len` (le32). */
const MAX_CHAIN_BYTES = 0xffff_ffff;
/** High word limit of a u64 that is still a safe integer (style.md rule 12: addresses are numbers). */
const MAX_SAFE_HIGH_WORD = 0x1f_ffff;
const TWO_POW_32 = 0x1_0000_0000;

/**
 * One descriptor chain as the device sees it, copied out of guest memory and validated (VIRTIO v1.2, 2.7.5). The
 * device-readable descriptors are `0 .. readableCount - 1`, the device-writable ones `readableCount .. count - 1`
 * (the order is checked, 2.7.4.2). Zero-length descriptors are dropped, since they carry no bytes.
 *
 * When `error` is set the chain is malformed: only `head` (and `indirect`) are meaningful, and the device should
 * complete it without touching its buffers (for example `addUsed(mem, chain.head, 0)`).
 *
 * @example Reading a popped chain
 * ```ts
 * import { DescriptorChain } from "./descriptor_chain.ts";
 * const chain = new DescriptorChain(256);
 * // after queue.popChain(mem, chain) returned true and chain.error === null:
 * for (let i = 0; i < chain.count; i++) {
 *   const role = chain.writable[i] ? "out of the device" : "into the device";
 *   console.log(role, chain.addr[i], chain.len[i]);
 * }
 * ```
 */
export class DescriptorChain {
  /** Most descriptors the chain can hold: the queue's maximum size. */
  readonly capacity: number;
  /** Index of the chain's head in the descriptor table (`id` of the used element). */
  head = 0;
  /** Number of (non-empty) descriptors. */
  count = 0;
  /** Guest-physical address of each buffer; every `[addr, addr + len)` is guest memory. */
  readonly addr: Float64Array;
  /** Length of each buffer. */
  readonly len: Uint32Array;
  /** 1 when the buffer is device-writable, 0 when device-readable. */
  readonly writable: Uint8Array;
  /** Number of device-readable descriptors (they come first). */
  readableCount = 0;
  /** Sum of the device-readable lengths. */
  readableBytes = 0;
  /** Sum of the device-writable lengths. */
  writableBytes = 0;
  /** Whether the chain went through an indirect table (VIRTIO v1.2, 2.7.5.3). */
  indirect = false;
  /** Why the chain is malformed, or `null`. */
  error: VirtqueueError | null = null;

  /**
   * @param capacity Most descriptors: at least the queue size (1..32768).
   * @throws RangeError for a capacity outside 1..32768.
   */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_QUEUE_SIZE) {
      throw new RangeError(
        `Cannot create descriptor chain: capacity must be in 1..32768: current value is ${capacity}`,
      );
    }
    this.capacity = capacity;
    this.addr = new Float64Array(capacity);
    this.len = new Uint32Array(capacity);
    this.writable = new Uint8Array(capacity);
  }

  /** Number of device-writable descriptors. */
  get writableCount(): number {
    return this.count - this.readableCount;
  }

  /** Empties the chain (the typed arrays are kept; stale entries past `count` are never read). */
  reset(): void {
    this.head = 0;
    this.count = 0;
    this.readableCount = 0;
    this.readableBytes = 0;
    this.writableBytes = 0;
    this.indirect = false;
    this.error = null;
  }
}

/** Where a descriptor table lies in host memory, as `SplitQueue` caches it per memory generation. */
export interface DescTableView extends RingPart {
  /** Queue size: the number of descriptors in the table. */
  readonly size: number;
}

// The indirect table being walked. Module-level and reused so that a walk allocates nothing; JS runs one walk at
// a time and the walk calls no user code.
const indirectTable: { bytes: Uint8Array; base: number; size: number } = {
  bytes: new Uint8Array(0),
  base: 0,
  size: 0,
};

/**
 * Fills `chain` with a validated copy of the chain starting at `head` (VIRTIO v1.2, 2.7.5). A malformed chain
 * does not throw: `chain.error` is set, so the caller completes it and goes on (style.md rule 5).
 *
 * Rules, with the reason for each:
 * - `next` must name a descriptor of the same table, or a guest could make the device read outside it.
 * - At most `size` buffer descriptors (2.7.5.3.1: "A driver MUST NOT create a descriptor chain longer than the
 *   Queue Size"), and inside an indirect table at most its length: both end descriptor loops.
 * - Zero or more direct descriptors, then at most one INDIRECT descriptor, whose WRITE flag is ignored (2.7.5.3.2);
 *   INDIRECT inside an indirect table is refused, and so is INDIRECT with NEXT (2.7.5.3.1 forbids both; QEMU and
 *   Linux vhost would read NEXT differently, so no meaning is guessed). The table must be a non-zero multiple of
 *   16 bytes inside one guest region, as QEMU requires.
 * - Readable descriptors before writable ones (2.7.4.2), byte total below 2^32 (2.7.5.2), every buffer in guest
 *   memory and below 2^53.
 *
 * @param mem Guest memory (buffers and indirect tables are checked against it).
 * @param table The descriptor table's host view.
 * @param chain The chain to fill; `chain.head` must be set and below `table.size`.
 */
export function readDescriptorChain(mem: GuestMemory, table: DescTableView, chain: DescriptorChain): void {
  const head = chain.head;
  chain.reset();
  chain.head = head;
  if (copyDescriptors(mem, table, chain)) checkBuffers(mem, chain);
}

function copyDescriptors(mem: GuestMemory, table: DescTableView, chain: DescriptorChain): boolean {
  let bytes = table.bytes;
  let words = wordsOf(bytes);
  let base = table.base;
  let limit = table.size; // descriptors in the table being walked
  let index = chain.head;
  let ttl = table.size; // buffer descriptors left for the whole chain
  let tableTtl = -1; // entries left in the indirect table, -1 outside one
  for (;;) {
    const off = base + index * VIRTQ_DESC_SIZE;
    // UNSAFE: `bytes` is live guest memory the driver may rewrite at any time. Each field is read exactly once
    // into a local here, and only these locals are checked and copied (CVE-2020-14375). Host order is
    // little-endian (SplitQueue checks), as virtio 1.x is, so the word view reads the same values as le.ts.
    let addrLo: number, addrHi: number, len: number, flags: number, next: number;
    if (words !== null && (off & 3) === 0) {
      const w = off >>> 2;
      addrLo = words[w]!;
      addrHi = words[w + 1]!;
      len = words[w + 2]!;
      const flagsNext = words[w + 3]!;
      flags = flagsNext & 0xffff;
      next = flagsNext >>> 16;
    } else {
      addrLo = readU32(bytes, off + VIRTQ_DESC_ADDR);
      addrHi = readU32(bytes, off + VIRTQ_DESC_ADDR + 4);
      len = readU32(bytes, off + VIRTQ_DESC_LEN);
      flags = readU16(bytes, off + VIRTQ_DESC_FLAGS);
      next = readU16(bytes, off + VIRTQ_DESC_NEXT);
    }
    if ((flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
      // 2.7.5.3.1; also what ends the walk, since an INDIRECT descriptor does not use up `ttl`.
      if (tableTtl >= 0) return fail(chain, "nested-indirect", `indirect table entry ${index} is INDIRECT`);
      if (!openIndirectTable(mem, chain, addrHi * TWO_POW_32 + addrLo, len, flags)) return false;
      bytes = indirectTable.bytes, base = indirectTable.base, limit = indirectTable.size; // no destructuring temp
      words = wordsOf(bytes);
      tableTtl = limit;
      index = 0;
      chain.indirect = true;
      continue;
    }
    if (ttl === 0 || tableTtl === 0) return failLoop(chain, tableTtl === 0 ? limit : -1, table.size);
    ttl--;
    if (tableTtl > 0) tableTtl--;
    if (!appendDescriptor(chain, addrHi, addrLo, len, flags)) return false;
    if ((flags & VIRTQ_DESC_F_NEXT) === 0) return true;
    if (next >= limit) return failNext(chain, next, limit);
    index = next;
  }
}

function openIndirectTable(
  mem: GuestMemory,
  chain: DescriptorChain,
  addr: number,
  len: number,
  flags: number,
): boolean {
  if ((flags & VIRTQ_DESC_F_NEXT) !== 0) {
    return fail(chain, "invalid-indirect-table", "descriptor has both INDIRECT and NEXT");
  }
  if (len === 0 || len % VIRTQ_DESC_SIZE !== 0) {
    return fail(
      chain,
      "invalid-indirect-table",
      `table length must be a non-zero multiple of 16: current value is ${len}`,
    );
  }
  // Above 2^53 `addr` is not a safe integer and is refused: the table is never read there. (ringPart() without
  // its result object: one per request.)
  const region = Number.isSafeInteger(addr) ? mem.find(addr, len) : undefined;
  if (region === undefined) {
    return fail(
      chain,
      "invalid-indirect-table",
      `table 0x${addr.toString(16)}+${len} is not inside one guest region`,
    );
  }
  indirectTable.bytes = region.bytes;
  indirectTable.base = addr - region.gpa;
  indirectTable.size = len / VIRTQ_DESC_SIZE;
  return true;
}

function appendDescriptor(
  chain: DescriptorChain,
  addrHi: number,
  addrLo: number,
  len: number,
  flags: number,
): boolean {
  // A zero-length buffer carries no bytes: nothing to check, store or order (the spec does not forbid it).
  if (len === 0) return true;
  const writable = (flags & VIRTQ_DESC_F_WRITE) !== 0;
  if (!writable && chain.count > chain.readableCount) {
    return fail(
      chain,
      "read-after-write",
      `device-readable descriptor ${chain.count} follows a device-writable one`,
    );
  }
  // Each term is below 2^32, so the double sum is exact.
  if (chain.readableBytes + chain.writableBytes + len > MAX_CHAIN_BYTES) {
    return fail(chain, "chain-overflow", "byte total must be below 2^32");
  }
  if (addrHi > MAX_SAFE_HIGH_WORD) {
    return fail(chain, "address-out-of-range", `address of descriptor ${chain.count} is above 2^53`);
  }
  if (chain.count === chain.capacity) {
    return fail(chain, "chain-too-long", `chain has more than ${chain.capacity} descriptors`);
  }
  const i = chain.count++;
  chain.addr[i] = addrHi * TWO_POW_32 + addrLo;
  chain.len[i] = len;
  chain.writable[i] = writable ? 1 : 0;
  if (writable) {
    chain.writableBytes += len;
  } else {
    chain.readableBytes += len;
    chain.readableCount++;
  }
  return true;
}

// A second pass, after the structure and the totals are known to be sound: every buffer must be guest memory
// (it may span adjacent regions), or the device would read or write outside the guest.
function checkBuffers(mem: GuestMemory, chain: DescriptorChain): void {
  for (let i = 0; i < chain.count; i++) {
    const addr = chain.addr[i]!;
    const len = chain.len[i]!;
    if (!mem.checkRange(addr, len)) {
      fail(
        chain,
        "address-out-of-range",
        `buffer ${i} at 0x${addr.toString(16)}+${len} is not all guest memory`,
      );
      return;
    }
  }
}

// The two ways a walk outruns its bounds, apart from the loop so that its body stays the descriptor reads and checks.
function failLoop(chain: DescriptorChain, tableLimit: number, queueSize: number): false {
  const bound = tableLimit >= 0 ? `its indirect table of ${tableLimit}` : `the queue size ${queueSize}`;
  return fail(chain, "chain-too-long", `chain is longer than ${bound} (a descriptor loop?)`);
}

function failNext(chain: DescriptorChain, next: number, limit: number): false {
  return fail(chain, "invalid-descriptor-index", `next index must be < ${limit}: current value is ${next}`);
}

function fail(chain: DescriptorChain, kind: VirtqueueErrorKind, reason: string): false {
  chain.error = new VirtqueueError(kind, `Cannot read descriptor chain ${chain.head}: ${reason}`);
  return false;
}
