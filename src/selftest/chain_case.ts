/**
 * The chained case: AES-128-CBC with HMAC-SHA-256 in one session. No standard publishes a chained vector, so the
 * expected value is built from two that do: the cipher region must be the CBC ciphertext of NIST SP 800-38A
 * F.2.1 (F.2.2 decrypting), and the MAC must be HMAC-SHA-256, under RFC 4231 test case 1's key (twenty 0x0b
 * bytes), of that ciphertext, as the software engine computes it. Before its MAC is trusted as the reference, the
 * software engine must reproduce RFC 4231 test case 1 itself.
 *
 * Two cases: CIPHER_THEN_HASH encrypting (the MAC over the ciphertext written), and HASH_THEN_CIPHER decrypting
 * (the MAC over the ciphertext read), the two orders an encrypt-then-MAC protocol uses.
 *
 * @module
 */

import type { ChainSessionParams, CryptoEngine } from "../engine/mod.ts";
import {
  AlgChainOrder,
  CipherAlgo,
  CryptoOpDirection,
  MacAlgo,
  Status,
  SymHashMode,
} from "../spec/virtio_crypto.ts";
import { fromHex, toHex } from "./hex.ts";
import { bytesOf, type KatCase, opOf } from "./kat_case.ts";
import { runOp } from "./run_op.ts";
import { AES_SP800_38A } from "./vectors/aes_sp800_38a.ts";
import { HMAC_RFC4231 } from "./vectors/hmac_rfc4231.ts";

const CBC = AES_SP800_38A.find((v) => v.algo === CipherAlgo.AES_CBC && v.id.includes("F.2.1"))!;
const HMAC = HMAC_RFC4231.find((v) => v.algo === MacAlgo.HMAC_SHA_256 && v.id.endsWith("test case 1"))!;
const MAC_LEN = 32;

/**
 * The chain session of the self-test.
 *
 * @param order CIPHER_THEN_HASH (encrypt) or HASH_THEN_CIPHER (decrypt).
 * @returns AES-128-CBC (the SP 800-38A key) with HMAC-SHA-256 (RFC 4231 case 1's key), 32-byte MAC, no AAD.
 */
export function chainParams(order: number): ChainSessionParams {
  const direction = order === AlgChainOrder.CIPHER_THEN_HASH
    ? CryptoOpDirection.ENCRYPT
    : CryptoOpDirection.DECRYPT;
  return {
    service: "chain",
    order,
    cipher: { algo: CipherAlgo.AES_CBC, key: fromHex(CBC.key), direction },
    auth: {
      hashMode: SymHashMode.AUTH,
      algo: MacAlgo.HMAC_SHA_256,
      resultLen: MAC_LEN,
      key: fromHex(HMAC.key),
    },
    aadLen: 0,
  };
}

/** The chained cases, or why the reference could not be computed. */
export type ChainCases = { readonly cases: KatCase[] } | { readonly problem: string };

/**
 * Builds the chained cases, their MAC computed by the software engine.
 *
 * @param software The software engine.
 * @param timeoutMs Longest wait for its answer.
 * @returns The two cases, or the problem.
 */
export async function chainCases(software: CryptoEngine, timeoutMs: number): Promise<ChainCases> {
  const key = fromHex(HMAC.key);
  const check = await softwareMac(software, key, fromHex(HMAC.message), timeoutMs);
  if (check !== HMAC.mac) {
    return {
      problem: `the software engine's HMAC-SHA256 gave ${check} for ${HMAC.id}, expected ${HMAC.mac}`,
    };
  }
  const plaintext = fromHex(CBC.plaintext);
  const ciphertext = fromHex(CBC.ciphertext);
  const mac = fromHex(await softwareMac(software, key, ciphertext, timeoutMs));
  const regions = { cipherOffset: 0, cipherLen: plaintext.length, hashOffset: 0, hashLen: plaintext.length };
  const common = { iv: fromHex(CBC.iv), dstLen: plaintext.length, digest: MAC_LEN, regions };
  return {
    cases: [
      {
        id: `${CBC.id} then HMAC-SHA256 of the ciphertext (encrypt)`,
        params: chainParams(AlgChainOrder.CIPHER_THEN_HASH),
        ...common,
        src: plaintext,
        expect: { status: Status.OK, dst: ciphertext, digest: mac },
      },
      {
        id: `HMAC-SHA256 of the ciphertext then ${CBC.decryptId} (decrypt)`,
        params: chainParams(AlgChainOrder.HASH_THEN_CIPHER),
        ...common,
        src: ciphertext,
        expect: { status: Status.OK, dst: plaintext, digest: mac },
      },
    ],
  };
}

async function softwareMac(
  software: CryptoEngine,
  key: Uint8Array,
  data: Uint8Array,
  timeoutMs: number,
): Promise<string> {
  const session = software.createSession({
    service: "mac",
    algo: MacAlgo.HMAC_SHA_256,
    key,
    resultLen: MAC_LEN,
  });
  try {
    const op = opOf(session, { src: data, digest: MAC_LEN });
    const status = await runOp(software, op, timeoutMs);
    return status === Status.OK ? toHex(bytesOf(op.digest)) : `status ${status}`;
  } finally {
    software.closeSession(session);
  }
}
