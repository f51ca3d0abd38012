/**
 * The engine-owned scratch memory and walking state every session of one engine shares.
 *
 * An engine runs one operation at a time (it is synchronous), so one set of scratch buffers serves all its
 * sessions: out-parameters for OpenSSL (`int *outl`, `size_t *outl`), a block for blocks that straddle two
 * ranges, an IV and a tag/digest buffer for values split over ranges, a staging buffer for keys at session
 * creation, a key-stream buffer for 3DES-CTR, and a bounce buffer for the rare whole-message gathers (XTS, CCM,
 * long SHAKE outputs). Everything is allocated once, off the V8 heap (`allocHostMemory`), and referenced from
 * here for as long as the engine lives, so addresses given to C stay valid.
 *
 * @module
 */

import { allocHostMemory, type HostMemory } from "../host_memory.ts";
import type { SgList } from "../sg_list.ts";
import { SgCursor } from "./sg_cursor.ts";
import { Span } from "./span.ts";
import { hostAddress } from "./address.ts";

/** Largest message gathered into the bounce buffer (XTS and CCM over several ranges, SHAKE output): 1 MiB. */
export const MAX_GATHER = 1 << 20;

/** Largest key staged for OpenSSL (HMAC keys up to 512 bytes; ARC4 up to 256). */
export const MAX_STAGED_KEY = 512;

/** Scratch memory and walking state shared by the sessions of one engine. */
export class Workspace {
  /** Cursor over the source of a cipher pass. */
  readonly srcCursor: SgCursor = new SgCursor();
  /** Cursor over the destination of a cipher pass. */
  readonly dstCursor: SgCursor = new SgCursor();
  /** The cipher input region of the current operation. */
  readonly srcSpan: Span = new Span();
  /** The cipher output region of the current operation. */
  readonly dstSpan: Span = new Span();
  /** A third region: AAD, hashed region, tag. */
  readonly auxSpan: Span = new Span();
  /** One cipher block (16 bytes used) for blocks that straddle ranges. */
  readonly block: HostMemory = allocHostMemory(64);
  /** An IV split over ranges, gathered (GCM IVs go up to 128 bytes). */
  readonly iv: HostMemory = allocHostMemory(128);
  /** A tag or digest on its way in or out (SHA-512: 64 bytes). */
  readonly tag: HostMemory = allocHostMemory(64);
  /** 3DES-CTR key stream, a multiple of 8 bytes. */
  readonly keystream: HostMemory = allocHostMemory(4096);
  /** Address of the `int *outl` of EVP cipher calls. */
  readonly outl: bigint;
  /** Address of the `size_t *outl` of `EVP_MAC_final`. */
  readonly outlSize: bigint;
  readonly #out: HostMemory = allocHostMemory(16);
  readonly #key: HostMemory = allocHostMemory(MAX_STAGED_KEY);
  #bounce: HostMemory | null = null;

  constructor() {
    this.outl = this.#out.address;
    this.outlSize = this.#out.address + 8n;
  }

  /**
   * The address of an IV of `len` bytes: in place when contiguous, else gathered into `iv`.
   *
   * @param list The IV list (its total is the caller's check).
   * @param len IV length.
   * @returns A host address valid until the next operation.
   */
  ivAddress(list: SgList, len: number): bigint {
    if (list.count === 1) return hostAddress(list.memory[0]!.address, list.offset[0]!);
    this.srcCursor.seek(list, 0);
    this.srcCursor.read(this.iv.bytes, 0, len);
    return this.iv.address;
  }

  /**
   * Copies a span into engine memory (the rare whole-message gather).
   *
   * @param span The bytes.
   * @param to Destination, at least `span.length` bytes.
   */
  gather(span: Span, to: Uint8Array): void {
    this.srcCursor.seek(span.list, span.start);
    this.srcCursor.read(to, 0, span.length);
  }

  /**
   * Copies engine memory out to a span.
   *
   * @param span The destination bytes.
   * @param from Source, at least `span.length` bytes.
   */
  scatter(span: Span, from: Uint8Array): void {
    this.dstCursor.seek(span.list, span.start);
    this.dstCursor.write(from, 0, span.length);
  }

  /**
   * Copies a key into the staging buffer for one OpenSSL call; `unstageKey` zeroes it right after.
   *
   * @param key The key (at most `MAX_STAGED_KEY` bytes, the caller's check).
   * @returns The staged key's address.
   */
  stageKey(key: Uint8Array): bigint {
    this.#key.bytes.set(key);
    return this.#key.address;
  }

  /** Zeroes the key staging buffer. */
  unstageKey(): void {
    this.#key.bytes.fill(0);
  }

  /** The key staging buffer, for the test that checks it is zeroed. */
  get stagedKeyBytes(): Uint8Array {
    return this.#key.bytes;
  }

  /**
   * The bounce buffer, grown to at least `size` bytes.
   *
   * @param size Bytes needed.
   * @returns The buffer, or null when `size` exceeds `MAX_GATHER`.
   */
  bounce(size: number): HostMemory | null {
    if (size > MAX_GATHER) return null;
    if (this.#bounce === null || this.#bounce.bytes.length < size) {
      let n = 4096;
      while (n < size) n *= 2;
      this.#bounce = allocHostMemory(n);
    }
    return this.#bounce;
  }

  /** Forgets the lists of the last operation, so an idle engine keeps no guest memory alive. */
  release(): void {
    this.srcCursor.release();
    this.dstCursor.release();
    this.srcSpan.release();
    this.dstSpan.release();
    this.auxSpan.release();
  }

  /** Zeroes every scratch buffer (engine close). */
  wipe(): void {
    for (const m of [this.block, this.iv, this.tag, this.keystream, this.#key]) m.bytes.fill(0);
    this.#bounce?.bytes.fill(0);
  }
}
