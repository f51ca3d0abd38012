/**
 * Known-answer cases from the published vectors (`vectors/`) for one algorithm an accelerator advertises: each
 * cipher vector encrypted and decrypted, each hash and MAC computed, each AEAD vector sealed, opened, and opened
 * with a forged tag (which must be refused with BADMSG). Only vectors at key lengths the accelerator claims are
 * used, and for AEADs only those a device path takes: a non-empty message, and for GCM the 96-bit IV that
 * SP 800-38D §5.2.1.1 recommends (the QAT driver hands the other IV lengths and empty messages to software, so
 * they would not test the device).
 *
 * @module
 */

import { type Capabilities, type SessionParams, supports } from "../engine/mod.ts";
import { AeadAlgo, CryptoOpDirection, Status } from "../spec/virtio_crypto.ts";
import { fromHex } from "./hex.ts";
import type { KatCase } from "./kat_case.ts";
import type { AeadVector, CipherVector, HashVector, MacVector } from "./vectors/_types.ts";
import { AEAD_VECTORS, CIPHER_VECTORS, HASH_VECTORS, MAC_VECTORS } from "./vectors/catalog.ts";

const ENCRYPT = CryptoOpDirection.ENCRYPT;
const DECRYPT = CryptoOpDirection.DECRYPT;

/** The single-algorithm services the vectors cover. */
export type VectorService = "cipher" | "hash" | "mac" | "aead";

/**
 * The cases of one algorithm the accelerator can take.
 *
 * @param service Its service.
 * @param algo Its specification id.
 * @param caps The accelerator's capabilities (key lengths).
 * @returns The cases, encryption before decryption (the first one shapes the speed runs).
 */
export function vectorCases(service: VectorService, algo: number, caps: Capabilities): KatCase[] {
  const keep = (c: KatCase): boolean => supports(caps, c.params);
  switch (service) {
    case "cipher":
      return CIPHER_VECTORS.filter((v) => v.algo === algo).flatMap(cipherCases).filter(keep);
    case "hash":
      return HASH_VECTORS.filter((v) => v.algo === algo).map(hashCase).filter(keep);
    case "mac":
      return MAC_VECTORS.filter((v) => v.algo === algo).map(macCase).filter(keep);
    case "aead":
      return AEAD_VECTORS.filter((v) => v.algo === algo && devicePath(v)).flatMap(aeadCases).filter(keep);
  }
}

function devicePath(v: AeadVector): boolean {
  return v.plaintext.length > 0 && (v.algo !== AeadAlgo.GCM || v.nonce.length === 24);
}

function cipherCases(v: CipherVector): KatCase[] {
  const session = (direction: 1 | 2): SessionParams => ({
    service: "cipher",
    algo: v.algo,
    key: fromHex(v.key),
    direction,
  });
  const iv = fromHex(v.iv);
  const plaintext = fromHex(v.plaintext);
  const ciphertext = fromHex(v.ciphertext);
  return [
    {
      id: `${v.id} (encrypt)`,
      params: session(ENCRYPT),
      iv,
      src: plaintext,
      dstLen: plaintext.length,
      expect: { status: Status.OK, dst: ciphertext },
    },
    {
      id: `${v.decryptId ?? v.id} (decrypt)`,
      params: session(DECRYPT),
      iv,
      src: ciphertext,
      dstLen: ciphertext.length,
      expect: { status: Status.OK, dst: plaintext },
    },
  ];
}

function hashCase(v: HashVector): KatCase {
  const digest = fromHex(v.digest);
  return {
    id: v.id,
    params: { service: "hash", algo: v.algo, resultLen: digest.length },
    src: fromHex(v.message),
    digest: digest.length,
    expect: { status: Status.OK, digest },
  };
}

function macCase(v: MacVector): KatCase {
  const mac = fromHex(v.mac);
  return {
    id: v.id,
    params: { service: "mac", algo: v.algo, key: fromHex(v.key), resultLen: mac.length },
    ...(v.iv === undefined ? {} : { iv: fromHex(v.iv) }),
    src: fromHex(v.message),
    digest: mac.length,
    expect: { status: Status.OK, digest: mac },
  };
}

function aeadCases(v: AeadVector): KatCase[] {
  const tag = fromHex(v.tag);
  const aad = fromHex(v.aad);
  const session = (direction: 1 | 2): SessionParams => ({
    service: "aead",
    algo: v.algo,
    key: fromHex(v.key),
    tagLen: tag.length,
    aadLen: aad.length,
    direction,
  });
  const plaintext = fromHex(v.plaintext);
  const ciphertext = fromHex(v.ciphertext);
  const common = { iv: fromHex(v.nonce), aad, dstLen: plaintext.length };
  const forged = tag.map((b, i) => (i === 0 ? b ^ 1 : b));
  return [
    {
      id: `${v.id} (encrypt)`,
      params: session(ENCRYPT),
      ...common,
      src: plaintext,
      digest: tag.length,
      expect: { status: Status.OK, dst: ciphertext, digest: tag },
    },
    {
      id: `${v.id} (decrypt)`,
      params: session(DECRYPT),
      ...common,
      src: ciphertext,
      digest: tag,
      expect: { status: Status.OK, dst: plaintext },
    },
    {
      id: `${v.id} (decrypt, forged tag: BADMSG)`,
      params: session(DECRYPT),
      ...common,
      src: ciphertext,
      digest: forged,
      expect: { status: Status.BADMSG },
    },
  ];
}
