/**
 * Scatter-gather lists as the QAT firmware reads them (`struct qat_sgl` in DPDK `qat_common.h`, `qat_alg_buf_list`
 * in Linux): a 16-byte header `{u64 reserved; u32 num_bufs; u32 num_mapped_bufs}` and 16-byte entries
 * `{u32 len; u32 reserved; u64 addr}`, little-endian, 64-byte aligned. A request whose source or destination is
 * more than one range points at a list instead of a buffer and sets `COMN_PTR_SGL`.
 *
 * `SglBuilder` writes a list in place through the slot's 32-bit words: nothing is allocated per request.
 *
 * @module
 */

/** Header bytes. */
export const SGL_HEADER = 16;
/** Bytes per entry. */
export const SGL_ENTRY = 16;

/**
 * Bytes of a list of `entries`.
 *
 * @param entries Entries.
 * @returns Bytes.
 */
export function sglBytes(entries: number): number {
  return SGL_HEADER + SGL_ENTRY * entries;
}

/** One list in a slot, refilled per request. */
export class SglBuilder {
  readonly #words: Uint32Array;
  readonly #first: number;
  readonly #capacity: number;
  /** Where the device sees the list. */
  readonly iova: number;
  /** Entries so far. */
  count = 0;
  /** Bytes so far. */
  total = 0;
  // The first entry, kept apart: a one-entry list is sent as a flat buffer instead.
  firstIova = 0;

  /**
   * @param words 32-bit view of the memory the list is in.
   * @param byteOffset Offset of the list in that memory (16-byte aligned).
   * @param iova Where the device sees it.
   * @param capacity Most entries.
   */
  constructor(words: Uint32Array, byteOffset: number, iova: number, capacity: number) {
    this.#words = words;
    this.#first = byteOffset >>> 2;
    this.#capacity = capacity;
    this.iova = iova;
  }

  /** Empties the list. */
  reset(): void {
    this.count = 0;
    this.total = 0;
  }

  /**
   * Appends a range, merged with the last one when it continues it.
   *
   * @param iova Device address.
   * @param length Bytes (0 is ignored).
   * @returns False when the list is full.
   */
  push(iova: number, length: number): boolean {
    if (length === 0) return true;
    const w = this.#words;
    if (this.count > 0) {
      const last = this.#first + 4 + 4 * (this.count - 1);
      const end = w[last + 2]! + w[last + 3]! * 0x1_0000_0000 + w[last]!;
      if (end === iova && w[last]! + length <= 0xffff_ffff) {
        w[last] = w[last]! + length;
        this.total += length;
        return true;
      }
    }
    if (this.count === this.#capacity) return false;
    if (this.count === 0) this.firstIova = iova;
    const at = this.#first + 4 + 4 * this.count;
    w[at] = length;
    w[at + 1] = 0;
    w[at + 2] = iova >>> 0;
    w[at + 3] = Math.floor(iova / 0x1_0000_0000);
    this.count++;
    this.total += length;
    return true;
  }

  /** Writes the header (reserved, `num_bufs`, `num_mapped_bufs` 0 as DPDK leaves it). */
  finish(): void {
    const w = this.#words;
    const h = this.#first;
    w[h] = 0;
    w[h + 1] = 0;
    w[h + 2] = this.count;
    w[h + 3] = 0;
  }

  /** Whether the request can point at one flat buffer instead of the list. */
  get flat(): boolean {
    return this.count <= 1;
  }

  /** The address to put in the request: the buffer itself when flat, else the list. */
  get address(): number {
    return this.count <= 1 ? (this.count === 0 ? 0 : this.firstIova) : this.iova;
  }
}

/** One list entry, decoded. */
export interface SglEntry {
  readonly length: number;
  readonly iova: number;
}

/**
 * Reads a list (tests and the device model's reference).
 *
 * @param bytes The memory.
 * @param offset The list's offset.
 * @returns Its entries.
 */
export function readSgl(bytes: Uint8Array, offset: number): SglEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset);
  const count = view.getUint32(8, true);
  const out: SglEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = SGL_HEADER + SGL_ENTRY * i;
    out.push({ length: view.getUint32(at, true), iova: Number(view.getBigUint64(at + 8, true)) });
  }
  return out;
}
