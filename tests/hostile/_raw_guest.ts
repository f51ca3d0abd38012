/**
 * The raw guest of hostile-input tests: memfd guest RAM, vring 0 whose descriptors, indirect tables and avail
 * entries the test writes by hand (chains no correct driver would build), real kick/call/err eventfds, canary-filled
 * buffers to catch any stray write, and request headers packed field by field.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Status } from "../../src/spec/virtio_crypto.ts";
import { readVhostSessionReply, type VhostSessionRequest } from "../../src/crypto/mod.ts";
import { GuestRam } from "../../src/frontend/mod.ts";
import { EventFd } from "../../src/os/mod.ts";
import {
  memTablePayload,
  Request,
  u64Payload,
  vringAddrPayload,
  vringStatePayload,
} from "../../src/vhost_user/mod.ts";
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, writeU32 } from "../../src/virtio/mod.ts";
import { type RawDesc, RawRing, writeDescs } from "../_fixtures/guest_ram.ts";
import { CT, IV, PT, RawPeer, sessionPayload, until } from "./_helpers.ts";

/** Queue size of the raw guest's vring 0. */
export const QSIZE = 16;
/** Bytes of the raw guest's RAM. */
export const RAM_SIZE = 1 << 20;
const INDIRECT_OFF = 0x1000; // indirect tables
const DATA_OFF = 0x4000; // request buffers

/** One buffer of a chain: where and how long, and whether the device writes it. */
export interface Buf {
  readonly gpa: number;
  readonly len: number;
  readonly write?: boolean;
}

/** A completed request as the guest sees it. */
export interface Completion {
  /** `id` of the used element (the head). */
  readonly id: number;
  /** `len` of the used element. */
  readonly len: number;
  /** Guest-physical addresses of bytes the device changed outside the allowed ranges (empty: none). */
  readonly strayWrites: number[];
}

/**
 * A guest driver with no driver logic: vring 0 of `QSIZE` entries at the start of a 1 MiB memfd, descriptors,
 * indirect tables and buffers written by the test, kick/call/err eventfds handed over as QEMU does.
 */
export class RawGuest implements Disposable {
  readonly peer: RawPeer;
  readonly ram: GuestRam;
  readonly ring: RawRing;
  readonly kick: EventFd = new EventFd();
  readonly call: EventFd = new EventFd();
  readonly err: EventFd = new EventFd();
  #next = 0;

  private constructor(peer: RawPeer, ram: GuestRam) {
    this.peer = peer;
    this.ram = ram;
    this.ring = new RawRing(ram.memory, QSIZE, ram.region.gpa);
  }

  /**
   * Connects, negotiates like QEMU 7.2, sends the memory table and starts vring 0.
   *
   * @param t The daemon (or just its socket).
   * @param ram Guest RAM of `RAM_SIZE` bytes (owned from now on); default a memfd sealed as QEMU seals it.
   */
  static async open(t: { readonly socket: string }, ram?: GuestRam): Promise<RawGuest> {
    const g = new RawGuest(RawPeer.connect(t.socket), ram ?? new GuestRam(RAM_SIZE));
    try {
      await g.peer.negotiate();
      g.peer.send(
        Request.SET_MEM_TABLE,
        memTablePayload([{
          guestPhysAddr: g.ram.region.gpa,
          memorySize: g.ram.size,
          userspaceAddr: g.ram.region.frontendVa,
          mmapOffset: 0,
        }]),
        { fds: [g.ram.fd.raw] },
      );
      await g.startRing(0);
      return g;
    } catch (e) {
      g.close();
      throw e;
    }
  }

  /** SET_VRING_NUM, _BASE, _ADDR, _CALL, _ERR and _KICK for vring 0, as QEMU's `vhost_virtqueue_start`. */
  async startRing(base: number): Promise<void> {
    const p = this.peer;
    const l = this.ring.layout;
    p.send(Request.SET_VRING_NUM, vringStatePayload(0, QSIZE));
    p.send(Request.SET_VRING_BASE, vringStatePayload(0, base));
    p.send(
      Request.SET_VRING_ADDR,
      vringAddrPayload({
        index: 0,
        flags: 0,
        descUserAddr: this.ram.frontendVa(l.desc),
        availUserAddr: this.ram.frontendVa(l.avail),
        usedUserAddr: this.ram.frontendVa(l.used),
      }),
    );
    p.send(Request.SET_VRING_CALL, u64Payload(0n), { fds: [this.call.fd] });
    p.send(Request.SET_VRING_ERR, u64Payload(0n), { fds: [this.err.fd] });
    p.send(Request.SET_VRING_KICK, u64Payload(0n), { fds: [this.kick.fd] });
    await p.features();
  }

  /** Creates a session through message 26 and returns its id (fails on refusal). */
  async createSession(req: Partial<VhostSessionRequest> = {}): Promise<bigint> {
    const id = readVhostSessionReply(
      await this.peer.request(Request.CREATE_CRYPTO_SESSION, sessionPayload(req)),
    );
    assert.ok(id >= 0n, `session refused: ${id}`);
    return id;
  }

  /** Fills indirect tables and buffers with a canary pattern and starts placing buffers from the beginning. */
  reset(): void {
    const bytes = this.ram.region.bytes;
    for (let i = INDIRECT_OFF; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
    this.#next = DATA_OFF;
  }

  /** Reserves `len` bytes of buffer space (16-byte aligned); the canary stays in it. */
  alloc(len: number): number {
    const gpa = this.ram.region.gpa + this.#next;
    this.#next += Math.ceil(Math.max(len, 1) / 16) * 16;
    assert.ok(this.#next <= this.ram.size, "raw guest RAM exhausted");
    return gpa;
  }

  /** Places bytes in a new buffer. */
  put(bytes: Uint8Array): number {
    const gpa = this.alloc(bytes.length);
    this.ram.view(gpa, bytes.length).set(bytes);
    return gpa;
  }

  /** An indirect table's address (the tables share one area; one request at a time). */
  get indirectGpa(): number {
    return this.ram.region.gpa + INDIRECT_OFF;
  }

  /** A guest-physical address `off` bytes past the end of guest RAM (negative: inside, near the end). */
  end(off = 0): number {
    return this.ram.region.gpa + this.ram.size + off;
  }

  /**
   * Writes `bufs` as a linked chain: direct descriptors from table index `at`, or (indirect) one INDIRECT
   * descriptor at `at` pointing to a table in the indirect area.
   *
   * @returns The head index.
   */
  chain(bufs: readonly Buf[], o: { indirect?: boolean; at?: number } = {}): number {
    const at = o.at ?? 0;
    const base = o.indirect ? 0 : at;
    const descs: RawDesc[] = bufs.map((b, i) => ({
      addr: b.gpa,
      len: b.len,
      flags: (b.write ? 2 : 0) | (i + 1 < bufs.length ? VIRTQ_DESC_F_NEXT : 0),
      next: i + 1 < bufs.length ? base + i + 1 : 0,
    }));
    if (!o.indirect) {
      this.ring.desc(at, ...descs);
      return at;
    }
    writeDescs(this.ring.mem, this.indirectGpa, descs);
    this.ring.desc(at, { addr: this.indirectGpa, len: 16 * descs.length, flags: VIRTQ_DESC_F_INDIRECT });
    return at;
  }

  /**
   * Offers `head`, kicks, and waits for the used element. Every byte of guest RAM the device changed outside
   * `allowed` ranges and the used ring is reported in `strayWrites`.
   */
  async run(head: number, allowed: readonly Buf[] = []): Promise<Completion> {
    const usedIdx = this.ring.usedIdx();
    this.ring.offer(head);
    const before = this.ram.region.bytes.slice();
    this.kick.signal();
    await until(() => this.ring.usedIdx() !== usedIdx, "a used element");
    assert.equal(this.ring.usedIdx(), (usedIdx + 1) & 0xffff, "exactly one used element");
    const elem = this.ring.usedElem(usedIdx);
    return { ...elem, strayWrites: this.#stray(before, allowed) };
  }

  /**
   * Offers `head` (or only moves `avail.idx` to `availIdx`), kicks, and waits for the ring's SET_VRING_ERR eventfd;
   * checks that nothing was completed.
   */
  async runBroken(head: number | null, availIdx?: number): Promise<void> {
    const usedIdx = this.ring.usedIdx();
    if (head !== null) this.ring.offer(head);
    if (availIdx !== undefined) this.ring.setAvailIdx(availIdx);
    this.kick.signal();
    let errors = 0n;
    await until(() => (errors += this.err.consume()) > 0n, "the SET_VRING_ERR eventfd");
    assert.equal(this.ring.usedIdx(), usedIdx, "a broken ring completes nothing");
  }

  #stray(before: Uint8Array, allowed: readonly Buf[]): number[] {
    const now = this.ram.region.bytes;
    const gpa0 = this.ram.region.gpa;
    const usedStart = this.ring.layout.used - gpa0;
    const usedEnd = this.ring.layout.end - gpa0;
    const stray: number[] = [];
    for (let i = 0; i < now.length; i++) {
      if (now[i] === before[i] || (i >= usedStart && i < usedEnd)) continue;
      const gpa = gpa0 + i;
      if (allowed.some((b) => gpa >= b.gpa && gpa < b.gpa + b.len)) continue;
      stray.push(gpa);
    }
    return stray;
  }

  close(): void {
    this.peer.close();
    this.kick.close();
    this.call.close();
    this.err.close();
    this.ram.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Request headers written field by field (legacy layout, 72 bytes), so any value can be sent

/** Fields of a legacy sym data request header; unset ones are 0. */
export interface SymHeader {
  readonly opcode?: number;
  readonly session: bigint;
  readonly opType?: number;
  readonly ivLen?: number;
  readonly srcLen?: number;
  readonly dstLen?: number;
  /** Chaining: cipher_start_src_offset, len_to_cipher, hash_start_src_offset, len_to_hash, aad_len, hash_result_len. */
  readonly chain?: readonly [number, number, number, number, number, number];
}

/** `struct virtio_crypto_op_data_req` in the legacy layout: 24-byte header, 48-byte sym flf. */
export function symHeader(h: SymHeader): Uint8Array {
  const b = new Uint8Array(72);
  writeU32(b, 0, h.opcode ?? 0);
  writeU32(b, 8, Number(h.session & 0xffff_ffffn));
  writeU32(b, 12, Number(h.session >> 32n));
  writeU32(b, 24, h.ivLen ?? 0);
  writeU32(b, 28, h.srcLen ?? 0);
  writeU32(b, 32, h.dstLen ?? 0);
  if (h.chain !== undefined) h.chain.forEach((v, i) => writeU32(b, 36 + 4 * i, v));
  writeU32(b, 64, h.opType ?? 1);
  return b;
}

/** The buffers of a Linux-shaped AES-CBC request for SP 800-38A F.2.1, and where its output goes. */
export interface CbcBuffers {
  readonly bufs: Buf[];
  readonly dst: Buf;
  readonly status: Buf;
}

/** Places header | IV | PT | dst (64, W) | status (1, W) in guest RAM (after `reset()`). */
export function cbcBuffers(g: RawGuest, session: bigint, header?: Uint8Array): CbcBuffers {
  const hdr = header ?? symHeader({ session, ivLen: 16, srcLen: 64, dstLen: 64 });
  const dst = { gpa: g.alloc(64), len: 64, write: true };
  const status = { gpa: g.alloc(1), len: 1, write: true };
  g.ram.view(status.gpa, 1)[0] = 0xee;
  const bufs = [
    { gpa: g.put(hdr), len: hdr.length },
    { gpa: g.put(IV), len: 16 },
    { gpa: g.put(PT), len: 64 },
    dst,
    status,
  ];
  return { bufs, dst, status };
}

/** The status byte at `b`. */
export function statusAt(g: RawGuest, b: Buf): number {
  return g.ram.view(b.gpa, 1)[0]!;
}

/** Runs a good AES-CBC request on the raw guest's ring: proves the queue still serves. */
export async function assertRingServes(g: RawGuest, session: bigint): Promise<void> {
  g.reset();
  const r = cbcBuffers(g, session);
  const c = await g.run(g.chain(r.bufs, { indirect: true, at: 3 }), [r.dst, r.status]);
  assert.equal(statusAt(g, r.status), Status.OK);
  assert.deepEqual(g.ram.view(r.dst.gpa, 64).slice(), CT);
  assert.deepEqual({ id: c.id, len: c.len, stray: c.strayWrites }, { id: 3, len: 65, stray: [] });
}
