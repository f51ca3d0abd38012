/**
 * ARC4 known-answer vectors from RFC 6229, "Test Vectors for the Stream Cipher RC4" (2011), §2: the key stream
 * at offsets 0 to 31 (rows "DEC 0" and "DEC 16") for the keys 0x0102030405... of 40 to 192 bits. Encrypting
 * zeros yields the key stream.
 *
 * Cross-checked with `openssl enc -rc4-40` and `openssl enc -rc4` (40- and 128-bit keys; the CLI cannot set other
 * RC4 key lengths) and, for the other lengths, with an independent 10-line RC4 written for the check.
 *
 * @module
 */

import { CipherAlgo } from "../../spec/virtio_crypto.ts";
import { type CipherVector, counting, h, repeat } from "./_types.ts";

function rc4(bits: number, stream: string): CipherVector {
  return {
    id: `RFC 6229 §2 ${bits}-bit key offset 0`,
    algo: CipherAlgo.ARC4,
    key: counting(1, bits / 8),
    iv: "",
    plaintext: repeat("00", 32),
    ciphertext: h(stream),
  };
}

/** RFC 6229 vectors. */
export const ARC4_RFC6229: readonly CipherVector[] = [
  rc4(40, "b2396305f03dc027ccc3524a0a1118a8 6982944f18fc82d589c403a47a0d0919"),
  rc4(56, "293f02d47f37c9b633f2af5285feb46b e620f1390d19bd84e2e0fd752031afc1"),
  rc4(64, "97ab8a1bf0afb96132f2f67258da15a8 8263efdb45c4a18684ef87e6b19e5b09"),
  rc4(80, "ede3b04643e586cc907dc21851709902 03516ba78f413beb223aa5d4d2df6711"),
  rc4(128, "9ac7cc9a609d1ef7b2932899cde41b97 5248c4959014126a6e8a84f11d1a9e1c"),
  rc4(192, "0595e57fe5f0bb3c706edac8a4b2db11 dfde31344a1af769c74f070aee9e2326"),
];
