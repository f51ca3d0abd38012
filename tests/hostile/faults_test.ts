// Faults (issue 14, item 7), against `cryptobridge serve` in a process of its own:
// - the daemon killed with SIGKILL and started again: the front-end's connection is gone (QEMU sees the chardev
//   close), the socket file is left and the new daemon replaces it, and a front-end that connects again finds no
//   session of before (QEMU does not replay them: the guest's sessions answer INVSESS until it makes new ones);
// - the process at its file-descriptor limit: new front-ends are refused with a log line, the VM already
//   connected keeps being served.

import assert from "node:assert/strict";
import { buildRequest, cipherRequest, VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { spawnServe } from "../_fixtures/serve_process.ts";
import { CT, IV, KEY, PT, RawPeer } from "./_helpers.ts";

async function encrypt(driver: VirtioCryptoDriver, id: bigint): Promise<{ status: number; out: Uint8Array }> {
  const parts = buildRequest(cipherRequest(id, true, IV, PT.length), driver.layout, { iv: IV, src_data: PT });
  const c = await driver.submit(0, parts.out, parts.in, { indirect: true });
  return { status: c.status, out: c.in[0]! };
}

async function session(driver: VirtioCryptoDriver): Promise<bigint> {
  const id = await driver.createSessionVhost({
    service: "cipher",
    algo: CipherAlgo.AES_CBC,
    key: KEY,
    op: 1,
  });
  assert.ok(id >= 0n);
  return id;
}

Deno.test("faults: serve killed with SIGKILL and restarted: the front-end must reconnect, and sessions are gone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-faults-" });
  const socket = `${dir}/vhost.sock`;
  try {
    const first = await spawnServe(socket);
    const old = await VirtioCryptoDriver.open({ path: socket, qemuFeatures: true });
    const id = await session(old);
    assert.deepEqual(await encrypt(old, id), { status: Status.OK, out: CT });
    first.child.kill("SIGKILL");
    assert.equal((await first.stop()).signal, "SIGKILL");
    // What QEMU sees: the connection closed. Its next message fails; nothing answers the rings any more.
    await assert.rejects(
      old.createSessionVhost({ service: "cipher", algo: CipherAlgo.AES_CBC, key: KEY, op: 1 }),
    );
    await old.close();
    assert.ok(Deno.statSync(socket).isSocket, "SIGKILL leaves the socket file");

    await using _second = await spawnServe(socket); // replaces the stale socket file
    const again = await VirtioCryptoDriver.open({ path: socket, qemuFeatures: true });
    try {
      const stale = await encrypt(again, id);
      assert.equal(stale.status, Status.INVSESS, "sessions are not replayed: the old id is unknown");
      const fresh = await session(again);
      assert.deepEqual(await encrypt(again, fresh), { status: Status.OK, out: CT });
    } finally {
      await again.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("faults: at its fd limit serve refuses new front-ends with a log line and serves the VM it has", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-faults-" });
  const socket = `${dir}/vhost.sock`;
  try {
    await using served = await spawnServe(socket);
    const vm = await VirtioCryptoDriver.open({ path: socket, qemuFeatures: true });
    try {
      const id = await session(vm);
      // RLIMIT_NOFILE bounds descriptor numbers: at the lowest free one, the next accept fails with EMFILE.
      const limit = served.lowestFreeFd();
      const p = await new Deno.Command("prlimit", {
        args: [`--pid=${served.child.pid}`, `--nofile=${limit}:${limit}`],
      }).output();
      assert.ok(p.success, new TextDecoder().decode(p.stderr));
      for (let i = 0; i < 20; i++) {
        using intruder = RawPeer.connect(socket);
        await intruder.expectDropped(); // refused, not left hanging in the backlog
      }
      for (let i = 0; i < 5; i++) assert.deepEqual(await encrypt(vm, id), { status: Status.OK, out: CT });
      const lines = served.stderr().split("\n").filter((l) => /no file descriptor left/.test(l));
      assert.ok(lines.length >= 1 && lines.length <= 5, `a few lines, rate-limited:\n${served.stderr()}`);
      assert.match(lines[0]!, /refusing a front-end on .*EMFILE.*still served/);
    } finally {
      await vm.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
