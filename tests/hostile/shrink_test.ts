// Guest RAM that can shrink under the daemon (issue 14, item 1). A front-end that truncates its guest-RAM file
// after SET_MEM_TABLE and then kicks used to kill the daemon with SIGBUS (exit 135, no log line, socket left).
// Every memory kind the daemon accepts is sealed against shrinking, so the truncation fails and the daemon serves
// on; kinds that cannot be sealed are refused with the QEMU option to use; and the opt-in that accepts them is
// only possible in a process serving that one VM, so the SIGBUS it invites ends no other VM's device.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { F_SEAL_SHRINK } from "../../ffi/constants.ts";
import { cString, lastErrno, libc } from "../../ffi/libc.ts";
import { O_CLOEXEC, O_RDWR } from "../../ffi/constants.ts";
import { buildRequest, cipherRequest, GuestRam, VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";
import { Errno, Fd, fileSeals } from "../../src/os/mod.ts";
import { ShrinkableMemoryError } from "../../src/vhost_user/mod.ts";
import { assertLogged, assertServesFresh, CT, IV, KEY, PT, startDaemon, waitIdle } from "./_helpers.ts";
import { assertRingServes, RAM_SIZE, RawGuest } from "./_raw_guest.ts";
import { startVmServer } from "../_fixtures/vm_server.ts";
import { runDaemon } from "../../src/daemon/daemon.ts";
import { ConfigError } from "../../src/vm/mod.ts";

/** ftruncate from the front-end's side; returns errno (0 on success). */
function shrink(ram: GuestRam, to = 0): number {
  return libc.ftruncate(ram.fd.raw, BigInt(to)) === 0 ? 0 : lastErrno();
}

function hugetlbRam(): GuestRam | null {
  try {
    return new GuestRam(RAM_SIZE * 2, undefined, { hugetlb: true });
  } catch {
    return null; // no huge pages on this host
  }
}

// A hugetlbfs memfd (QEMU's hugetlb=on) is tested where the host has huge pages (none are reserved here).
const hugePages = hugetlbRam();
hugePages?.close();

const ACCEPTED: readonly [string, () => GuestRam | null][] = [
  ...(hugePages === null ? [] : [["a hugetlbfs memfd", hugetlbRam] as [string, () => GuestRam | null]]),
  ["a memfd sealed as QEMU's memory-backend-memfd seals it", () => new GuestRam(RAM_SIZE)],
  [
    "a sealable memfd without seals (the daemon adds F_SEAL_SHRINK)",
    () => new GuestRam(RAM_SIZE, undefined, { seals: 0 }),
  ],
];

for (const [kind, make] of ACCEPTED) {
  Deno.test(`shrink: ${kind}: truncating it after SET_MEM_TABLE fails, and the daemon keeps serving`, async () => {
    await using t = await startDaemon();
    using g = await RawGuest.open(t, make()!);
    const sid = await g.createSession();
    await assertRingServes(g, sid);
    assert.ok(((fileSeals(g.ram.fd.raw) ?? 0) & F_SEAL_SHRINK) !== 0, "sealed against shrinking");
    assert.equal(shrink(g.ram), Errno.EPERM, "the front-end can no longer shrink its guest RAM");
    assert.equal(shrink(g.ram, RAM_SIZE / 2), Errno.EPERM);
    await assertRingServes(g, sid); // a kick after the attempt: still served
    g.close();
    await assertServesFresh(t);
  });
}

/** Kinds the daemon must refuse, each with a way to make it and what the refusal says. */
const REFUSED: readonly [string, (dir: string) => GuestRam, RegExp][] = [
  [
    "a memfd created without sealing (QEMU's seal=off)",
    () => new GuestRam(RAM_SIZE, undefined, { seals: null }),
    /cannot be sealed against shrinking/,
  ],
  ["a file on tmpfs (/dev/shm)", () => fileRam("/dev/shm"), /cannot be sealed against shrinking/],
  ["a file on a disk file system", (dir) => fileRam(dir), /has no seals: any process that can write it/],
];

function fileRam(dir: string): GuestRam {
  const path = `${dir}/cryptobridge-ram-${crypto.randomUUID()}`;
  const O_CREAT = 0o100;
  const fd = new Fd(libc.open(cString(path), O_RDWR | O_CREAT | O_CLOEXEC, 0o600));
  Deno.removeSync(path); // the open fd keeps the file; nothing is left behind
  assert.equal(libc.ftruncate(fd.raw, BigInt(RAM_SIZE)), 0);
  return GuestRam.fromFd(fd, RAM_SIZE);
}

for (const [kind, make, why] of REFUSED) {
  Deno.test(`shrink: ${kind} is refused at SET_MEM_TABLE with the QEMU option to use`, async () => {
    await using t = await startDaemon();
    const dir = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "cryptobridge-shrink-" });
    try {
      const since = t.logs.length;
      await assert.rejects(RawGuest.open(t, make(dir)));
      await waitIdle(t);
      assertLogged(t, why, since);
      assertLogged(t, /memory-backend-memfd,id=mem,size=…,share=on/, since);
      assert.equal((await t.daemon.stats()).device["requests"], 0);
      await assertServesFresh(t);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("shrink: allowing shrinkable memory is refused in a process that serves another VM, and the reverse", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-shrink-" });
  try {
    await using other = startVmServer(`${dir}/other.sock`);
    assert.throws(
      () => startVmServer(`${dir}/opt-in.sock`, { shrinkableMemory: "allow" }),
      ShrinkableMemoryError,
    );
    await other.close();
    await using _optIn = startVmServer(`${dir}/opt-in.sock`, { shrinkableMemory: "allow" });
    assert.throws(() => startVmServer(`${dir}/second.sock`), /allows shrinkable memory on .*opt-in\.sock/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const SERVE_VM = fileURLToPath(new URL("../_fixtures/vm_server.ts", import.meta.url));

async function spawnVm(socket: string, allow: boolean): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SERVE_VM, socket, ...(allow ? ["--allow-shrinkable"] : [])],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  void child.stdout.cancel();
  assert.match(new TextDecoder().decode(value), /listening/);
  return child;
}

Deno.test("shrink: with the opt-in, a truncation kills only that VM's process (SIGBUS); another VM keeps serving", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-shrink-" });
  const optIn = await spawnVm(`${dir}/opt-in.sock`, true);
  const other = await spawnVm(`${dir}/other.sock`, false);
  try {
    const driver = await VirtioCryptoDriver.open({ path: `${dir}/other.sock`, qemuFeatures: true });
    try {
      using g = await RawGuest.open(
        { socket: `${dir}/opt-in.sock` },
        new GuestRam(RAM_SIZE, undefined, { seals: null }),
      );
      const sid = await g.createSession();
      await assertRingServes(g, sid); // accepted: the opt-in maps memory that can shrink
      assert.equal(shrink(g.ram), 0, "nothing stops the truncation");
      g.kick.signal(); // the ring lives in the truncated file: serving the kick touches it
      const status = await optIn.status;
      assert.equal(status.signal, "SIGBUS", `the opt-in process ended with ${JSON.stringify(status)}`);
      // The other VM, in its own process, never noticed.
      const id = await driver.createSessionVhost({
        service: "cipher",
        algo: CipherAlgo.AES_CBC,
        key: KEY,
        op: 1,
      });
      assert.ok(id >= 0n);
      const parts = buildRequest(cipherRequest(id, true, IV, PT.length), driver.layout, {
        iv: IV,
        src_data: PT,
      });
      const c = await driver.submit(0, parts.out, parts.in, { indirect: true });
      assert.equal(c.status, Status.OK);
      assert.deepEqual(c.in[0], CT);
    } finally {
      await driver.close();
    }
  } finally {
    for (const c of [optIn, other]) {
      try {
        c.kill("SIGTERM");
      } catch { /* exited */ }
      await c.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shrink: serve refuses the opt-in when the daemon would serve more than one VM, naming the fix", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-shrink-" });
  try {
    assert.throws(
      () =>
        runDaemon({
          vms: [
            { name: "a", socket: `${dir}/a.sock`, allowUnsealedMemory: true },
            { name: "b", socket: `${dir}/b.sock` },
          ],
        }),
      (e: unknown) =>
        e instanceof ConfigError && e.field === "vms[0].allowUnsealedMemory" &&
        /SIGBUS.*daemon of its own.*memory-backend-memfd/.test(e.message),
    );
    assert.throws(() => Deno.lstatSync(`${dir}/a.sock`), Deno.errors.NotFound, "nothing was bound");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
