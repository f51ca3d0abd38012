/**
 * The guest checks every virtio-crypto back-end must pass, as test steps: one boot, then `/proc/crypto` and the
 * AF_ALG AES-CBC plan. The built-in back-end's test uses it as the reference; a vhost-user back-end's test calls it
 * with `{ kind: "vhost-user", socket }` once its daemon listens.
 *
 * Kept apart from `_af_alg_plan.ts`, which the guest client imports: the client must not load the harness.
 *
 * @module
 */

import assert from "node:assert/strict";
import { bootGuest, type CryptoDevice, ensureGuestImage } from "../../scripts/guest_lab.ts";
import {
  type AesCbcPlanOptions,
  afAlgGuestCommand,
  afAlgGuestFiles,
  buildAesCbcPlan,
  checkAfAlgRun,
  findCryptoDriver,
  PROC_CRYPTO_FILE,
  VIRTIO_AES_CBC_DRIVER,
} from "./_af_alg_plan.ts";

/** Options of `checkVirtioCryptoInGuest`. */
export interface VirtioCryptoGuestOptions {
  /** The device under test. */
  readonly crypto: CryptoDevice;
  /** Key and data sizes of the AF_ALG plan; default: 128/192/256-bit keys, 16 B to 64 KiB. */
  readonly plan?: AesCbcPlanOptions;
  /** The QEMU binary; default the packaged one. */
  readonly qemu?: string;
  /** QEMU is killed after this long. Default 150 s. */
  readonly timeoutMs?: number;
}

/**
 * Boots the guest once with `options.crypto` and runs two steps: `/proc/crypto` lists `virtio_crypto_aes_cbc`
 * (`cbc(aes)`) with `selftest : passed` (the kernel's self-test, which includes in-place requests, ran through
 * the device), and every AF_ALG case matches the ciphertext `openssl` computed on the host before the boot.
 *
 * @param t The test context (steps are reported separately).
 * @param options The device and plan.
 */
export async function checkVirtioCryptoInGuest(
  t: Deno.TestContext,
  options: VirtioCryptoGuestOptions,
): Promise<void> {
  const expectation = await buildAesCbcPlan(options.plan);
  const image = await ensureGuestImage();
  await using run = await bootGuest({
    image,
    crypto: options.crypto,
    ...(options.qemu === undefined ? {} : { qemu: options.qemu }),
    command: afAlgGuestCommand(),
    files: afAlgGuestFiles(expectation),
    timeoutMs: options.timeoutMs ?? 150_000,
  });
  console.log(`guest (${options.crypto.kind}): exit ${run.exitCode} after ${run.durationMs} ms`);
  const kernelErrors = run.log.split("\n").filter((l) => / alg: /.test(l)).join("\n");

  await t.step(`/proc/crypto lists ${VIRTIO_AES_CBC_DRIVER} with selftest passed`, () => {
    const procCrypto = Deno.readTextFileSync(`${run.resultsDir}/${PROC_CRYPTO_FILE}`);
    const entry = findCryptoDriver(procCrypto, VIRTIO_AES_CBC_DRIVER);
    assert.ok(entry, `${VIRTIO_AES_CBC_DRIVER} is not registered; kernel crypto messages:\n${kernelErrors}`);
    assert.equal(entry["name"], "cbc(aes)");
    assert.equal(entry["selftest"], "passed", `self-test failed; kernel crypto messages:\n${kernelErrors}`);
  });

  await t.step(
    "AF_ALG AES-CBC results match openssl (128/192/256-bit keys, 16 B to 64 KiB, in place)",
    () => {
      const report = checkAfAlgRun(run.resultsDir, expectation);
      console.log(report.summary);
      assert.deepEqual(report.failures, [], `${report.summary}\nguest output:\n${run.output}`);
      assert.equal(run.exitCode, 0, `the guest command failed:\n${run.output}`);
    },
  );
}
