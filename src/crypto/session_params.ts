/**
 * Engine session parameters from the three places a session can be described: a control-queue request with its
 * keys, a vhost-user CREATE_CRYPTO_SESSION payload (QEMU), and the `sess_para` of a stateless data request.
 *
 * @module
 */

import type { Direction } from "../spec/virtio_crypto.ts";
import { CryptoOpDirection, Opcode } from "../spec/virtio_crypto.ts";
import type { SessionParams } from "../engine/engine.ts";
import type { CtrlRequest } from "./ctrl_codec.ts";
import type { VhostSessionRequest } from "./vhost_session.ts";
import type { DataRequest } from "./data_request.ts";

/** A session description the device cannot turn into engine parameters: answered with `status`. */
export class SessionParamsError extends Error {
  override name = "SessionParamsError";
  /** The virtio status to answer with. */
  readonly status: number;

  /**
   * @param status The status byte.
   * @param message A std-style message.
   */
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Keys carried in a request's variable-length part (already copied out of guest memory). */
export interface SessionKeys {
  /** The cipher or AEAD key (cipher, chaining, AEAD, akcipher). */
  readonly key: Uint8Array;
  /** The authentication key (MAC, chaining in AUTH mode). */
  readonly authKey: Uint8Array;
}

const EMPTY = new Uint8Array(0);

function direction(op: number): Direction {
  if (op !== CryptoOpDirection.ENCRYPT && op !== CryptoOpDirection.DECRYPT) {
    throw new SessionParamsError(
      1,
      `Cannot create session: op must be 1 (encrypt) or 2 (decrypt): current value is ${op}`,
    );
  }
  return op;
}

/**
 * Engine parameters of a control-queue create-session request.
 *
 * @param req A decoded create request (not destroy).
 * @param keys Its keys, in vlf order.
 * @throws SessionParamsError for a destroy request or a bad direction.
 */
export function paramsFromCtrl(req: CtrlRequest, keys: SessionKeys): SessionParams {
  switch (req.kind) {
    case "cipher-session":
      return { service: "cipher", algo: req.flf.algo, key: keys.key, direction: direction(req.flf.op) };
    case "alg-chain-session": {
      const f = req.flf;
      const algo = f.algoFlf;
      return {
        service: "chain",
        order: f.algChainOrder,
        cipher: { algo: f.cipherHdr.algo, key: keys.key, direction: direction(f.cipherHdr.op) },
        auth: { hashMode: f.hashMode, algo: algo.algo, resultLen: algo.hashResultLen, key: keys.authKey },
        aadLen: f.aadLen,
      };
    }
    case "hash-session":
      return { service: "hash", algo: req.flf.algo, resultLen: req.flf.hashResultLen };
    case "mac-session":
      return { service: "mac", algo: req.flf.algo, resultLen: req.flf.hashResultLen, key: keys.authKey };
    case "aead-session": {
      const f = req.flf;
      return {
        service: "aead",
        algo: f.algo,
        key: keys.key,
        tagLen: f.tagLen,
        aadLen: f.aadLen,
        direction: direction(f.op),
      };
    }
    case "akcipher-session": {
      const f = req.flf;
      const [padding, hash] = f.para.kind === "rsa"
        ? [f.para.paddingAlgo, f.para.hashAlgo]
        : [f.para.curveId, 0];
      return { service: "akcipher", algo: f.algo, keyType: f.keyType, key: keys.key, padding, hash };
    }
    case "destroy-session":
      throw new SessionParamsError(1, "Cannot create session from a destroy request");
  }
}

/**
 * Engine parameters of a vhost-user CREATE_CRYPTO_SESSION payload (QEMU's `CryptoDevBackendSymSessionInfo`).
 *
 * @param req The decoded payload (keys copied out).
 * @throws SessionParamsError for a bad direction.
 */
export function paramsFromVhost(req: VhostSessionRequest): SessionParams {
  switch (req.kind) {
    case "cipher":
      return { service: "cipher", algo: req.cipherAlg, key: req.key, direction: direction(req.direction) };
    case "chain":
      return {
        service: "chain",
        order: req.algChainOrder,
        cipher: { algo: req.cipherAlg, key: req.key, direction: direction(req.direction) },
        auth: { hashMode: req.hashMode, algo: req.hashAlg, resultLen: req.hashResultLen, key: req.authKey },
        aadLen: req.addLen,
      };
    case "akcipher":
      return {
        service: "akcipher",
        algo: req.algo,
        keyType: req.keyType,
        key: req.key,
        padding: req.paddingAlgo,
        hash: req.hashAlg,
      };
  }
}

/**
 * Engine parameters of a stateless data request (its `sess_para`, REVISION_1 only).
 *
 * @param req The decoded request (`stateless` true).
 * @param keys Keys copied from its vlf.
 */
export function paramsFromStateless(req: DataRequest, keys: SessionKeys): SessionParams {
  switch (req.kind) {
    case "cipher":
      return { service: "cipher", algo: req.cipherAlgo, key: keys.key, direction: direction(req.op) };
    case "alg-chain":
      return {
        service: "chain",
        order: req.algChainOrder,
        cipher: { algo: req.cipherAlgo, key: keys.key, direction: direction(req.op) },
        auth: { hashMode: req.hashMode, algo: req.hashAlgo, resultLen: req.hashResultLen, key: keys.authKey },
        aadLen: req.aadLen,
      };
    case "hash":
      return { service: "hash", algo: req.hashAlgo, resultLen: req.hashResultLen };
    case "mac":
      return { service: "mac", algo: req.macAlgo, resultLen: req.hashResultLen, key: keys.authKey };
    case "aead": {
      const dir = req.opcode === Opcode.AEAD_DECRYPT ? CryptoOpDirection.DECRYPT : CryptoOpDirection.ENCRYPT;
      return {
        service: "aead",
        algo: req.aeadAlgo,
        key: keys.key,
        tagLen: req.tagLen,
        aadLen: req.aadLen,
        direction: dir,
      };
    }
    case "akcipher":
      return {
        service: "akcipher",
        algo: req.akcipherAlgo,
        keyType: req.keyType,
        key: keys.key,
        padding: req.akcipherAlgo === 2 ? req.curveId : req.paddingAlgo,
        hash: req.rsaHashAlgo,
      };
    case "none":
      throw new SessionParamsError(1, "Cannot create session from an undecoded request");
  }
}

/** No key. */
export const NO_KEYS: SessionKeys = { key: EMPTY, authKey: EMPTY };
