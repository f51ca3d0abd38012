/**
 * The control socket over a real Unix socket, on a fake daemon: every JSON-RPC error class, the connection staying
 * usable after each, oversized lines, batches and notifications, limits, concurrent clients, the socket's mode, and
 * that nothing beyond the report shapes (a key the fake carries) is ever sent.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ErrorCode } from "../../src/control/mod.ts";
import { LineClient, startServer } from "./_line_client.ts";
import { SECRET_HEX } from "./_fake_control.ts";
import { fdsSettle, openFds } from "../_fixtures/fd_leaks.ts";

type Answer = {
  jsonrpc: string;
  id: unknown;
  result?: Record<string, unknown> & unknown[];
  error?: { code: number; message: string; data?: Record<string, unknown> };
};

const req = (method: string, params?: unknown, id: unknown = 1): string =>
  JSON.stringify({ jsonrpc: "2.0", method, id, ...(params === undefined ? {} : { params }) });

Deno.test("ControlServer answers every method; the answers hold only report fields", async () => {
  await using rig = startServer();
  using c = await LineClient.connect(rig.path);
  const status = await c.ask(req("status")) as Answer;
  assert.equal(status.jsonrpc, "2.0");
  assert.equal(status.id, 1);
  assert.equal(status.result!["version"], "0.1.0");
  assert.deepEqual(status.result!["vms"], { total: 1, connected: 0 });
  const list = await c.ask(req("vm.list", undefined, "a")) as Answer;
  assert.equal(list.id, "a");
  assert.deepEqual(Object.keys(list.result![0] as object).sort(), [
    "connected",
    "connections",
    "inflight",
    "maxInflight",
    "maxSessions",
    "name",
    "queues",
    "sessions",
    "socket",
    "thread",
  ]);
  const stats = await c.ask(req("stats")) as Answer;
  assert.equal((stats.result!["total"] as { requests: number }).requests, 10);
  const added = await c.ask(
    req("vm.add", { name: "vm2", socket: "/run/cryptobridge/vm2.sock", queues: 2 }),
  ) as Answer;
  assert.equal(added.result!["name"], "vm2");
  const removed = await c.ask(req("vm.remove", ["vm2"])) as Answer;
  assert.equal(removed.result!["removed"], true);
  assert.equal((await c.ask(req("log.set_level", { level: "warn" })) as Answer).result!["level"], "warning");
  assert.equal(rig.control.level, "warning");
  assert.equal((await c.ask(req("accelerator.restart")) as Answer).result!["state"], "ready");
  assert.equal((await c.ask(req("accelerator.reset")) as Answer).result!["state"], "failed");
  const methods = (await c.ask(req("methods")) as Answer).result as unknown as { name: string }[];
  assert.ok(methods.some((m) => m.name === "vm.add"));
  for (const a of [status, list, stats, added]) assert.ok(!JSON.stringify(a).includes(SECRET_HEX));
  assert.ok(!JSON.stringify(status).includes("keys"));
});

Deno.test("ControlServer: each JSON-RPC error class, and the connection stays usable after each", async () => {
  await using rig = startServer();
  using c = await LineClient.connect(rig.path);
  const cases: [string, number, unknown][] = [
    ["{not json", ErrorCode.PARSE_ERROR, null],
    ['"just a string"', ErrorCode.INVALID_REQUEST, null],
    ['{"jsonrpc":"1.0","method":"status","id":7}', ErrorCode.INVALID_REQUEST, 7],
    ['{"jsonrpc":"2.0","method":42,"id":8}', ErrorCode.INVALID_REQUEST, 8],
    ['{"jsonrpc":"2.0","method":"status","params":"x","id":9}', ErrorCode.INVALID_REQUEST, 9],
    ['{"jsonrpc":"2.0","method":"status","id":{"no":1}}', ErrorCode.INVALID_REQUEST, null],
    ["[]", ErrorCode.INVALID_REQUEST, null],
    [req("vm.explode"), ErrorCode.METHOD_NOT_FOUND, 1],
    [req("vm.remove", {}), ErrorCode.INVALID_PARAMS, 1],
    [req("vm.remove", { name: 42 }), ErrorCode.INVALID_PARAMS, 1],
    [req("vm.remove", { name: "vm1", force: true }), ErrorCode.INVALID_PARAMS, 1],
    [req("vm.remove", ["a", "b"]), ErrorCode.INVALID_PARAMS, 1],
    [req("log.set_level", { level: "loud" }), ErrorCode.INVALID_PARAMS, 1],
    [req("vm.add", ["vm3"]), ErrorCode.INVALID_PARAMS, 1],
    [req("vm.add", { name: "vm3", socket: "/x", queues: "two" }), ErrorCode.INVALID_PARAMS, 1],
    [req("vm.add", { name: "vm1", socket: "/x" }), ErrorCode.ALREADY_EXISTS, 1],
    [req("vm.remove", { name: "nope" }), ErrorCode.NOT_FOUND, 1],
  ];
  for (const [line, code, id] of cases) {
    const a = await c.ask(line) as Answer;
    assert.equal(a.error?.code, code, `${line} -> ${JSON.stringify(a)}`);
    assert.equal(a.id, id, line);
    assert.equal(a.result, undefined);
    assert.equal(((await c.ask(req("status", undefined, 99))) as Answer).id, 99, `usable after ${line}`);
  }
  const field = await c.ask(req("vm.add", { name: "vm3", socket: "/x", queues: "two" })) as Answer;
  assert.deepEqual(field.error!.data, { field: "queues" });
  rig.control.accelerator = false;
  assert.equal((await c.ask(req("accelerator.reset")) as Answer).error!.code, ErrorCode.UNAVAILABLE);
  rig.control.statusFailure = new Error("engine table is gone");
  const internal = await c.ask(req("status")) as Answer;
  assert.equal(internal.error!.code, ErrorCode.INTERNAL_ERROR);
  assert.match(String(internal.error!.data!["error"]), /engine table is gone/);
  rig.control.brokenVms = [{ name: 1 }];
  assert.equal((await c.ask(req("vm.list")) as Answer).error!.code, ErrorCode.INTERNAL_ERROR);
  rig.control.brokenVms = null;
  assert.equal((await c.ask(req("vm.list", undefined, 5)) as Answer).id, 5);
});

Deno.test("ControlServer: batches, notifications, blank lines, CRLF and a last line without newline", async () => {
  await using rig = startServer();
  using c = await LineClient.connect(rig.path);
  const batch = await c.ask(
    `[${
      req("status", undefined, 1)
    }, {"jsonrpc":"2.0","method":"log.set_level","params":{"level":"debug"}}, 5, ` +
      `${req("nope", undefined, 3)}]`,
  ) as Answer[];
  assert.deepEqual(batch.map((a) => [a.id, a.error?.code ?? "ok"]), [
    [1, "ok"],
    [null, ErrorCode.INVALID_REQUEST],
    [3, ErrorCode.METHOD_NOT_FOUND],
  ]);
  assert.equal(rig.control.level, "debug", "the notification ran");
  await c.send('{"jsonrpc":"2.0","method":"log.set_level","params":{"level":"error"}}\n\n  \r\n');
  await c.send('{"jsonrpc":"2.0","method":"nope"}\n'); // a notification's error is not answered either
  assert.equal(((await c.ask(`${req("status", undefined, 4)}\r`)) as Answer).id, 4);
  assert.equal(rig.control.level, "error");
  const big = `[${Array.from({ length: 65 }, (_, i) => req("status", undefined, i)).join(",")}]`;
  assert.equal((await c.ask(big) as Answer).error!.code, ErrorCode.INVALID_REQUEST);
  await c.send(req("status", undefined, "last"));
  await c.conn.closeWrite();
  assert.equal(JSON.parse((await c.line())!).id, "last");
  assert.equal(await c.line(), null, "closed once everything is answered");
});

Deno.test("ControlServer: an oversized line gets one error, is skipped to its newline, and the connection goes on", async () => {
  await using rig = startServer({ maxLineBytes: 1024 });
  using c = await LineClient.connect(rig.path);
  const huge = `{"jsonrpc":"2.0","method":"status","id":1,"params":{"pad":"${"x".repeat(200_000)}"}}`;
  await c.send(`${huge}\n${req("status", undefined, 2)}\n`);
  const first = JSON.parse((await c.line())!) as Answer;
  assert.equal(first.error!.code, ErrorCode.INVALID_REQUEST);
  assert.match(first.error!.message, /at most 1024 bytes/);
  assert.equal(JSON.parse((await c.line())!).id, 2);
  // Exactly at the limit is fine; invalid UTF-8 is a parse error.
  const fits = req("status", undefined, "x".repeat(1024 - req("status", undefined, "").length));
  assert.equal(new TextEncoder().encode(fits).length, 1024);
  assert.equal(((await c.ask(fits)) as Answer).error, undefined);
  await c.send(new Uint8Array([0xff, 0xfe, 0x0a]));
  assert.equal(JSON.parse((await c.line())!).error.code, ErrorCode.PARSE_ERROR);
  assert.equal(((await c.ask(req("status", undefined, 3))) as Answer).id, 3);
});

Deno.test("ControlServer: concurrent clients are answered independently; a slow call blocks only its own", async () => {
  await using rig = startServer();
  rig.control.addDelayMs = 200;
  const clients = await Promise.all(Array.from({ length: 8 }, () => LineClient.connect(rig.path)));
  try {
    const slow = clients[0]!.ask(req("vm.add", { name: "slow", socket: "/run/slow.sock" }, "slow"));
    const t0 = performance.now();
    const fast = await Promise.all(clients.slice(1).map((c, i) => c.ask(req("status", undefined, i))));
    assert.ok(performance.now() - t0 < 150, "status answered while vm.add waits");
    assert.deepEqual(fast.map((a) => (a as Answer).id), [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(((await slow) as Answer).id, "slow");
    // Pipelined requests on one connection are answered in order.
    const c = clients[1]!;
    await c.send(Array.from({ length: 100 }, (_, i) => `${req("status", undefined, i)}\n`).join(""));
    for (let i = 0; i < 100; i++) assert.equal(JSON.parse((await c.line())!).id, i);
    assert.equal(rig.server.connections, 8);
  } finally {
    for (const c of clients) c.close();
  }
});

Deno.test("ControlServer: clients beyond maxConnections get a -32000 line and are closed", async () => {
  await using rig = startServer({ maxConnections: 2 });
  using a = await LineClient.connect(rig.path);
  using b = await LineClient.connect(rig.path);
  await a.ask(req("status"));
  await b.ask(req("status"));
  using extra = await LineClient.connect(rig.path);
  const refused = JSON.parse((await extra.line())!) as Answer;
  assert.equal(refused.error!.code, ErrorCode.SERVER_BUSY);
  assert.equal(await extra.line(), null);
  a.close();
  for (let i = 0; rig.server.connections > 1 && i < 100; i++) await new Promise((r) => setTimeout(r, 5));
  using again = await LineClient.connect(rig.path);
  assert.equal(((await again.ask(req("status", undefined, 6))) as Answer).id, 6);
});

Deno.test("ControlServer: a client its policy refuses (SO_PEERCRED) gets -32006 and is closed", async () => {
  const seen: number[] = [];
  await using rig = startServer({ allowPeer: (p) => (seen.push(p.uid), false) });
  using c = await LineClient.connect(rig.path);
  assert.equal(JSON.parse((await c.line())!).error.code, ErrorCode.PERMISSION_DENIED);
  assert.equal(await c.line(), null);
  assert.equal(seen.length, 1);
});

Deno.test("ControlServer: the socket is mode 0600 whatever the umask, and close() removes it", async () => {
  const lib = Deno.dlopen("libc.so.6", { umask: { parameters: ["u32"], result: "u32" } });
  try {
    for (const mask of [0o000, 0o002, 0o077]) {
      const old = lib.symbols.umask(mask);
      let path: string;
      try {
        await using rig = startServer();
        path = rig.path;
        const info = Deno.lstatSync(rig.path);
        assert.ok(info.isSocket);
        assert.equal((info.mode ?? 0) & 0o7777, 0o600, `umask ${mask.toString(8)}`);
      } finally {
        lib.symbols.umask(old);
      }
      assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound);
    }
  } finally {
    lib.close();
  }
});

Deno.test("ControlServer: a client that sends descriptors or disconnects mid-line leaves it serving", async () => {
  await using rig = startServer();
  {
    using c = await LineClient.connect(rig.path);
    await c.send('{"jsonrpc":"2.0","meth');
  }
  using d = await LineClient.connect(rig.path);
  assert.equal(((await d.ask(req("status", undefined, 1))) as Answer).id, 1);
  for (let i = 0; rig.server.connections > 1 && i < 100; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(rig.server.connections, 1);
});

Deno.test("ControlServer closes descriptors a client sends and answers the line they came with", async () => {
  const { UnixConnection, EventFd, isFdOpen } = await import("../../src/os/mod.ts");
  await using rig = startServer();
  using raw = UnixConnection.connect(rig.path);
  using efd = new EventFd();
  using c = await LineClient.connect(rig.path);
  assert.equal(((await c.ask(req("status", undefined, 1))) as Answer).id, 1);
  const before = openFds();
  raw.send(new TextEncoder().encode(`${req("status", undefined, "fd")}\n`), [efd.fd]);
  assert.equal(((await c.ask(req("status", undefined, 2))) as Answer).id, 2);
  const buf = new Uint8Array(4096);
  let n = -1;
  for (let i = 0; n < 0 && i < 200; i++) {
    n = raw.recv(buf, 0, buf.length, []);
    if (n < 0) await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(JSON.parse(new TextDecoder().decode(buf.subarray(0, n))).id, "fd");
  assert.ok(isFdOpen(efd.fd), "our own end stays open");
  assert.ok(await fdsSettle(before), "the server closed the descriptor it received");
});

/** A copy of the deno binary another user can run (the original may sit under root's 0700 home). */
function denoForOthers(dir: string): string {
  const path = `${dir}/deno`;
  try {
    Deno.linkSync(Deno.execPath(), path);
  } catch {
    Deno.copyFileSync(Deno.execPath(), path);
  }
  Deno.chmodSync(path, 0o755);
  return path;
}

const asRoot = (() => {
  try {
    return Deno.statSync("/usr/bin/setpriv").isFile && isRoot();
  } catch {
    return false;
  }
})();

function isRoot(): boolean {
  const lib = Deno.dlopen("libc.so.6", { geteuid: { parameters: [], result: "u32" } });
  try {
    return lib.symbols.geteuid() === 0;
  } finally {
    lib.close();
  }
}

Deno.test({
  name: "ControlServer refuses another user: by the socket's mode, and by SO_PEERCRED when the mode is wider",
  ignore: !asRoot, // needs root to run a client as nobody (setpriv), and /usr/bin/setpriv (util-linux)
  async fn(): Promise<void> {
    await using rig = startServer();
    Deno.chmodSync(rig.dir, 0o755);
    const deno = denoForOthers(rig.dir);
    const script = `try { const c = await Deno.connect({ transport: "unix", path: ${
      JSON.stringify(rig.path)
    } });
      const buf = new Uint8Array(4096); const n = await c.read(buf);
      console.log(n === null ? "closed" : new TextDecoder().decode(buf.subarray(0, n)).trim());
    } catch (e) { console.log(e.name); }`;
    const asNobody = async (): Promise<string> => {
      const out = await new Deno.Command("/usr/bin/setpriv", {
        args: ["--reuid=65534", "--regid=65534", "--clear-groups", deno, "eval", script],
        env: { HOME: rig.dir, DENO_DIR: `${rig.dir}/cache`, NO_COLOR: "1" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      return new TextDecoder().decode(out.stdout).trim() || new TextDecoder().decode(out.stderr);
    };
    assert.equal(await asNobody(), "PermissionDenied");
    Deno.chmodSync(rig.path, 0o666); // a mistake: the credentials check still refuses
    const answer = JSON.parse(await asNobody()) as Answer;
    assert.equal(answer.error!.code, ErrorCode.PERMISSION_DENIED);
    assert.match(answer.error!.message, /uid 65534/);
  },
});
