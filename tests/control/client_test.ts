import assert from "node:assert/strict";
import { ControlClient, ControlClientError, ErrorCode, RpcError } from "../../src/control/client.ts";
import { controlPathBeside, DEFAULT_CONTROL_PATH } from "../../src/control/mod.ts";
import { ROOT_RUNTIME_DIR } from "../../src/daemon/paths.ts";
import { startServer } from "./_line_client.ts";

Deno.test("ControlClient.call() returns results and throws RpcError with the daemon's code", async () => {
  await using rig = startServer();
  using client = await ControlClient.connect(rig.path);
  const status = await client.call<{ version: string }>("status");
  assert.equal(status.version, "0.1.0");
  const vms = await client.call<{ name: string }[]>("vm.list");
  assert.deepEqual(vms.map((v) => v.name), ["vm1"]);
  await assert.rejects(
    () => client.call("vm.remove", { name: "ghost" }),
    (e: unknown) => e instanceof RpcError && e.code === ErrorCode.NOT_FOUND && /ghost/.test(e.message),
  );
  assert.equal((await client.call<{ removed: boolean }>("vm.remove", ["vm1"])).removed, true);
});

Deno.test("ControlClient.connect() says no-daemon for a missing or dead socket", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "cb-client-" });
  try {
    await assert.rejects(
      () => ControlClient.connect(`${dir}/none.sock`),
      (e: unknown) =>
        e instanceof ControlClientError && e.kind === "no-daemon" && e.path === `${dir}/none.sock`,
    );
    const stale = Deno.listen({ transport: "unix", path: `${dir}/stale.sock` });
    stale.close(); // Deno removes nothing: the file stays, nobody listens (ECONNREFUSED)
    const exists = (() => {
      try {
        return Deno.lstatSync(`${dir}/stale.sock`).isSocket;
      } catch {
        return false;
      }
    })();
    if (exists) {
      await assert.rejects(
        () => ControlClient.connect(`${dir}/stale.sock`),
        (e: unknown) => e instanceof ControlClientError && e.kind === "no-daemon",
      );
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("ControlClient.call() gives up after timeoutMs on a socket that never answers, and on one that closes", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "cb-client-" });
  const listener = Deno.listen({ transport: "unix", path: `${dir}/mute.sock` });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    using mute = await ControlClient.connect(`${dir}/mute.sock`, { timeoutMs: 100 });
    await assert.rejects(
      () => mute.call("status"),
      (e: unknown) => e instanceof ControlClientError && e.kind === "timeout",
    );
    using hangUp = await ControlClient.connect(`${dir}/mute.sock`);
    const call = hangUp.call("status");
    while (held.length < 2) await new Promise((r) => setTimeout(r, 5));
    held[1]!.close();
    await assert.rejects(() => call, (e: unknown) => e instanceof ControlClientError && e.kind === "closed");
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const c of held) {
      try {
        c.close();
      } catch {
        // closed above
      }
    }
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("DEFAULT_CONTROL_PATH is beside a root serve's default socket", () => {
  assert.equal(controlPathBeside(`${ROOT_RUNTIME_DIR}/cryptobridge.sock`), DEFAULT_CONTROL_PATH);
  assert.equal(
    controlPathBeside("/run/cryptobridge/vm1.sock"),
    "/run/cryptobridge/cryptobridge-control.sock",
  );
  assert.equal(controlPathBeside("vm1.sock"), "./cryptobridge-control.sock");
  assert.equal(controlPathBeside("/vm1.sock"), "/cryptobridge-control.sock");
});
