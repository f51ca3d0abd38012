// Hostile vhost-user messages, packed by hand: each must drop that connection (the peer sees end of stream, the
// daemon logs why), close every fd the message carried, and leave the daemon serving a new connection from a
// clean state (design.md "Reliability rules", style.md §2 rules 4, 5, 9). This file: framing (short headers and
// payloads, sizes, version bits, request codes), fds on messages, feature negotiation, and the crypto session
// messages 26/27; vring and memory-table messages are in vhost_user_vring_memory_test.ts.

import assert from "node:assert/strict";
import { createMemfd, EventFd } from "../../src/os/mod.ts";
import { memTablePayload, Request, u64Payload } from "../../src/vhost_user/mod.ts";
import { writeU32 } from "../../src/virtio/mod.ts";
import { GuestRam } from "../../src/frontend/mod.ts";
import {
  assertDropped,
  assertDroppedClosingFds,
  assertLogged,
  assertServesFresh,
  connect,
  sessionPayload,
  startDaemon,
  tick,
  waitIdle,
} from "./_helpers.ts";

Deno.test("vhost-user: a header cut short (5 of 12 bytes) then close: logged, daemon keeps listening", async () => {
  await using t = await startDaemon();
  const peer = await connect(t);
  peer.sendBytes(new Uint8Array([1, 0, 0, 0, 1]));
  peer.close();
  await waitIdle(t);
  assertLogged(t, /closed the connection in the middle of a message \(5 bytes read\)/);
  await assertServesFresh(t);
});

Deno.test("vhost-user: a payload cut short (header says 8, 3 sent) then close: logged, daemon keeps listening", async () => {
  await using t = await startDaemon();
  const peer = await connect(t);
  peer.send(Request.SET_FEATURES, new Uint8Array(3), { size: 8 });
  peer.close();
  await waitIdle(t);
  assertLogged(t, /in the middle of a message \(15 bytes read\)/);
  await assertServesFresh(t);
});

Deno.test("vhost-user: fds of a message cut short are closed when the peer goes away", async () => {
  await using t = await startDaemon();
  using ram = new GuestRam(1 << 20);
  const table = memTablePayload([{
    guestPhysAddr: ram.region.gpa,
    memorySize: ram.size,
    userspaceAddr: ram.region.frontendVa,
    mmapOffset: 0,
  }]);
  const bytes = new Uint8Array(12 + 100);
  writeU32(bytes, 0, Request.SET_MEM_TABLE);
  writeU32(bytes, 4, 1);
  writeU32(bytes, 8, table.length);
  bytes.set(table.subarray(0, 100), 12);
  await assertDroppedClosingFds(
    t,
    async (p) => {
      p.sendBytes(bytes, [ram.fd.raw, ram.fd.raw]);
      await tick(20); // the daemon reads the first 112 bytes and both fds, then the peer goes away
    },
    /in the middle of a message \(112 bytes read\)/,
    { peerCloses: true },
  );
  await assertServesFresh(t);
});

Deno.test("vhost-user: payload size above 4096 (4097, 2^32-1) drops the connection before reading it", async () => {
  await using t = await startDaemon();
  for (const size of [4097, 0xffff_ffff]) {
    const peer = await connect(t);
    peer.send(Request.SET_MEM_TABLE, new Uint8Array(0), { size });
    await assertDropped(t, peer, new RegExp(`payload must be <= 4096 bytes: current value is ${size}`));
  }
});

Deno.test("vhost-user: version bits other than 1 (flags 0x0, 0x2, 0x3, 0xe) drop the connection", async () => {
  await using t = await startDaemon();
  for (const flags of [0x0, 0x2, 0x3, 0xe]) {
    const peer = await connect(t);
    peer.send(Request.GET_FEATURES, new Uint8Array(0), { flags });
    await assertDropped(t, peer, new RegExp(`version must be 1: current value is ${flags & 3}`));
  }
});

Deno.test("vhost-user: payload size not matching the request drops the connection", async () => {
  await using t = await startDaemon();
  const cases: [number, number, RegExp][] = [
    [Request.SET_VRING_NUM, 4, /SET_VRING_NUM: payload must be 8 bytes: current value is 4/],
    [Request.SET_VRING_ADDR, 32, /SET_VRING_ADDR: payload must be 40 bytes: current value is 32/],
    [Request.SET_FEATURES, 16, /SET_FEATURES: payload must be 8 bytes: current value is 16/],
    [Request.SET_OWNER, 8, /SET_OWNER: payload must be 0 bytes: current value is 8/],
    [Request.GET_FEATURES, 4, /GET_FEATURES: payload must be 0 bytes: current value is 4/],
    [Request.GET_PROTOCOL_FEATURES, 8, /GET_PROTOCOL_FEATURES: payload must be 0 bytes: current value is 8/],
    [Request.SET_MEM_TABLE, 4, /SET_MEM_TABLE: payload must be 8 bytes: current value is 4/],
  ];
  for (const [request, size, why] of cases) {
    const peer = await connect(t);
    peer.send(request, new Uint8Array(size));
    await assertDropped(t, peer, why);
  }
});

Deno.test("vhost-user: unknown and unimplemented request codes (0, 35, 99, SET_LOG_BASE, GET_CONFIG) drop the connection", async () => {
  await using t = await startDaemon();
  for (
    const code of [0, 35, 99, 0xffff_ffff, Request.SET_LOG_BASE, Request.GET_CONFIG, Request.ADD_MEM_REG]
  ) {
    const peer = await connect(t);
    peer.send(code, new Uint8Array(8));
    await assertDropped(t, peer, /this back-end does not implement it/);
  }
});

Deno.test("vhost-user: fds on a message that carries none (GET_FEATURES, CREATE_CRYPTO_SESSION) are closed and the connection dropped", async () => {
  await using t = await startDaemon();
  using efd = new EventFd();
  using memfd = createMemfd("hostile", 4096);
  for (const [request, fd] of [[Request.GET_FEATURES, efd.fd], [Request.CREATE_CRYPTO_SESSION, memfd.raw]]) {
    await assertDroppedClosingFds(
      t,
      (p) => p.send(request!, new Uint8Array(request === Request.GET_FEATURES ? 0 : 632), { fds: [fd!] }),
      /it carries no fds: current count is 1/,
    );
  }
  await assertServesFresh(t);
});

Deno.test("vhost-user: more than 32 fds on one message are all closed and the connection dropped", async () => {
  await using t = await startDaemon();
  using efd = new EventFd();
  using ram = new GuestRam(1 << 20);
  const region = {
    guestPhysAddr: ram.region.gpa,
    memorySize: ram.size,
    userspaceAddr: ram.region.frontendVa,
    mmapOffset: 0,
  };
  await assertDroppedClosingFds(
    t,
    (p) => p.send(Request.SET_MEM_TABLE, memTablePayload([region]), { fds: Array(33).fill(efd.fd) }),
    /dropped file descriptors \(MSG_CTRUNC\)/,
  );
  await assertServesFresh(t);
});

Deno.test("vhost-user: SET_FEATURES / SET_PROTOCOL_FEATURES with bits never offered drop the connection", async () => {
  await using t = await startDaemon();
  for (
    const [request, bits] of [[Request.SET_FEATURES, 1n << 63n], [Request.SET_PROTOCOL_FEATURES, 1n << 9n]]
  ) {
    const peer = await connect(t);
    const offered = await peer.features();
    assert.equal(offered & (1n << 63n), 0n);
    peer.send(request as number, u64Payload(bits as bigint));
    await assertDropped(t, peer, /bits 0x[0-9a-f]+ were not offered/);
  }
});

Deno.test("vhost-user: CREATE_CRYPTO_SESSION (26) before CRYPTO_SESSION was negotiated drops the connection", async () => {
  await using t = await startDaemon();
  const peer = await connect(t);
  await peer.features();
  peer.send(Request.CREATE_CRYPTO_SESSION, new Uint8Array(632));
  await assertDropped(t, peer, /protocol feature CRYPTO_SESSION was not negotiated/);
});

Deno.test("vhost-user: CREATE_CRYPTO_SESSION (26) payloads of a size QEMU never sends drop the connection", async () => {
  await using t = await startDaemon();
  for (const size of [0, 8, 631, 633, 1071, 4096]) {
    const peer = await connect(t);
    await peer.negotiate();
    peer.send(Request.CREATE_CRYPTO_SESSION, new Uint8Array(size));
    await assertDropped(t, peer, new RegExp(`payload must be 632 or 1072 bytes: current length is ${size}`));
  }
});

// CVE-2020-10724 (DPDK acd4c92fa6): key lengths past the 64-byte key and 512-byte auth_key arrays. The lengths are
// checked before any key byte is read; vhost_messages.ts documents a payload that cannot be decoded as a broken
// front-end (QEMU refuses such keys before sending), so the connection is dropped rather than answered -1.
Deno.test("vhost-user: CREATE_CRYPTO_SESSION with key_len > 64 or auth_key_len > 512 (CVE-2020-10724) drops the connection", async () => {
  await using t = await startDaemon();
  const sym = (keyLen: number, authKeyLen: number, opType: number): Uint8Array => {
    const p = new Uint8Array(632); // layout B: cipher_alg@8 key_len@12 hash_alg@16 result@20 auth_key_len@24 op_type@32
    writeU32(p, 8, 3); // AES-CBC
    writeU32(p, 12, keyLen);
    writeU32(p, 16, 4); // HMAC-SHA256
    writeU32(p, 20, 32);
    writeU32(p, 24, authKeyLen);
    p[32] = opType;
    p[33] = 1;
    p[34] = 2; // hash_mode AUTH
    p[35] = 2; // CIPHER_THEN_HASH
    return p;
  };
  const asym = new Uint8Array(1072); // layout C, akcipher: keylen@16 past the 1024-byte key array
  writeU32(asym, 0, 0x404);
  writeU32(asym, 8, 1);
  writeU32(asym, 16, 1025);
  const cases: [Uint8Array, RegExp][] = [
    [sym(65, 0, 1), /key_len: must be <= 64: current value is 65/],
    [sym(0xffff_ffff, 0, 1), /key_len: must be <= 64: current value is 4294967295/],
    [sym(16, 513, 2), /auth_key_len: must be <= 512: current value is 513/],
    [sym(16, 0xffff_ffff, 2), /auth_key_len: must be <= 512: current value is 4294967295/],
    [asym, /keylen: must be <= 1024: current value is 1025/],
  ];
  for (const [payload, why] of cases) {
    const peer = await connect(t);
    await peer.negotiate();
    peer.send(Request.CREATE_CRYPTO_SESSION, payload);
    await assertDropped(t, peer, why);
  }
});

Deno.test("vhost-user: CLOSE_CRYPTO_SESSION (27) for an unknown session is logged, not answered, not fatal", async () => {
  await using t = await startDaemon();
  const peer = await connect(t);
  await peer.negotiate();
  for (const id of [0n, 1n, 12345n, (1n << 63n) - 1n, 0xffff_ffff_ffff_ffffn]) {
    peer.send(Request.CLOSE_CRYPTO_SESSION, u64Payload(id));
  }
  // No reply was sent: the next reply is GET_FEATURES' own (QEMU reads none for 27).
  await peer.features();
  assertLogged(t, /CLOSE_CRYPTO_SESSION for unknown session 12345: ignored/);
  assertLogged(t, /CLOSE_CRYPTO_SESSION for unknown session 18446744073709551615: ignored/);
  // A real session still opens and closes on the same connection, and replies keep lining up.
  const reply = await peer.request(Request.CREATE_CRYPTO_SESSION, sessionPayload());
  assert.equal(reply.length, 632);
  assert.equal(t.daemon.device.sessions.table.size, 1);
  peer.send(Request.CLOSE_CRYPTO_SESSION, reply.slice(0, 8));
  peer.send(Request.CLOSE_CRYPTO_SESSION, reply.slice(0, 8)); // twice: the second is unknown
  await peer.features();
  assert.equal(t.daemon.device.sessions.table.size, 0);
  assert.equal(t.daemon.server.handler !== null, true, "the connection survived");
  peer.close();
  await assertServesFresh(t);
});

Deno.test("vhost-user: CLOSE_CRYPTO_SESSION (27) with a payload that is not a u64 drops the connection", async () => {
  await using t = await startDaemon();
  const peer = await connect(t);
  await peer.negotiate();
  peer.send(Request.CLOSE_CRYPTO_SESSION, new Uint8Array(4));
  await assertDropped(t, peer, /Cannot close session: payload must be 8 bytes: current value is 4/);
});
