/**
 * The engine conformance suite (`tests/engine/_conformance.ts`: published known-answer vectors, the engine
 * contract) on `VirtioPciEngine`, driving the host model of a virtio-crypto function
 * (`tests/_fixtures/fake_virtio_crypto.ts`): once shaped like QEMU's built-in back-end (AES-CBC served, SHA-1
 * advertised and refused), once advertising and serving every service the bridge's device layer parses, so
 * every request layout the engine builds (cipher, hash, MAC, AEAD, chaining; guest-mapped and bounced ranges)
 * is checked end to end against the vectors. The same suite runs on QEMU's real device in the tier-4 guest
 * (`tests/hw/virtio_pci_engine_test.ts`).
 *
 * @module
 */

import { AeadAlgo, CipherAlgo, HashAlgo, MacAlgo } from "../../src/spec/virtio_crypto.ts";
import { VirtioPciEngine } from "../../src/accel/virtio_pci/mod.ts";
import { conformanceSuite } from "../engine/_conformance.ts";
import { type FakeOptions, FakeVirtioCrypto } from "../_fixtures/fake_virtio_crypto.ts";
import { SyncEngine } from "./_sync_engine.ts";

function engineOn(options: FakeOptions): () => SyncEngine {
  return () =>
    new SyncEngine(VirtioPciEngine.open(new FakeVirtioCrypto({ serve: "inline", ...options }), {
      completions: "caller",
    }));
}

conformanceSuite(engineOn({}), "VirtioPciEngine (QEMU-like model)");

conformanceSuite(
  engineOn({
    cipher: [
      CipherAlgo.AES_ECB,
      CipherAlgo.AES_CBC,
      CipherAlgo.AES_CTR,
      CipherAlgo.AES_XTS,
      CipherAlgo.DES3_CBC,
    ],
    hash: [HashAlgo.SHA1, HashAlgo.SHA_256, HashAlgo.SHA_512],
    mac: [MacAlgo.HMAC_SHA1, MacAlgo.HMAC_SHA_256, MacAlgo.CMAC_AES],
    aead: [AeadAlgo.GCM, AeadAlgo.CHACHA20_POLY1305],
    serves: ["cipher", "hash", "mac", "aead", "chain"],
  }),
  "VirtioPciEngine (full model)",
);
