/**
 * The checks of a request before it goes to the QAT: the software engine's refusals first (ERR for impossible
 * lengths, IVs and partial overlap), so both engines answer a bad request alike and the device never sees one;
 * then what the hardware path does not cover (`ENGINE_FAILED`: the router runs it in software and counts it):
 *
 * - a GCM nonce other than 12 bytes (single-pass GCM takes a 96-bit IV), or AAD of another length than the
 *   session's (the descriptor holds the AAD length);
 * - empty data (kept off the device: the firmware's handling of zero-length requests is not documented);
 * - chained AAD longer than the slot's sink, or a cipher region that straddles the place the AAD is spliced in.
 *
 * @module
 */

import type { CryptoOp } from "../../engine/mod.ts";
import { ENGINE_FAILED } from "../../engine/mod.ts";
import { overlapsPartially, Span } from "../../engine/software/span.ts";
import { Status } from "../../spec/virtio_crypto.ts";
import { GCM_IV_LEN, GCM_MAX_AAD } from "./session_plan.ts";
import { Kind, type QatSession } from "./session.ts";
import { SLOT_AAD_BYTES } from "./ticket.ts";

/** The nonce lengths the software engine accepts for GCM (`AEADS`): outside them the answer is ERR. */
const GCM_NONCE_MIN = 1;
const GCM_NONCE_MAX = 128;

/** Largest length a request field holds. */
const MAX_LENGTH = 0xffff_ffff;

/** Checks requests; holds the two spans the overlap test needs, so checking allocates nothing. */
export class RequestCheck {
  readonly #src = new Span();
  readonly #dst = new Span();

  /**
   * @param op The operation.
   * @param s Its session.
   * @returns `Status.OK` (build it), another status (the answer), or `ENGINE_FAILED` (software runs it).
   */
  check(op: CryptoOp, s: QatSession): number {
    try {
      switch (s.kind) {
        case Kind.CIPHER:
          return this.#cipher(op, s);
        case Kind.HASH:
        case Kind.MAC:
          if (op.digest.total < s.resultLen) return Status.ERR;
          return op.src.total === 0 || op.src.total > MAX_LENGTH ? ENGINE_FAILED : Status.OK;
        case Kind.AEAD:
          return this.#aead(op, s);
        default:
          return this.#chain(op, s);
      }
    } finally {
      this.#src.release();
      this.#dst.release();
    }
  }

  #overlaps(op: CryptoOp, length: number): boolean {
    return overlapsPartially(this.#src.set(op.src, 0, length), this.#dst.set(op.dst, 0, length));
  }

  #cipher(op: CryptoOp, s: QatSession): number {
    const n = op.src.total;
    if (op.dst.total < n || op.iv.total !== s.ivLen || n % s.unit !== 0 || this.#overlaps(op, n)) {
      return Status.ERR;
    }
    // Nothing to cipher is software's to answer (a zero-length request is not something to send a device).
    return n === 0 || n > MAX_LENGTH ? ENGINE_FAILED : Status.OK;
  }

  #aead(op: CryptoOp, s: QatSession): number {
    const n = op.src.total;
    if (op.digest.total !== s.resultLen || op.dst.total < n) return Status.ERR;
    if (op.iv.total < GCM_NONCE_MIN || op.iv.total > GCM_NONCE_MAX || this.#overlaps(op, n)) {
      return Status.ERR;
    }
    if (op.iv.total !== GCM_IV_LEN || op.aad.total !== s.aadLen || op.aad.total > GCM_MAX_AAD) {
      return ENGINE_FAILED;
    }
    return n === 0 || n > MAX_LENGTH ? ENGINE_FAILED : Status.OK;
  }

  #chain(op: CryptoOp, s: QatSession): number {
    const n = op.src.total;
    const inside = op.cipherOffset + op.cipherLen <= n && op.hashOffset + op.hashLen <= n;
    if (!inside || op.dst.total < n || op.digest.total < s.resultLen || op.iv.total !== s.ivLen) {
      return Status.ERR;
    }
    if (op.cipherLen % s.unit !== 0 || this.#overlaps(op, n)) return Status.ERR;
    const a = op.aad.total;
    if (a === 0) return n + a > MAX_LENGTH ? ENGINE_FAILED : Status.OK;
    const h = op.hashOffset;
    const straddles = op.cipherOffset < h && op.cipherOffset + op.cipherLen > h;
    return a > SLOT_AAD_BYTES || straddles || n + a > MAX_LENGTH ? ENGINE_FAILED : Status.OK;
  }
}
