/**
 * Tier 3 with two VMs on one daemon (issue 10): two Linux guests (two QEMU 7.2 processes, TCG) boot at the same
 * time against one `cryptobridge serve` with two sockets, each VM on its own thread of the daemon. Each guest's
 * kernel self-test of `virtio_crypto_aes_cbc` must pass and its AF_ALG requests must match `openssl` on the host,
 * and the daemon's counters must show both VMs served.
 *
 * One (double) boot, about 30-40 s under TCG on two cores. Run: deno task test:guest
 *
 * @module
 */

import assert from "node:assert/strict";
import { bootGuest, ensureGuestImage } from "../../scripts/guest_lab.ts";
import {
  afAlgGuestCommand,
  afAlgGuestFiles,
  buildAesCbcPlan,
  checkAfAlgRun,
  findCryptoDriver,
  PROC_CRYPTO_FILE,
  VIRTIO_AES_CBC_DRIVER,
} from "./_af_alg_plan.ts";
import { startServe } from "./_serve.ts";

Deno.test("guest: two Linux guests on one daemon at the same time, each VM on its own thread, both pass", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-guests-" });
  const sockets = [`${dir}/vm1.sock`, `${dir}/vm2.sock`];
  const expectation = await buildAesCbcPlan({ keyBits: [128, 256], sizes: [16, 4096, 65536] });
  const image = await ensureGuestImage();
  const serve = await startServe(sockets[0]!, ["--socket", sockets[1]!]);
  try {
    const runs = await Promise.all(sockets.map((socket) =>
      bootGuest({
        image,
        crypto: { kind: "vhost-user", socket },
        command: afAlgGuestCommand(),
        files: afAlgGuestFiles(expectation),
        timeoutMs: 240_000,
      })
    ));
    try {
      for (const [i, run] of runs.entries()) {
        const procCrypto = Deno.readTextFileSync(`${run.resultsDir}/${PROC_CRYPTO_FILE}`);
        const entry = findCryptoDriver(procCrypto, VIRTIO_AES_CBC_DRIVER);
        assert.equal(entry?.["selftest"], "passed", `guest ${i + 1}: self-test did not pass:\n${run.output}`);
        const report = checkAfAlgRun(run.resultsDir, expectation);
        console.log(`guest ${i + 1}: ${report.summary}`);
        assert.deepEqual(report.failures, [], `guest ${i + 1}: ${report.summary}\n${run.output}`);
        assert.equal(run.exitCode, 0, `guest ${i + 1}: the guest command failed:\n${run.output}`);
      }
    } finally {
      for (const run of runs) await run[Symbol.asyncDispose]();
    }
  } finally {
    assert.equal(await serve.stop(), 0, serve.output());
    await Deno.remove(dir, { recursive: true });
  }
  const out = serve.output();
  for (const name of ["vm1", "vm2"]) {
    const served = new RegExp(
      `${name} \\(.*\\): 1 front-end connections\\n\\s+requests: ([0-9]+) \\(ok ([0-9]+)`,
    );
    const m = out.match(served);
    assert.ok(m !== null && Number(m[2]) > 0 && m[1] === m[2], `${name} served every request:\n${out}`);
  }
});
