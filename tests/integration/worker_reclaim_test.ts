/**
 * A VM's thread that dies leaves nothing behind (src/os/ledger.ts): the main thread closes what the dead thread
 * owned, so the front-end sees its back-end hang up (as QEMU would see a crashed vhost-user daemon) instead of
 * waiting on a socket nobody serves, and the process's descriptors come back to where they were once the new
 * thread serves the socket. Real sockets, memfd guest memory and eventfds, the project's own front-end.
 */

import assert from "node:assert/strict";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { runDaemon } from "../../src/daemon/daemon.ts";
import { buildRequest, cipherRequest, VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { openFds } from "../_fixtures/fd_leaks.ts";

const KEY = new Uint8Array(16).fill(7);

async function openSession(path: string): Promise<{ driver: VirtioCryptoDriver; id: bigint }> {
  const driver = await VirtioCryptoDriver.open({ path, qemuFeatures: true });
  const id = await driver.createSessionVhost(
    { service: "cipher", algo: CipherAlgo.AES_CBC, key: KEY, op: 1 },
    "B",
  );
  return { driver, id };
}

async function encryptOnce(driver: VirtioCryptoDriver, id: bigint): Promise<void> {
  const iv = new Uint8Array(16);
  const parts = buildRequest(cipherRequest(id, true, iv, 64), driver.layout, {
    iv,
    src_data: new Uint8Array(64),
  });
  const c = await driver.submit(0, parts.out, parts.in, { indirect: true });
  assert.equal(c.status, Status.OK);
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
  for (const t0 = Date.now(); !(await ok()); await new Promise((r) => setTimeout(r, 25))) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
  }
}

async function connectWhenServed(path: string): Promise<{ driver: VirtioCryptoDriver; id: bigint }> {
  let last: unknown = null;
  for (let tries = 0; tries < 100; tries++) {
    try {
      return await openSession(path);
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 50)); // the new thread is starting
    }
  }
  throw last;
}

Deno.test("a dead VM thread's socket, memory and epoll set are reclaimed: the front-end sees the hang-up", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-reclaim-" });
  const socket = `${dir}/crashy.sock`;
  const daemon = runDaemon({ vms: [{ name: "crashy", socket }] });
  try {
    await daemon.ready;
    // Serve one front-end once so the thread's lazily made parts exist, then measure with none connected.
    const warm = await openSession(socket);
    await encryptOnce(warm.driver, warm.id);
    await warm.driver.close();
    await until(
      "the warm-up front-end to be dropped",
      async () => !(await daemon.snapshot()).vms[0]!.connected,
    );
    const baseline = openFds().size;

    const victim = await openSession(socket);
    await encryptOnce(victim.driver, victim.id);
    const thread = daemon.vms[0]!.thread!;
    thread.injectCrash();
    await until("the thread to be started again", () => thread.restarts === 1);
    // The dead thread's end of the connection was closed by the main thread: the front-end's next message gets
    // no reply because the peer hung up, not because a silent peer let it time out.
    await assert.rejects(
      victim.driver.createSessionVhost({ service: "cipher", algo: CipherAlgo.AES_CBC, key: KEY, op: 1 }, "B"),
      (e: Error) => !/No reply within/.test(e.message),
    );
    await victim.driver.close();

    const next = await connectWhenServed(socket);
    await encryptOnce(next.driver, next.id);
    await next.driver.close();
    await until(
      "the new thread to drop its front-end",
      async () => !(await daemon.snapshot()).vms[0]!.connected,
    );
    await until(`descriptors back to ${baseline}`, () => openFds().size === baseline, 3000);
  } finally {
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
