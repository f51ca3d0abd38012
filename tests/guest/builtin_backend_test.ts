/**
 * Tier 3, reference run: the Linux virtio_crypto driver against QEMU's built-in software back-end
 * (`cryptodev-backend-builtin`). It proves the guest lab itself (image, boot, 9p, AF_ALG client, answer checking)
 * with a back-end known to work, so a failure of the same checks against cryptobridge points at cryptobridge.
 * Expected under QEMU 7.2: the guest's RSA self-test fails against this back-end (-22), which is not checked.
 *
 * One boot (10-20 s under TCG). Run: deno task test:guest, or deno test --allow-all tests/guest
 *
 * @module
 */

import { checkVirtioCryptoInGuest } from "./_guest_checks.ts";

Deno.test("guest: virtio_crypto on QEMU's built-in back-end passes its self-test and AF_ALG AES-CBC", async (t) => {
  await checkVirtioCryptoInGuest(t, { crypto: { kind: "builtin" } });
});
