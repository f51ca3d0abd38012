/**
 * The newer-QEMU wrapper (scripts/guest/newer_qemu.ts) run for real: a tree whose loader and QEMU are the host's
 * own (symlinks) stands in for the bootstrapped trixie, so the wrapper's loader invocation, its `--version`
 * pass-through and the version parse are exercised without the 500 MB download. Skipped without QEMU.
 *
 * @module
 */

import assert from "node:assert/strict";
import { findNewerQemu, NEWER_QEMU_ENV, qemuVersion, wrapperScript } from "../../scripts/guest/newer_qemu.ts";
import { findTool } from "../../scripts/guest/tools.ts";

const hostQemu = findTool("qemu-system-x86_64");

Deno.test({
  name: "newer QEMU wrapper: runs the tree's QEMU with the tree's loader and reports its version",
  ignore: hostQemu === undefined,
  async fn(): Promise<void> {
    const dir = await Deno.makeTempDir({ prefix: "newer-qemu-" });
    try {
      const root = `${dir}/root`;
      Deno.mkdirSync(`${root}/lib64`, { recursive: true });
      Deno.mkdirSync(`${root}/usr/bin`, { recursive: true });
      Deno.symlinkSync(
        Deno.realPathSync("/lib64/ld-linux-x86-64.so.2"),
        `${root}/lib64/ld-linux-x86-64.so.2`,
      );
      Deno.symlinkSync(hostQemu!, `${root}/usr/bin/qemu-system-x86_64`);
      const wrapper = `${dir}/qemu-system-x86_64`;
      Deno.writeTextFileSync(wrapper, wrapperScript(root), { mode: 0o755 });
      const host = await qemuVersion(hostQemu!);
      assert.deepEqual(await qemuVersion(wrapper), host);
      assert.ok(host[0] >= 2, `a QEMU version: ${host.join(".")}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("newer QEMU wrapper: firmware and modules come from the tree, not the host's QEMU", () => {
  const script = wrapperScript("/opt/trixie");
  assert.match(script, /^#!\/bin\/sh\n/);
  assert.match(
    script,
    /exec \/opt\/trixie\/lib64\/ld-linux-x86-64\.so\.2 --library-path \/opt\/trixie\/lib\//,
  );
  assert.match(script, /-L \/opt\/trixie\/usr\/share\/qemu -L \/opt\/trixie\/usr\/share\/seabios/);
  assert.match(script, /QEMU_MODULE_DIR=\/opt\/trixie\/usr\/lib\/x86_64-linux-gnu\/qemu/);
});

Deno.test("newer QEMU: GUEST_LAB_NEWER_QEMU names the binary, and a missing one is none", () => {
  const before = Deno.env.get(NEWER_QEMU_ENV);
  try {
    Deno.env.set(NEWER_QEMU_ENV, "/nonexistent/qemu-system-x86_64");
    assert.equal(findNewerQemu(), undefined);
    if (hostQemu !== undefined) {
      Deno.env.set(NEWER_QEMU_ENV, hostQemu);
      assert.equal(findNewerQemu(), hostQemu);
    }
  } finally {
    if (before === undefined) Deno.env.delete(NEWER_QEMU_ENV);
    else Deno.env.set(NEWER_QEMU_ENV, before);
  }
});
