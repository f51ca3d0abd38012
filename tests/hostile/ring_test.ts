// A broken ring (avail index more than the queue size ahead, a head index outside the descriptor table) stops that
// ring and signals its SET_VRING_ERR eventfd; nothing is completed, the connection and its sessions survive, and the
// ring serves again once the front-end restarts it the way QEMU does after a device reset (GET_VRING_BASE, then
// SET_VRING_NUM, _BASE, _ADDR, _CALL, _KICK). README "Status and used length", design.md "Reliability rules".

import assert from "node:assert/strict";
import { Request, vringStatePayload } from "../../src/vhost_user/mod.ts";
import { readU32 } from "../../src/virtio/mod.ts";
import { assertLogged, assertServesFresh, startDaemon, tick, until } from "./_helpers.ts";
import { assertRingServes, cbcBuffers, QSIZE, RawGuest } from "./_raw_guest.ts";

/** Restarts vring 0 after a ring error and returns the base the daemon reported. */
async function restart(g: RawGuest): Promise<number> {
  const reply = await g.peer.request(Request.GET_VRING_BASE, vringStatePayload(0, 0));
  assert.equal(readU32(reply, 0), 0);
  const base = readU32(reply, 4);
  // The guest's driver reset its ring: avail and used start again at the base the device will resume from.
  g.ring.setAvailIdx(base);
  g.ring.setUsedIdx(base);
  await g.startRing(base);
  return base;
}

Deno.test("ring: avail idx more than queue-size ahead stops the ring, signals SET_VRING_ERR, and a restart serves again", async () => {
  await using t = await startDaemon();
  using g = await RawGuest.open(t);
  const sid = await g.createSession();
  await assertRingServes(g, sid); // one request served: next_avail is 1
  for (const jump of [QSIZE + 1, 0x8000, 0xffff]) {
    g.reset();
    g.chain(cbcBuffers(g, sid).bufs);
    const since = t.logs.length;
    const served = g.ring.usedIdx(); // next_avail: every chain offered so far was served
    await g.runBroken(null, (g.ring.availIdx() + jump) & 0xffff);
    assertLogged(
      t,
      new RegExp(`vring 0 stopped: .*avail idx must be at most ${QSIZE} ahead of next_avail`),
      since,
    );
    // Kicks on the stopped ring do nothing.
    g.kick.signal();
    await tick(20);
    assert.equal(g.err.consume(), 0n);
    // The connection and its session survive.
    await g.peer.features();
    assert.equal(t.daemon.device.sessions.table.size, 1);
    assert.equal(await restart(g), served);
    await assertRingServes(g, sid);
  }
});

Deno.test("ring: a head index >= queue size stops the ring, signals SET_VRING_ERR, and a restart serves again", async () => {
  await using t = await startDaemon();
  using g = await RawGuest.open(t);
  const sid = await g.createSession();
  for (const head of [QSIZE, 0xffff]) {
    const since = t.logs.length;
    const served = g.ring.usedIdx();
    await g.runBroken(head);
    assertLogged(
      t,
      new RegExp(`vring 0 stopped: .*head index must be < ${QSIZE}: current value is ${head}`),
      since,
    );
    await g.peer.features();
    assert.equal(await restart(g), served);
    await assertRingServes(g, sid);
  }
  g.close();
  await assertServesFresh(t);
});

Deno.test("ring: exactly queue-size entries pending is not an error (the bound is inclusive)", async () => {
  await using t = await startDaemon();
  using g = await RawGuest.open(t);
  const sid = await g.createSession();
  g.reset();
  const r = cbcBuffers(g, sid);
  g.chain(r.bufs, { indirect: true });
  // QSIZE chains at once, all the same head: each is served in turn (the device does not assume unique heads).
  for (let i = 0; i < QSIZE; i++) g.ring.offer(0);
  g.kick.signal();
  await until(() => g.ring.usedIdx() === QSIZE, `${QSIZE} used elements`);
  assert.equal(g.ring.usedIdx(), QSIZE);
  assert.equal(g.err.consume(), 0n);
  for (let i = 0; i < QSIZE; i++) assert.deepEqual(g.ring.usedElem(i), { id: 0, len: 65 });
  await assertRingServes(g, sid);
});
