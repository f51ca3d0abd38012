/**
 * The accelerators the self-test tests run on: the QAT gen4 VF model and the virtio-crypto function model of
 * tests/_fixtures (test doubles: no host here has either device), opened through `openAccelerator`'s `ports`
 * as `cryptobridge selftest` opens real ones through VFIO.
 *
 * @module
 */

import type { OpenAcceleratorOptions } from "../../src/accel/open.ts";
import type { SessionParams } from "../../src/engine/mod.ts";
import { AeadAlgo, CipherAlgo, HashAlgo, MacAlgo } from "../../src/spec/virtio_crypto.ts";
import { type FakeQatOptions, FakeQatVf } from "../_fixtures/fake_qat_vf.ts";
import { type FakeOptions, FakeVirtioCrypto } from "../_fixtures/fake_virtio_crypto.ts";

/** A QAT VF's address in the tests. */
export const QAT_BDF = "0000:6b:00.1";
/** A virtio-crypto function's address in the tests. */
export const VIRTIO_BDF = "0000:00:04.0";

/**
 * The QAT gen4 VF model, its arbiter on a timer (the engine polls), as `openAccelerator` options.
 *
 * @param options The model's options.
 * @returns The model and the options that open it.
 */
export function qatModel(options: FakeQatOptions = {}): { model: FakeQatVf; open: OpenAcceleratorOptions } {
  const model = new FakeQatVf(options);
  model.start();
  return { model, open: { kind: "qat-gen4-vf", ports: { qat: () => model } } };
}

/** A virtio-crypto function advertising and serving what the QAT path does, and SHA-1 and AES-XTS besides. */
export const FULL_VIRTIO: FakeOptions = {
  cipher: [CipherAlgo.AES_CBC, CipherAlgo.AES_CTR, CipherAlgo.AES_XTS],
  hash: [HashAlgo.SHA_256, HashAlgo.SHA1],
  mac: [MacAlgo.HMAC_SHA_256],
  aead: [AeadAlgo.GCM],
  serves: ["cipher", "hash", "mac", "aead", "chain"],
};

/**
 * The virtio-crypto function model as `openAccelerator` options.
 *
 * @param options The model's options (default: QEMU's built-in back-end: AES-CBC served, SHA-1 refused).
 * @returns The model and the options that open it.
 */
export function virtioModel(
  options: FakeOptions = {},
): { model: FakeVirtioCrypto; open: OpenAcceleratorOptions } {
  const model = new FakeVirtioCrypto(options);
  return { model, open: { kind: "virtio-crypto", ports: { virtio: () => model } } };
}

/**
 * The wrong-answer predicate: every MAC session of an algorithm.
 *
 * @param algo The `VIRTIO_CRYPTO_MAC_*` id.
 * @returns The predicate for `FakeOptions.corrupt`.
 */
export function macSessions(algo: number): (params: SessionParams) => boolean {
  return (p) => p.service === "mac" && p.algo === algo;
}
