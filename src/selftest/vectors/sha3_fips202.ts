/**
 * SHA-3 and SHAKE known-answer vectors: the examples of FIPS PUB 202, "SHA-3 Standard: Permutation-Based Hash and
 * Extendable-Output Functions" (2015), as published by NIST (CSRC "Examples with Intermediate Values":
 * SHA3-224_Msg0.pdf ... SHA3-512_1600.pdf, SHAKE128_Msg0.pdf, SHAKE256_Msg0.pdf, ...): the empty message (Msg0)
 * and the 1600-bit message of 200 bytes 0xA3 (Msg1600). SHAKE outputs are the leading bytes of the published
 * 4096-bit outputs (an XOF's shorter output is a prefix of its longer one).
 *
 * Cross-checked with `openssl dgst -sha3-* ` and `openssl dgst -shake128/-shake256 -xoflen N`.
 *
 * @module
 */

import { HashAlgo } from "../../spec/virtio_crypto.ts";
import { h, type HashVector, repeat } from "./_types.ts";

const MSG_1600 = repeat("a3", 200);

/** FIPS 202 example vectors. */
export const SHA3_FIPS202: readonly HashVector[] = [
  {
    id: "FIPS 202 SHA3-224 Msg0",
    algo: HashAlgo.SHA3_224,
    message: "",
    digest: "6b4e03423667dbb73b6e15454f0eb1abd4597f9a1b078e3f5b5a6bc7",
  },
  {
    id: "FIPS 202 SHA3-224 Msg1600",
    algo: HashAlgo.SHA3_224,
    message: MSG_1600,
    digest: "9376816aba503f72f96ce7eb65ac095deee3be4bf9bbc2a1cb7e11e0",
  },
  {
    id: "FIPS 202 SHA3-256 Msg0",
    algo: HashAlgo.SHA3_256,
    message: "",
    digest: "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a",
  },
  {
    id: "FIPS 202 SHA3-256 Msg1600",
    algo: HashAlgo.SHA3_256,
    message: MSG_1600,
    digest: "79f38adec5c20307a98ef76e8324afbfd46cfd81b22e3973c65fa1bd9de31787",
  },
  {
    id: "FIPS 202 SHA3-384 Msg0",
    algo: HashAlgo.SHA3_384,
    message: "",
    digest: h(`0c63a75b845e4f7d01107d852e4c2485c51a50aaaa94fc61995e71bbee983a2a
               c3713831264adb47fb6bd1e058d5f004`),
  },
  {
    id: "FIPS 202 SHA3-384 Msg1600",
    algo: HashAlgo.SHA3_384,
    message: MSG_1600,
    digest: h(`1881de2ca7e41ef95dc4732b8f5f002b189cc1e42b74168ed1732649ce1dbcdd
               76197a31fd55ee989f2d7050dd473e8f`),
  },
  {
    id: "FIPS 202 SHA3-512 Msg0",
    algo: HashAlgo.SHA3_512,
    message: "",
    digest: h(`a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a6
               15b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26`),
  },
  {
    id: "FIPS 202 SHA3-512 Msg1600",
    algo: HashAlgo.SHA3_512,
    message: MSG_1600,
    digest: h(`e76dfad22084a8b1467fcf2ffa58361bec7628edf5f3fdc0e4805dc48caeeca8
               1b7c13c30adf52a3659584739a2df46be589c51ca1a4a8416df6545a1ce8ba00`),
  },
  {
    id: "FIPS 202 SHAKE128 Msg0 (256-bit output)",
    algo: HashAlgo.SHA3_SHAKE128,
    message: "",
    digest: "7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26",
  },
  {
    id: "FIPS 202 SHAKE128 Msg1600 (256-bit output)",
    algo: HashAlgo.SHA3_SHAKE128,
    message: MSG_1600,
    digest: "131ab8d2b594946b9c81333f9bb6e0ce75c3b93104fa3469d3917457385da037",
  },
  {
    id: "FIPS 202 SHAKE256 Msg0 (512-bit output)",
    algo: HashAlgo.SHA3_SHAKE256,
    message: "",
    digest: h(`46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f
               d75dc4ddd8c0f200cb05019d67b592f6fc821c49479ab48640292eacb3b7c4be`),
  },
  {
    id: "FIPS 202 SHAKE256 Msg1600 (512-bit output)",
    algo: HashAlgo.SHA3_SHAKE256,
    message: MSG_1600,
    digest: h(`cd8a920ed141aa0407a22d59288652e9d9f1a7ee0c1e7c1ca699424da84a904d
               2d700caae7396ece96604440577da4f3aa22aeb8857f961c4cd8e06f0ae6610b`),
  },
];
