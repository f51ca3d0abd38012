/**
 * AES-CCM known-answer vectors.
 *
 * - RFC 3610, "Counter with CBC-MAC (CCM)" (2003), §8, packet vectors #1 to #4 (M = 8, L = 2: 13-byte nonces;
 *   the first 8 or 12 bytes of each packet are the AAD).
 * - NIST SP 800-38C, "Recommendation for Block Cipher Modes of Operation: The CCM Mode for Authentication and
 *   Confidentiality" (2004), Appendix C, examples 1 to 3 (nonces of 7, 8 and 12 bytes; tags of 4, 6, 8 bytes).
 *
 * Cross-checked with Node's `crypto.createCipheriv("aes-128-ccm", key, nonce, { authTagLength })`.
 *
 * @module
 */

import { AeadAlgo } from "../../spec/virtio_crypto.ts";
import { type AeadVector, counting, h } from "./_types.ts";

const RFC_KEY = "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf";
const SP_KEY = "404142434445464748494a4b4c4d4e4f";

/** RFC 3610 and SP 800-38C vectors. */
export const CCM_VECTORS: readonly AeadVector[] = [
  {
    id: "RFC 3610 packet vector #1",
    algo: AeadAlgo.CCM,
    key: RFC_KEY,
    nonce: "00000003020100a0a1a2a3a4a5",
    aad: counting(0x00, 0x07),
    plaintext: counting(0x08, 0x1e),
    ciphertext: h("588c979a61c663d2f066d0c2c0f989806d5f6b61dac384"),
    tag: "17e8d12cfdf926e0",
  },
  {
    id: "RFC 3610 packet vector #2",
    algo: AeadAlgo.CCM,
    key: RFC_KEY,
    nonce: "00000004030201a0a1a2a3a4a5",
    aad: counting(0x00, 0x07),
    plaintext: counting(0x08, 0x1f),
    ciphertext: h("72c91a36e135f8cf291ca894085c87e3cc15c439c9e43a3b"),
    tag: "a091d56e10400916",
  },
  {
    id: "RFC 3610 packet vector #3",
    algo: AeadAlgo.CCM,
    key: RFC_KEY,
    nonce: "00000005040302a0a1a2a3a4a5",
    aad: counting(0x00, 0x07),
    plaintext: counting(0x08, 0x20),
    ciphertext: h("51b1e5f44a197d1da46b0f8e2d282ae871e838bb64da859657"),
    tag: "4adaa76fbd9fb0c5",
  },
  {
    id: "RFC 3610 packet vector #4",
    algo: AeadAlgo.CCM,
    key: RFC_KEY,
    nonce: "00000006050403a0a1a2a3a4a5",
    aad: counting(0x00, 0x0b),
    plaintext: counting(0x0c, 0x1e),
    ciphertext: h("a28c6865939a9a79faaa5c4c2a9d4a91cdac8c"),
    tag: "96c861b9c9e61ef1",
  },
  {
    id: "SP 800-38C Appendix C example 1",
    algo: AeadAlgo.CCM,
    key: SP_KEY,
    nonce: "10111213141516",
    aad: "0001020304050607",
    plaintext: "20212223",
    ciphertext: "7162015b",
    tag: "4dac255d",
  },
  {
    id: "SP 800-38C Appendix C example 2",
    algo: AeadAlgo.CCM,
    key: SP_KEY,
    nonce: "1011121314151617",
    aad: counting(0x00, 0x0f),
    plaintext: counting(0x20, 0x2f),
    ciphertext: "d2a1f0e051ea5f62081a7792073d593d",
    tag: "1fc64fbfaccd",
  },
  {
    id: "SP 800-38C Appendix C example 3",
    algo: AeadAlgo.CCM,
    key: SP_KEY,
    nonce: "101112131415161718191a1b",
    aad: counting(0x00, 0x13),
    plaintext: counting(0x20, 0x37),
    ciphertext: h("e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5"),
    tag: "484392fbc1b09951",
  },
];
