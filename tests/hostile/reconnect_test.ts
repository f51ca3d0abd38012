// A connection dropped for a protocol error leaves nothing behind: its sessions are closed (the next connection's
// requests cannot use their ids, and ids are never reused), its rings and memory table are gone, and the next
// front-end starts from a clean state. A second front-end while one is connected is refused without disturbing it.

import assert from "node:assert/strict";
import { Status } from "../../src/spec/virtio_crypto.ts";
import { Request, vringStatePayload } from "../../src/vhost_user/mod.ts";
import { assertLogged, assertServesFresh, RawPeer, startDaemon, waitIdle } from "./_helpers.ts";
import { assertRingServes, cbcBuffers, RawGuest, statusAt, symHeader } from "./_raw_guest.ts";

Deno.test("reconnect: after a dropped connection its sessions are gone (INVSESS) and ids are not reused", async () => {
  await using t = await startDaemon();
  const first = await RawGuest.open(t);
  const old = await first.createSession();
  await assertRingServes(first, old);
  first.peer.send(Request.SET_VRING_NUM, vringStatePayload(0, 3));
  await first.peer.expectDropped();
  first.close();
  await waitIdle(t);
  assert.equal(t.daemon.device.sessions.table.size, 0);

  using second = await RawGuest.open(t);
  second.reset();
  const hdr = symHeader({ session: old, ivLen: 16, srcLen: 64, dstLen: 64 });
  const r = cbcBuffers(second, old, hdr);
  const c = await second.run(second.chain(r.bufs), [r.status]);
  assert.deepEqual({ status: statusAt(second, r.status), len: c.len, stray: c.strayWrites }, {
    status: Status.INVSESS,
    len: 1,
    stray: [],
  });
  const fresh = await second.createSession();
  assert.ok(fresh > old, `session id ${fresh} reuses an id at or below ${old}`);
  await assertRingServes(second, fresh);
});

Deno.test("reconnect: a second front-end is refused while one is connected, and the first keeps serving", async () => {
  await using t = await startDaemon();
  using g = await RawGuest.open(t);
  const sid = await g.createSession();
  const intruder = RawPeer.connect(t.socket);
  await intruder.expectDropped();
  intruder.close();
  assertLogged(t, /refusing a second front-end/);
  await g.peer.features();
  await assertRingServes(g, sid);
  g.close();
  await assertServesFresh(t);
});
