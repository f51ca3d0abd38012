/**
 * `AccelSession`: a session that lives on the device. Its virtio session id is the device's own (from
 * `virtio_crypto_session_input`) and never leaves the engine: the guest keeps the ids the bridge's device table
 * gave it. Everything a data request needs is worked out here once, at creation, so the hot path reads fields.
 *
 * @module
 */

import type { CryptoEngine, EngineSession, SessionParams } from "../../engine/mod.ts";
import { AEADS, CIPHERS } from "../../engine/software/algorithms.ts";
import { CryptoOpDirection, Opcode, SymOpType } from "../../spec/virtio_crypto.ts";

/** A device session, as the engine hands it to the router. */
export class AccelSession implements EngineSession {
  readonly params: SessionParams;
  readonly engine: CryptoEngine;
  /** The device's session id. */
  readonly deviceId: bigint;
  /** Low and high 32 bits of `deviceId`, for the request header (no bigint per request). */
  readonly idLo: number;
  readonly idHi: number;
  /** The device's incarnation the session belongs to: after a reset the device knows it no more. */
  readonly epoch: number;
  /** The data request opcode. */
  readonly opcode: number;
  /** The algorithm id put in the request header (cipher algo, hash, MAC or AEAD algo). */
  readonly algo: number;
  /** `op_type` for cipher-service requests (CIPHER or ALGORITHM_CHAINING), else 0. */
  readonly opType: number;
  /** Cipher and chain: the IV length the mode needs. */
  readonly ivLen: number;
  /** Cipher and chain: data lengths must be a multiple of this. */
  readonly unit: number;
  /** Cipher and chain: the smallest data length. */
  readonly minLen: number;
  /** AEAD: accepted nonce lengths. */
  readonly nonceMin: number;
  readonly nonceMax: number;
  /** Hash, MAC, chain: result length; AEAD: tag length. */
  readonly resultLen: number;
  /** Requests of this session on the device. */
  inflight = 0;
  /** Closed by the caller (INVSESS from then on). */
  closed = false;
  /** Closed while requests were in flight: destroy it on the device when the last one completes. */
  destroyPending = false;
  /** Who destroys it on the device when not the engine's own control (a VM's session on a shared queue). */
  owner:
    | { destroySession(service: SessionParams["service"], ref: { id: bigint; epoch: number }): void }
    | null = null;

  /**
   * @param engine The engine that made it.
   * @param params Its parameters.
   * @param deviceId The device's id.
   * @param epoch The device incarnation.
   */
  constructor(engine: CryptoEngine, params: SessionParams, deviceId: bigint, epoch: number) {
    this.engine = engine;
    this.params = params;
    this.deviceId = deviceId;
    this.idLo = Number(deviceId & 0xffff_ffffn);
    this.idHi = Number((deviceId >> 32n) & 0xffff_ffffn);
    this.epoch = epoch;
    const facts = sessionFacts(params);
    this.opcode = facts.opcode;
    this.algo = facts.algo;
    this.opType = facts.opType;
    this.ivLen = facts.ivLen;
    this.unit = facts.unit;
    this.minLen = facts.minLen;
    this.nonceMin = facts.nonceMin;
    this.nonceMax = facts.nonceMax;
    this.resultLen = facts.resultLen;
  }
}

interface Facts {
  opcode: number;
  algo: number;
  opType: number;
  ivLen: number;
  unit: number;
  minLen: number;
  nonceMin: number;
  nonceMax: number;
  resultLen: number;
}

function sessionFacts(params: SessionParams): Facts {
  const f: Facts = {
    opcode: 0,
    algo: 0,
    opType: 0,
    ivLen: 0,
    unit: 1,
    minLen: 0,
    nonceMin: 0,
    nonceMax: 0,
    resultLen: 0,
  };
  const encrypt = (d: number): boolean => d === CryptoOpDirection.ENCRYPT;
  switch (params.service) {
    case "cipher":
    case "chain": {
      const c = params.service === "cipher" ? params : params.cipher;
      const entry = CIPHERS.get(c.algo);
      f.opcode = encrypt(c.direction) ? Opcode.CIPHER_ENCRYPT : Opcode.CIPHER_DECRYPT;
      f.algo = c.algo;
      f.opType = params.service === "cipher" ? SymOpType.CIPHER : SymOpType.ALGORITHM_CHAINING;
      f.ivLen = entry?.ivLen ?? 0;
      f.unit = entry?.unit ?? 1;
      f.minLen = entry?.minLen ?? 0;
      if (params.service === "chain") f.resultLen = params.auth.resultLen;
      return f;
    }
    case "hash":
    case "mac":
      f.opcode = params.service === "hash" ? Opcode.HASH : Opcode.MAC;
      f.algo = params.algo;
      f.resultLen = params.resultLen;
      return f;
    case "aead": {
      const entry = AEADS.get(params.algo);
      f.opcode = encrypt(params.direction) ? Opcode.AEAD_ENCRYPT : Opcode.AEAD_DECRYPT;
      f.algo = params.algo;
      f.nonceMin = entry?.nonceMin ?? 1;
      f.nonceMax = entry?.nonceMax ?? 128;
      f.resultLen = params.tagLen;
      return f;
    }
    case "akcipher":
      return f;
  }
}
