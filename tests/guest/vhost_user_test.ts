/**
 * Tier 3: the Linux virtio_crypto driver in a QEMU 7.2 guest (TCG) against `cryptobridge serve` over vhost-user.
 *
 * The same checks as the built-in back-end's reference run (`builtin_backend_test.ts`): the kernel's boot-time
 * self-test of `virtio_crypto_aes_cbc` passes (it includes in-place and multi-page requests), and AF_ALG requests
 * by driver name match `openssl` on the host for 128/192/256-bit keys from 16 B to 64 KiB. Then the daemon is
 * stopped (SIGTERM: sessions closed, socket removed), started again, and a second boot passes too.
 *
 * Two boots (about 15-20 s each under TCG). Run: deno task test:guest
 *
 * @module
 */

import assert from "node:assert/strict";
import { checkVirtioCryptoInGuest } from "./_guest_checks.ts";
import { startServe } from "./_serve.ts";

Deno.test("guest: virtio_crypto on cryptobridge serve passes its self-test and AF_ALG AES-CBC, before and after a daemon restart", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-guest-" });
  const socket = `${dir}/cryptobridge.sock`;
  try {
    const first = await startServe(socket);
    try {
      await t.step(
        "first boot",
        (s) => checkVirtioCryptoInGuest(s, { crypto: { kind: "vhost-user", socket } }),
      );
    } finally {
      const code = await first.stop();
      assert.equal(code, 0, first.output());
    }
    assert.throws(() => Deno.lstatSync(socket), Deno.errors.NotFound, "SIGTERM removes the socket file");
    assert.match(first.output(), /session \d+ created|stopped:/);
    assert.match(first.output(), /"ok":[1-9]/, `the daemon served requests:\n${first.output()}`);

    await using second = await startServe(socket);
    await t.step(
      "second boot, after the restart",
      (s) => checkVirtioCryptoInGuest(s, { crypto: { kind: "vhost-user", socket } }),
    );
    assert.equal(await second.stop(), 0, second.output());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
