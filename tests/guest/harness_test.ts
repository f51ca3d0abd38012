/**
 * The guest lab's own logic, mostly without booting: marker parsing, the QEMU command line, module load order,
 * answer checking, and the error paths (no socket, timeout: the only test here that starts QEMU, for 2 s).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  bootGuest,
  ensureGuestImage,
  type GuestImage,
  GuestLabError,
  parseMarkers,
  qemuArgs,
} from "../../scripts/guest_lab.ts";
import { resolveModules } from "../../scripts/guest/initramfs.ts";
import { type AfAlgResult, buildAesCbcPlan, checkAfAlgResult, findCryptoDriver } from "./_af_alg_plan.ts";

const FAKE_IMAGE: GuestImage = {
  kernelVersion: "6.1.0-test-amd64",
  kernel: "/k/vmlinuz",
  initrd: "/k/initrd.gz",
  modules: [],
  cached: true,
};

Deno.test("parseMarkers() returns GUEST- lines with their text and ignores the rest", () => {
  const log =
    "[    2.7] alg: akcipher: test 1 failed\nGUEST-READY\nnoise GUEST-EXIT 9\nGUEST-AF-ALG cases=3 errors=0\n" +
    "GUEST-EXIT 0\n";
  assert.deepEqual(parseMarkers(log), [
    { name: "GUEST-READY", text: "" },
    { name: "GUEST-AF-ALG", text: "cases=3 errors=0" },
    { name: "GUEST-EXIT", text: "0" },
  ]);
});

Deno.test("qemuArgs() uses TCG, shareable memfd RAM, and vectors=0 for a vhost-user device", () => {
  const args = qemuArgs(
    { command: "true", crypto: { kind: "vhost-user", socket: "/run/cb.sock" } },
    FAKE_IMAGE,
    "/r",
  );
  const joined = args.join(" ");
  assert.match(joined, /-accel tcg -M q35 -m 512 /);
  assert.match(joined, /memory-backend-memfd,id=mem,size=512M,share=on -numa node,memdev=mem/);
  assert.match(
    joined,
    /-chardev socket,id=vu0,path=\/run\/cb\.sock -object cryptodev-vhost-user,id=cd0,chardev=vu0/,
  );
  assert.match(joined, /virtio-crypto-pci,id=crypto0,cryptodev=cd0,vectors=0/);
  assert.match(joined, /-virtfs local,path=\/r,mount_tag=results,security_model=none/);
  assert.ok(!/kvm/.test(joined), "never KVM");
  const builtin = qemuArgs({ command: "true", extraArgs: ["-smp", "2"] }, FAKE_IMAGE, "/r").join(" ");
  assert.match(
    builtin,
    /cryptodev-backend-builtin,id=cd0 -device virtio-crypto-pci,id=crypto0,cryptodev=cd0 -smp 2$/,
  );
});

Deno.test("resolveModules() puts dependencies first, once each, and skips built-in modules", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(
      `${dir}/modules.dep`,
      "kernel/a/virtio_ring.ko:\nkernel/a/virtio.ko: kernel/a/virtio_ring.ko\n" +
        "kernel/b/vfio-pci.ko: kernel/b/vfio-pci-core.ko kernel/b/vfio.ko\nkernel/b/vfio-pci-core.ko: kernel/b/vfio.ko\n" +
        "kernel/b/vfio.ko:\n",
    );
    Deno.writeTextFileSync(`${dir}/modules.builtin`, "kernel/c/crypto_engine.ko\n");
    assert.deepEqual(resolveModules(dir, ["virtio", "crypto_engine", "vfio_pci", "virtio_ring"]), [
      "kernel/a/virtio_ring.ko",
      "kernel/a/virtio.ko",
      "kernel/b/vfio.ko",
      "kernel/b/vfio-pci-core.ko",
      "kernel/b/vfio-pci.ko",
    ]);
    assert.throws(() => resolveModules(dir, ["virtio_crypto"]), /Cannot find kernel module virtio_crypto/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("checkAfAlgResult() accepts openssl's answers and names each wrong, failed or missing case", async () => {
  const expectation = await buildAesCbcPlan({ keyBits: [128], sizes: [16, 32], inPlaceSizes: [] });
  const [a, b] = expectation.plan.cases;
  const good = (id: string, plaintext: string) => ({
    id,
    ciphertext: expectation.ciphertexts[id]!,
    decrypted: plaintext,
  });
  const result = (cases: AfAlgResult["cases"]): AfAlgResult => ({
    version: 1,
    driver: "d",
    cases,
    elapsedMs: 1,
    spliceAliases: false,
  });
  assert.deepEqual(
    checkAfAlgResult(expectation, result([good(a!.id, a!.plaintext), good(b!.id, b!.plaintext)])).failures,
    [],
  );
  const flipped = good(a!.id, a!.plaintext);
  const hex = flipped.ciphertext;
  const wrong = { ...flipped, ciphertext: hex.slice(0, 30) + (hex[30] === "0" ? "1" : "0") + hex.slice(31) };
  const report = checkAfAlgResult(expectation, result([wrong]));
  assert.deepEqual(report.failures, [
    `${a!.id}: ciphertext differs from openssl's (first difference at byte 15)`,
    `${b!.id}: no result`,
  ]);
  const failed = checkAfAlgResult(expectation, result([{ id: a!.id, error: "Cannot bind: ENOENT" }]));
  assert.equal(failed.failures[0], `${a!.id}: error: Cannot bind: ENOENT`);
});

Deno.test("findCryptoDriver() reads /proc/crypto entries", () => {
  const text = "name         : cbc(aes)\ndriver       : virtio_crypto_aes_cbc\nselftest     : passed\n\n" +
    "name         : rsa\ndriver       : virtio-crypto-rsa\nselftest     : unknown\n";
  assert.equal(findCryptoDriver(text, "virtio_crypto_aes_cbc")?.["selftest"], "passed");
  assert.equal(findCryptoDriver(text, "cbc-aes-aesni"), undefined);
});

Deno.test("bootGuest() refuses a vhost-user socket that does not exist, before starting QEMU", async () => {
  await assert.rejects(
    bootGuest({
      image: FAKE_IMAGE,
      command: "true",
      crypto: { kind: "vhost-user", socket: "/nonexistent.sock" },
    }),
    (e: unknown) =>
      e instanceof GuestLabError && e.kind === "qemu" && /start the back-end first/.test(e.message),
  );
});

Deno.test("bootGuest() kills QEMU at the timeout, reports the console and removes its results directory", async () => {
  const image = await ensureGuestImage();
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  const before = new Set([...Deno.readDirSync(tmp)].map((e) => e.name));
  await assert.rejects(
    bootGuest({ image, command: "sleep 600", crypto: { kind: "none" }, timeoutMs: 2_000 }),
    (e: unknown) =>
      e instanceof GuestLabError && e.kind === "timeout" && /killed QEMU after 2000 ms/.test(e.message) &&
      /last console lines/.test(e.message),
  );
  const leaked = [...Deno.readDirSync(tmp)].filter((e) =>
    e.name.startsWith("guest-lab-") && !before.has(e.name)
  );
  assert.deepEqual(leaked, []);
});
