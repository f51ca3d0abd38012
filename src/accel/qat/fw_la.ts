/**
 * The firmware's lookaside (LA) messages: the 128-byte symmetric request `icp_qat_fw_la_bulk_req` and the 32-byte
 * response, as byte offsets, flag bits and 32-bit word indexes (qat-gen4.md; DPDK `icp_qat_fw.h`,
 * `icp_qat_fw_la.h`; Linux `icp_qat_fw_la.h`). All fields are little-endian. Pure.
 *
 * A session's 128-byte template (`content_descriptor.ts`) has everything but the per-request fields: opaque,
 * buffer addresses and lengths, cipher offset and length, IV, auth offset and length, result and AAD addresses.
 * The ring pair copies the template into the TX ring and patches those words in place.
 *
 * @module
 */

/** Byte offsets in the request. */
export const Req = {
  /** `comn_hdr`: resrvd1, service_cmd_id, service_type, hdr_flags, serv_specif_flags (u16), comn_req_flags, ext. */
  SERVICE_CMD_ID: 1,
  SERVICE_TYPE: 2,
  HDR_FLAGS: 3,
  SERV_SPECIF_FLAGS: 4,
  COMN_REQ_FLAGS: 6,
  /** `cd_pars`: content descriptor address (u64) and its size in quadwords (u8). */
  CD_ADDR: 8,
  CD_PARAMS_SZ: 18,
  /** `comn_mid`. */
  OPAQUE: 24,
  SRC_ADDR: 32,
  DST_ADDR: 40,
  SRC_LENGTH: 48,
  DST_LENGTH: 52,
  /** `serv_specif_rqpars`: cipher parameters. */
  CIPHER_OFFSET: 56,
  CIPHER_LENGTH: 60,
  CIPHER_IV: 64,
  /** Auth parameters (`ICP_QAT_FW_HASH_REQUEST_PARAMETERS_OFFSET` 24 bytes after the cipher ones). */
  AUTH_OFF: 80,
  AUTH_LEN: 84,
  AUTH_AAD_ADDR: 88,
  AUTH_RES_ADDR: 96,
  AUTH_PREFIX_SZ: 104,
  HASH_STATE_SZ: 106,
  AUTH_RES_SZ: 107,
  /** The same area as UCS single-pass cipher parameters (`icp_qat_fw_la_cipher_20_req_params`). */
  SPC_AAD_OFFSET: 80,
  SPC_AAD_SZ: 84,
  SPC_AAD_ADDR: 88,
  SPC_AUTH_RES_ADDR: 96,
  SPC_AUTH_RES_SZ: 107,
  /** `cd_ctrl` (`icp_qat_fw_cipher_auth_cd_ctrl_hdr`), 20 bytes. */
  CD_CTRL: 108,
} as const;

/** Offsets inside `cd_ctrl`. */
export const CdCtrl = {
  CIPHER_STATE_SZ: 0,
  CIPHER_KEY_SZ: 1,
  CIPHER_CFG_OFFSET: 2,
  NEXT_CURR_ID_CIPHER: 3,
  HASH_FLAGS: 5,
  HASH_CFG_OFFSET: 6,
  NEXT_CURR_ID_AUTH: 7,
  OUTER_PREFIX_SZ: 9,
  FINAL_SZ: 10,
  INNER_RES_SZ: 11,
  INNER_STATE1_SZ: 13,
  INNER_STATE2_OFFSET: 14,
  INNER_STATE2_SZ: 15,
} as const;

/** 32-bit word indexes of the per-request fields (the hot path writes words, never bytes). */
export const Word = {
  FLAGS: 1,
  OPAQUE_LO: 6,
  OPAQUE_HI: 7,
  SRC_LO: 8,
  SRC_HI: 9,
  DST_LO: 10,
  DST_HI: 11,
  SRC_LENGTH: 12,
  DST_LENGTH: 13,
  CIPHER_OFFSET: 14,
  CIPHER_LENGTH: 15,
  IV: 16,
  AUTH_OFF: 20,
  AUTH_LEN: 21,
  AAD_LO: 22,
  AAD_HI: 23,
  RES_LO: 24,
  RES_HI: 25,
} as const;

/** Request words. */
export const REQUEST_WORDS = 32;

/** `service_type`: lookaside (`ICP_QAT_FW_COMN_REQ_CPM_FW_LA`). */
export const SERVICE_LA = 4;
/** `hdr_flags`: the request is valid (bit 7). */
export const HDR_VALID = 0x80;

/** `service_cmd_id` of the LA service (`icp_qat_fw_la_cmd_id`). */
export const LaCmd = { CIPHER: 0, AUTH: 1, CIPHER_HASH: 2, HASH_CIPHER: 3 } as const;

/** `serv_specif_flags` bits (`ICP_QAT_FW_LA_FLAGS_BUILD` positions). */
export const LaFlag = {
  /** The IV is 16 bytes inline in the request, not a pointer. */
  IV_16BYTE_DATA: 1 << 2,
  /** Write the digest or tag to the result address. */
  RET_AUTH_RES: 1 << 5,
  /** Compare the digest or tag at the result address; a mismatch sets the crypto status bit. */
  CMP_AUTH_RES: 1 << 6,
  /** The AEAD IV is 12 bytes (GCM's J0 is IV || 1). */
  GCM_IV_LEN_12: 1 << 11,
  /** AEAD in one pass of the cipher slice (gen3+). */
  SINGLE_PASS: 1 << 13,
  /** Use the UCS cipher slice (gen4: CTR, GCM). */
  SLICE_UCS: 1 << 14,
} as const;

/** `comn_req_flags` bits: source and destination are scatter-gather lists, not flat buffers. */
export const COMN_PTR_SGL = 0x1;
/** The `comn_req_flags` byte's position in request word 1 (bits 16-23). */
export const COMN_FLAGS_SHIFT = 16;

/** Slice ids of the chain in `next_curr_id` (`icp_qat_fw_slice`). */
export const Slice = { NULL: 0, CIPHER: 1, AUTH: 2, DRAM_RD: 3, DRAM_WR: 4 } as const;

/**
 * A `next_curr_id` byte: the next slice in the high nibble, the current one in the low nibble.
 *
 * @param current This slice.
 * @param next The one after it.
 * @returns The byte.
 */
export function nextCurrId(current: number, next: number): number {
  return ((next & 0xf) << 4) | (current & 0xf);
}

/** Byte offsets in the response (`icp_qat_fw_comn_resp`). */
export const Resp = {
  SERVICE_ID: 1,
  RESPONSE_TYPE: 2,
  HDR_FLAGS: 3,
  COMN_STATUS: 6,
  CMD_ID: 7,
  OPAQUE: 8,
} as const;

/** Response words. */
export const RESPONSE_WORDS = 8;

/** `comn_status` bits. */
export const RespStatus = {
  /** Crypto status: for a verify request, the digest or tag did not match. */
  CRYPTO: 1 << 7,
  PKE: 1 << 6,
  CMP: 1 << 5,
  /** Address translation failed (the IOMMU refused a buffer). */
  XLAT: 1 << 4,
  /** The request was not supported by the firmware. */
  UNSUPPORTED: 1 << 2,
  /** A parameter was invalid. */
  INVALID_PARAM: 1 << 1,
} as const;

/** What a response's status means for the engine. */
export type ResponseOutcome = "ok" | "auth-failed" | "failed";

/**
 * Reads a response's status.
 *
 * @param status The `comn_status` byte.
 * @param verify Whether the request compared a digest or tag (CMP_AUTH_RES).
 * @returns `ok`; `auth-failed` (a verify whose digest or tag did not match: BADMSG to the guest); or `failed`
 *   (the device could not do it: software re-runs it).
 */
export function responseOutcome(status: number, verify: boolean): ResponseOutcome {
  const errors = RespStatus.UNSUPPORTED | RespStatus.INVALID_PARAM | RespStatus.XLAT | RespStatus.CMP |
    RespStatus.PKE;
  if ((status & errors) !== 0) return "failed";
  if ((status & RespStatus.CRYPTO) === 0) return "ok";
  return verify ? "auth-failed" : "failed";
}

/**
 * The status byte of a response from its second word (bytes 4..7: xlat and cmp error codes, comn_status, cmd_id).
 *
 * @param word1 Response word 1.
 * @returns `comn_status`.
 */
export function statusOfWord(word1: number): number {
  return (word1 >>> 16) & 0xff;
}
