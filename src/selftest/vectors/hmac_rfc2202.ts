/**
 * HMAC-MD5 and HMAC-SHA1 known-answer vectors from RFC 2202, "Test Cases for HMAC-MD5 and HMAC-SHA-1" (1997),
 * §2 and §3, test cases 1 to 7 (case 5 also truncated to 96 bits, as the RFC gives it).
 *
 * Cross-checked with `openssl mac -digest MD5|SHA1 -macopt hexkey:... HMAC`.
 *
 * @module
 */

import { MacAlgo } from "../../spec/virtio_crypto.ts";
import { ascii, counting, type MacVector, repeat } from "./_types.ts";

const CASES = [
  { key: (n: number) => repeat("0b", n), data: ascii("Hi There") },
  { key: () => ascii("Jefe"), data: ascii("what do ya want for nothing?") },
  { key: (n: number) => repeat("aa", n), data: repeat("dd", 50) },
  { key: () => counting(0x01, 0x19), data: repeat("cd", 50) },
  { key: (n: number) => repeat("0c", n), data: ascii("Test With Truncation") },
  { key: () => repeat("aa", 80), data: ascii("Test Using Larger Than Block-Size Key - Hash Key First") },
  {
    key: () => repeat("aa", 80),
    data: ascii("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"),
  },
] as const;

const MD5 = [
  "9294727a3638bb1c13f48ef8158bfc9d",
  "750c783e6ab0b503eaa86e310a5db738",
  "56be34521d144c88dbb8c733f0e8b3f6",
  "697eaf0aca3a3aea3a75164746ffaa79",
  "56461ef2342edc00f9bab995690efd4c",
  "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
  "6f630fad67cda0ee1fb1f562db3aa53e",
];

const SHA1 = [
  "b617318655057264e28bc0b6fb378c8ef146be00",
  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
  "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
  "4c9007f4026250c6bc8414f9bf50c86c2d7235da",
  "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04",
  "aa4ae5e15272d00e95705637ce8a3b55ed402112",
  "e8e99d0f45237d786d6bbaa7965c7808bbff1a91",
];

function vectors(name: string, algo: number, keyLen: number, macs: readonly string[]): MacVector[] {
  return CASES.map((c, i) => ({
    id: `RFC 2202 ${name} test case ${i + 1}`,
    algo,
    key: c.key(keyLen),
    message: c.data,
    mac: macs[i]!,
  }));
}

/** RFC 2202 vectors. */
export const HMAC_RFC2202: readonly MacVector[] = [
  ...vectors("HMAC-MD5", MacAlgo.HMAC_MD5, 16, MD5),
  ...vectors("HMAC-SHA1", MacAlgo.HMAC_SHA1, 20, SHA1),
  {
    id: "RFC 2202 HMAC-MD5 test case 5 (HMAC-MD5-96)",
    algo: MacAlgo.HMAC_MD5,
    key: repeat("0c", 16),
    message: ascii("Test With Truncation"),
    mac: "56461ef2342edc00f9bab995",
  },
  {
    id: "RFC 2202 HMAC-SHA1 test case 5 (HMAC-SHA1-96)",
    algo: MacAlgo.HMAC_SHA1,
    key: repeat("0c", 20),
    message: ascii("Test With Truncation"),
    mac: "4c1a03424b55e07fe7f27be1",
  },
];
