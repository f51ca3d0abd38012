/**
 * Content descriptors: the per-session block of DMA memory the firmware reads the algorithm setup and keys from,
 * and the 128-byte request template that points at it (qat-gen4.md "Symmetric request"; DPDK
 * `qat_sym_cd_cipher_set`, `qat_sym_cd_auth_set`, `qat_sym_session_init_common_hdr`; `icp_qat_hw.h`). Pure: the
 * caller gives the memory.
 *
 * Layout by command (each block 8-byte aligned, offsets in the request's `cd_ctrl` in quadwords):
 *
 * | command | content descriptor | slice chain |
 * | --- | --- | --- |
 * | CIPHER | cipher block | cipher -> DRAM write |
 * | AUTH | auth block | auth -> DRAM write |
 * | CIPHER_HASH | cipher block, auth block | cipher -> auth -> DRAM write |
 * | HASH_CIPHER | auth block, cipher block | auth -> cipher -> DRAM write |
 *
 * - Cipher block, legacy slice: config word (mode, algorithm, key convert, direction), a reserved word, the key.
 * - Cipher block, UCS slice (gen4 CTR and GCM): a 16-byte config (for single-pass AEAD the tag length in the
 *   first word, the AAD length in the second), then the key padded to a multiple of 16.
 * - Auth block: config (mode, algorithm, digest length), reserved, counter (the block size, big-endian, for
 *   HMAC; 0 for a plain hash), reserved; then state1 (the initial state or the inner midstate) and state2 (the
 *   outer midstate, HMAC only).
 *
 * @module
 */

import { CdCtrl, HDR_VALID, LaCmd, LaFlag, nextCurrId, Req, SERVICE_LA, Slice } from "./fw_la.ts";

/** `icp_qat_hw_cipher_mode`. */
export const CipherMode = { ECB: 0, CBC: 1, CTR: 2, AEAD: 4 } as const;
/** `icp_qat_hw_cipher_algo`. */
export const HwCipher = { NULL: 0, DES: 1, TDES: 2, AES128: 3, AES192: 4, AES256: 5 } as const;
/** `icp_qat_hw_auth_algo`. */
export const HwAuth = { NULL: 0, SHA1: 1, SHA256: 4, GALOIS_128: 10 } as const;
/** `icp_qat_hw_auth_mode`: 0 a plain hash, 1 HMAC from precomputed midstates. */
export const AuthMode = { PLAIN: 0, HMAC: 1 } as const;

/** Bytes of the legacy and UCS cipher config blocks, and of the auth setup. */
export const CIPHER_CONFIG_LEGACY = 8;
export const CIPHER_CONFIG_UCS = 16;
export const AUTH_SETUP = 16;
/** The AES block: the cipher state size. */
const AES_BLOCK = 16;

/**
 * The cipher config word (`ICP_QAT_HW_CIPHER_CONFIG_BUILD`).
 *
 * @param mode `CipherMode`.
 * @param algo `HwCipher`.
 * @param convert The slice derives the decryption key schedule (AES-CBC decryption).
 * @param decrypt Direction.
 * @returns The word.
 */
export function cipherConfig(mode: number, algo: number, convert: boolean, decrypt: boolean): number {
  return ((mode & 0xf) << 4) | (algo & 0xf) | ((convert ? 1 : 0) << 9) | ((decrypt ? 1 : 0) << 8);
}

/**
 * The second config word of single-pass AEAD: the AAD length (`ICP_QAT_HW_CIPHER_CONFIG_BUILD_UPPER`).
 *
 * @param aadLen AAD bytes.
 * @returns The word.
 */
export function cipherConfigUpper(aadLen: number): number {
  return ((((aadLen >>> 8) & 0x3f) << 16) | ((aadLen & 0xff) << 24)) >>> 0;
}

/**
 * The auth config word (`ICP_QAT_HW_AUTH_CONFIG_BUILD` with the default SHA-3 padding).
 *
 * @param mode `AuthMode`.
 * @param algo `HwAuth`.
 * @param digestLen Digest bytes to produce or compare.
 * @returns The word.
 */
export function authConfig(mode: number, algo: number, digestLen: number): number {
  return ((mode & 0xf) << 4) | (algo & 0xf) | (((algo >>> 4) & 0x3) << 22) | ((digestLen & 0x7f) << 8);
}

/** The cipher part of a session. */
export interface CipherBlock {
  readonly mode: number;
  readonly algo: number;
  /** The key; copied into the descriptor. */
  readonly key: Uint8Array;
  readonly decrypt: boolean;
  /** Key convert (the hardware's decryption key schedule). */
  readonly convert: boolean;
  /** The UCS slice (16-byte config, key padded to 16). */
  readonly ucs: boolean;
  /** Single-pass AEAD: tag and AAD lengths in the config. */
  readonly aead?: { readonly tagLen: number; readonly aadLen: number };
}

/** The auth part of a session. */
export interface AuthBlock {
  readonly mode: number;
  readonly algo: number;
  readonly digestLen: number;
  /** The hash's block size (HMAC's counter). */
  readonly blockSize: number;
  /** Initial state (plain) or inner midstate (HMAC), big-endian. */
  readonly state1: Uint8Array;
  /** Outer midstate (HMAC), or null. */
  readonly state2: Uint8Array | null;
}

/** Everything a descriptor and template are made from. */
export interface DescriptorPlan {
  /** `LaCmd`. */
  readonly cmd: number;
  readonly cipher: CipherBlock | null;
  readonly auth: AuthBlock | null;
  /** `LaFlag` bits beyond the inline IV (result handling, GCM IV length, single pass, UCS). */
  readonly flags: number;
}

/** Largest descriptor this driver builds (UCS AES-256 is 48 bytes, CBC-256 + HMAC-SHA-256 120). */
export const CD_MAX_BYTES = 192;

function align8(n: number): number {
  return (n + 7) & ~7;
}

function cipherKeyBytes(c: CipherBlock): number {
  return c.ucs ? (c.key.length + 15) & ~15 : c.key.length;
}

function writeCipher(c: CipherBlock, cd: DataView, at: number): number {
  cd.setUint32(
    at,
    cipherConfig(c.mode, c.algo, c.convert, c.decrypt) |
      (c.aead === undefined ? 0 : (c.aead.tagLen & 0x1f) << 10),
    true,
  );
  cd.setUint32(at + 4, c.aead === undefined ? 0 : cipherConfigUpper(c.aead.aadLen), true);
  const configBytes = c.ucs ? CIPHER_CONFIG_UCS : CIPHER_CONFIG_LEGACY;
  for (let i = 8; i < configBytes; i += 4) cd.setUint32(at + i, 0, true);
  const keyAt = at + configBytes;
  const total = cipherKeyBytes(c);
  for (let i = 0; i < total; i++) cd.setUint8(keyAt + i, c.key[i] ?? 0);
  return align8(configBytes + total);
}

function writeAuth(a: AuthBlock, cd: DataView, at: number): number {
  cd.setUint32(at, authConfig(a.mode, a.algo, a.digestLen), true);
  cd.setUint32(at + 4, 0, true);
  // The counter is the block size in big-endian for HMAC (DPDK: rte_bswap32(block_size)), 0 for a plain hash.
  cd.setUint32(at + 8, a.mode === AuthMode.HMAC ? a.blockSize : 0, false);
  cd.setUint32(at + 12, 0, true);
  const state1At = at + AUTH_SETUP;
  for (let i = 0; i < a.state1.length; i++) cd.setUint8(state1At + i, a.state1[i]!);
  const state2At = state1At + align8(a.state1.length);
  const state2 = a.state2 ?? new Uint8Array(0);
  for (let i = 0; i < state2.length; i++) cd.setUint8(state2At + i, state2[i]!);
  return AUTH_SETUP + align8(a.state1.length) + align8(state2.length);
}

/** The slices after the cipher and after the auth slice, by command. */
function chainOf(cmd: number): { cipherNext: number; authNext: number; authFirst: boolean } {
  switch (cmd) {
    case LaCmd.CIPHER_HASH:
      return { cipherNext: Slice.AUTH, authNext: Slice.DRAM_WR, authFirst: false };
    case LaCmd.HASH_CIPHER:
      return { cipherNext: Slice.DRAM_WR, authNext: Slice.CIPHER, authFirst: true };
    default:
      return { cipherNext: Slice.DRAM_WR, authNext: Slice.DRAM_WR, authFirst: cmd === LaCmd.AUTH };
  }
}

/**
 * Writes a session's content descriptor into `cd` and its request template into `template`.
 *
 * @param plan What the session does.
 * @param cd The descriptor's memory (at least `CD_MAX_BYTES`, zeroed by the caller).
 * @param cdIova Where the device sees `cd`.
 * @param template 128 bytes.
 * @returns The descriptor's size in bytes (a multiple of 8).
 */
export function writeDescriptor(
  plan: DescriptorPlan,
  cd: Uint8Array,
  cdIova: number,
  template: Uint8Array,
): number {
  const view = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const t = new DataView(template.buffer, template.byteOffset, template.byteLength);
  template.fill(0);
  const chain = chainOf(plan.cmd);
  let at = 0;
  let cipherAt = -1;
  let authAt = -1;
  const placeAuth = (): void => {
    if (plan.auth === null) return;
    authAt = at;
    at += writeAuth(plan.auth, view, at);
  };
  if (chain.authFirst) placeAuth();
  if (plan.cipher !== null) {
    cipherAt = at;
    at += writeCipher(plan.cipher, view, at);
  }
  if (!chain.authFirst) placeAuth();
  writeHeader(plan, t, cdIova, at);
  if (plan.cipher !== null) writeCipherCtrl(plan.cipher, t, cipherAt, chain.cipherNext);
  if (plan.auth !== null) writeAuthCtrl(plan.auth, t, authAt, chain.authNext);
  return at;
}

function writeHeader(plan: DescriptorPlan, t: DataView, cdIova: number, cdBytes: number): void {
  t.setUint8(Req.SERVICE_CMD_ID, plan.cmd);
  t.setUint8(Req.SERVICE_TYPE, SERVICE_LA);
  t.setUint8(Req.HDR_FLAGS, HDR_VALID);
  t.setUint16(Req.SERV_SPECIF_FLAGS, LaFlag.IV_16BYTE_DATA | plan.flags, true);
  t.setUint32(Req.CD_ADDR, cdIova >>> 0, true);
  t.setUint32(Req.CD_ADDR + 4, Math.floor(cdIova / 0x1_0000_0000), true);
  t.setUint8(Req.CD_PARAMS_SZ, cdBytes >>> 3);
}

function writeCipherCtrl(c: CipherBlock, t: DataView, at: number, next: number): void {
  const ctrl = Req.CD_CTRL;
  t.setUint8(ctrl + CdCtrl.CIPHER_STATE_SZ, AES_BLOCK >>> 3);
  t.setUint8(ctrl + CdCtrl.CIPHER_KEY_SZ, cipherKeyBytes(c) >>> 3);
  t.setUint8(ctrl + CdCtrl.CIPHER_CFG_OFFSET, at >>> 3);
  t.setUint8(ctrl + CdCtrl.NEXT_CURR_ID_CIPHER, nextCurrId(Slice.CIPHER, next));
  if (c.aead !== undefined) {
    // Single pass: the AAD and tag sizes again in the request (`icp_qat_fw_la_cipher_20_req_params`).
    t.setUint32(Req.SPC_AAD_SZ, c.aead.aadLen, true);
    t.setUint8(Req.SPC_AUTH_RES_SZ, c.aead.tagLen);
  }
}

function writeAuthCtrl(a: AuthBlock, t: DataView, at: number, next: number): void {
  const ctrl = Req.CD_CTRL;
  t.setUint8(ctrl + CdCtrl.HASH_FLAGS, 0); // no nested hash
  t.setUint8(ctrl + CdCtrl.HASH_CFG_OFFSET, at >>> 3);
  t.setUint8(ctrl + CdCtrl.NEXT_CURR_ID_AUTH, nextCurrId(Slice.AUTH, next));
  t.setUint8(ctrl + CdCtrl.FINAL_SZ, a.digestLen);
  t.setUint8(ctrl + CdCtrl.INNER_RES_SZ, a.digestLen);
  t.setUint8(ctrl + CdCtrl.INNER_STATE1_SZ, a.state1.length);
  t.setUint8(ctrl + CdCtrl.INNER_STATE2_OFFSET, (at + AUTH_SETUP + align8(a.state1.length)) >>> 3);
  t.setUint8(ctrl + CdCtrl.INNER_STATE2_SZ, a.state2?.length ?? 0);
  t.setUint8(Req.AUTH_RES_SZ, a.digestLen);
}
