/**
 * RLIMIT_MEMLOCK too small to pin a VM's memory (issue 14, item 7): the accelerator cannot map guest RAM for DMA
 * (VFIO fails with ENOMEM), so its requests go through the engine's bounce buffers: every answer still right,
 * and one log line for the VM, not one per request. The host model of the function stands in for VFIO, with a
 * pin budget as RLIMIT_MEMLOCK sets one. Expected output: NIST SP 800-38A F.2.1 (CBC-AES128).
 *
 * @module
 */

import assert from "node:assert/strict";
import { runDaemon } from "../../src/daemon/daemon.ts";
import { VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { cipherRequest } from "../../src/frontend/mod.ts";
import { FakeVirtioCrypto } from "../_fixtures/fake_virtio_crypto.ts";
import { captureLogs } from "../_fixtures/log_capture.ts";
import { AES_SP800_38A } from "../../src/selftest/vectors/aes_sp800_38a.ts";
import { hex, send, toHex, vector } from "./_daemon.ts";

const CBC = vector(AES_SP800_38A, "SP 800-38A F.2.1 CBC-AES128");

Deno.test("accelerator with too little RLIMIT_MEMLOCK for guest RAM: served through bounce buffers, logged once", async () => {
  await using logs = await captureLogs();
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-pin-" });
  const fake = new FakeVirtioCrypto({ pinLimit: 1 << 20 }); // guest RAM is 64 MiB
  const daemon = runDaemon({ socket: `${dir}/vhost.sock`, device: "fake", openPort: () => fake });
  try {
    const driver = await VirtioCryptoDriver.open({ path: daemon.socket, qemuFeatures: true });
    try {
      assert.equal(fake.pinned, 0, "guest RAM could not be pinned");
      const id = await driver.createSessionVhost({
        service: "cipher",
        algo: CipherAlgo.AES_CBC,
        key: hex(CBC.key),
        op: 1,
      });
      const iv = hex(CBC.iv);
      for (let i = 0; i < 20; i++) {
        const r = await send(driver, cipherRequest(id, true, iv, 64), { iv, src_data: hex(CBC.plaintext) });
        assert.equal(r.status, Status.OK);
        assert.equal(toHex(r.out.dst_data!), CBC.ciphertext);
      }
      const stats = await daemon.stats();
      assert.equal(stats.router!.accelRequests, 20, "the accelerator served them");
      assert.equal(stats.accelerator!.bounced, 20, "through bounce buffers");
    } finally {
      await driver.close();
    }
    const lines = logs.lines.filter((l) => /not mapped for DMA/.test(l));
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0]!, /^warning: .*RLIMIT_MEMLOCK.*: its requests use bounce buffers/);
  } finally {
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
