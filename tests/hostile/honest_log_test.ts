// Honest logs (issue 14, items 2 and 5): a peer that resets or vanishes is a warning naming it and the reason,
// without a stack; an orderly disconnect is info; and a guest that sends a malformed chain per request gets a
// few lines, not one per request, with what was suppressed counted in the stats.

import assert from "node:assert/strict";
import { runDaemon } from "../../src/daemon/daemon.ts";
import { Request } from "../../src/vhost_user/mod.ts";
import { hasError } from "../_fixtures/log_capture.ts";
import { assertServesFresh, connect, startDaemon, type TestDaemon, until, waitIdle } from "./_helpers.ts";
import { RawGuest } from "./_raw_guest.ts";

/** The drop line of the last connection, with its record's level and whether it carries an Error. */
async function dropLine(t: TestDaemon, since: number): Promise<string> {
  await waitIdle(t);
  const line = t.logs.slice(since).find((l) => /dropping front-end|disconnected/.test(l));
  assert.ok(line !== undefined, `no drop line in:\n${t.logs.slice(since).join("\n")}`);
  return line;
}

Deno.test("honest logs: a peer that resets the connection is a warning that names it, without a stack", async () => {
  await using t = await startDaemon();
  const since = t.logs.length;
  const peer = await connect(t);
  peer.send(Request.GET_FEATURES);
  await until(() => t.daemon.server.handler !== null, "the request to be read");
  await new Promise((r) => setTimeout(r, 20)); // the reply is now in the peer's queue, unread
  peer.close(); // closing with unread data: the daemon's socket gets ECONNRESET
  const line = await dropLine(t, since);
  assert.match(line, /^warning: dropping front-end pid \d+ \(\S+\) uid \d+ on .*: it reset the connection/);
  assert.equal(t.records.filter(hasError).length, 0, "no record carries an Error (a stack)");
  await assertServesFresh(t);
});

Deno.test("honest logs: a peer that vanishes before its reply is a warning; an orderly close is info", async () => {
  await using t = await startDaemon();
  let since = t.logs.length;
  const peer = await connect(t);
  peer.send(Request.GET_FEATURES);
  peer.close(); // gone before the daemon even read the request
  const line = await dropLine(t, since);
  assert.match(line, /^warning: dropping front-end pid \d+ .*: it (vanished while a reply was sent|reset)/);
  since = t.logs.length;
  const quiet = await connect(t);
  await quiet.features();
  quiet.close();
  assert.match(
    await dropLine(t, since),
    /^info: front-end pid \d+ .* disconnected: Front-end closed the connection/,
  );
  assert.equal(t.records.filter(hasError).length, 0);
});

Deno.test("log flood: a malformed chain per request logs a burst, counts the rest, and reports them", async () => {
  await using t = await startDaemon();
  t.daemon.device.logLimit.burst = 5; // the daemon's default (the helper raises it to see every line)
  using g = await RawGuest.open(t);
  const since = t.logs.length;
  for (let i = 0; i < 200; i++) {
    g.reset();
    const status = { gpa: g.alloc(1), len: 1, write: true };
    const head = g.chain([{ gpa: g.end(64), len: 16 }, status]); // a buffer past guest RAM
    await g.run(head, [status]);
  }
  const lines = t.logs.slice(since).filter((l) => /malformed chain/.test(l));
  assert.equal(lines.length, 5, `at most a burst of lines: ${lines.length}`);
  assert.equal((await t.daemon.stats()).device["log_suppressed.malformed-chain"], 195);
  assert.equal((await t.daemon.stats()).device["log_suppressed"], 195);
  assert.deepEqual((await t.daemon.snapshot()).vms[0]!.logSuppressed, { "malformed-chain": 195 });
  t.daemon.device.logLimit.flush(); // what the window's timer does when it ends
  assert.ok(
    t.logs.some((l) =>
      /^warning: suppressed 195 more malformed-chain lines in the last \d+ s on .*vhost\.sock/.test(l)
    ),
    t.logs.slice(-3).join("\n"),
  );
  assert.equal((await t.daemon.stats()).device["requests"], 200, "every request still completed");
});

Deno.test("log flood: the rate limit is per VM: one guest's flood is counted in its own VmSnapshot only", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-flood-" });
  const sockets = [`${dir}/loud.sock`, `${dir}/quiet.sock`];
  const daemon = runDaemon({
    vms: [{ name: "loud", socket: sockets[0] }, { name: "quiet", socket: sockets[1] }],
    engine: "software",
    logLevel: "error",
  });
  try {
    await daemon.ready; // each VM on its own Worker, each with its own limiter
    using g = await RawGuest.open({ socket: sockets[0]! });
    for (let i = 0; i < 50; i++) {
      g.reset();
      const status = { gpa: g.alloc(1), len: 1, write: true };
      await g.run(g.chain([{ gpa: g.end(64), len: 16 }, status]), [status]);
    }
    const [loud, quiet] = (await daemon.snapshot()).vms;
    assert.deepEqual(loud!.logSuppressed, { "malformed-chain": 45 }, "a burst of 5 shown, the rest counted");
    assert.equal(loud!.device["log_suppressed"], 45);
    assert.deepEqual(quiet!.logSuppressed, {});
  } finally {
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
