/**
 * The payload of vhost-user message 26, `VHOST_USER_CREATE_CRYPTO_SESSION`: QEMU's `VhostUserCryptoSession`, which
 * is a C struct copied as is and has had three layouts (interop.md §1.3; native endian = little-endian, LP64):
 *
 * - **A**, QEMU ≤ 7.0, 632 bytes: `session_id`@0 (i64), `op_code`@8, `cipher_alg`@12, `key_len`@16, `hash_alg`@20,
 *   `hash_result_len`@24, `auth_key_len`@28, `add_len`@32, u8 `op_type`@36, `direction`@37, `hash_mode`@38,
 *   `alg_chain_order`@39, pointers @40 @48, `key[64]`@56, `auth_key[512]`@120.
 * - **B**, QEMU 7.1-8.0 (Debian 12's 7.2), 632 bytes: no `op_code`; the scalars start at 8 (`cipher_alg`@8,
 *   `key_len`@12, ... `op_type`@32, `direction`@33, `hash_mode`@34, `alg_chain_order`@35); keys as in A.
 * - **C**, QEMU ≥ 8.1, 1072 bytes: `op_code`@0 (u64), a union @8 (sym: the B offsets; asym: `algo`@8,
 *   `keytype`@12, `keylen`@16, pointer @24, `rsa.padding_algo`@32, `rsa.hash_alg`@36, `key[1024]`@40),
 *   `session_id`@1064 (i64).
 *
 * Pointer fields are QEMU host pointers and are ignored. Key lengths are checked against their buffers before any
 * key byte is read (CVE-2020-10724: DPDK read past the 64/512-byte key arrays).
 *
 * @module
 */

import { Opcode, SymOpType } from "../spec/virtio_crypto.ts";
import { readU32, readU64, writeU32, writeU64, writeU8 } from "../virtio/le.ts";
import { CryptoWireError } from "./wire.ts";
import { hex, requireKeyLen } from "./_wire_util.ts";

/** A `VhostUserCryptoSession` layout: A (QEMU ≤ 7.0), B (7.1-8.0), C (≥ 8.1). */
export type VhostSessionLayout = "A" | "B" | "C";

/** Payload size of layouts A and B. */
export const VHOST_SESSION_SIZE_AB = 632;
/** Payload size of layout C. */
export const VHOST_SESSION_SIZE_C = 1072;
/** `VHOST_CRYPTO_SYM_CIPHER_MAX_KEY_LEN`: the `key` array. */
export const VHOST_SYM_CIPHER_MAX_KEY_LEN = 64;
/** `VHOST_CRYPTO_SYM_HMAC_MAX_KEY_LEN`: the `auth_key` array. */
export const VHOST_SYM_HMAC_MAX_KEY_LEN = 512;
/** `VHOST_CRYPTO_ASYM_MAX_KEY_LEN`: the asym `key` array. */
export const VHOST_ASYM_MAX_KEY_LEN = 1024;

const KEY_OFF = 56; // sym key[64], every layout
const AUTH_KEY_OFF = 120; // sym auth_key[512], every layout
const ASYM_KEY_OFF = 40; // asym key[1024], layout C
const SESSION_ID_OFF_C = 1064;

/** A cipher-only session (`op_type` = `VIRTIO_CRYPTO_SYM_OP_CIPHER`). */
export interface VhostCipherSession {
  /** The session type. */
  readonly kind: "cipher";
  /** `cipher_alg`: `VIRTIO_CRYPTO_CIPHER_*`. */
  readonly cipherAlg: number;
  /** `direction`: `VIRTIO_CRYPTO_OP_ENCRYPT` (1) or `_DECRYPT` (2). */
  readonly direction: number;
  /** `key[key_len]`, copied out of the payload. */
  readonly key: Uint8Array;
}

/** An algorithm chaining session (`op_type` = `VIRTIO_CRYPTO_SYM_OP_ALGORITHM_CHAINING`). */
export interface VhostChainSession {
  /** The session type. */
  readonly kind: "chain";
  /** `cipher_alg`: `VIRTIO_CRYPTO_CIPHER_*`. */
  readonly cipherAlg: number;
  /** `direction`: `VIRTIO_CRYPTO_OP_*`. */
  readonly direction: number;
  /** `key[key_len]`, copied. */
  readonly key: Uint8Array;
  /** `hash_alg`: `VIRTIO_CRYPTO_HASH_*` or, in AUTH mode, `VIRTIO_CRYPTO_MAC_*`. */
  readonly hashAlg: number;
  /** `hash_result_len`. */
  readonly hashResultLen: number;
  /** `auth_key[auth_key_len]`, copied (QEMU fills it in AUTH mode only). */
  readonly authKey: Uint8Array;
  /** `add_len`: QEMU's name for the chaining session's `aad_len`. */
  readonly addLen: number;
  /** `hash_mode`: `VIRTIO_CRYPTO_SYM_HASH_MODE_*`. */
  readonly hashMode: number;
  /** `alg_chain_order`: `VIRTIO_CRYPTO_SYM_ALG_CHAIN_ORDER_*`. */
  readonly algChainOrder: number;
}

/** An asymmetric session (layout C, `op_code` = `VIRTIO_CRYPTO_AKCIPHER_CREATE_SESSION`). */
export interface VhostAkcipherSession {
  /** The session type. */
  readonly kind: "akcipher";
  /** `algo`: `VIRTIO_CRYPTO_AKCIPHER_*` (QEMU passes the guest's value through). */
  readonly algo: number;
  /** `keytype`: `VIRTIO_CRYPTO_AKCIPHER_KEY_TYPE_*`. */
  readonly keyType: number;
  /** `key[keylen]`, copied (DER, as the guest sent it). */
  readonly key: Uint8Array;
  /** `rsa.padding_algo`. */
  readonly paddingAlgo: number;
  /** `rsa.hash_alg`. */
  readonly hashAlg: number;
}

/** A `CREATE_CRYPTO_SESSION` request, the same whatever the layout. */
export type VhostSessionRequest = VhostCipherSession | VhostChainSession | VhostAkcipherSession;

/**
 * Tells the layout of a payload from its size and, for 632 bytes, its contents.
 *
 * 1072 bytes is C. 632 bytes is A when u32@8 is 2 (`op_code` = `VIRTIO_CRYPTO_CIPHER_CREATE_SESSION`), u32@12 is a
 * cipher algorithm (≤ 14) and byte 36 (A's `op_type`) is 1 or 2; otherwise B. In B, u32@8 is `cipher_alg`, u32@12
 * `key_len` and byte 36 is struct padding (zero: QEMU builds the struct from zeroed memory).
 *
 * Limits: a B payload is taken for A only if `cipher_alg` is 2 (AES-ECB) with `key_len` ≤ 14 (no valid AES key)
 * and a nonzero padding byte 36; an A payload is taken for B only if its `op_type` is not 1 or 2, which QEMU
 * refuses before sending. A caller that knows its QEMU passes the layout to {@linkcode decodeVhostSession}.
 *
 * @param payload The message payload (`hdr.size` bytes).
 * @returns The layout.
 * @throws {CryptoWireError} `bad-payload-size` for any size but 632 and 1072.
 */
export function detectVhostSessionLayout(payload: Uint8Array): VhostSessionLayout {
  if (payload.length === VHOST_SESSION_SIZE_C) return "C";
  if (payload.length !== VHOST_SESSION_SIZE_AB) {
    throw new CryptoWireError(
      "bad-payload-size",
      `Cannot decode crypto session: payload must be 632 or 1072 bytes: current length is ${payload.length}`,
    );
  }
  const opType = payload[36];
  const looksLikeA = readU32(payload, 8) === Opcode.CIPHER_CREATE_SESSION && readU32(payload, 12) <= 14 &&
    (opType === SymOpType.CIPHER || opType === SymOpType.ALGORITHM_CHAINING);
  return looksLikeA ? "A" : "B";
}

function sizeOf(layout: VhostSessionLayout): number {
  return layout === "C" ? VHOST_SESSION_SIZE_C : VHOST_SESSION_SIZE_AB;
}

/**
 * Decodes a `CREATE_CRYPTO_SESSION` payload into a layout-independent request, with the keys copied out.
 *
 * @param payload The message payload.
 * @param layout The layout, to override {@linkcode detectVhostSessionLayout}.
 * @returns The request.
 * @throws {CryptoWireError} `bad-payload-size` (size unknown, or not the given layout's), `unknown-opcode`
 *   (`op_code` other than CIPHER or AKCIPHER create session), `unknown-op-type` (`op_type` not CIPHER or
 *   ALGORITHM_CHAINING), `key-too-long` (`key_len` > 64, `auth_key_len` > 512 for chaining sessions (cipher-only
 *   sessions never read `auth_key`), asym `keylen` > 1024).
 *
 * @example QEMU 7.2 (layout B), an AES-128-CBC encrypt session
 * ```ts
 * import { decodeVhostSession } from "./vhost_session.ts";
 * import assert from "node:assert/strict";
 *
 * const p = new Uint8Array(632);
 * p[8] = 3; // cipher_alg AES_CBC
 * p[12] = 16; // key_len
 * p[32] = 1; // op_type CIPHER
 * p[33] = 1; // direction ENCRYPT
 * p.fill(0xaa, 56, 72); // key
 * const s = decodeVhostSession(p);
 * assert.equal(s.kind, "cipher");
 * assert.deepEqual(s.key, new Uint8Array(16).fill(0xaa));
 * ```
 */
export function decodeVhostSession(payload: Uint8Array, layout?: VhostSessionLayout): VhostSessionRequest {
  const l = layout ?? detectVhostSessionLayout(payload);
  const size = sizeOf(l);
  if (payload.length !== size) {
    const why = `payload must be ${size} bytes: current length is ${payload.length}`;
    throw new CryptoWireError("bad-payload-size", `Cannot decode crypto session as layout ${l}: ${why}`);
  }
  if (l === "B") return decodeSym(payload, 8);
  // C declares op_code u64, DPDK u32 + padding: only the low 32 bits are common ground.
  const opCode = readU32(payload, l === "A" ? 8 : 0);
  if (l === "C" && opCode === Opcode.AKCIPHER_CREATE_SESSION) return decodeAsym(payload);
  if (opCode !== Opcode.CIPHER_CREATE_SESSION) {
    const why = `op_code must be CIPHER or AKCIPHER create session: current value is ${hex(opCode)}`;
    throw new CryptoWireError("unknown-opcode", `Cannot decode crypto session: ${why}`);
  }
  return decodeSym(payload, l === "A" ? 12 : 8);
}

/** `CryptoDevBackendSymSessionInfo` scalars from `base` (`cipher_alg`), keys at 56 and 120. */
function decodeSym(p: Uint8Array, base: number): VhostCipherSession | VhostChainSession {
  const cipherAlg = readU32(p, base);
  const keyLen = readU32(p, base + 4);
  const authKeyLen = readU32(p, base + 16);
  const opType = p[base + 24]!;
  const direction = p[base + 25]!;
  if (opType !== SymOpType.CIPHER && opType !== SymOpType.ALGORITHM_CHAINING) {
    throw new CryptoWireError(
      "unknown-op-type",
      `Cannot decode crypto session: op_type must be 1 (CIPHER) or 2 (ALGORITHM_CHAINING): current value is ${opType}`,
    );
  }
  // Both lengths are checked before any key byte is copied (CVE-2020-10724).
  requireKeyLen("key_len", keyLen, VHOST_SYM_CIPHER_MAX_KEY_LEN);
  if (opType === SymOpType.CIPHER) {
    return { kind: "cipher", cipherAlg, direction, key: p.slice(KEY_OFF, KEY_OFF + keyLen) };
  }
  requireKeyLen("auth_key_len", authKeyLen, VHOST_SYM_HMAC_MAX_KEY_LEN);
  return {
    kind: "chain",
    cipherAlg,
    direction,
    key: p.slice(KEY_OFF, KEY_OFF + keyLen),
    hashAlg: readU32(p, base + 8),
    hashResultLen: readU32(p, base + 12),
    authKey: p.slice(AUTH_KEY_OFF, AUTH_KEY_OFF + authKeyLen),
    addLen: readU32(p, base + 20),
    hashMode: p[base + 26]!,
    algChainOrder: p[base + 27]!,
  };
}

/** `CryptoDevBackendAsymSessionInfo` at 8 and `key[1024]` at 40 (layout C only). */
function decodeAsym(p: Uint8Array): VhostAkcipherSession {
  const keyLen = readU32(p, 16);
  requireKeyLen("keylen", keyLen, VHOST_ASYM_MAX_KEY_LEN);
  return {
    kind: "akcipher",
    algo: readU32(p, 8),
    keyType: readU32(p, 12),
    key: p.slice(ASYM_KEY_OFF, ASYM_KEY_OFF + keyLen),
    paddingAlgo: readU32(p, 32),
    hashAlg: readU32(p, 36),
  };
}

/**
 * Encodes a request as QEMU would send it in `layout` (for the test front-end and `cryptobridge bench
 * --session-layout`): `session_id` 0, pointers 0, `op_code` CIPHER_CREATE_SESSION (A, C sym) or
 * AKCIPHER_CREATE_SESSION (C asym).
 *
 * @param req The request.
 * @param layout The layout to produce.
 * @returns 632 (A, B) or 1072 (C) bytes.
 * @throws {CryptoWireError} `unsupported-layout` for an akcipher request in A or B; `key-too-long` for keys longer
 *   than their arrays.
 */
export function encodeVhostSession(req: VhostSessionRequest, layout: VhostSessionLayout): Uint8Array {
  const p = new Uint8Array(sizeOf(layout));
  if (req.kind === "akcipher") {
    if (layout !== "C") {
      throw new CryptoWireError(
        "unsupported-layout",
        `Cannot encode akcipher session: layout must be C (QEMU >= 8.1): current value is ${layout}`,
      );
    }
    requireKeyLen("keylen", req.key.length, VHOST_ASYM_MAX_KEY_LEN);
    writeU64(p, 0, BigInt(Opcode.AKCIPHER_CREATE_SESSION));
    writeU32(p, 8, req.algo);
    writeU32(p, 12, req.keyType);
    writeU32(p, 16, req.key.length);
    writeU32(p, 32, req.paddingAlgo);
    writeU32(p, 36, req.hashAlg);
    p.set(req.key, ASYM_KEY_OFF);
    return p;
  }
  if (layout === "A") writeU32(p, 8, Opcode.CIPHER_CREATE_SESSION);
  if (layout === "C") writeU64(p, 0, BigInt(Opcode.CIPHER_CREATE_SESSION));
  encodeSym(p, layout === "A" ? 12 : 8, req);
  return p;
}

function encodeSym(p: Uint8Array, base: number, req: VhostCipherSession | VhostChainSession): void {
  requireKeyLen("key_len", req.key.length, VHOST_SYM_CIPHER_MAX_KEY_LEN);
  writeU32(p, base, req.cipherAlg);
  writeU32(p, base + 4, req.key.length);
  writeU8(p, base + 25, req.direction);
  p.set(req.key, KEY_OFF);
  if (req.kind === "cipher") {
    writeU8(p, base + 24, SymOpType.CIPHER);
    return;
  }
  requireKeyLen("auth_key_len", req.authKey.length, VHOST_SYM_HMAC_MAX_KEY_LEN);
  writeU32(p, base + 8, req.hashAlg);
  writeU32(p, base + 12, req.hashResultLen);
  writeU32(p, base + 16, req.authKey.length);
  writeU32(p, base + 20, req.addLen);
  writeU8(p, base + 24, SymOpType.ALGORITHM_CHAINING);
  writeU8(p, base + 26, req.hashMode);
  writeU8(p, base + 27, req.algChainOrder);
  p.set(req.authKey, AUTH_KEY_OFF);
}

function sessionIdOffset(payload: Uint8Array): number {
  if (payload.length === VHOST_SESSION_SIZE_AB) return 0;
  if (payload.length === VHOST_SESSION_SIZE_C) return SESSION_ID_OFF_C;
  throw new CryptoWireError(
    "bad-payload-size",
    `Cannot locate session_id: payload must be 632 or 1072 bytes: current length is ${payload.length}`,
  );
}

/**
 * Builds the reply QEMU expects (vhost-user.c `vhost_user_crypto_create_session`): the request's bytes, same size,
 * with `session_id` written as an int64 at 0 (A, B) or 1064 (C). A negative id reports failure; QEMU turns any
 * failure into status ERR for the guest.
 *
 * @param request The request payload (632 or 1072 bytes).
 * @param sessionId The new session's id (≥ 0), or a negative number for failure.
 * @returns A new array: the reply payload.
 * @throws {CryptoWireError} `bad-payload-size`. {RangeError} when `sessionId` does not fit an int64.
 *
 * @example Answering a QEMU 7.2 request with session 1
 * ```ts
 * import { buildVhostSessionReply, readVhostSessionReply } from "./vhost_session.ts";
 * import assert from "node:assert/strict";
 *
 * const reply = buildVhostSessionReply(new Uint8Array(632), 1n);
 * assert.equal(reply.length, 632);
 * assert.equal(readVhostSessionReply(reply), 1n);
 * ```
 */
export function buildVhostSessionReply(request: Uint8Array, sessionId: bigint): Uint8Array {
  if (BigInt.asIntN(64, sessionId) !== sessionId) {
    throw new RangeError(`Cannot write session_id: must fit an int64: current value is ${sessionId}`);
  }
  const off = sessionIdOffset(request);
  const reply = request.slice();
  writeU64(reply, off, sessionId);
  return reply;
}

/**
 * Reads `session_id` (int64) from a reply payload: the front-end side of {@linkcode buildVhostSessionReply}.
 *
 * @param reply The reply payload (632 or 1072 bytes).
 * @returns The session id; negative means the back-end refused the session.
 * @throws {CryptoWireError} `bad-payload-size`.
 */
export function readVhostSessionReply(reply: Uint8Array): bigint {
  return BigInt.asIntN(64, readU64(reply, sessionIdOffset(reply)));
}
