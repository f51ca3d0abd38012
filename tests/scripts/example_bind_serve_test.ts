/**
 * scripts/example_bind_serve.ts: the function is given back after serving and after serving fails, and a bind that
 * fails (the library's own, on a fake sysfs tree that cannot complete it) serves nothing and gives nothing back.
 * No host here has a function to really bind, so the successful binds are recorded outcomes; the serving is the
 * real daemon's, on a temporary socket.
 *
 * @module
 */

import assert from "node:assert/strict";
import { bindServeGiveBack, type HostAdmin } from "../../scripts/example_bind_serve.ts";
import { bind, type BindOutcome, PciError, runDaemon, unbind } from "../../mod.ts";
import { buildFakeSysfs } from "../pci/_fake_sysfs.ts";

const BDF = "0000:00:04.0";

function outcome(from: string, to: string): BindOutcome {
  return { bdf: BDF, from, to, changed: true, dryRun: false, steps: [], notes: [] };
}

/** Records calls; binds "succeed" as a real bind from virtio-pci would. */
function recordingAdmin(calls: string[]): HostAdmin {
  return {
    bind: (bdf) => (calls.push(`bind ${bdf}`), outcome("virtio-pci", "vfio-pci")),
    unbind: (bdf) => (calls.push(`unbind ${bdf}`), outcome("vfio-pci", "virtio-pci")),
  };
}

async function serveBriefly(dir: string, calls: string[], fail: boolean): Promise<void> {
  calls.push("serve");
  const daemon = runDaemon({ socket: `${dir}/vm1.sock`, engine: "software", logLevel: "warning" });
  try {
    await daemon.ready;
    assert.ok(Deno.lstatSync(`${dir}/vm1.sock`).isSocket);
    if (fail) throw new Error("the VM's serving failed");
  } finally {
    await daemon.stop();
  }
}

Deno.test("the example gives the function back after serving, and after serving fails", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cb-example-" });
  try {
    const calls: string[] = [];
    const back = await bindServeGiveBack({
      bdf: BDF,
      admin: recordingAdmin(calls),
      serve: () => serveBriefly(dir, calls, false),
    });
    assert.equal(back?.to, "virtio-pci");
    assert.deepEqual(calls, [`bind ${BDF}`, "serve", `unbind ${BDF}`]);
    calls.length = 0;
    await assert.rejects(
      bindServeGiveBack({
        bdf: BDF,
        admin: recordingAdmin(calls),
        serve: () => serveBriefly(dir, calls, true),
      }),
      /the VM's serving failed/,
    );
    assert.deepEqual(calls, [`bind ${BDF}`, "serve", `unbind ${BDF}`], "given back after the error too");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bind that fails (the library's, rolled back) serves nothing and gives nothing back", async () => {
  const sysfs = buildFakeSysfs();
  const dir = await Deno.makeTempDir({ prefix: "cb-example-" });
  try {
    const host = { sysfsRoot: sysfs, stateFile: `${dir}/bindings.json` };
    const calls: string[] = [];
    const admin: HostAdmin = {
      bind: (bdf) => bind(bdf, host),
      unbind: (bdf) => (calls.push("unbind"), unbind(bdf, host)),
    };
    const error = await bindServeGiveBack({
      bdf: BDF,
      admin,
      serve: () => (calls.push("serve"), Promise.resolve()),
    })
      .then(() => null, (e) => e);
    assert.ok(error instanceof PciError, String(error));
    assert.match(error.message, /rolled back, it is on virtio-pci again/);
    assert.deepEqual(calls, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(sysfs, { recursive: true });
  }
});
