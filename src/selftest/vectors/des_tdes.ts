/**
 * DES and Triple-DES known-answer vectors.
 *
 * - FIPS PUB 81, "DES Modes of Operation" (1980), Appendix B: key 0123456789abcdef, plaintext "Now is the time
 *   for all ", Table B1 (ECB) and Table B2 (CBC, IV 1234567890abcdef).
 * - NIST SP 800-20, "Modes of Operation Validation System for the Triple Data Encryption Algorithm" (1999),
 *   Appendix B, Table 1 (variable plaintext known-answer test, keys 0101010101010101): the first rows.
 * - NIST SP 800-67 Rev. 1, "Recommendation for the Triple Data Encryption Algorithm (TDEA) Block Cipher" (2012),
 *   Appendix B, TDEA ECB example: keys 0123456789ABCDEF, 23456789ABCDEF01, 456789ABCDEF0123, plaintext
 *   "The qufck brown fox jump" (the typo is the document's).
 * - 3DES-CBC: SP 800-67 §3.1, keying option 3 (K1 = K2 = K3) is single DES, so the FIPS 81 CBC example under the
 *   key 0123456789abcdef taken three times is a TDEA-CBC known answer.
 *
 * Cross-checked with `openssl enc -des-{ecb,cbc} -provider legacy` and `openssl enc -des-ede3{,-cbc} -nopad`.
 *
 * @module
 */

import { CipherAlgo } from "../../spec/virtio_crypto.ts";
import { ascii, type CipherVector, h } from "./_types.ts";

const FIPS81_KEY = "0123456789abcdef";
const FIPS81_PLAINTEXT = ascii("Now is the time for all ");
const FIPS81_ECB = h("3fa40e8a984d4815 6a271787ab8883f9 893d51ec4b563b53");
const FIPS81_CBC = h("e5c7cdde872bf27c 43e934008c389c0f 683788499a7c05f6");

/** DES and TDEA vectors. */
export const DES_TDES: readonly CipherVector[] = [
  {
    id: "FIPS 81 Table B1 DES-ECB",
    algo: CipherAlgo.DES_ECB,
    key: FIPS81_KEY,
    iv: "",
    plaintext: FIPS81_PLAINTEXT,
    ciphertext: FIPS81_ECB,
  },
  {
    id: "FIPS 81 Table B2 DES-CBC",
    algo: CipherAlgo.DES_CBC,
    key: FIPS81_KEY,
    iv: "1234567890abcdef",
    plaintext: FIPS81_PLAINTEXT,
    ciphertext: FIPS81_CBC,
  },
  {
    id: "SP 800-20 Table 1 round 1 DES-ECB",
    algo: CipherAlgo.DES_ECB,
    key: "0101010101010101",
    iv: "",
    plaintext: "8000000000000000",
    ciphertext: "95f8a5e5dd31d900",
  },
  {
    id: "SP 800-20 Table 1 round 2 DES-ECB",
    algo: CipherAlgo.DES_ECB,
    key: "0101010101010101",
    iv: "",
    plaintext: "4000000000000000",
    ciphertext: "dd7f121ca5015619",
  },
  {
    id: "SP 800-20 Table 1 round 3 DES-ECB",
    algo: CipherAlgo.DES_ECB,
    key: "0101010101010101",
    iv: "",
    plaintext: "2000000000000000",
    ciphertext: "2e8653104f3834ea",
  },
  {
    id: "SP 800-67 Rev. 1 Appendix B TDEA-ECB",
    algo: CipherAlgo.DES3_ECB,
    key: h("0123456789abcdef 23456789abcdef01 456789abcdef0123"),
    iv: "",
    plaintext: ascii("The qufck brown fox jump"),
    ciphertext: h("a826fd8ce53b855f cce21c8112256fe6 68d5c05dd9b6b900"),
  },
  {
    id: "SP 800-20 Table 1 round 1 TDEA-ECB (K1 = K2 = K3)",
    algo: CipherAlgo.DES3_ECB,
    key: "0101010101010101".repeat(3),
    iv: "",
    plaintext: "8000000000000000",
    ciphertext: "95f8a5e5dd31d900",
  },
  {
    id: "FIPS 81 Table B2 as TDEA-CBC (K1 = K2 = K3)",
    algo: CipherAlgo.DES3_CBC,
    key: FIPS81_KEY.repeat(3),
    iv: "1234567890abcdef",
    plaintext: FIPS81_PLAINTEXT,
    ciphertext: FIPS81_CBC,
  },
];
