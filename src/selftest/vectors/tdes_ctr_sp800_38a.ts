/**
 * 3DES-CTR known answers. No published document lists TDEA-CTR vectors (NIST SP 800-38A Appendix F has AES
 * only), so these are built from two published definitions and checked with an independent tool:
 *
 * - the mode: NIST SP 800-38A, "Recommendation for Block Cipher Modes of Operation" (2001), §6.5 (CTR: output =
 *   input XOR forward-cipher(T_j), the last partial block using the leading key-stream bytes) with the standard
 *   incrementing function of Appendix B.1 over the whole 64-bit block (big-endian, modulo 2^64);
 * - the block cipher and data: the TDEA example of NIST SP 800-67 Rev. 1, Appendix B (keys 0123456789ABCDEF,
 *   23456789ABCDEF01, 456789ABCDEF0123; the document's plaintext "The qufck brown fox jump", here followed by
 *   "s over" to end on a partial block).
 *
 * The counter starts at FFFFFFFFFFFFFFFE, so the four counter blocks FFFFFFFFFFFFFFFE, FFFFFFFFFFFFFFFF,
 * 0000000000000000, 0000000000000001 also check the wrap-around. The key stream is
 * `openssl enc -des-ede3 -nopad -K <key>` (ECB, OpenSSL 3.0.19) of those blocks:
 * 1146a3fd1519eeb8 fda5e1ab2024b229 4eba739c998bcb60 5ebef98ce2ad394c; the ciphertext is the plaintext XOR its
 * first 30 bytes (computed outside the engine under test).
 *
 * @module
 */

import { CipherAlgo } from "../../spec/virtio_crypto.ts";
import { ascii, type CipherVector, h } from "./_types.ts";

/** 3DES-CTR vectors. */
export const TDES_CTR: readonly CipherVector[] = [
  {
    id: "SP 800-38A §6.5 CTR on the SP 800-67 TDEA example, counter wrap-around",
    algo: CipherAlgo.DES3_CTR,
    key: h("0123456789abcdef 23456789abcdef01 456789abcdef0123"),
    iv: "fffffffffffffffe",
    plaintext: ascii("The qufck brown fox jumps over"),
    ciphertext: h("452ec6dd646c88db 968583d94f53dc09 28d50bbcf3fea610 2d9e96fa87df"),
  },
];
