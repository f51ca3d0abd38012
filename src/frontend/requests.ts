/**
 * Data-queue requests as a guest driver builds them: the header and `op_flf` (legacy or REVISION_1 layout), then
 * the variable-length parts in the order the specification gives (the same plan the device parses with), as
 * out and in parts for `VirtioCryptoDriver.submit`.
 *
 * @module
 */

import { Opcode, SymOpType, VIRTIO_CRYPTO_FLAG_SESSION_MODE } from "../spec/virtio_crypto.ts";
import {
  DataRequest,
  DEFAULT_DATA_LIMITS,
  encodeDataRequest,
  planDataVlf,
  readDataRequest,
  VlfPlan,
  type VlfRole,
  type WireLayout,
} from "../crypto/mod.ts";
import type { InPart, OutPart } from "./chain_shape.ts";

/** A data request ready to submit. */
export interface RequestParts {
  readonly out: OutPart[];
  readonly in: InPart[];
  /** Index in `in` of each device-written role. */
  readonly inIndex: Partial<Record<VlfRole, number>>;
}

/** The bytes of each device-read role (missing roles are zero-filled to their announced length). */
export type PartBytes = Partial<Record<VlfRole, Uint8Array>>;

/**
 * Builds a request from a filled `DataRequest` (opcode, session, lengths) and the bytes of its parts.
 *
 * @param req The header and flf fields (`kind` is derived by the device; here `opcode`, `opType`, lengths count).
 * @param layout Legacy or REVISION_1.
 * @param bytes Bytes per device-read role.
 * @param inPlace Put `dst_data` in the same guest buffer as `src_data`.
 * @returns Out and in parts.
 */
export function buildRequest(
  req: DataRequest,
  layout: WireLayout,
  bytes: PartBytes,
  inPlace = false,
): RequestParts {
  const header = encodeDataRequest(req, layout);
  const decoded = new DataRequest();
  // The plan of what the device will expect, from the header as encoded (so the order can never disagree).
  readBack(header, layout, decoded);
  const plan = planDataVlf(
    decoded,
    { ...DEFAULT_DATA_LIMITS, maxSize: Number.MAX_SAFE_INTEGER },
    new VlfPlan(),
  );
  if (plan.error !== null) throw plan.toError()!;
  const out: OutPart[] = [{ bytes: header }];
  const inParts: InPart[] = [];
  const inIndex: Partial<Record<VlfRole, number>> = {};
  let srcOut = -1;
  for (let i = 0; i < plan.count; i++) {
    const p = plan.parts[i]!;
    if (p.direction === "device-read") {
      const b = bytes[p.role] ?? new Uint8Array(p.length);
      if (b.length !== p.length) {
        throw new RangeError(
          `Cannot build request: ${p.role} must be ${p.length} bytes: current length is ${b.length}`,
        );
      }
      if (p.role === "src_data") srcOut = out.length;
      out.push({ bytes: b });
    } else {
      inIndex[p.role] = inParts.length;
      const alias = inPlace && p.role === "dst_data" && srcOut >= 0 ? srcOut : undefined;
      inParts.push(alias === undefined ? { length: p.length } : { length: p.length, aliasOut: alias });
    }
  }
  return { out, in: inParts, inIndex };
}

function readBack(header: Uint8Array, layout: WireLayout, out: DataRequest): void {
  readDataRequest(header, layout, out);
  if (out.error !== null) throw out.toError()!;
}

/** A session-mode request header with the common fields set. */
export function sessionRequest(
  opcode: number,
  sessionId: bigint,
  fields: Partial<DataRequest> = {},
): DataRequest {
  const req = new DataRequest();
  Object.assign(req, fields);
  req.opcode = opcode;
  req.sessionId = sessionId;
  req.flag = VIRTIO_CRYPTO_FLAG_SESSION_MODE;
  return req;
}

/**
 * A cipher request (Linux's shape: header, IV, source → destination, status).
 *
 * @param sessionId The session.
 * @param encrypt Direction of the opcode (the session's direction is what the device uses).
 * @param iv The IV.
 * @param srcLen Bytes of data (destination is as long).
 */
export function cipherRequest(
  sessionId: bigint,
  encrypt: boolean,
  iv: Uint8Array,
  srcLen: number,
): DataRequest {
  return sessionRequest(encrypt ? Opcode.CIPHER_ENCRYPT : Opcode.CIPHER_DECRYPT, sessionId, {
    opType: SymOpType.CIPHER,
    ivLen: iv.length,
    srcDataLen: srcLen,
    dstDataLen: srcLen,
  });
}

/**
 * A hash request (session mode): source → `hash_result`.
 *
 * @param sessionId The hash session.
 * @param srcLen Bytes to hash.
 * @param resultLen Digest bytes (the session's `hash_result_len`).
 */
export function hashRequest(sessionId: bigint, srcLen: number, resultLen: number): DataRequest {
  return sessionRequest(Opcode.HASH, sessionId, { srcDataLen: srcLen, hashResultLen: resultLen });
}

/**
 * A MAC request (session mode): source → `hash_result`. For GMAC the source starts with the 12-byte IV (README).
 *
 * @param sessionId The MAC session.
 * @param srcLen Bytes of source.
 * @param resultLen MAC bytes (the session's `hash_result_len`).
 */
export function macRequest(sessionId: bigint, srcLen: number, resultLen: number): DataRequest {
  return sessionRequest(Opcode.MAC, sessionId, { srcDataLen: srcLen, hashResultLen: resultLen });
}

/** Lengths of an AEAD request. */
export interface AeadLengths {
  readonly ivLen: number;
  readonly aadLen: number;
  /** Encrypt: plaintext bytes; decrypt: ciphertext plus tag. */
  readonly srcLen: number;
  /** Encrypt: at least `srcLen + tagLen`; decrypt: at least `srcLen - tagLen`. */
  readonly dstLen: number;
  readonly tagLen: number;
}

/**
 * An AEAD request (session mode): iv, source, AAD → destination (README: encryption writes ciphertext then tag;
 * decryption reads ciphertext then tag).
 *
 * @param sessionId The AEAD session.
 * @param encrypt Direction of the opcode.
 * @param lengths The flf lengths.
 */
export function aeadRequest(sessionId: bigint, encrypt: boolean, lengths: AeadLengths): DataRequest {
  return sessionRequest(encrypt ? Opcode.AEAD_ENCRYPT : Opcode.AEAD_DECRYPT, sessionId, {
    ivLen: lengths.ivLen,
    aadLen: lengths.aadLen,
    srcDataLen: lengths.srcLen,
    dstDataLen: lengths.dstLen,
    tagLen: lengths.tagLen,
  });
}

/** Lengths and offsets of an algorithm-chaining request (`virtio_crypto_alg_chain_data_flf`). */
export interface ChainLengths {
  readonly ivLen: number;
  readonly srcLen: number;
  /** Default `srcLen`. */
  readonly dstLen?: number;
  readonly cipherStart: number;
  readonly cipherLen: number;
  readonly hashStart: number;
  readonly hashLen: number;
  readonly aadLen: number;
  readonly resultLen: number;
}

/**
 * An algorithm-chaining request (session mode): iv, source, AAD → destination, `hash_result`.
 *
 * @param sessionId The chaining session.
 * @param encrypt Direction of the opcode (the session's direction is what the device uses).
 * @param l The flf lengths and offsets.
 */
export function chainRequest(sessionId: bigint, encrypt: boolean, l: ChainLengths): DataRequest {
  return sessionRequest(encrypt ? Opcode.CIPHER_ENCRYPT : Opcode.CIPHER_DECRYPT, sessionId, {
    opType: SymOpType.ALGORITHM_CHAINING,
    ivLen: l.ivLen,
    srcDataLen: l.srcLen,
    dstDataLen: l.dstLen ?? l.srcLen,
    cipherStartSrcOffset: l.cipherStart,
    lenToCipher: l.cipherLen,
    hashStartSrcOffset: l.hashStart,
    lenToHash: l.hashLen,
    aadLen: l.aadLen,
    hashResultLen: l.resultLen,
  });
}

/**
 * A stateless request (REVISION_1 with the service's stateless bit; header `flag` 0): the session parameters
 * travel in the `op_flf` and the keys in the `op_vlf` (pass them to `buildRequest` as `cipher_key`, `auth_key` or
 * `key`).
 *
 * @param opcode The data opcode.
 * @param fields The stateless flf fields (for example `cipherAlgo`, `keyLen`, `op`, `ivLen`, `srcDataLen`).
 */
export function statelessRequest(opcode: number, fields: Partial<DataRequest>): DataRequest {
  const req = new DataRequest();
  Object.assign(req, fields);
  req.opcode = opcode;
  req.flag = 0;
  return req;
}
