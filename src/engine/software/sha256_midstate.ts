/**
 * SHA-256 midstates: the hash state after whole 64-byte blocks, read out of and loaded into OpenSSL's
 * `SHA256_CTX` (the low-level API, the only one that exposes the state).
 *
 * An accelerator that computes HMAC in hardware is given the two midstates of the key, after `K ^ ipad` and after
 * `K ^ opad` (RFC 2104 §2; FIPS 198-1 §4), so it never needs the key itself: Intel QAT's content descriptor holds
 * them as "state1" and "state2", big-endian words (DPDK `qat_sym_do_precomputes`, Linux `qat_alg_do_precomputes`).
 * `Sha256Resume` goes the other way: it continues a hash from a midstate, which is how a model of such a device
 * computes what the hardware would.
 *
 * Not on any per-request path of the bridge itself: sessions are made once, and the model is a test double.
 *
 * @module
 */

import { libcrypto as C, SHA256_CTX } from "../../../ffi/libcrypto.ts";
import { EngineError } from "../engine.ts";

/** SHA-256 block size in bytes. */
export const SHA256_BLOCK = 64;
/** SHA-256 state and digest size in bytes. */
export const SHA256_STATE = 32;

const HMAC_IPAD = 0x36;
const HMAC_OPAD = 0x5c;

/**
 * Whether this libcrypto still exports the low-level SHA-256 functions.
 *
 * @returns True when midstates can be computed.
 */
export function sha256MidstateAvailable(): boolean {
  return C.SHA256_Init !== null && C.SHA256_Update !== null && C.SHA256_Final !== null;
}

function symbols(): {
  init: NonNullable<typeof C.SHA256_Init>;
  update: NonNullable<typeof C.SHA256_Update>;
  final: NonNullable<typeof C.SHA256_Final>;
} {
  if (C.SHA256_Init === null || C.SHA256_Update === null || C.SHA256_Final === null) {
    throw new EngineError(
      "notsupp",
      "Cannot compute SHA-256 midstates: libcrypto lacks SHA256_Init/Update/Final",
    );
  }
  return { init: C.SHA256_Init, update: C.SHA256_Update, final: C.SHA256_Final };
}

/**
 * SHA-256 of a message (for HMAC keys longer than a block, which RFC 2104 hashes first).
 *
 * @param message The bytes.
 * @returns The 32-byte digest.
 */
export function sha256(message: Uint8Array): Uint8Array {
  const s = symbols();
  const ctx = new Uint8Array(SHA256_CTX.SIZE);
  const out = new Uint8Array(SHA256_STATE);
  if (s.init(ctx) !== 1 || s.update(ctx, message, BigInt(message.length)) !== 1 || s.final(out, ctx) !== 1) {
    throw new EngineError("unavailable", "Cannot compute SHA-256: OpenSSL failed");
  }
  ctx.fill(0);
  return out;
}

/**
 * The state after hashing exactly one 64-byte block, as big-endian words (the digest byte order).
 *
 * @param block 64 bytes.
 * @returns 32 bytes.
 * @throws RangeError when the block is not 64 bytes.
 */
export function sha256Midstate(block: Uint8Array): Uint8Array {
  if (block.length !== SHA256_BLOCK) {
    throw new RangeError(
      `Cannot compute a SHA-256 midstate: block must be 64 bytes: current value is ${block.length}`,
    );
  }
  const s = symbols();
  const ctx = new Uint8Array(SHA256_CTX.SIZE);
  if (s.init(ctx) !== 1 || s.update(ctx, block, BigInt(SHA256_BLOCK)) !== 1) {
    throw new EngineError("unavailable", "Cannot compute a SHA-256 midstate: OpenSSL failed");
  }
  const view = new DataView(ctx.buffer);
  const out = new Uint8Array(SHA256_STATE);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) outView.setUint32(4 * i, view.getUint32(SHA256_CTX.H + 4 * i, true), false);
  ctx.fill(0);
  return out;
}

/** The two HMAC-SHA-256 midstates of a key. */
export interface HmacMidstates {
  /** After `K' ^ ipad` (32 bytes, big-endian words). */
  readonly inner: Uint8Array;
  /** After `K' ^ opad`. */
  readonly outer: Uint8Array;
}

/**
 * The HMAC-SHA-256 midstates of a key (RFC 2104: a key longer than the block is hashed first, a shorter one is
 * padded with zeros). The pads are zeroed before returning.
 *
 * @param key The MAC key (any length).
 * @returns Inner and outer midstates.
 */
export function hmacSha256Midstates(key: Uint8Array): HmacMidstates {
  const k = key.length > SHA256_BLOCK ? sha256(key) : key;
  const ipad = new Uint8Array(SHA256_BLOCK).fill(HMAC_IPAD);
  const opad = new Uint8Array(SHA256_BLOCK).fill(HMAC_OPAD);
  for (let i = 0; i < k.length; i++) {
    ipad[i]! ^= k[i]!;
    opad[i]! ^= k[i]!;
  }
  try {
    return { inner: sha256Midstate(ipad), outer: sha256Midstate(opad) };
  } finally {
    ipad.fill(0);
    opad.fill(0);
    if (k !== key) k.fill(0);
  }
}

/** A SHA-256 computation continued from a midstate. */
export class Sha256Resume {
  readonly #ctx = new Uint8Array(SHA256_CTX.SIZE);
  readonly #s = symbols();

  /**
   * @param state 32 bytes, big-endian words (a midstate, or the initial state H0 for a plain hash).
   * @param doneBytes Bytes the state already covers (a multiple of 64; it goes into the length padding).
   */
  constructor(state: Uint8Array, doneBytes: number) {
    if (state.length !== SHA256_STATE || doneBytes % SHA256_BLOCK !== 0 || doneBytes < 0) {
      throw new RangeError(
        `Cannot resume SHA-256: state must be 32 bytes after whole blocks: ${state.length} bytes after ${doneBytes}`,
      );
    }
    if (this.#s.init(this.#ctx) !== 1) {
      throw new EngineError("unavailable", "Cannot resume SHA-256: SHA256_Init");
    }
    const view = new DataView(this.#ctx.buffer);
    const src = new DataView(state.buffer, state.byteOffset, state.length);
    for (let i = 0; i < 8; i++) view.setUint32(SHA256_CTX.H + 4 * i, src.getUint32(4 * i, false), true);
    const bits = doneBytes * 8;
    view.setUint32(SHA256_CTX.NL, bits >>> 0, true);
    view.setUint32(SHA256_CTX.NH, Math.floor(bits / 0x1_0000_0000), true);
  }

  /**
   * Hashes more bytes.
   *
   * @param data The bytes.
   * @returns This computation.
   */
  update(data: Uint8Array): this {
    if (data.length > 0 && this.#s.update(this.#ctx, data, BigInt(data.length)) !== 1) {
      throw new EngineError("unavailable", "Cannot resume SHA-256: SHA256_Update failed");
    }
    return this;
  }

  /**
   * Finishes (pads with the total length) and returns the digest.
   *
   * @returns 32 bytes.
   */
  digest(): Uint8Array {
    const out = new Uint8Array(SHA256_STATE);
    if (this.#s.final(out, this.#ctx) !== 1) {
      throw new EngineError("unavailable", "Cannot resume SHA-256: SHA256_Final failed");
    }
    this.#ctx.fill(0);
    return out;
  }
}
