/**
 * The control queue wire format (virtio 1.3 §5.9.7.2): `struct virtio_crypto_op_ctrl_req` = 16-byte
 * `virtio_crypto_ctrl_header` + opcode-specific `op_flf` (padded to 56 bytes in the legacy layout, its natural size
 * with `VIRTIO_CRYPTO_F_REVISION_1`) + `op_vlf` (the keys) + `op_outcome` (written by the device).
 *
 * Decoding allocates (the control path is not hot) and throws {@linkcode CryptoWireError}.
 *
 * @module
 */

import { Layout, Opcode, SymHashMode, SymOpType } from "../spec/virtio_crypto.ts";
import { readU32, readU64, writeU32, writeU64 } from "../virtio/le.ts";
import { CryptoWireError, type VlfPart, type WireLayout } from "./wire.ts";
import { hex, outputBuffer, requireBytes, requireKeyLen } from "./_wire_util.ts";
import {
  AEAD_CREATE_SESSION_FLF_SIZE,
  type AeadSessionFlf,
  AKCIPHER_CREATE_SESSION_FLF_SIZE,
  type AkcipherSessionFlf,
  type AlgChainSessionFlf,
  type CipherSessionFlf,
  HASH_CREATE_SESSION_FLF_SIZE,
  type HashSessionFlf,
  MAC_CREATE_SESSION_FLF_SIZE,
  type MacSessionFlf,
  readAeadSessionFlf,
  readAkcipherSessionFlf,
  readAlgChainSessionFlf,
  readCipherSessionFlf,
  readHashSessionFlf,
  readMacSessionFlf,
  SYM_CREATE_SESSION_FLF_SIZE,
  writeAeadSessionFlf,
  writeAkcipherSessionFlf,
  writeAlgChainSessionFlf,
  writeCipherSessionFlf,
  writeHashSessionFlf,
  writeMacSessionFlf,
} from "./ctrl_session.ts";

/** Size of `struct virtio_crypto_destroy_session_flf`. */
export const DESTROY_SESSION_FLF_SIZE = 8;

/** `struct virtio_crypto_ctrl_header` (16 bytes). */
export interface CtrlHeader {
  /** `opcode` @0: `VIRTIO_CRYPTO_*_CREATE_SESSION` or `_DESTROY_SESSION`. */
  readonly opcode: number;
  /** `algo` @4: service-specific algorithm (Linux sets the cipher algo on create, 0 on destroy). */
  readonly algo: number;
  /** `flag` @8. */
  readonly flag: number;
  /** `reserved` @12; Linux and QEMU call it `queue_id` (Linux sends 0, QEMU uses it as a backend queue index). */
  readonly reserved: number;
}

/** `struct virtio_crypto_destroy_session_flf`. */
export interface DestroySessionFlf {
  /** `session_id` (le64). */
  readonly sessionId: bigint;
}

/**
 * A decoded control request: the header and the opcode's `op_flf`. `kind` follows the opcode and, for
 * `VIRTIO_CRYPTO_CIPHER_CREATE_SESSION`, the `op_type` of `virtio_crypto_sym_create_session_flf`.
 */
export type CtrlRequest =
  | { readonly kind: "cipher-session"; readonly header: CtrlHeader; readonly flf: CipherSessionFlf }
  | { readonly kind: "alg-chain-session"; readonly header: CtrlHeader; readonly flf: AlgChainSessionFlf }
  | { readonly kind: "hash-session"; readonly header: CtrlHeader; readonly flf: HashSessionFlf }
  | { readonly kind: "mac-session"; readonly header: CtrlHeader; readonly flf: MacSessionFlf }
  | { readonly kind: "aead-session"; readonly header: CtrlHeader; readonly flf: AeadSessionFlf }
  | { readonly kind: "akcipher-session"; readonly header: CtrlHeader; readonly flf: AkcipherSessionFlf }
  | { readonly kind: "destroy-session"; readonly header: CtrlHeader; readonly flf: DestroySessionFlf };

/** The kind of a {@linkcode CtrlRequest}. */
export type CtrlRequestKind = CtrlRequest["kind"];

/** Key length limits a control request is checked against (the device's config space values). */
export interface CtrlLimits {
  /** `max_cipher_key_len`: cipher `key_len` (cipher-only and chaining) and AEAD `key_len`. */
  readonly maxCipherKeyLen: number;
  /** `max_auth_key_len`: MAC and chaining (`HASH_MODE_AUTH`) `auth_key_len`. */
  readonly maxAuthKeyLen: number;
  /** AKCIPHER `key_len` (no config field exists; QEMU's vhost-user limit is 1024). */
  readonly maxAkcipherKeyLen: number;
}

/** QEMU's vhost-user limits: 64-byte cipher keys, 512-byte auth keys, 1024-byte asymmetric keys (interop.md §1.5). */
export const DEFAULT_CTRL_LIMITS: CtrlLimits = {
  maxCipherKeyLen: 64,
  maxAuthKeyLen: 512,
  maxAkcipherKeyLen: 1024,
};

/** Decodes `struct virtio_crypto_ctrl_header`. @throws {CryptoWireError} `short-buffer` below 16 bytes. */
export function decodeCtrlHeader(bytes: Uint8Array): CtrlHeader {
  requireBytes(bytes, Layout.CTRL_HEADER, "virtio_crypto_ctrl_header");
  return {
    opcode: readU32(bytes, 0),
    algo: readU32(bytes, 4),
    flag: readU32(bytes, 8),
    reserved: readU32(bytes, 12),
  };
}

function writeCtrlHeader(b: Uint8Array, h: CtrlHeader): void {
  writeU32(b, 0, h.opcode);
  writeU32(b, 4, h.algo);
  writeU32(b, 8, h.flag);
  writeU32(b, 12, h.reserved);
}

/** The natural (revision-1) `op_flf` size for a control opcode, or -1 when the opcode is not a control opcode. */
function naturalFlfSize(opcode: number): number {
  switch (opcode) {
    case Opcode.CIPHER_CREATE_SESSION:
      return SYM_CREATE_SESSION_FLF_SIZE;
    case Opcode.HASH_CREATE_SESSION:
      return HASH_CREATE_SESSION_FLF_SIZE;
    case Opcode.MAC_CREATE_SESSION:
      return MAC_CREATE_SESSION_FLF_SIZE;
    case Opcode.AEAD_CREATE_SESSION:
      return AEAD_CREATE_SESSION_FLF_SIZE;
    case Opcode.AKCIPHER_CREATE_SESSION:
      return AKCIPHER_CREATE_SESSION_FLF_SIZE;
    case Opcode.CIPHER_DESTROY_SESSION:
    case Opcode.HASH_DESTROY_SESSION:
    case Opcode.MAC_DESTROY_SESSION:
    case Opcode.AEAD_DESTROY_SESSION:
    case Opcode.AKCIPHER_DESTROY_SESSION:
      return DESTROY_SESSION_FLF_SIZE;
    default:
      return -1;
  }
}

/**
 * Bytes of header + `op_flf` for a control opcode, i.e. where `op_vlf` starts: 72 in the legacy layout, 16 + the
 * natural struct size with revision 1 (72 for cipher/akcipher create, 24 for hash create and destroy, 32 for MAC
 * create, 40 for AEAD create).
 *
 * @param opcode The header's `opcode`.
 * @param layout The negotiated layout.
 * @returns The length, or -1 for an opcode that is not a control opcode.
 */
export function ctrlRequestLength(opcode: number, layout: WireLayout): number {
  const natural = naturalFlfSize(opcode);
  if (natural < 0) return -1;
  return Layout.CTRL_HEADER + (layout === "legacy" ? Layout.CTRLQ_OP_SPEC_HDR_LEGACY : natural);
}

/**
 * Decodes a control request (header + `op_flf`) and checks its key lengths against `limits`. Bytes after the
 * `op_flf` (the keys, if the driver put them in the same buffer) are ignored; {@linkcode ctrlVlfPlan} says what
 * follows.
 *
 * @param bytes The device-readable bytes of the request, from the start of the header.
 * @param layout The negotiated layout.
 * @param limits Key length limits; QEMU's vhost-user ones when omitted.
 * @returns The request.
 * @throws {CryptoWireError} `short-buffer`, `unknown-opcode`, `unknown-op-type`, `unknown-hash-mode`,
 *   `unknown-algo`, `key-too-long`.
 *
 * @example The Linux driver's cbc(aes) encrypt session (72 bytes, legacy layout)
 * ```ts
 * import { decodeCtrlRequest } from "./ctrl_codec.ts";
 * import assert from "node:assert/strict";
 *
 * const req = new Uint8Array(72);
 * req.set([2], 0); // opcode CIPHER_CREATE_SESSION
 * req.set([3], 4); // algo AES_CBC
 * req.set([3], 16); // cipher algo
 * req.set([16], 20); // key_len
 * req.set([1], 24); // op ENCRYPT
 * req.set([1], 64); // op_type SYM_OP_CIPHER
 * const r = decodeCtrlRequest(req, "legacy");
 * assert.equal(r.kind, "cipher-session");
 * assert.deepEqual(r.flf, { algo: 3, keyLen: 16, op: 1 });
 * ```
 */
export function decodeCtrlRequest(
  bytes: Uint8Array,
  layout: WireLayout,
  limits: CtrlLimits = DEFAULT_CTRL_LIMITS,
): CtrlRequest {
  const header = decodeCtrlHeader(bytes);
  const length = ctrlRequestLength(header.opcode, layout);
  if (length < 0) {
    throw new CryptoWireError(
      "unknown-opcode",
      `Cannot decode control request: opcode is not a session opcode: current value is ${hex(header.opcode)}`,
    );
  }
  requireBytes(bytes, length, `control request ${hex(header.opcode)}`);
  const req = readCtrlFlf(bytes, header);
  checkCtrlKeyLimits(req, limits);
  return req;
}

function readCtrlFlf(b: Uint8Array, header: CtrlHeader): CtrlRequest {
  const off = Layout.CTRL_HEADER;
  switch (header.opcode) {
    case Opcode.CIPHER_CREATE_SESSION:
      return readSymCreateSession(b, header);
    case Opcode.HASH_CREATE_SESSION:
      return { kind: "hash-session", header, flf: readHashSessionFlf(b, off) };
    case Opcode.MAC_CREATE_SESSION:
      return { kind: "mac-session", header, flf: readMacSessionFlf(b, off) };
    case Opcode.AEAD_CREATE_SESSION:
      return { kind: "aead-session", header, flf: readAeadSessionFlf(b, off) };
    case Opcode.AKCIPHER_CREATE_SESSION:
      return { kind: "akcipher-session", header, flf: readAkcipherSessionFlf(b, off) };
    default: // one of the destroy opcodes: ctrlRequestLength() accepted it
      return { kind: "destroy-session", header, flf: { sessionId: readU64(b, off) } };
  }
}

/** `struct virtio_crypto_sym_create_session_flf`: 48-byte `op_flf`, then `op_type` @48 (request offset 64). */
function readSymCreateSession(b: Uint8Array, header: CtrlHeader): CtrlRequest {
  const off = Layout.CTRL_HEADER;
  const opType = readU32(b, off + Layout.SYM_SESS_OP_SPEC_HDR_SIZE);
  switch (opType) {
    case SymOpType.CIPHER:
      return { kind: "cipher-session", header, flf: readCipherSessionFlf(b, off) };
    case SymOpType.ALGORITHM_CHAINING:
      return { kind: "alg-chain-session", header, flf: readAlgChainSessionFlf(b, off) };
    default:
      // SYM_OP_NONE has no flf or vlf defined; QEMU answers it NOTSUPP as well.
      throw new CryptoWireError(
        "unknown-op-type",
        `Cannot decode symmetric session: op_type must be 1 (CIPHER) or 2 (ALGORITHM_CHAINING): current value is ${opType}`,
      );
  }
}

function checkCtrlKeyLimits(req: CtrlRequest, limits: CtrlLimits): void {
  switch (req.kind) {
    case "cipher-session":
      return requireKeyLen("key_len", req.flf.keyLen, limits.maxCipherKeyLen);
    case "alg-chain-session":
      requireKeyLen("key_len", req.flf.cipherHdr.keyLen, limits.maxCipherKeyLen);
      if (req.flf.hashMode === SymHashMode.AUTH) {
        requireKeyLen("auth_key_len", req.flf.algoFlf.authKeyLen, limits.maxAuthKeyLen);
      }
      return;
    case "mac-session":
      return requireKeyLen("auth_key_len", req.flf.authKeyLen, limits.maxAuthKeyLen);
    case "aead-session":
      return requireKeyLen("key_len", req.flf.keyLen, limits.maxCipherKeyLen);
    case "akcipher-session":
      return requireKeyLen("key_len", req.flf.keyLen, limits.maxAkcipherKeyLen);
    default:
      return;
  }
}

/** The opcodes (and sym `op_type`) each request kind is sent with. */
function kindMatchesOpcode(kind: CtrlRequestKind, opcode: number): boolean {
  switch (kind) {
    case "cipher-session":
    case "alg-chain-session":
      return opcode === Opcode.CIPHER_CREATE_SESSION;
    case "hash-session":
      return opcode === Opcode.HASH_CREATE_SESSION;
    case "mac-session":
      return opcode === Opcode.MAC_CREATE_SESSION;
    case "aead-session":
      return opcode === Opcode.AEAD_CREATE_SESSION;
    case "akcipher-session":
      return opcode === Opcode.AKCIPHER_CREATE_SESSION;
    case "destroy-session":
      return naturalFlfSize(opcode) === DESTROY_SESSION_FLF_SIZE;
  }
}

/**
 * Encodes a control request (header + `op_flf`, padded for the legacy layout); what a driver puts in its first
 * out buffer. Padding and reserved fields are written as zero.
 *
 * @param req The request; `header.opcode` must fit `kind`.
 * @param layout The negotiated layout.
 * @param target Where to write; a new array when omitted.
 * @returns The bytes written (`ctrlRequestLength(opcode, layout)` of them).
 * @throws {CryptoWireError} `unknown-opcode` when the opcode does not fit `kind`; `short-buffer` when `target`
 *   is too small.
 */
export function encodeCtrlRequest(req: CtrlRequest, layout: WireLayout, target?: Uint8Array): Uint8Array {
  if (!kindMatchesOpcode(req.kind, req.header.opcode)) {
    throw new CryptoWireError(
      "unknown-opcode",
      `Cannot encode ${req.kind} request: opcode does not match: current value is ${hex(req.header.opcode)}`,
    );
  }
  const b = outputBuffer(target, ctrlRequestLength(req.header.opcode, layout), "control request");
  writeCtrlHeader(b, req.header);
  writeCtrlFlf(b, req);
  return b;
}

function writeCtrlFlf(b: Uint8Array, req: CtrlRequest): void {
  const off = Layout.CTRL_HEADER;
  const opTypeOff = off + Layout.SYM_SESS_OP_SPEC_HDR_SIZE;
  switch (req.kind) {
    case "cipher-session":
      writeCipherSessionFlf(b, off, req.flf);
      return writeU32(b, opTypeOff, SymOpType.CIPHER);
    case "alg-chain-session":
      writeAlgChainSessionFlf(b, off, req.flf);
      return writeU32(b, opTypeOff, SymOpType.ALGORITHM_CHAINING);
    case "hash-session":
      return writeHashSessionFlf(b, off, req.flf);
    case "mac-session":
      return writeMacSessionFlf(b, off, req.flf);
    case "aead-session":
      return writeAeadSessionFlf(b, off, req.flf);
    case "akcipher-session":
      return writeAkcipherSessionFlf(b, off, req.flf);
    case "destroy-session":
      return writeU64(b, off, req.flf.sessionId);
  }
}

/**
 * The `op_vlf` parts that follow a control request's `op_flf`, in order (virtio 1.3 §5.9.7.2.1): cipher session
 * `cipher_key[key_len]`; chaining `cipher_key[key_len]`, `auth_key[auth_key_len]` (AUTH mode only); MAC
 * `auth_key[auth_key_len]`; AEAD `key[key_len]`; AKCIPHER `akcipher_key` (the spec's `key[key_len]`); hash and
 * destroy: none. All are device-readable; zero-length keys are listed too. The device-writable `op_outcome`
 * ({@linkcode ctrlOutcomeLength} bytes) follows them.
 *
 * @param req A decoded request.
 * @returns The parts (a new array).
 */
export function ctrlVlfPlan(req: CtrlRequest): VlfPart[] {
  const part = (role: VlfPart["role"], length: number): VlfPart => ({
    role,
    length,
    direction: "device-read",
  });
  switch (req.kind) {
    case "cipher-session":
      return [part("cipher_key", req.flf.keyLen)];
    case "alg-chain-session":
      return req.flf.hashMode === SymHashMode.AUTH
        ? [part("cipher_key", req.flf.cipherHdr.keyLen), part("auth_key", req.flf.algoFlf.authKeyLen)]
        : [part("cipher_key", req.flf.cipherHdr.keyLen)];
    case "mac-session":
      return [part("auth_key", req.flf.authKeyLen)];
    case "aead-session":
      return [part("key", req.flf.keyLen)];
    case "akcipher-session":
      return [part("akcipher_key", req.flf.keyLen)];
    default:
      return [];
  }
}

/**
 * Size of the device-written `op_outcome`: 16 (`virtio_crypto_create_session_input`) for a create, 1
 * (`virtio_crypto_destroy_session_input`) for a destroy.
 *
 * @param req A decoded request.
 * @returns 16 or 1.
 */
export function ctrlOutcomeLength(req: CtrlRequest): number {
  return req.kind === "destroy-session" ? Layout.INHDR : Layout.CREATE_SESSION_INPUT;
}
