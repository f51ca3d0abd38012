// A silent client cannot hold a VM's slot (issue 14, item 4): a front-end that sends nothing, half a message, or
// no handshake is dropped after its time limit, a front-end that stops reading replies is dropped when its
// replies back up, and the front-end that was waiting for the slot is served, with the old one's sessions closed.
// The limits are short here (the daemon's defaults are seconds); the server is built directly to set them.

import assert from "node:assert/strict";
import { VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { Request } from "../../src/vhost_user/mod.ts";
import { startVmServer, type VmServer } from "../_fixtures/vm_server.ts";
import { captureLogs, hasError, type LogCapture } from "../_fixtures/log_capture.ts";
import { CT, IV, KEY, PT, RawPeer, sessionPayload, until } from "./_helpers.ts";
import { buildRequest, cipherRequest } from "../../src/frontend/mod.ts";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";

const LIMITS = { firstMessageMs: 150, messageMs: 150, handshakeMs: 400 };

async function withServer(fn: (vm: VmServer, logs: LogCapture) => Promise<void>): Promise<void> {
  await using logs = await captureLogs();
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-deadline-" });
  try {
    await using vm = startVmServer(`${dir}/vhost.sock`, { peerLimits: LIMITS });
    vm.device.logLimit.burst = Infinity;
    await fn(vm, logs);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Opens a driver (it waits while the slot is held) and proves it is served: SP 800-38A F.2.1. */
async function assertNewcomerServed(vm: VmServer): Promise<void> {
  const driver = await VirtioCryptoDriver.open({ path: vm.socket, qemuFeatures: true, queueSize: 64 });
  try {
    const id = await driver.createSessionVhost({
      service: "cipher",
      algo: CipherAlgo.AES_CBC,
      key: KEY,
      op: 1,
    });
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
}

function assertWarned(logs: LogCapture, pattern: RegExp): void {
  const i = logs.lines.findIndex((l) => pattern.test(l));
  assert.ok(i >= 0, `expected a line matching ${pattern}; got:\n${logs.lines.join("\n")}`);
  assert.match(logs.lines[i]!, /^warning: /);
  assert.equal(hasError(logs.records[i]!), false, "a peer's fault is logged without a stack");
}

Deno.test("deadline: a front-end that sends nothing is dropped, and the one waiting for its slot is served", async () => {
  await withServer(async (vm, logs) => {
    using silent = RawPeer.connect(vm.socket);
    await until(() => vm.server.connections === 1, "the silent peer to be accepted");
    const t0 = Date.now();
    await assertNewcomerServed(vm);
    assert.ok(Date.now() - t0 >= LIMITS.firstMessageMs - 20, "served only once the silent one was dropped");
    await silent.expectDropped();
    assertWarned(logs, /dropping front-end pid \d+ .* it sent nothing for 150 ms after connecting/);
    assert.ok(logs.lines.some((l) => /waits: the front-end holding the slot has not settled/.test(l)));
  });
});

Deno.test("deadline: a front-end that sends half a message is dropped with its sessions, and the next is served", async () => {
  await withServer(async (vm, logs) => {
    using half = RawPeer.connect(vm.socket);
    await half.negotiate();
    const reply = await half.request(Request.CREATE_CRYPTO_SESSION, sessionPayload());
    assert.equal(reply.length, 632);
    assert.equal(vm.device.sessions.table.size, 1);
    half.sendBytes(new Uint8Array([1, 0, 0, 0, 1])); // 5 of GET_FEATURES' 12 header bytes
    await assertNewcomerServed(vm);
    await half.expectDropped();
    assertWarned(logs, /it sent 5 bytes of a message and nothing more for 150 ms/);
    assert.ok(
      logs.lines.some((l) => /device reset: closed 1 sessions/.test(l)),
      "the held sessions were closed",
    );
  });
});

Deno.test("deadline: a front-end that never finishes its handshake is dropped", async () => {
  await withServer(async (vm, logs) => {
    using slow = RawPeer.connect(vm.socket);
    for (let i = 0; i < 4; i++) {
      await slow.features(); // alive, but it never sends SET_OWNER or SET_FEATURES
      await new Promise((r) => setTimeout(r, 60));
    }
    await slow.expectDropped();
    assertWarned(logs, /did not finish its handshake \(SET_OWNER or SET_FEATURES\) within 400 ms/);
    await assertNewcomerServed(vm);
  });
});

Deno.test("deadline: a front-end that stops reading replies is dropped, and the next is served", async () => {
  await withServer(async (vm, logs) => {
    using deaf = RawPeer.connect(vm.socket);
    await deaf.negotiate();
    const get = new Uint8Array([1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    const burst = new Uint8Array(get.length * 64).map((_, i) => get[i % get.length]!);
    try {
      // Requests and never a read: the daemon's replies fill the socket until its send gives up.
      for (let i = 0; i < 2000 && vm.server.handler !== null; i++) {
        deaf.sendBytes(burst);
        await new Promise((r) => setTimeout(r, 0));
      }
    } catch {
      // EPIPE or ECONNRESET: the daemon dropped us mid-burst
    }
    await until(() => vm.server.handler === null, "the daemon to drop the peer that stopped reading");
    assertWarned(logs, /dropping front-end pid \d+ .*: it stopped reading replies/);
    await assertNewcomerServed(vm);
  });
});

Deno.test("deadline: a front-end waiting for the slot is refused once the holder finishes its handshake", async () => {
  await withServer(async (vm, logs) => {
    using holder = RawPeer.connect(vm.socket);
    await until(() => vm.server.connections === 1, "the holder to be accepted");
    using newcomer = RawPeer.connect(vm.socket);
    await until(() => logs.lines.some((l) => /waits: /.test(l)), "the newcomer to wait");
    await holder.negotiate(); // settles: SET_OWNER
    await newcomer.expectDropped();
    assertWarned(
      logs,
      /refusing a second front-end, front-end pid \d+ .*: the connected one finished its handshake/,
    );
    await holder.features(); // the holder was never disturbed
    assert.equal(vm.server.connections, 1);
  });
});
