/**
 * Tier 3 with a current QEMU: the Linux virtio_crypto driver in a guest under QEMU 11.1 (Debian trixie-backports,
 * prepared by `scripts/newer_qemu.ts`) against `cryptobridge serve`, beside the QEMU 7.2 runs of the other guest
 * tests. QEMU >= 8.1 sends CREATE_CRYPTO_SESSION in layout C (interop.md §1.3), which only the unit tests covered
 * before: the daemon's debug log must show layout C, and the kernel's self-test and the AF_ALG cases must pass
 * through the sessions it created.
 *
 * Ignored (reported as skipped) when no newer QEMU is prepared: `.ci/run` prepares one as root; elsewhere run
 * `sudo deno run -A scripts/newer_qemu.ts` or set GUEST_LAB_NEWER_QEMU to a QEMU >= 8.1.
 *
 * One boot (about 15-20 s under TCG). Run: deno task test:guest
 *
 * @module
 */

import assert from "node:assert/strict";
import { findNewerQemu, qemuVersion } from "../../scripts/guest/newer_qemu.ts";
import { checkVirtioCryptoInGuest } from "./_guest_checks.ts";
import { startServe } from "./_serve.ts";

const qemu = findNewerQemu();

Deno.test({
  name:
    "guest: QEMU >= 8.1 (session layout C) with virtio_crypto on cryptobridge serve passes self-test and AF_ALG",
  ignore: qemu === undefined,
  async fn(t): Promise<void> {
    const [major, minor] = await qemuVersion(qemu!);
    assert.ok(
      major > 8 || (major === 8 && minor >= 1),
      `${qemu} is QEMU ${major}.${minor}: layout C needs >= 8.1`,
    );
    const dir = await Deno.makeTempDir({ prefix: "cryptobridge-guest-" });
    const socket = `${dir}/cryptobridge.sock`;
    try {
      const serve = await startServe(socket, ["--log-level", "debug"]);
      try {
        await t.step(
          `boot under QEMU ${major}.${minor}`,
          (s) => checkVirtioCryptoInGuest(s, { crypto: { kind: "vhost-user", socket }, qemu: qemu! }),
        );
      } finally {
        assert.equal(await serve.stop(), 0, serve.output());
      }
      const layouts = [...serve.output().matchAll(/CREATE_CRYPTO_SESSION in layout "?([ABC])"?:/g)].map((m) =>
        m[1]
      );
      assert.ok(layouts.length > 0, `no session was created:\n${serve.output().slice(-3000)}`);
      assert.deepEqual(new Set(layouts), new Set(["C"]), "QEMU >= 8.1 sends every session in layout C");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
