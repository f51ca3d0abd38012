/** VM settings and the daemon's config file: every bad field is named, and nothing binds before all are checked. */

import assert from "node:assert/strict";
import { checkUnique, ConfigError, parseVmConfig, vmsFromSockets } from "../../src/vm/mod.ts";
import { parseConfigText } from "../../src/daemon/config_file.ts";
import { bindSockets, resolveVms, runDaemon } from "../../src/daemon/daemon.ts";
import { UnixListener, UnixSocketError } from "../../src/os/mod.ts";

function fails(fn: () => unknown, field: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `a ConfigError, not ${e}`);
    assert.equal(e.field, field);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("parseVmConfig() fills in the defaults", () => {
  assert.deepEqual(parseVmConfig({ name: "vm1", socket: "/run/x/vm1.sock" }, "vms[0]"), {
    name: "vm1",
    socket: "/run/x/vm1.sock",
    queues: 1,
    maxSessions: 1024,
    maxInflight: 256,
    cpu: null,
    owner: null,
    group: null,
    mode: 0o600,
    accelSessions: null,
    allowUnsealedMemory: false,
  });
});

Deno.test("checkUnique() refuses allowUnsealedMemory when the daemon serves more than one VM", () => {
  const one = parseVmConfig({ name: "a", socket: "/s/a", allowUnsealedMemory: true }, "vms[0]");
  checkUnique([one]); // alone: a truncation can end only its own device
  const other = parseVmConfig({ name: "b", socket: "/s/b" }, "vms[1]");
  fails(() => checkUnique([other, one]), "vms[1].allowUnsealedMemory", /SIGBUS.*daemon of its own.*memfd/);
});

Deno.test("parseVmConfig() names the bad field and says what would do", () => {
  fails(() => parseVmConfig({ socket: "/s" }, "vms[0]"), "vms[0].name", /must be 1-64 of/);
  fails(() => parseVmConfig({ name: "a b", socket: "/s" }, "vms[0]"), "vms[0].name", /got "a b"/);
  fails(() => parseVmConfig({ name: "a" }, "vms[2]"), "vms[2].socket", /is required/);
  fails(
    () => parseVmConfig({ name: "a", socket: "/" + "x".repeat(120) }, "vms[0]"),
    "vms[0].socket",
    /107 bytes/,
  );
  fails(
    () => parseVmConfig({ name: "a", socket: "/s", queues: 0 }, "vms[1]"),
    "vms[1].queues",
    /1\.\.64: got 0/,
  );
  fails(() => parseVmConfig({ name: "a", socket: "/s", queues: "2" }, "vms[0]"), "vms[0].queues", /got "2"/);
  fails(() => parseVmConfig({ name: "a", socket: "/s", cpu: [0, -1] }, "vms[0]"), "vms[0].cpu", /CPU number/);
  fails(
    () => parseVmConfig({ name: "a", socket: "/s", mode: "0666" }, "vms[0]"),
    "vms[0].mode",
    /other users/,
  );
  fails(() => parseVmConfig({ name: "a", socket: "/s", mode: "rw" }, "vms[0]"), "vms[0].mode", /octal/);
  fails(
    () => parseVmConfig({ name: "a", socket: "/s", owner: "no-such-user-x" }, "vms[0]"),
    "vms[0].owner",
    /no user/,
  );
  fails(
    () => parseVmConfig({ name: "a", socket: "/s", queus: 2 }, "vms[0]"),
    "vms[0].queus",
    /unknown setting/,
  );
});

Deno.test("parseVmConfig() resolves owner and group names through the C library, and takes octal modes", () => {
  const vm = parseVmConfig(
    { name: "a", socket: "/s", owner: "root", group: "root", mode: "0660", cpu: 1 },
    "vms[0]",
  );
  assert.equal(vm.owner, 0);
  assert.equal(vm.group, 0);
  assert.equal(vm.mode, 0o660);
  assert.deepEqual(vm.cpu, [1]);
});

Deno.test("vmsFromSockets() names VMs after their socket files, or vm<i>", () => {
  const names = vmsFromSockets(["/r/vm1.sock", "/r/vm2.sock", "/q/vm1.sock", "/r/a b.sock"]).map((v) =>
    v["name"]
  );
  assert.deepEqual(names, ["vm1", "vm2", "vm2.1", "vm3"]);
});

Deno.test("parseConfigText() names a bad top-level field, bad JSON and duplicate VMs", () => {
  fails(() => parseConfigText("{", "c.json"), "c.json", /is not JSON/);
  fails(() => parseConfigText(`{"vms": []}`, "c.json"), "vms", /at least one VM/);
  fails(() => parseConfigText(`{"vms": [{}], "engine": "gpu"}`, "c.json"), "engine", /auto, software, accel/);
  fails(() => parseConfigText(`{"vms": [{}], "poll": "yes"}`, "c.json"), "poll", /true or false/);
  fails(
    () => parseConfigText(`{"vms": [{}], "route": "quick"}`, "c.json"),
    "route",
    /accel-first, fastest, software/,
  );
  assert.equal(parseConfigText(`{"vms": [{}]}`, "c.json").route, "accel-first");
  assert.equal(parseConfigText(`{"vms": [{}], "route": "fastest"}`, "c.json").route, "fastest");
  fails(() => parseConfigText(`{"vms": [{}], "sockets": []}`, "c.json"), "sockets", /unknown setting/);
  const options = parseConfigText(
    `{"vms": [{"name": "a", "socket": "/x/a.sock"}, {"name": "a", "socket": "/x/b.sock"}]}`,
    "c.json",
  );
  fails(() => resolveVms(options), "vms[1].name", /also the name of vms\[0\]/);
  fails(
    () => resolveVms({ vms: [{ name: "a", socket: "/x/a.sock" }, { name: "b", socket: "/x/a.sock" }] }),
    "vms[1].socket",
    /also the socket of vms\[0\]/,
  );
});

Deno.test("a socket path in use is refused before any socket is bound", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-config-" });
  const busy = UnixListener.listen(`${dir}/busy.sock`);
  try {
    assert.throws(
      () =>
        runDaemon({
          vms: [{ name: "first", socket: `${dir}/first.sock` }, { name: "b", socket: busy.path }],
        }),
      (e: unknown) => e instanceof UnixSocketError && e.kind === "in-use" && e.message.includes(busy.path),
    );
    assert.throws(
      () => Deno.lstatSync(`${dir}/first.sock`),
      Deno.errors.NotFound,
      "the first VM's socket was never bound",
    );
  } finally {
    busy.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sockets are born mode 0600 whatever the umask, and a directory every user can write is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-config-" });
  try {
    const [open] = bindSockets([parseVmConfig({ name: "a", socket: `${dir}/a.sock` }, "vms[0]")]);
    assert.equal(Deno.lstatSync(`${dir}/a.sock`).mode! & 0o777, 0o600);
    open!.close();
    const [group] = bindSockets([
      parseVmConfig({ name: "g", socket: `${dir}/g.sock`, mode: "0660" }, "vms[0]"),
    ]);
    assert.equal(Deno.lstatSync(`${dir}/g.sock`).mode! & 0o777, 0o660);
    group!.close();
    Deno.chmodSync(dir, 0o777); // writable by all, no sticky bit
    assert.throws(
      () => bindSockets([parseVmConfig({ name: "a", socket: `${dir}/a.sock` }, "vms[0]")]),
      (e: unknown) =>
        e instanceof UnixSocketError && e.kind === "unsafe-directory" &&
        /\/run\/cryptobridge/.test(e.message),
    );
    Deno.chmodSync(dir, 0o1777); // /tmp's mode: sticky, so nobody may remove another's file
    bindSockets([parseVmConfig({ name: "a", socket: `${dir}/a.sock` }, "vms[0]")])[0]!.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
