/**
 * Several VMs on one daemon, each on its own Worker thread (issue 10): two front-ends at once on two sockets with
 * every output checked against OpenSSL, session ids of one VM refused on the other, one VM's front-end killed and
 * reconnected while the other runs, and counters per VM. Real sockets, memfd guest RAM, eventfds; the front-end is
 * the project's own (`src/frontend/`), in this thread, the daemon's VMs in theirs.
 */

import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { type Daemon, runDaemon } from "../../src/daemon/daemon.ts";
import { buildRequest, cipherRequest, VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { toHex } from "./_daemon.ts";

const KEY = new Uint8Array(16).map((_, i) => i * 7 + 1);

function expected(iv: Uint8Array, pt: Uint8Array): string {
  const c = createCipheriv("aes-128-cbc", KEY, iv).setAutoPadding(false);
  return Buffer.concat([c.update(pt), c.final()]).toString("hex");
}

async function withDaemon(
  names: readonly string[],
  body: (daemon: Daemon, sockets: string[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-workers-" });
  const sockets = names.map((n) => `${dir}/${n}.sock`);
  const daemon = runDaemon({ vms: names.map((name, i) => ({ name, socket: sockets[i] })) });
  try {
    await daemon.ready;
    await body(daemon, sockets);
  } finally {
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

async function encrypt(driver: VirtioCryptoDriver, id: bigint, n: number, seed: number): Promise<void> {
  const iv = new Uint8Array(16).map((_, i) => (seed + i) & 0xff);
  const pt = new Uint8Array(n).map((_, i) => (seed * 31 + i) & 0xff);
  const parts = buildRequest(cipherRequest(id, true, iv, n), driver.layout, { iv, src_data: pt });
  const c = await driver.submit(0, parts.out, parts.in, { indirect: true });
  assert.equal(c.status, Status.OK);
  assert.equal(toHex(c.in[0]!), expected(iv, pt), `request ${seed} of ${n} bytes`);
}

function session(driver: VirtioCryptoDriver): Promise<bigint> {
  return driver.createSessionVhost({ service: "cipher", algo: CipherAlgo.AES_CBC, key: KEY, op: 1 }, "B");
}

Deno.test("two VMs on two sockets, each on its own thread, serve two front-ends at once; every output is right", async () => {
  await withDaemon(["vm1", "vm2"], async (daemon, sockets) => {
    const drivers = await Promise.all(
      sockets.map((path) => VirtioCryptoDriver.open({ path, qemuFeatures: true })),
    );
    try {
      const ids = await Promise.all(drivers.map(session));
      await Promise.all(drivers.map(async (d, v) => {
        for (let i = 0; i < 40; i++) await encrypt(d, ids[v]!, 16 * (1 + (i % 64)), v * 1000 + i);
      }));
      const snap = await daemon.snapshot();
      assert.deepEqual(snap.vms.map((s) => [s.name, s.device["ok"], s.sessions, s.connected]), [
        ["vm1", 40, 1, true],
        ["vm2", 40, 1, true],
      ]);
      const tids = snap.vms.map((s) => s.thread!.tid);
      assert.notEqual(tids[0], tids[1], "each VM has a thread of its own");
      assert.ok(tids.every((t) => t !== Deno.pid), "and neither is the main thread");
    } finally {
      for (const d of drivers) await d.close();
    }
  });
});

Deno.test("a session id of one VM is refused with INVSESS on the other", async () => {
  await withDaemon(["a", "b"], async (_daemon, sockets) => {
    const a = await VirtioCryptoDriver.open({ path: sockets[0]!, qemuFeatures: true });
    const b = await VirtioCryptoDriver.open({ path: sockets[1]!, qemuFeatures: true });
    try {
      const idA = await session(a);
      const idB = await session(b);
      assert.equal(idA, idB, "ids are per VM: both VMs number their first session alike");
      await b.closeSessionVhost(idB);
      const iv = new Uint8Array(16);
      const parts = buildRequest(cipherRequest(idA, true, iv, 16), b.layout, {
        iv,
        src_data: new Uint8Array(16),
      });
      const c = await b.submit(0, parts.out, parts.in, { indirect: true });
      assert.equal(c.status, Status.INVSESS, "b never opened a's session");
      await encrypt(a, idA, 32, 7); // and a's own session still works
    } finally {
      await a.close();
      await b.close();
    }
  });
});

Deno.test("one VM's front-end killed mid-load and reconnected: the other VM is served throughout", async () => {
  await withDaemon(["steady", "flaky"], async (daemon, sockets) => {
    const steady = await VirtioCryptoDriver.open({ path: sockets[0]!, qemuFeatures: true });
    try {
      const id = await session(steady);
      let served = 0;
      let stop = false;
      const load = (async () => {
        while (!stop) await encrypt(steady, id, 64, served++);
      })();
      for (let round = 0; round < 3; round++) {
        const flaky = await VirtioCryptoDriver.open({ path: sockets[1]!, qemuFeatures: true });
        const fid = await session(flaky);
        await encrypt(flaky, fid, 128, round);
        for (let i = 0; i < 8; i++) encrypt(flaky, fid, 4096, i).catch(() => {}); // left in flight
        await flaky.close(); // the socket closes under them, as when QEMU is killed
      }
      const before = served;
      await new Promise((r) => setTimeout(r, 50));
      stop = true;
      await load;
      assert.ok(served > before, "the steady VM kept being served after the other's front-ends went away");
      const snap = await daemon.snapshot();
      const flaky = snap.vms.find((s) => s.name === "flaky")!;
      assert.equal(flaky.connections, 3);
      assert.equal(flaky.sessions, 0, "each dropped front-end's sessions were closed");
      assert.equal(snap.vms[0]!.device["err"], 0);
    } finally {
      await steady.close();
    }
  });
});

Deno.test("stop() closes every VM's sessions, removes every socket and returns each VM's counters", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-workers-" });
  const sockets = [`${dir}/x.sock`, `${dir}/y.sock`];
  const daemon = runDaemon({ vms: [{ name: "x", socket: sockets[0] }, { name: "y", socket: sockets[1] }] });
  await daemon.ready;
  const d = await VirtioCryptoDriver.open({ path: sockets[0]!, qemuFeatures: true });
  await encrypt(d, await session(d), 48, 1);
  const last = await daemon.stop();
  await d.close();
  assert.deepEqual(last.vms.map((v) => [v.name, v.sessions, v.device["ok"]]), [["x", 0, 1], ["y", 0, 0]]);
  for (const s of sockets) assert.throws(() => Deno.lstatSync(s), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a VM's thread that dies is started again on the same socket; the other VM never notices", async () => {
  await withDaemon(["crashy", "calm"], async (daemon, sockets) => {
    const calm = await VirtioCryptoDriver.open({ path: sockets[1]!, qemuFeatures: true });
    try {
      const id = await session(calm);
      const thread = daemon.vms[0]!.thread!;
      thread.injectCrash();
      for (let i = 0; i < 20; i++) await encrypt(calm, id, 32, i);
      const deadline = Date.now() + 5000;
      while (thread.restarts === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(thread.restarts, 1);
      let d: VirtioCryptoDriver | null = null;
      for (let tries = 0; d === null && tries < 100; tries++) {
        try {
          d = await VirtioCryptoDriver.open({ path: sockets[0]!, qemuFeatures: true });
        } catch {
          await new Promise((r) => setTimeout(r, 50)); // the new thread is starting
        }
      }
      await encrypt(d!, await session(d!), 64, 1);
      await d!.close();
      await encrypt(calm, id, 32, 99);
    } finally {
      await calm.close();
    }
  });
});

Deno.test("a VM with a cpu set runs on that CPU only", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-workers-" });
  const daemon = runDaemon({ vms: [{ name: "pinned", socket: `${dir}/p.sock`, cpu: 0 }] });
  try {
    await daemon.ready;
    const [vm] = (await daemon.snapshot()).vms;
    assert.deepEqual(vm!.thread!.cpus, [0]);
  } finally {
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Waits until `thread` is dead (its death is handled on the main thread's event loop). */
async function untilDead(thread: { readonly alive: boolean }): Promise<void> {
  const deadline = Date.now() + 5000;
  while (thread.alive && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(thread.alive, false, "the injected crash did not end the thread");
}

Deno.test("between a VM thread's death and its replacement: snapshot waits for the new thread, stop ends at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-workers-" });
  const daemon = runDaemon({ vms: [{ name: "fragile", socket: `${dir}/f.sock` }] });
  try {
    await daemon.ready;
    const thread = daemon.vms[0]!.thread!;
    thread.injectCrash();
    await untilDead(thread);
    thread.setLogLevel("debug"); // dropped by the dead thread, kept for the next: no throw
    // It used to throw "Cannot use file descriptor: it is closed" (the dead thread's command eventfd).
    const snapshot = await daemon.snapshot();
    assert.equal(thread.restarts, 1);
    assert.equal(thread.alive, true);
    assert.equal(snapshot.vms[0]!.name, "fragile");
    thread.injectCrash();
    await untilDead(thread);
    const last = await daemon.stop(); // used to throw the same way
    assert.deepEqual(last.vms, [], "a dead thread has no last snapshot");
    await new Promise((r) => setTimeout(r, 1500)); // past the restart delay: no replacement after stop
    assert.equal(thread.restarts, 1);
    assert.equal(thread.alive, false);
  } finally {
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
