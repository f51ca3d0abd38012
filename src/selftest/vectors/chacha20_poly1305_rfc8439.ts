/**
 * ChaCha20-Poly1305 known-answer vector from RFC 8439, "ChaCha20 and Poly1305 for IETF Protocols" (2018),
 * §2.8.2 (example and test vector for AEAD_CHACHA20_POLY1305: the "sunscreen" plaintext).
 *
 * Cross-checked with Node's `crypto.createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 })`.
 *
 * @module
 */

import { AeadAlgo } from "../../spec/virtio_crypto.ts";
import { type AeadVector, ascii, h } from "./_types.ts";

/** RFC 8439 §2.8.2. */
export const CHACHA20_POLY1305_RFC8439: readonly AeadVector[] = [
  {
    id: "RFC 8439 §2.8.2",
    algo: AeadAlgo.CHACHA20_POLY1305,
    key: h("808182838485868788898a8b8c8d8e8f 909192939495969798999a9b9c9d9e9f"),
    nonce: "070000004041424344454647",
    aad: "50515253c0c1c2c3c4c5c6c7",
    plaintext: ascii(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    ),
    ciphertext: h(`
      d31a8d34648e60db7b86afbc53ef7ec2 a4aded51296e08fea9e2b5a736ee62d6
      3dbea45e8ca9671282fafb69da92728b 1a71de0a9e060b2905d6a5b67ecd3b36
      92ddbd7f2d778b8c9803aee328091b58 fab324e4fad675945585808b4831d7bc
      3ff4def08e4b7a9de576d26586cec64b 6116`),
    tag: "1ae10b594f09e26a7e902ecbd0600691",
  },
];
