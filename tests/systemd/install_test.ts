/**
 * scripts/install_service.ts into temporary folders: the unit it writes passes `systemd-analyze verify`, and the
 * wrapper it writes runs each command with its narrow permissions.
 *
 * @module
 */

import assert from "node:assert/strict";
import { renderUnit } from "../../scripts/install_service.ts";
import { startServer } from "../control/_line_client.ts";
import { buildFakeSysfs } from "../pci/_fake_sysfs.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

function hasSystemdAnalyze(): boolean {
  try {
    return Deno.statSync("/usr/bin/systemd-analyze").isFile;
  } catch {
    return false;
  }
}

async function verify(unit: string): Promise<{ code: number; text: string }> {
  const out = await new Deno.Command("/usr/bin/systemd-analyze", {
    args: ["verify", unit],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return { code: out.code, text: decode(out.stdout) + decode(out.stderr) };
}

/** The deno binary at a path outside /root and /home, so the installer does not copy 100 MB. */
function denoOutsideHome(dir: string): string {
  const path = `${dir}/deno`;
  try {
    Deno.linkSync(Deno.execPath(), path);
  } catch {
    Deno.symlinkSync(Deno.execPath(), path);
  }
  return path;
}

async function denoDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" }).output();
  return JSON.parse(decode(out.stdout)).denoDir;
}

Deno.test({
  name: "systemd-analyze verify passes on the packaged unit (its ExecStart pointed at an existing file)",
  ignore: !hasSystemdAnalyze(), // Debian package systemd
  async fn(): Promise<void> {
    const dir = Deno.makeTempDirSync({ prefix: "cb-unit-" });
    try {
      Deno.writeTextFileSync(`${dir}/cryptobridge`, "#!/bin/sh\n");
      Deno.chmodSync(`${dir}/cryptobridge`, 0o755);
      const unit = renderUnit(Deno.readTextFileSync(`${ROOT}/packaging/cryptobridge.service`), {
        binDir: dir,
        configDir: "/etc/cryptobridge",
      });
      assert.match(unit, /^Type=notify$/m);
      assert.match(unit, /^LimitMEMLOCK=infinity$/m);
      assert.match(unit, /^RuntimeDirectory=cryptobridge$/m);
      assert.match(
        unit,
        new RegExp(`^ExecStart=${dir}/cryptobridge serve --config /etc/cryptobridge/config.json`, "m"),
      );
      Deno.writeTextFileSync(`${dir}/cryptobridge.service`, unit);
      const r = await verify(`${dir}/cryptobridge.service`);
      assert.equal(r.code, 0, r.text);
      assert.equal(r.text.trim(), "");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("install_service.ts installs a unit that verifies and a wrapper that runs commands with narrow permissions", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "cb-install-" });
  const sysfs = buildFakeSysfs();
  try {
    const deno = denoOutsideHome(dir);
    const prefix = `${dir}/opt`;
    const args = [
      "run",
      "--no-prompt",
      "--allow-read",
      `--allow-write=${dir}`,
      `--allow-run=${deno}`,
      `${ROOT}/scripts/install_service.ts`,
      `--prefix=${prefix}`,
      `--bin-dir=${dir}/bin`,
      `--unit-dir=${dir}/systemd`,
      `--config-dir=${dir}/etc`,
      `--deno=${deno}`,
      "--no-cache",
    ];
    const install = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
      .output();
    assert.ok(install.success, decode(install.stderr));
    assert.match(decode(install.stdout), /writing .*\/bin\/cryptobridge: the command/);
    assert.ok(Deno.statSync(`${prefix}/cli.ts`).isFile);
    assert.deepEqual(JSON.parse(Deno.readTextFileSync(`${dir}/etc/config.json`)).vms[0].name, "vm1");
    Deno.symlinkSync(await denoDir(), `${prefix}/deno-dir`); // what --no-cache skipped: the npm cache
    if (hasSystemdAnalyze()) {
      const r = await verify(`${dir}/systemd/cryptobridge.service`);
      assert.equal(r.code, 0, r.text);
    }
    const wrapper = async (...a: string[]): Promise<{ code: number; out: string; err: string }> => {
      const o = await new Deno.Command(`${dir}/bin/cryptobridge`, {
        args: a,
        stdout: "piped",
        stderr: "piped",
      })
        .output();
      return { code: o.code, out: decode(o.stdout), err: decode(o.stderr) };
    };
    assert.equal((await wrapper("--version")).out.trim(), "0.1.0");
    const list = await wrapper("list", "--json", "--sysfs", sysfs);
    assert.equal(list.code, 0, list.err);
    assert.equal(JSON.parse(list.out)[0].bdf, "0000:00:04.0");
    await using rig = startServer();
    const status = await wrapper("status", "--control", rig.path);
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, /^cryptobridge 0\.1\.0/);
    const vms = await wrapper("vm", "list", `--control=${rig.path}`, "--json");
    assert.equal(JSON.parse(vms.out)[0].name, "vm1");
    const none = await wrapper("status");
    assert.equal(none.code, 3, none.err);
    assert.match(none.err, /no daemon answers on \/run\/cryptobridge\/cryptobridge-control\.sock/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(sysfs, { recursive: true });
  }
});
