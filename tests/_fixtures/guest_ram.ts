/**
 * Guest RAM for pure tests (plain ArrayBuffers behind `RegionGuestMemory`), and `RawRing`, a driver that writes
 * ring fields by hand so tests can build chains no correct driver would (hostile-input tests).
 *
 * @module
 */

import { RegionGuestMemory } from "../../src/memory/mod.ts";
import {
  DescriptorChain,
  readU16,
  readU32,
  SplitQueue,
  type SplitRingLayout,
  splitRingLayout,
  writeU16,
  writeU32,
} from "../../src/virtio/mod.ts";

/** Guest-physical base of test RAM: above 4 GiB, so an address mix-up between GPA and offset shows. */
export const RAM_GPA = 0x1_0000_0000;
/** Size of test RAM. */
export const RAM_SIZE = 0x10_0000;
/** Where tests put data buffers: past the rings. */
export const DATA_GPA = RAM_GPA + 0x8_0000;

/** Options of `guestRam()`. */
export interface GuestRamOptions {
  /** Guest-physical base; default `RAM_GPA`. */
  readonly gpa?: number;
  /** Total size; default `RAM_SIZE`. */
  readonly size?: number;
  /** Split the RAM into two adjacent regions at this offset. */
  readonly splitAt?: number;
  /** Memory table generation; default 1. */
  readonly generation?: number;
}

/** Builds guest RAM of one region (or two adjacent ones) over fresh zeroed buffers. */
export function guestRam(options: GuestRamOptions = {}): RegionGuestMemory {
  const { gpa = RAM_GPA, size = RAM_SIZE, splitAt, generation = 1 } = options;
  const sizes = splitAt === undefined ? [size] : [splitAt, size - splitAt];
  let at = gpa;
  const regions = sizes.map((n) => {
    const r = {
      gpa: at,
      size: n,
      frontendVa: 0x7f00_0000_0000 + (at - gpa),
      bytes: new Uint8Array(n),
      address: 0n,
    };
    at += n;
    return r;
  });
  return new RegionGuestMemory(regions, generation);
}

/** A descriptor as a test writes it; `addr` may be a bigint to go above 2^53. */
export interface RawDesc {
  readonly addr: number | bigint;
  readonly len: number;
  readonly flags?: number;
  readonly next?: number;
}

/** Writes `count` raw descriptors starting at `gpa` (a descriptor table or an indirect table). */
export function writeDescs(mem: RegionGuestMemory, gpa: number, descs: readonly RawDesc[]): void {
  const bytes = new Uint8Array(16 * descs.length);
  descs.forEach((d, i) => {
    const addr = BigInt(d.addr);
    writeU32(bytes, 16 * i, Number(addr & 0xffff_ffffn));
    writeU32(bytes, 16 * i + 4, Number(addr >> 32n));
    writeU32(bytes, 16 * i + 8, d.len);
    writeU16(bytes, 16 * i + 12, d.flags ?? 0);
    writeU16(bytes, 16 * i + 14, d.next ?? 0);
  });
  mem.write(gpa, bytes);
}

/** A hand-driven split ring: the test writes descriptors and avail entries itself. */
export class RawRing {
  readonly mem: RegionGuestMemory;
  readonly size: number;
  readonly layout: SplitRingLayout;

  constructor(mem: RegionGuestMemory, size: number, base = RAM_GPA) {
    this.mem = mem;
    this.size = size;
    this.layout = splitRingLayout(base, size);
  }

  /** Writes descriptors into the descriptor table from `index` on. */
  desc(index: number, ...descs: RawDesc[]): void {
    writeDescs(this.mem, this.layout.desc + 16 * index, descs);
  }

  /** Puts `head` in the next avail slot and bumps `avail.idx`. */
  offer(head: number): void {
    const idx = this.availIdx();
    this.#w16(this.layout.avail + 4 + 2 * (idx % this.size), head);
    this.setAvailIdx((idx + 1) & 0xffff);
  }

  availIdx(): number {
    return this.#r16(this.layout.avail + 2);
  }
  setAvailIdx(v: number): void {
    this.#w16(this.layout.avail + 2, v);
  }
  setAvailFlags(v: number): void {
    this.#w16(this.layout.avail, v);
  }
  setUsedEvent(v: number): void {
    this.#w16(this.layout.avail + 4 + 2 * this.size, v);
  }
  usedEvent(): number {
    return this.#r16(this.layout.avail + 4 + 2 * this.size);
  }
  usedIdx(): number {
    return this.#r16(this.layout.used + 2);
  }
  setUsedIdx(v: number): void {
    this.#w16(this.layout.used + 2, v);
  }
  setAvailEvent(v: number): void {
    this.#w16(this.layout.used + 4 + 8 * this.size, v);
  }
  availEvent(): number {
    return this.#r16(this.layout.used + 4 + 8 * this.size);
  }
  /** The used element at ring slot `slot`. */
  usedElem(slot: number): { id: number; len: number } {
    const b = new Uint8Array(8);
    this.mem.read(this.layout.used + 4 + 8 * (slot % this.size), b);
    return { id: readU32(b, 0), len: readU32(b, 4) };
  }

  /** A ready device queue on this ring, with a chain of matching capacity. */
  device(): { queue: SplitQueue; chain: DescriptorChain } {
    const queue = new SplitQueue(this.size);
    queue.setAddresses(this.layout);
    queue.setReady(true);
    return { queue, chain: new DescriptorChain(this.size) };
  }

  /** Pops one chain that must be there. */
  popOne(): { queue: SplitQueue; chain: DescriptorChain } {
    const d = this.device();
    if (!d.queue.popChain(this.mem, d.chain)) throw new Error("Cannot pop chain: avail ring is empty");
    return d;
  }

  #r16(gpa: number): number {
    const b = new Uint8Array(2);
    this.mem.read(gpa, b);
    return readU16(b, 0);
  }
  #w16(gpa: number, v: number): void {
    const b = new Uint8Array(2);
    writeU16(b, 0, v);
    this.mem.write(gpa, b);
  }
}
