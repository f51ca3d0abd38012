/**
 * `VirtioPciEngine` on a real virtio-crypto PCI function bound to vfio-pci: the engine conformance suite (the
 * software engine's known-answer vectors and contract) for everything the device claims, then the interrupt path
 * and the probe. Skipped unless `CRYPTOBRIDGE_TEST_BDF` names the function.
 *
 * The tier-4 guest runs it on QEMU's emulated virtio-crypto-pci (`tests/guest/accel_test.ts`); on a host with a
 * virtio-crypto accelerator: `cryptobridge bind BDF`, then
 * `CRYPTOBRIDGE_TEST_BDF=BDF deno test -A tests/hw/virtio_pci_engine_test.ts` as root.
 *
 * One VFIO session serves the whole file (a VFIO group opens once at a time); each test opens its own engine on
 * it, which resets and restarts the device.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  openVfioPort,
  VirtioPciEngine,
  type VirtioPciEngineOptions,
} from "../../src/accel/virtio_pci/mod.ts";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { PENDING } from "../../src/engine/mod.ts";
import { Reactor } from "../../src/os/mod.ts";
import { conformanceSuite } from "../engine/_conformance.ts";
import { buildOp, hex, read, toHex } from "../engine/_helpers.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";
import { SyncEngine } from "../accel/_sync_engine.ts";

const BDF = Deno.env.get("CRYPTOBRIDGE_TEST_BDF");

if (BDF === undefined) {
  Deno.test({
    name:
      "VirtioPciEngine on a real device (set CRYPTOBRIDGE_TEST_BDF to a virtio-crypto function on vfio-pci)",
    ignore: true,
    fn(): void {},
  });
} else {
  const port = openVfioPort(BDF);
  globalThis.addEventListener("unload", () => port.close());
  const open = (options: VirtioPciEngineOptions = {}) =>
    VirtioPciEngine.open(port, { ownsPort: false, ...options });

  conformanceSuite(() => new SyncEngine(open({ completions: "caller" })), `VirtioPciEngine ${BDF}`);

  Deno.test(`VirtioPciEngine ${BDF} probes what it advertises and keeps what it serves`, () => {
    const engine = open({ completions: "caller" });
    try {
      const stats = engine.stats();
      console.log(
        `claimed: ${describe(engine)}; refused when probed: ${stats.refused.join(", ") || "nothing"}`,
      );
      assert.ok(engine.capabilities().cipher.size > 0, "the device serves no cipher at all");
      assert.equal(stats.state, "ready");
    } finally {
      engine.close();
    }
  });

  Deno.test(`VirtioPciEngine ${BDF} completes 64 AES-CBC requests through MSI-X in the reactor`, async () => {
    const v = AES_SP800_38A.find((x) => x.algo === CipherAlgo.AES_CBC)!;
    const reactor = new Reactor();
    const running = reactor.run();
    const engine = open({ reactor });
    try {
      const session = engine.createSession({
        service: "cipher",
        algo: v.algo,
        key: hex(v.key),
        direction: 1,
      });
      const t0 = performance.now();
      const results = await Promise.all(Array.from({ length: 64 }, () => {
        const op = buildOp(session, { iv: hex(v.iv), src: hex(v.plaintext), dstLen: v.plaintext.length / 2 });
        return new Promise<string>((resolve) => {
          op.complete = (o, status) => resolve(`${status}/${toHex(read(o.dst))}`);
          assert.equal(engine.submit(op), PENDING);
        });
      }));
      console.log(
        `64 requests in ${Math.round(performance.now() - t0)} ms; ${JSON.stringify(engine.stats())}`,
      );
      assert.deepEqual(new Set(results), new Set([`${Status.OK}/${v.ciphertext}`]));
    } finally {
      engine.close();
      reactor.stop();
      await running;
      reactor.close();
    }
  });
}

function describe(engine: VirtioPciEngine): string {
  const caps = engine.capabilities();
  return [...caps.cipher.values(), ...caps.hash.values(), ...caps.mac.values(), ...caps.aead.values()]
    .map((i) => `${i.name} (${i.keyLengths.join("/") || "-"})`).join(", ");
}
