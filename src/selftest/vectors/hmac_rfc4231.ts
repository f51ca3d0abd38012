/**
 * HMAC-SHA-224/256/384/512 known-answer vectors from RFC 4231, "Identifiers and Test Vectors for HMAC-SHA-224,
 * HMAC-SHA-256, HMAC-SHA-384, and HMAC-SHA-512" (2005), §4.2 to §4.8 (test cases 1 to 7; case 5 is truncated to
 * 128 bits, as the RFC gives it).
 *
 * Cross-checked with `openssl mac -digest SHA224|SHA256|SHA384|SHA512 -macopt hexkey:... HMAC`.
 *
 * @module
 */

import { MacAlgo } from "../../spec/virtio_crypto.ts";
import { ascii, counting, h, type MacVector, repeat } from "./_types.ts";

const CASES = [
  { key: repeat("0b", 20), data: ascii("Hi There") },
  { key: ascii("Jefe"), data: ascii("what do ya want for nothing?") },
  { key: repeat("aa", 20), data: repeat("dd", 50) },
  { key: counting(0x01, 0x19), data: repeat("cd", 50) },
  { key: repeat("0c", 20), data: ascii("Test With Truncation") },
  { key: repeat("aa", 131), data: ascii("Test Using Larger Than Block-Size Key - Hash Key First") },
  {
    key: repeat("aa", 131),
    data: ascii(
      "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be " +
        "hashed before being used by the HMAC algorithm.",
    ),
  },
] as const;

const SHA224 = [
  "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22",
  "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
  "7fb3cb3588c6c1f6ffa9694d7d6ad2649365b0c1f65d69d1ec8333ea",
  "6c11506874013cac6a2abc1bb382627cec6a90d86efc012de7afec5a",
  "0e2aea68a90c8d37c988bcdb9fca6fa8",
  "95e9a0db962095adaebe9b2d6f0dbce2d499f112f2d2b7273fa6870e",
  "3a854166ac5d9f023f54d517d0b39dbd946770db9c2b95c9f6f565d1",
];

const SHA256 = [
  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
  "a3b6167473100ee06e0c796c2955552b",
  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
];

const SHA384 = [
  h(`afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c faea9ea9076ede7f4af152e8b2fa9cb6`),
  h(`af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e 8e2240ca5e69e2c78b3239ecfab21649`),
  h(`88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b 2a5ab39dc13814b94e3ab6e101a34f27`),
  h(`3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e 6801dd23c4a7d679ccf8a386c674cffb`),
  "3abf34c3503b2a23a46efc619baef897",
  h(`4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6 0c2ef6ab4030fe8296248df163f44952`),
  h(`6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5 a678cc31e799176d3860e6110c46523e`),
];

const SHA512 = [
  h(`87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde
     daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854`),
  h(`164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554
     9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737`),
  h(`fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39
     bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb`),
  h(`b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db
     a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd`),
  "415fad6271580a531d4179bc891d87a6",
  h(`80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352
     6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598`),
  h(`e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944
     b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58`),
];

function vectors(name: string, algo: number, macs: readonly string[]): MacVector[] {
  return CASES.map((c, i) => ({
    id: `RFC 4231 ${name} test case ${i + 1}`,
    algo,
    key: c.key,
    message: c.data,
    mac: macs[i]!,
  }));
}

/** RFC 4231 vectors. */
export const HMAC_RFC4231: readonly MacVector[] = [
  ...vectors("HMAC-SHA224", MacAlgo.HMAC_SHA_224, SHA224),
  ...vectors("HMAC-SHA256", MacAlgo.HMAC_SHA_256, SHA256),
  ...vectors("HMAC-SHA384", MacAlgo.HMAC_SHA_384, SHA384),
  ...vectors("HMAC-SHA512", MacAlgo.HMAC_SHA_512, SHA512),
];
