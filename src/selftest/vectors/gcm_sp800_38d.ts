/**
 * AES-GCM and GMAC known-answer vectors.
 *
 * - AES-GCM: the test cases of McGrew and Viega, "The Galois/Counter Mode of Operation (GCM)" (revised 2005,
 *   Appendix B), the specification NIST SP 800-38D, "Recommendation for Block Cipher Modes of Operation:
 *   Galois/Counter Mode (GCM) and GMAC" (2007) adopts: test cases 1-6 (AES-128), 7-9 (AES-192), 13-16 (AES-256).
 *   Cases 5 and 6 use 8-byte and 60-byte IVs.
 * - GMAC (GCM with an empty plaintext, SP 800-38D §3): test case 1 read as GMAC (empty message), and the first
 *   vector of NIST CAVP's GCM test vectors (gcmtestvectors.zip, gcmEncryptExtIV128.rsp, [PTlen = 0][AADlen =
 *   128], Count = 0).
 *
 * Cross-checked with Node's `crypto.createCipheriv("aes-*-gcm")` and `openssl mac -cipher AES-128-GCM GMAC`.
 *
 * @module
 */

import { AeadAlgo, MacAlgo } from "../../spec/virtio_crypto.ts";
import { type AeadVector, h, type MacVector, repeat } from "./_types.ts";

const K = "feffe9928665731c6d6a8f9467308308";
const IV = "cafebabefacedbaddecaf888";
const P = h(`d9313225f88406e5a55909c5aff5269a 86a7a9531534f7da2e4c303d8a318a72
             1c3c0c95956809532fcf0e2449a6b525 b16aedf5aa0de657ba637b391aafd255`);
const P60 = P.slice(0, 120);
const A = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
const IV60 = h(`9313225df88406e555909c5aff5269aa 6a7a9538534f7da1e4c303d2a318a728
                c3c0c95156809539fcf0e2429a6b5254 16aedbf5a0de6a57a637b39b`);

function gcm(n: number, v: Omit<AeadVector, "id" | "algo">): AeadVector {
  return { id: `GCM spec test case ${n}`, algo: AeadAlgo.GCM, ...v };
}

/** AES-GCM test cases. */
export const GCM_VECTORS: readonly AeadVector[] = [
  gcm(1, {
    key: repeat("00", 16),
    nonce: repeat("00", 12),
    aad: "",
    plaintext: "",
    ciphertext: "",
    tag: "58e2fccefa7e3061367f1d57a4e7455a",
  }),
  gcm(2, {
    key: repeat("00", 16),
    nonce: repeat("00", 12),
    aad: "",
    plaintext: repeat("00", 16),
    ciphertext: "0388dace60b6a392f328c2b971b2fe78",
    tag: "ab6e47d42cec13bdf53a67b21257bddf",
  }),
  gcm(3, {
    key: K,
    nonce: IV,
    aad: "",
    plaintext: P,
    ciphertext: h(`42831ec2217774244b7221b784d0d49c e3aa212f2c02a4e035c17e2329aca12e
                   21d514b25466931c7d8f6a5aac84aa05 1ba30b396a0aac973d58e091473f5985`),
    tag: "4d5c2af327cd64a62cf35abd2ba6fab4",
  }),
  gcm(4, {
    key: K,
    nonce: IV,
    aad: A,
    plaintext: P60,
    ciphertext: h(`42831ec2217774244b7221b784d0d49c e3aa212f2c02a4e035c17e2329aca12e
                   21d514b25466931c7d8f6a5aac84aa05 1ba30b396a0aac973d58e091`),
    tag: "5bc94fbc3221a5db94fae95ae7121a47",
  }),
  gcm(5, {
    key: K,
    nonce: "cafebabefacedbad",
    aad: A,
    plaintext: P60,
    ciphertext: h(`61353b4c2806934a777ff51fa22a4755 699b2a714fcdc6f83766e5f97b6c7423
                   73806900e49f24b22b097544d4896b42 4989b5e1ebac0f07c23f4598`),
    tag: "3612d2e79e3b0785561be14aaca2fccb",
  }),
  gcm(6, {
    key: K,
    nonce: IV60,
    aad: A,
    plaintext: P60,
    ciphertext: h(`8ce24998625615b603a033aca13fb894 be9112a5c3a211a8ba262a3cca7e2ca7
                   01e4a9a4fba43c90ccdcb281d48c7c6f d62875d2aca417034c34aee5`),
    tag: "619cc5aefffe0bfa462af43c1699d050",
  }),
  gcm(7, {
    key: repeat("00", 24),
    nonce: repeat("00", 12),
    aad: "",
    plaintext: "",
    ciphertext: "",
    tag: "cd33b28ac773f74ba00ed1f312572435",
  }),
  gcm(8, {
    key: repeat("00", 24),
    nonce: repeat("00", 12),
    aad: "",
    plaintext: repeat("00", 16),
    ciphertext: "98e7247c07f0fe411c267e4384b0f600",
    tag: "2ff58d80033927ab8ef4d4587514f0fb",
  }),
  gcm(9, {
    key: K + "feffe9928665731c",
    nonce: IV,
    aad: "",
    plaintext: P,
    ciphertext: h(`3980ca0b3c00e841eb06fac4872a2757 859e1ceaa6efd984628593b40ca1e19c
                   7d773d00c144c525ac619d18c84a3f47 18e2448b2fe324d9ccda2710acade256`),
    tag: "9924a7c8587336bfb118024db8674a14",
  }),
  gcm(13, {
    key: repeat("00", 32),
    nonce: repeat("00", 12),
    aad: "",
    plaintext: "",
    ciphertext: "",
    tag: "530f8afbc74536b9a963b4f1c4cb738b",
  }),
  gcm(14, {
    key: repeat("00", 32),
    nonce: repeat("00", 12),
    aad: "",
    plaintext: repeat("00", 16),
    ciphertext: "cea7403d4d606b6e074ec5d3baf39d18",
    tag: "d0d1c8a799996bf0265b98b5d48ab919",
  }),
  gcm(15, {
    key: K + K,
    nonce: IV,
    aad: "",
    plaintext: P,
    ciphertext: h(`522dc1f099567d07f47f37a32a84427d 643a8cdcbfe5c0c97598a2bd2555d1aa
                   8cb08e48590dbb3da7b08b1056828838 c5f61e6393ba7a0abcc9f662898015ad`),
    tag: "b094dac5d93471bdec1a502270e3cc6c",
  }),
  gcm(16, {
    key: K + K,
    nonce: IV,
    aad: A,
    plaintext: P60,
    ciphertext: h(`522dc1f099567d07f47f37a32a84427d 643a8cdcbfe5c0c97598a2bd2555d1aa
                   8cb08e48590dbb3da7b08b1056828838 c5f61e6393ba7a0abcc9f662`),
    tag: "76fc6ece0f4e1768cddf8853bb2d551b",
  }),
];

/** GMAC-AES vectors: the IV goes in `op.iv`, the message in `op.src`. */
export const GMAC_VECTORS: readonly MacVector[] = [
  {
    id: "GCM spec test case 1 as GMAC (empty message)",
    algo: MacAlgo.GMAC_AES,
    key: repeat("00", 16),
    iv: repeat("00", 12),
    message: "",
    mac: "58e2fccefa7e3061367f1d57a4e7455a",
  },
  {
    id: "GCM spec test case 13 as GMAC (empty message, AES-256)",
    algo: MacAlgo.GMAC_AES,
    key: repeat("00", 32),
    iv: repeat("00", 12),
    message: "",
    mac: "530f8afbc74536b9a963b4f1c4cb738b",
  },
  {
    id: "CAVP gcmEncryptExtIV128 PTlen=0 AADlen=128 Count=0",
    algo: MacAlgo.GMAC_AES,
    key: "77be63708971c4e240d1cb79e8d77feb",
    iv: "e0e00f19fed7ba0136a797f3",
    message: "7a43ec1d9c0a5a78a0b16533a6213cab",
    mac: "209fcc8d3675ed938e9c7166709dd946",
  },
];
