/**
 * MD5 known-answer vectors from RFC 1321, "The MD5 Message-Digest Algorithm" (1992), Appendix A.5 (test suite).
 *
 * Cross-checked with `openssl dgst -md5`.
 *
 * @module
 */

import { HashAlgo } from "../../spec/virtio_crypto.ts";
import { ascii, type HashVector } from "./_types.ts";

function md5(text: string, digest: string): HashVector {
  return {
    id: `RFC 1321 A.5 MD5("${text.length > 16 ? text.slice(0, 13) + "..." : text}")`,
    algo: HashAlgo.MD5,
    message: ascii(text),
    digest,
  };
}

/** RFC 1321 A.5 vectors. */
export const MD5_RFC1321: readonly HashVector[] = [
  md5("", "d41d8cd98f00b204e9800998ecf8427e"),
  md5("a", "0cc175b9c0f1b6a831c399e269772661"),
  md5("abc", "900150983cd24fb0d6963f7d28e17f72"),
  md5("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
  md5("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
  md5("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
  md5("1234567890".repeat(8), "57edf4a22be3c955ac49da2e2107b67a"),
];
