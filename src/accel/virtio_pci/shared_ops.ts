/**
 * Operations of a VM whose accelerator queue is shared, as they cross from the VM's thread to the thread that
 * drives the queue: a fixed array of op slots in shared memory. The VM's thread writes an operation's session
 * handle, chain offsets and scatter-gather lists (host address, length, guest-physical address of every range)
 * into a free slot and pushes the slot's number; the queue's thread reads it back into a `CryptoOp` whose ranges
 * are views of the same memory (the process's addresses are valid in every thread).
 *
 * Per slot: 16 header words, then 5 lists (iv, src, dst, aad, digest) of at most `SHARED_SEGMENTS` ranges of three
 * doubles each: address, guest-physical address (NaN for host memory), length.
 *
 * @module
 */

import type { CryptoOp, HostMemory, SgList } from "../../engine/mod.ts";

/** Most ranges per list of a shared operation (more: the request goes to software). */
export const SHARED_SEGMENTS = 16;

const HEADER_WORDS = 16;
const LISTS = 5;
const ENTRY_DOUBLES = 3;
const SLOT_BYTES = HEADER_WORDS * 4 + LISTS * SHARED_SEGMENTS * ENTRY_DOUBLES * 8;

const H_SESSION = 0;
const H_CIPHER_OFFSET = 1;
const H_CIPHER_LEN = 2;
const H_HASH_OFFSET = 3;
const H_HASH_LEN = 4;
const H_COUNTS = 5; // five counts, one per list

/**
 * Shared memory for `slots` op slots.
 *
 * @param slots Slots.
 * @returns The buffer.
 */
export function createOpSlots(slots: number): SharedArrayBuffer {
  return new SharedArrayBuffer(slots * SLOT_BYTES);
}

function listsOf(op: CryptoOp): readonly SgList[] {
  return [op.iv, op.src, op.dst, op.aad, op.digest];
}

/** A view of the op slots in one thread. */
export class OpSlots {
  readonly #words: Uint32Array;
  readonly #doubles: Float64Array;

  /** @param buffer From `createOpSlots`. */
  constructor(buffer: SharedArrayBuffer) {
    this.#words = new Uint32Array(buffer);
    this.#doubles = new Float64Array(buffer);
  }

  /**
   * The VM's thread: writes an operation into a slot.
   *
   * @param slot The slot.
   * @param op The operation (its memory must have host addresses).
   * @param session The session's handle at the queue's thread.
   * @returns False when it does not fit (too many ranges, or memory without a host address).
   */
  write(slot: number, op: CryptoOp, session: number): boolean {
    const w = (slot * SLOT_BYTES) / 4;
    const words = this.#words;
    words[w + H_SESSION] = session;
    words[w + H_CIPHER_OFFSET] = op.cipherOffset;
    words[w + H_CIPHER_LEN] = op.cipherLen;
    words[w + H_HASH_OFFSET] = op.hashOffset;
    words[w + H_HASH_LEN] = op.hashLen;
    const lists = listsOf(op);
    for (let l = 0; l < LISTS; l++) {
      const list = lists[l]!;
      if (list.count > SHARED_SEGMENTS) return false;
      words[w + H_COUNTS + l] = list.count;
      let d = (slot * SLOT_BYTES + HEADER_WORDS * 4) / 8 + l * SHARED_SEGMENTS * ENTRY_DOUBLES;
      for (let i = 0; i < list.count; i++, d += ENTRY_DOUBLES) {
        const memory = list.memory[i]!;
        if (memory.address === 0n) return false;
        this.#doubles[d] = Number(memory.address) + list.offset[i]!;
        this.#doubles[d + 1] = list.gpa[i]!;
        this.#doubles[d + 2] = list.length[i]!;
      }
    }
    return true;
  }

  /**
   * The queue's thread: reads a slot into an operation (views over the same memory; one small allocation per
   * range: the shared path pays it, the exclusive path does not).
   *
   * @param slot The slot.
   * @param op A reset operation to fill.
   * @returns The session handle.
   */
  read(slot: number, op: CryptoOp): number {
    const w = (slot * SLOT_BYTES) / 4;
    const words = this.#words;
    op.cipherOffset = words[w + H_CIPHER_OFFSET]!;
    op.cipherLen = words[w + H_CIPHER_LEN]!;
    op.hashOffset = words[w + H_HASH_OFFSET]!;
    op.hashLen = words[w + H_HASH_LEN]!;
    const lists = listsOf(op);
    for (let l = 0; l < LISTS; l++) {
      const count = Math.min(words[w + H_COUNTS + l]!, SHARED_SEGMENTS);
      let d = (slot * SLOT_BYTES + HEADER_WORDS * 4) / 8 + l * SHARED_SEGMENTS * ENTRY_DOUBLES;
      for (let i = 0; i < count; i++, d += ENTRY_DOUBLES) {
        const length = this.#doubles[d + 2]!;
        lists[l]!.push(view(this.#doubles[d]!, length), 0, length, this.#doubles[d + 1]!);
      }
    }
    return words[w + H_SESSION]!;
  }
}

const EMPTY = new Uint8Array(0);

function view(address: number, length: number): HostMemory {
  if (length === 0) return { bytes: EMPTY, address: BigInt(address) };
  const pointer = Deno.UnsafePointer.create(BigInt(address))!;
  // UNSAFE: the VM's thread keeps this memory mapped until the operation completes (it drains before unmapping).
  return {
    bytes: new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer, length)),
    address: BigInt(address),
  };
}
