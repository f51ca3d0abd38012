/**
 * What a QAT gen4 session is, from its virtio-crypto parameters: the content descriptor plan and the facts each
 * request is checked and built with. Sessions the hardware path does not cover are refused with `notsupp`, so the
 * router creates them in software and counts them ("refused"):
 *
 * | session | QAT command | slice | refused |
 * | --- | --- | --- | --- |
 * | AES-128/192/256-CBC | CIPHER | legacy cipher, key convert on decrypt | - |
 * | AES-128/192/256-CTR | CIPHER | UCS (gen4), always "encrypt" | - |
 * | SHA-256 | AUTH, mode 0 | auth | - |
 * | HMAC-SHA-256 | AUTH, mode 1, midstates from OpenSSL | auth | libcrypto without SHA256_* |
 * | AES-GCM | CIPHER, single pass, 12-byte IV | UCS | tags other than 8, 12, 16; AAD over 240 bytes |
 * | AES-CBC + SHA-256 / HMAC-SHA-256 | CIPHER_HASH or HASH_CIPHER, by chain order | legacy + auth | other ciphers |
 *
 * The parameters were checked against the claimed table first (`checkSession`: `invalid` for impossible ones).
 *
 * @module
 */

import { EngineError, type SessionParams } from "../../engine/mod.ts";
import { hmacSha256Midstates, sha256MidstateAvailable } from "../../engine/software/sha256_midstate.ts";
import {
  AeadAlgo,
  AlgChainOrder,
  CipherAlgo,
  CryptoOpDirection,
  HashAlgo,
  MacAlgo,
  SymHashMode,
} from "../../spec/virtio_crypto.ts";
import {
  type AuthBlock,
  AuthMode,
  type CipherBlock,
  CipherMode,
  type DescriptorPlan,
  HwAuth,
  HwCipher,
} from "./content_descriptor.ts";
import { LaCmd, LaFlag } from "./fw_la.ts";

/** GCM tag lengths the hardware compares (DPDK gen4 capabilities: 8 to 16 in steps of 4). */
export const GCM_TAG_LENGTHS: readonly number[] = [8, 12, 16];
/** Largest GCM AAD (DPDK gen4: 240). */
export const GCM_MAX_AAD = 240;
/** GCM IV length of the single-pass path; other nonces are run in software, per request. */
export const GCM_IV_LEN = 12;

/** SHA-256's initial state H0 (FIPS 180-4 §5.3.3), big-endian: state1 of a plain hash. */
const SHA256_H0 = Uint8Array.from([
  0x6a,
  0x09,
  0xe6,
  0x67,
  0xbb,
  0x67,
  0xae,
  0x85,
  0x3c,
  0x6e,
  0xf3,
  0x72,
  0xa5,
  0x4f,
  0xf5,
  0x3a,
  0x51,
  0x0e,
  0x52,
  0x7f,
  0x9b,
  0x05,
  0x68,
  0x8c,
  0x1f,
  0x83,
  0xd9,
  0xab,
  0x5b,
  0xe0,
  0xcd,
  0x19,
]);
const SHA256_BLOCK = 64;

/** Everything a session's requests are built and checked with. */
export interface SessionFacts {
  readonly service: "cipher" | "hash" | "mac" | "aead" | "chain";
  readonly plan: DescriptorPlan;
  /** The IV the request must carry (cipher, chain: 16; GCM: 12, other nonces go to software). */
  readonly ivLen: number;
  /** Cipher data lengths must be a multiple of this (CBC 16, CTR 1). */
  readonly unit: number;
  /** Digest (hash, MAC, chain) or tag (AEAD) bytes. */
  readonly resultLen: number;
  /** The device compares the tag (GCM decryption): a mismatch is BADMSG. */
  readonly verify: boolean;
  readonly encrypt: boolean;
  /** GCM: the AAD length the descriptor was built for (requests with another length go to software). */
  readonly aadLen: number;
}

function refuse(what: string): never {
  throw new EngineError("notsupp", `Cannot create session on the QAT: ${what}; software serves it`);
}

function aes(keyLen: number): number {
  return keyLen === 16 ? HwCipher.AES128 : keyLen === 24 ? HwCipher.AES192 : HwCipher.AES256;
}

function cipherBlock(algo: number, key: Uint8Array, decrypt: boolean): CipherBlock {
  if (algo === CipherAlgo.AES_CBC) {
    return { mode: CipherMode.CBC, algo: aes(key.length), key, decrypt, convert: decrypt, ucs: false };
  }
  if (algo === CipherAlgo.AES_CTR) {
    // CTR decryption is encryption; gen4 runs CTR on the UCS slice (DPDK: is_ucs for AES-CTR on gen4).
    return { mode: CipherMode.CTR, algo: aes(key.length), key, decrypt: false, convert: false, ucs: true };
  }
  return refuse(`cipher algorithm ${algo} has no QAT path here`);
}

function authBlock(hashMode: number, algo: number, resultLen: number, key: Uint8Array): AuthBlock {
  if (hashMode === SymHashMode.PLAIN && algo === HashAlgo.SHA_256) {
    return {
      mode: AuthMode.PLAIN,
      algo: HwAuth.SHA256,
      digestLen: resultLen,
      blockSize: SHA256_BLOCK,
      state1: SHA256_H0,
      state2: null,
    };
  }
  if (hashMode === SymHashMode.AUTH && algo === MacAlgo.HMAC_SHA_256) {
    if (!sha256MidstateAvailable()) refuse("this libcrypto cannot compute HMAC midstates (no SHA256_Init)");
    const { inner, outer } = hmacSha256Midstates(key);
    return {
      mode: AuthMode.HMAC,
      algo: HwAuth.SHA256,
      digestLen: resultLen,
      blockSize: SHA256_BLOCK,
      state1: inner,
      state2: outer,
    };
  }
  return refuse(`hash or MAC algorithm ${algo} has no QAT path here`);
}

function base(service: SessionFacts["service"], plan: DescriptorPlan): SessionFacts {
  return { service, plan, ivLen: 0, unit: 1, resultLen: 0, verify: false, encrypt: true, aadLen: 0 };
}

/**
 * The QAT plan of a session.
 *
 * @param params Checked session parameters.
 * @returns Plan and facts; the HMAC midstates in it are the caller's to zero once written.
 * @throws EngineError `notsupp` for what the QAT path does not cover.
 */
export function planSession(params: SessionParams): SessionFacts {
  switch (params.service) {
    case "cipher": {
      const decrypt = params.direction === CryptoOpDirection.DECRYPT;
      const cipher = cipherBlock(params.algo, params.key, decrypt);
      const flags = cipher.ucs ? LaFlag.SLICE_UCS : 0;
      const plan = { cmd: LaCmd.CIPHER, cipher, auth: null, flags };
      return {
        ...base("cipher", plan),
        ivLen: 16,
        unit: cipher.mode === CipherMode.CBC ? 16 : 1,
        encrypt: !decrypt,
      };
    }
    case "hash":
    case "mac": {
      const auth = params.service === "hash"
        ? authBlock(SymHashMode.PLAIN, params.algo, params.resultLen, new Uint8Array(0))
        : authBlock(SymHashMode.AUTH, params.algo, params.resultLen, params.key);
      const plan = { cmd: LaCmd.AUTH, cipher: null, auth, flags: LaFlag.RET_AUTH_RES };
      return { ...base(params.service, plan), resultLen: params.resultLen };
    }
    case "aead":
      return planGcm(params);
    case "chain":
      return planChain(params);
    case "akcipher":
      return refuse("asymmetric crypto is not driven on the QAT");
  }
}

function planGcm(params: Extract<SessionParams, { service: "aead" }>): SessionFacts {
  if (params.algo !== AeadAlgo.GCM) refuse(`AEAD algorithm ${params.algo} has no QAT path here`);
  if (!GCM_TAG_LENGTHS.includes(params.tagLen)) {
    refuse(`a ${params.tagLen}-byte GCM tag (it compares 8, 12 or 16)`);
  }
  if (params.aadLen > GCM_MAX_AAD) refuse(`${params.aadLen} bytes of GCM AAD (at most ${GCM_MAX_AAD})`);
  const decrypt = params.direction === CryptoOpDirection.DECRYPT;
  const cipher: CipherBlock = {
    mode: CipherMode.AEAD,
    algo: aes(params.key.length),
    key: params.key,
    decrypt,
    convert: false,
    ucs: true,
    aead: { tagLen: params.tagLen, aadLen: params.aadLen },
  };
  const result = decrypt ? LaFlag.CMP_AUTH_RES : LaFlag.RET_AUTH_RES;
  const flags = result | LaFlag.GCM_IV_LEN_12 | LaFlag.SINGLE_PASS | LaFlag.SLICE_UCS;
  const plan = { cmd: LaCmd.CIPHER, cipher, auth: null, flags };
  return {
    ...base("aead", plan),
    ivLen: GCM_IV_LEN,
    resultLen: params.tagLen,
    verify: decrypt,
    encrypt: !decrypt,
    aadLen: params.aadLen,
  };
}

function planChain(params: Extract<SessionParams, { service: "chain" }>): SessionFacts {
  if (params.cipher.algo !== CipherAlgo.AES_CBC) refuse("chaining with a cipher other than AES-CBC");
  const decrypt = params.cipher.direction === CryptoOpDirection.DECRYPT;
  const cipher = cipherBlock(params.cipher.algo, params.cipher.key, decrypt);
  const { hashMode, algo, resultLen, key } = params.auth;
  const auth = authBlock(hashMode, algo, resultLen, key);
  const cmd = params.order === AlgChainOrder.CIPHER_THEN_HASH ? LaCmd.CIPHER_HASH : LaCmd.HASH_CIPHER;
  const plan = { cmd, cipher, auth, flags: LaFlag.RET_AUTH_RES };
  return { ...base("chain", plan), ivLen: 16, unit: 16, resultLen, encrypt: !decrypt };
}
