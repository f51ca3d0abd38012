/**
 * Test fixture: the daemon with the QAT gen4 VF model as its accelerator and a VM per name, each on its own
 * Worker with the project's own front-end connected; CBC requests checked against OpenSSL (node:crypto); the
 * VMs' and the host's QAT counters read from the daemon's snapshot.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { type Daemon, runDaemon } from "../../src/daemon/daemon.ts";
import { buildRequest, cipherRequest, VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import type { QatClientStats, QatHostStats } from "../../src/accel/qat/mod.ts";
import type { VmSnapshot } from "../../src/vm/vm_service.ts";
import { type FakeQatOptions, FakeQatVf } from "../_fixtures/fake_qat_vf.ts";
import { toHex } from "./_daemon.ts";

const KEY = new Uint8Array(16).map((_, i) => 0x50 + i);

function expected(iv: Uint8Array, pt: Uint8Array): string {
  const c = createCipheriv("aes-128-cbc", KEY, iv).setAutoPadding(false);
  return Buffer.concat([c.update(pt), c.final()]).toString("hex");
}

/**
 * Runs `body` with a daemon on the QAT model serving a VM per name, a front-end connected to each.
 *
 * @param names The VMs.
 * @param body The test; gets the daemon, the front-ends in order, the model and the sockets' folder.
 * @param model The model's options.
 */
export async function withQatVms(
  names: readonly string[],
  body: (daemon: Daemon, drivers: VirtioCryptoDriver[], model: FakeQatVf, dir: string) => Promise<void>,
  model: FakeQatOptions = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-vms-qat-" });
  const vf = new FakeQatVf(model);
  vf.start();
  const daemon = runDaemon({
    vms: names.map((name) => ({ name, socket: `${dir}/${name}.sock` })),
    device: "0000:3d:00.1",
    openQatPort: () => vf,
    logLevel: "error",
  });
  const drivers: VirtioCryptoDriver[] = [];
  try {
    await daemon.ready;
    for (const name of names) {
      drivers.push(await VirtioCryptoDriver.open({ path: `${dir}/${name}.sock`, qemuFeatures: true }));
    }
    await body(daemon, drivers, vf, dir);
  } finally {
    for (const d of drivers) await d.close().catch(() => {});
    await daemon.stop();
    vf.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A CBC session (AES-128, encrypt) on a VM.
 *
 * @param driver The VM's front-end.
 * @returns Its id.
 */
export function session(driver: VirtioCryptoDriver): Promise<bigint> {
  return driver.createSessionVhost({ service: "cipher", algo: CipherAlgo.AES_CBC, key: KEY, op: 1 }, "B");
}

/**
 * One CBC encryption of a request-specific IV and plaintext.
 *
 * @param driver The VM's front-end.
 * @param id Its session.
 * @param i Picks the IV, plaintext and length.
 * @returns Its status, and whether the output is OpenSSL's.
 */
export async function encrypt(driver: VirtioCryptoDriver, id: bigint, i: number): Promise<[number, boolean]> {
  const n = 16 * (1 + (i % 32));
  const iv = new Uint8Array(16).map((_, j) => (i * 3 + j) & 0xff);
  const pt = new Uint8Array(n).map((_, j) => (i * 7 + j) & 0xff);
  const parts = buildRequest(cipherRequest(id, true, iv, n), driver.layout, { iv, src_data: pt });
  const c = await driver.submit(0, parts.out, parts.in, { indirect: true });
  return [c.status, c.status === Status.OK && toHex(c.in[0]!) === expected(iv, pt)];
}

/**
 * `count` requests, 8 at a time, on a new session.
 *
 * @param driver The VM's front-end.
 * @param count Requests (a multiple of 8).
 * @param seed Picks their data.
 * @returns How many came back right.
 */
export async function encryptMany(driver: VirtioCryptoDriver, count: number, seed: number): Promise<number> {
  const id = await session(driver);
  let right = 0;
  for (let i = 0; i < count; i += 8) {
    const done = await Promise.all(Array.from({ length: 8 }, (_, k) => encrypt(driver, id, seed + i + k)));
    right += done.filter(([, ok]) => ok).length;
  }
  return right;
}

/**
 * A VM's QAT client counters, from its snapshot.
 *
 * @param vm The snapshot.
 * @returns The counters.
 */
export function client(vm: VmSnapshot): QatClientStats {
  assert.notEqual(vm.accelerator, null, `${vm.name} has no accelerator counters`);
  return vm.accelerator as unknown as QatClientStats;
}

/**
 * The QAT host's counters, from the daemon's snapshot (checked to be a QAT's).
 *
 * @param snapshot The daemon's snapshot.
 * @returns The counters.
 */
export function host(snapshot: { readonly accelerator: unknown }): QatHostStats {
  const h = snapshot.accelerator as QatHostStats;
  assert.equal(h.kind, "qat-gen4-vf");
  return h;
}
