/**
 * Every known-answer vector of this folder, by service: what the self-test runs on an accelerator (for each
 * algorithm it advertises) and what the engine conformance suite (tests/engine/_conformance.ts) runs on every
 * engine. Each vector's `id` names its source document; each file cites its standard.
 *
 * @module
 */

import type { AeadVector, CipherVector, HashVector, MacVector } from "./_types.ts";
import { AES_SP800_38A } from "./aes_sp800_38a.ts";
import { AES_XTS_IEEE1619 } from "./aes_xts_ieee1619.ts";
import { ARC4_RFC6229 } from "./arc4_rfc6229.ts";
import { CCM_VECTORS } from "./ccm_rfc3610.ts";
import { CHACHA20_POLY1305_RFC8439 } from "./chacha20_poly1305_rfc8439.ts";
import { CMAC_VECTORS } from "./cmac_rfc4493_sp800_38b.ts";
import { DES_TDES } from "./des_tdes.ts";
import { GCM_VECTORS, GMAC_VECTORS } from "./gcm_sp800_38d.ts";
import { HMAC_RFC2202 } from "./hmac_rfc2202.ts";
import { HMAC_RFC4231 } from "./hmac_rfc4231.ts";
import { MD5_RFC1321 } from "./md5_rfc1321.ts";
import { SHA3_FIPS202 } from "./sha3_fips202.ts";
import { SHA_FIPS180 } from "./sha_fips180.ts";
import { TDES_CTR } from "./tdes_ctr_sp800_38a.ts";

/** Every cipher vector. */
export const CIPHER_VECTORS: readonly CipherVector[] = [
  ...AES_SP800_38A,
  ...AES_XTS_IEEE1619,
  ...DES_TDES,
  ...TDES_CTR,
  ...ARC4_RFC6229,
];
/** Every hash vector. */
export const HASH_VECTORS: readonly HashVector[] = [...MD5_RFC1321, ...SHA_FIPS180, ...SHA3_FIPS202];
/** Every MAC vector. */
export const MAC_VECTORS: readonly MacVector[] = [
  ...HMAC_RFC2202,
  ...HMAC_RFC4231,
  ...CMAC_VECTORS,
  ...GMAC_VECTORS,
];
/** Every AEAD vector. */
export const AEAD_VECTORS: readonly AeadVector[] = [
  ...GCM_VECTORS,
  ...CCM_VECTORS,
  ...CHACHA20_POLY1305_RFC8439,
];
