// Sockets only for their owner (issue 14, item 3): born 0600 under any umask, never in a directory others can
// write, and a socket file another user left at the path is a likely squat, refused, while the stale file of a
// killed daemon (ours, or the configured owner's) is replaced.

import assert from "node:assert/strict";
import { cString, libc } from "../../ffi/libc.ts";
import { bindSockets } from "../../src/daemon/daemon.ts";
import { runtimeDir } from "../../src/daemon/paths.ts";
import { UnixListener, UnixSocketError } from "../../src/os/mod.ts";
import { parseVmConfig } from "../../src/vm/mod.ts";

const NOBODY = 65534;

/** A socket file at `path` that nobody serves, owned by `uid`. */
function staleSocket(path: string, uid: number): void {
  const l = UnixListener.listen(path);
  // Close the fd but keep the file: what a SIGKILLed daemon leaves.
  Deno.renameSync(path, `${path}.keep`);
  l.close();
  Deno.renameSync(`${path}.keep`, path);
  assert.equal(libc.chown(cString(path), uid, uid), 0);
}

Deno.test("sockets: mode 0600 even under umask 000", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-sock-" });
  const old = libc.umask(0);
  try {
    const [l] = bindSockets([parseVmConfig({ name: "a", socket: `${dir}/a.sock` }, "vms[0]")]);
    assert.equal(Deno.lstatSync(`${dir}/a.sock`).mode! & 0o777, 0o600);
    l!.close();
  } finally {
    libc.umask(old);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sockets: another user's socket file at the path is refused as a likely squat; the owner's is replaced", async () => {
  if (libc.geteuid() !== 0) return; // chown to another user needs root
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-sock-" });
  try {
    const path = `${dir}/vm.sock`;
    staleSocket(path, NOBODY);
    assert.throws(
      () => bindSockets([parseVmConfig({ name: "vm", socket: path }, "vms[0]")]),
      (e: unknown) =>
        e instanceof UnixSocketError && e.kind === "squatted" && /uid 65534.*likely a squat/.test(e.message),
    );
    assert.equal(Deno.lstatSync(path).uid, NOBODY, "the squatter's file is left for the operator to look at");
    // The same file is no squat when the VM's socket is configured to belong to that user (a restart).
    const [l] = bindSockets([parseVmConfig({ name: "vm", socket: path, owner: NOBODY }, "vms[0]")]);
    assert.equal(Deno.lstatSync(path).uid, NOBODY);
    l!.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sockets: root's default directory is /run/cryptobridge, which only root can write", () => {
  if (libc.geteuid() !== 0) return;
  assert.equal(runtimeDir(), "/run/cryptobridge");
});
