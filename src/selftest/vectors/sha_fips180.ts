/**
 * SHA-1 and SHA-2 known-answer vectors: the examples of FIPS PUB 180-4, "Secure Hash Standard" (2015), as
 * published by NIST (CSRC "Cryptographic Standards and Guidelines: Examples with Intermediate Values", SHA1.pdf,
 * SHA224.pdf, SHA256.pdf, SHA384.pdf, SHA512.pdf): the one-block message "abc" and the two-block messages of
 * 448 bits (SHA-1, SHA-224, SHA-256) and 896 bits (SHA-384, SHA-512).
 *
 * Cross-checked with `openssl dgst -sha1/-sha224/-sha256/-sha384/-sha512`.
 *
 * @module
 */

import { HashAlgo } from "../../spec/virtio_crypto.ts";
import { ascii, h, type HashVector } from "./_types.ts";

const ABC = ascii("abc");
const MSG_448 = ascii("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
const MSG_896 = ascii(
  "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
);

/** FIPS 180-4 example vectors. */
export const SHA_FIPS180: readonly HashVector[] = [
  {
    id: "FIPS 180-4 SHA-1 one-block (abc)",
    algo: HashAlgo.SHA1,
    message: ABC,
    digest: "a9993e364706816aba3e25717850c26c9cd0d89d",
  },
  {
    id: "FIPS 180-4 SHA-1 two-block",
    algo: HashAlgo.SHA1,
    message: MSG_448,
    digest: "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
  },
  {
    id: "FIPS 180-4 SHA-224 one-block (abc)",
    algo: HashAlgo.SHA_224,
    message: ABC,
    digest: "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
  },
  {
    id: "FIPS 180-4 SHA-224 two-block",
    algo: HashAlgo.SHA_224,
    message: MSG_448,
    digest: "75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525",
  },
  {
    id: "FIPS 180-4 SHA-256 one-block (abc)",
    algo: HashAlgo.SHA_256,
    message: ABC,
    digest: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  },
  {
    id: "FIPS 180-4 SHA-256 two-block",
    algo: HashAlgo.SHA_256,
    message: MSG_448,
    digest: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  },
  {
    id: "FIPS 180-4 SHA-384 one-block (abc)",
    algo: HashAlgo.SHA_384,
    message: ABC,
    digest: h(`cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed
               8086072ba1e7cc2358baeca134c825a7`),
  },
  {
    id: "FIPS 180-4 SHA-384 two-block",
    algo: HashAlgo.SHA_384,
    message: MSG_896,
    digest: h(`09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712
               fcc7c71a557e2db966c3e9fa91746039`),
  },
  {
    id: "FIPS 180-4 SHA-512 one-block (abc)",
    algo: HashAlgo.SHA_512,
    message: ABC,
    digest: h(`ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a
               2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f`),
  },
  {
    id: "FIPS 180-4 SHA-512 two-block",
    algo: HashAlgo.SHA_512,
    message: MSG_896,
    digest: h(`8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018
               501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909`),
  },
];
