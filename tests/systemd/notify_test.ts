/**
 * sd_notify against a real datagram socket, as systemd's end: messages, abstract names, the environment, and a
 * separate process that finds the socket through $NOTIFY_SOCKET with only the permissions the daemon has.
 *
 * @module
 */

import assert from "node:assert/strict";
import { UnixDatagram } from "../../src/os/mod.ts";
import { Notifier, notifyMessage, watchdogIntervalMs } from "../../src/systemd/mod.ts";

function receive(rx: UnixDatagram): string | null {
  const buf = new Uint8Array(new ArrayBuffer(4096));
  const n = rx.recv(buf);
  return n < 0 ? null : new TextDecoder().decode(buf.subarray(0, n));
}

async function receiveWithin(rx: UnixDatagram, ms: number): Promise<string | null> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 10))) {
    const m = receive(rx);
    if (m !== null) return m;
  }
  return null;
}

Deno.test("Notifier sends READY=1, STATUS=, STOPPING=1, WATCHDOG=1 as one datagram each", () => {
  const dir = Deno.makeTempDirSync({ prefix: "cb-notify-" });
  try {
    using rx = UnixDatagram.bind(`${dir}/notify`);
    using n = new Notifier(`${dir}/notify`);
    n.ready("serving 2 VMs");
    n.status("vm1 connected");
    n.watchdog();
    n.extendTimeout(5_000_000);
    n.stopping("stopping: SIGTERM");
    assert.deepEqual([receive(rx), receive(rx), receive(rx), receive(rx), receive(rx), receive(rx)], [
      "READY=1\nSTATUS=serving 2 VMs",
      "STATUS=vm1 connected",
      "WATCHDOG=1",
      "EXTEND_TIMEOUT_USEC=5000000",
      "STOPPING=1\nSTATUS=stopping: SIGTERM",
      null,
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("Notifier reaches an abstract socket (@name), as systemd's own NOTIFY_SOCKET often is", () => {
  const name = `@cryptobridge-notify-${Deno.pid}-${crypto.randomUUID()}`;
  using rx = UnixDatagram.bind(name);
  using n = new Notifier(name);
  n.ready();
  assert.equal(receive(rx), "READY=1");
});

Deno.test("Notifier.fromEnvironment() is null outside systemd; bad addresses and assignments are refused", () => {
  assert.equal(Notifier.fromEnvironment(() => undefined), null);
  assert.equal(Notifier.fromEnvironment((k) => (k === "NOTIFY_SOCKET" ? "" : undefined)), null);
  using n = Notifier.fromEnvironment((k) => (k === "NOTIFY_SOCKET" ? "/run/systemd/notify" : undefined))!;
  assert.equal(n.address, "/run/systemd/notify");
  assert.throws(() => new Notifier("relative/path"), RangeError);
  assert.throws(() => notifyMessage({ STATUS: "two\nlines" }), RangeError);
  assert.throws(() => notifyMessage({ "lower=case": 1 }), RangeError);
  assert.equal(notifyMessage({ READY: 1, STATUS: "a=b" }), "READY=1\nSTATUS=a=b");
});

Deno.test("watchdogIntervalMs() is half of WATCHDOG_USEC, for this process only", () => {
  const env = (vars: Record<string, string>) => (k: string): string | undefined => vars[k];
  assert.equal(watchdogIntervalMs(env({})), null);
  assert.equal(watchdogIntervalMs(env({ WATCHDOG_USEC: "20000000" })), 10_000);
  assert.equal(
    watchdogIntervalMs(env({ WATCHDOG_USEC: "20000000", WATCHDOG_PID: String(Deno.pid) })),
    10_000,
  );
  assert.equal(watchdogIntervalMs(env({ WATCHDOG_USEC: "20000000", WATCHDOG_PID: "1" })), null);
  assert.equal(watchdogIntervalMs(env({ WATCHDOG_USEC: "junk" })), null);
});

Deno.test("a process started with $NOTIFY_SOCKET notifies it, with --allow-ffi and --allow-env=NOTIFY_SOCKET only", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "cb-notify-" });
  try {
    using rx = UnixDatagram.bind(`${dir}/notify`);
    const mod = new URL("../../src/systemd/mod.ts", import.meta.url).href;
    const script = `import { Notifier } from "${mod}";
      const n = Notifier.fromEnvironment();
      n.ready("ready from " + Deno.pid);
      n.stopping();
      n.close();`;
    Deno.writeTextFileSync(`${dir}/child.ts`, script);
    const child = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--allow-ffi", "--allow-env=NOTIFY_SOCKET", `${dir}/child.ts`],
      env: { NOTIFY_SOCKET: `${dir}/notify` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(child.success, new TextDecoder().decode(child.stderr));
    assert.match((await receiveWithin(rx, 2000))!, /^READY=1\nSTATUS=ready from \d+$/);
    assert.equal(await receiveWithin(rx, 2000), "STOPPING=1");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
