// Hostile vring and memory-table messages (SET_VRING_*, SET_MEM_TABLE), packed by hand: each must drop that
// connection (the peer sees end of stream, the daemon logs why), close every fd the message carried, and leave
// the daemon serving a new connection from a clean state (design.md "Reliability rules", style.md §2 rules 4, 5,
// 9). Framing, fd, feature and session messages are in vhost_user_message_test.ts.

import { EventFd } from "../../src/os/mod.ts";
import {
  MAX_MEM_TABLE_REGIONS,
  memTablePayload,
  Request,
  u64Payload,
  vringAddrPayload,
  vringStatePayload,
} from "../../src/vhost_user/mod.ts";
import { writeU32 } from "../../src/virtio/mod.ts";
import { GuestRam } from "../../src/frontend/mod.ts";
import {
  assertDropped,
  assertDroppedClosingFds,
  assertServesFresh,
  connect,
  type RawPeer,
  startDaemon,
} from "./_helpers.ts";

Deno.test("vhost-user: a vring index out of range (2, 255, 2^32-1) drops the connection", async () => {
  await using t = await startDaemon(); // 1 data queue + the control queue: vrings 0 and 1
  for (const [request, index] of [[Request.SET_VRING_NUM, 2], [Request.SET_VRING_BASE, 0xffff_ffff]]) {
    const peer = await connect(t);
    peer.send(request!, vringStatePayload(index!, 16));
    await assertDropped(t, peer, new RegExp(`vring index must be < 2: current value is ${index}`));
  }
  const peer = await connect(t);
  peer.send(
    Request.SET_VRING_ADDR,
    vringAddrPayload({ index: 7, flags: 0, descUserAddr: 0, usedUserAddr: 0, availUserAddr: 0 }),
  );
  await assertDropped(t, peer, /SET_VRING_ADDR: vring index must be < 2: current value is 7/);
  using call = new EventFd();
  await assertDroppedClosingFds(
    t,
    (p) => p.send(Request.SET_VRING_CALL, u64Payload(0xffn), { fds: [call.fd] }),
    /SET_VRING_CALL: vring index must be < 2: current value is 255/,
  );
  await assertServesFresh(t);
});

Deno.test("vhost-user: SET_VRING_NUM not a power of 2, 0, or above 1024 drops the connection", async () => {
  await using t = await startDaemon();
  for (const num of [0, 3, 1000, 2048, 0x8000_0000]) {
    const peer = await connect(t);
    peer.send(Request.SET_VRING_NUM, vringStatePayload(0, num));
    await assertDropped(t, peer, new RegExp(`size must be a power of 2 in 1..1024: current value is ${num}`));
  }
});

Deno.test("vhost-user: SET_VRING_BASE above 0xffff drops the connection", async () => {
  await using t = await startDaemon();
  for (const base of [0x1_0000, 0xffff_ffff]) {
    const peer = await connect(t);
    peer.send(Request.SET_VRING_BASE, vringStatePayload(0, base));
    await assertDropped(t, peer, new RegExp(`base must be a u16 .*current value is ${base}`));
  }
});

/** A connection that negotiated and sent a one-region memory table over `ram`. */
async function withMemory(t: Awaited<ReturnType<typeof startDaemon>>, ram: GuestRam): Promise<RawPeer> {
  const peer = await connect(t);
  await peer.negotiate();
  peer.send(
    Request.SET_MEM_TABLE,
    memTablePayload([{
      guestPhysAddr: ram.region.gpa,
      memorySize: ram.size,
      userspaceAddr: ram.region.frontendVa,
      mmapOffset: 0,
    }]),
    { fds: [ram.fd.raw] },
  );
  await peer.features();
  return peer;
}

Deno.test("vhost-user: SET_VRING_ADDR outside the memory table (or straddling its end) drops the connection", async () => {
  await using t = await startDaemon();
  using ram = new GuestRam(1 << 20);
  const va = ram.region.frontendVa;
  const end = va + ram.size;
  const cases = [
    { desc: end, avail: va + 0x1000, used: va + 0x2000 }, // descriptor table just past the end
    { desc: va, avail: va + 0x1000, used: end - 8 }, // used ring straddles the end
    { desc: va - 0x10000, avail: va + 0x1000, used: va + 0x2000 }, // below the region
    { desc: 2 ** 52, avail: va + 0x1000, used: va + 0x2000 }, // nowhere
  ];
  for (const a of cases) {
    const peer = await withMemory(t, ram);
    peer.send(Request.SET_VRING_NUM, vringStatePayload(0, 256));
    peer.send(
      Request.SET_VRING_ADDR,
      vringAddrPayload({
        index: 0,
        flags: 0,
        descUserAddr: a.desc,
        availUserAddr: a.avail,
        usedUserAddr: a.used,
      }),
    );
    await assertDropped(t, peer, /Cannot use vring 0: its rings .* are not inside guest memory/);
  }
  // Addresses above 2^53 cannot even be decoded.
  const peer = await withMemory(t, ram);
  const p = vringAddrPayload({ index: 0, flags: 0, descUserAddr: 0, availUserAddr: 0, usedUserAddr: 0 });
  writeU32(p, 12, 0xffff_ffff);
  peer.send(Request.SET_VRING_ADDR, p);
  await assertDropped(t, peer, /SET_VRING_ADDR: address above 2\^53/);
});

Deno.test("vhost-user: rings set before the memory table and outside it drop the connection at SET_MEM_TABLE", async () => {
  await using t = await startDaemon();
  using ram = new GuestRam(1 << 20);
  const peer = await connect(t);
  await peer.negotiate();
  const far = ram.region.frontendVa + ram.size + 0x10_0000;
  peer.send(
    Request.SET_VRING_ADDR,
    vringAddrPayload({
      index: 0,
      flags: 0,
      descUserAddr: far,
      availUserAddr: far + 0x1000,
      usedUserAddr: far + 0x2000,
    }),
  );
  await peer.features(); // accepted for now: there is no table to check against yet
  peer.send(
    Request.SET_MEM_TABLE,
    memTablePayload([{
      guestPhysAddr: ram.region.gpa,
      memorySize: ram.size,
      userspaceAddr: ram.region.frontendVa,
      mmapOffset: 0,
    }]),
    { fds: [ram.fd.raw] },
  );
  await assertDropped(t, peer, /Cannot use vring 0: its rings .* are not inside guest memory/);
});

Deno.test("vhost-user: SET_MEM_TABLE with fewer or more fds than regions drops the connection and closes the fds", async () => {
  await using t = await startDaemon();
  using ram = new GuestRam(1 << 20);
  const region = {
    guestPhysAddr: ram.region.gpa,
    memorySize: ram.size,
    userspaceAddr: ram.region.frontendVa,
    mmapOffset: 0,
  };
  const second = {
    ...region,
    guestPhysAddr: region.guestPhysAddr + ram.size,
    userspaceAddr: region.userspaceAddr + ram.size,
  };
  const cases: [typeof region[], number[], RegExp][] = [
    [[region], [], /one fd per region \(1\): current count is 0/],
    [[region], [ram.fd.raw, ram.fd.raw], /one fd per region \(1\): current count is 2/],
    [[region, second], [ram.fd.raw], /one fd per region \(2\): current count is 1/],
  ];
  for (const [regions, fds, why] of cases) {
    await assertDroppedClosingFds(
      t,
      (p) => p.send(Request.SET_MEM_TABLE, memTablePayload(regions), { fds }),
      why,
    );
  }
  await assertServesFresh(t);
});

Deno.test("vhost-user: SET_MEM_TABLE with 0 or 9 regions, or a count past the payload, drops the connection", async () => {
  await using t = await startDaemon();
  using ram = new GuestRam(1 << 20);
  for (const n of [0, MAX_MEM_TABLE_REGIONS + 1, 0xffff_ffff]) {
    const payload = new Uint8Array(8 + 32 * 9);
    writeU32(payload, 0, n);
    await assertDroppedClosingFds(
      t,
      (p) => p.send(Request.SET_MEM_TABLE, payload, { fds: n === 0 ? [] : [ram.fd.raw] }),
      new RegExp(`region count must be 1..8 and fit the .*current value is ${n}`),
    );
  }
  // 2 regions announced, a payload with room for 1
  const payload = new Uint8Array(8 + 32);
  writeU32(payload, 0, 2);
  const peer = await connect(t);
  peer.send(Request.SET_MEM_TABLE, payload, { fds: [ram.fd.raw, ram.fd.raw] });
  await assertDropped(t, peer, /region count must be 1..8 and fit the 40-byte payload: current value is 2/);
});

Deno.test("vhost-user: SET_MEM_TABLE regions of size 0, past the end of their file, overlapping, or not mappable drop the connection", async () => {
  await using t = await startDaemon();
  using ram = new GuestRam(1 << 20);
  using kick = new EventFd();
  const region = {
    guestPhysAddr: ram.region.gpa,
    memorySize: ram.size,
    userspaceAddr: ram.region.frontendVa,
    mmapOffset: 0,
  };
  const cases: [(typeof region)[], number[], RegExp][] = [
    [[{ ...region, memorySize: 0 }], [ram.fd.raw], /region size must be > 0: current value is 0/],
    // A mapping past the end of the file would SIGBUS the daemon on the first access (rust-vmm MappingPastEof).
    [[{ ...region, memorySize: 2 * ram.size }], [ram.fd.raw], /past the end of its file/],
    [[{ ...region, mmapOffset: 4096 }], [ram.fd.raw], /past the end of its file/],
    [
      [region, { ...region, userspaceAddr: region.userspaceAddr + ram.size }],
      [ram.fd.raw, ram.fd.raw],
      /overlap/,
    ],
    // An eventfd is no memory: it has no seals, so it is refused before mmap is even tried.
    [[region], [kick.fd], /SET_MEM_TABLE: (Cannot mmap|.*past the end of its file|.*eventfd.*has no seals)/],
  ];
  for (const [regions, fds, why] of cases) {
    await assertDroppedClosingFds(
      t,
      (p) => p.send(Request.SET_MEM_TABLE, memTablePayload(regions), { fds }),
      why,
    );
  }
  await assertServesFresh(t);
});

Deno.test("vhost-user: SET_VRING_KICK/CALL/ERR whose NOFD bit disagrees with the fds sent drop the connection", async () => {
  await using t = await startDaemon();
  using efd = new EventFd();
  const cases: [number, bigint, number[], RegExp][] = [
    [Request.SET_VRING_KICK, 0x100n, [efd.fd], /SET_VRING_KICK: the NOFD bit must match the fds sent \(1\)/],
    [Request.SET_VRING_CALL, 0n, [], /SET_VRING_CALL: the NOFD bit must match the fds sent \(0\)/],
    [Request.SET_VRING_ERR, 0x200n, [efd.fd], /SET_VRING_ERR: the NOFD bit must match/], // an undefined bit
    [Request.SET_VRING_KICK, 0n, [efd.fd, efd.fd], /SET_VRING_KICK: at most 1 fd: current count is 2/],
  ];
  for (const [request, word, fds, why] of cases) {
    await assertDroppedClosingFds(t, (p) => p.send(request, u64Payload(word), { fds }), why);
  }
  await assertServesFresh(t);
});
