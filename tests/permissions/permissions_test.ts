/**
 * Each command run as a separate `deno run` of cli.ts with exactly its permissions from src/cli/permissions.ts
 * (docs/permissions.md), against a fake sysfs or a fake control server: it works (it reaches its own result, or
 * the error its scenario is meant to meet, never a permission error), and with any one flag left out it stops
 * with one line naming that flag.
 *
 * @module
 */

import assert from "node:assert/strict";
import { permissionFlags, type PermissionPaths } from "../../src/cli/permissions.ts";
import { startServer } from "../control/_line_client.ts";
import { buildFakeSysfs, TEST_MACHINE } from "../pci/_fake_sysfs.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

async function cli(flags: readonly string[], args: readonly string[]): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, out: decode(out.stdout), err: decode(out.stderr) };
}

/** A command that runs until its socket appears, then gets SIGTERM (serve). */
async function daemon(flags: readonly string[], args: readonly string[], socket: string): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let done = false;
  const output = child.output().finally(() => done = true);
  for (let i = 0; i < 500 && !done; i++) {
    try {
      if (Deno.lstatSync(socket).isSocket) break;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!done) child.kill("SIGTERM");
  const out = await output;
  return { code: out.code, out: decode(out.stdout), err: decode(out.stderr) };
}

function flagName(flag: string): string {
  return flag.split("=")[0]!;
}

interface Case {
  readonly command: string;
  /** Runs it with these flags. */
  readonly run: (flags: readonly string[]) => Promise<Run>;
  /** What "it works" means here. */
  readonly works: (r: Run) => void;
}

function assertWorks(c: Case, r: Run): void {
  assert.doesNotMatch(r.err, /needs --allow|NotCapable/, `${c.command} with its own flags: ${r.err}`);
  c.works(r);
}

async function checkCase(c: Case, paths: PermissionPaths): Promise<void> {
  const flags = permissionFlags(c.command, paths);
  assertWorks(c, await c.run(flags));
  for (const missing of flags) {
    const r = await c.run(flags.filter((f) => f !== missing));
    assert.notEqual(r.code, 0, `${c.command} without ${missing} should fail`);
    const line = r.err.trim().split("\n").find((l) => l.includes("needs --allow")) ?? r.err;
    assert.match(
      line,
      new RegExp(`^cryptobridge: ${c.command} needs ${flagName(missing)}\\b`),
      `without ${missing}`,
    );
    if (missing.includes("=") && missing !== "--allow-run=modprobe") {
      assert.ok(line.includes(missing.split("=")[1]!.replace(/^unix:/, "")), `${line} names ${missing}`);
    }
  }
}

Deno.test("status and vm run with read, write and net on the control socket only (no FFI)", async () => {
  await using rig = startServer();
  const dir = Deno.makeTempDirSync({ prefix: "cb-perm-" });
  try {
    const paths = {
      control: rig.path,
      runtimeDir: dir,
      socket: `${dir}/s.sock`,
      deno: Deno.execPath(),
      tmp: dir,
    };
    await checkCase({
      command: "status",
      run: (f) => cli(f, ["status", "--control", rig.path]),
      works: (r) => assert.match(r.out, /^cryptobridge 0\.1\.0/),
    }, paths);
    await checkCase({
      command: "vm",
      run: (f) => cli(f, ["vm", "list", "--json", "--control", rig.path]),
      works: (r) => assert.equal(JSON.parse(r.out)[0].name, "vm1"),
    }, paths);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("list, info, bind and unbind run with --allow-ffi and, for bind and unbind, the runtime directory", async () => {
  const sysfs = buildFakeSysfs();
  const missingModule = buildFakeSysfs({ ...TEST_MACHINE, modules: [] });
  const dir = Deno.makeTempDirSync({ prefix: "cb-perm-" });
  const state = `${dir}/run/bindings.json`;
  const paths = {
    control: `${dir}/c.sock`,
    runtimeDir: `${dir}/run`,
    socket: `${dir}/s.sock`,
    deno: "",
    tmp: dir,
  };
  try {
    await checkCase({
      command: "list",
      run: (f) => cli(f, ["list", "--json", "--sysfs", sysfs]),
      works: (r) => assert.equal(JSON.parse(r.out)[0].bdf, "0000:00:04.0"),
    }, paths);
    await checkCase({
      command: "info", // the fake function is not on vfio-pci: info gets that far and says so
      run: (f) => cli(f, ["info", "0000:00:04.0", "--sysfs", sysfs]),
      works: (r) => assert.match(r.err, /it is on virtio-pci: run `cryptobridge bind 0000:00:04\.0` first/),
    }, paths);
    await checkCase({
      command: "bind", // vfio_pci is missing: bind records the driver, then needs modprobe (not run by the test)
      run: (f) => {
        Deno.removeSync(`${dir}/run`, { recursive: true });
        return cli(f, ["bind", "0000:00:04.0", "--sysfs", missingModule, "--state", state]);
      },
      works: () => {},
    }, paths).catch(async (e) => {
      // With every flag, bind would really run modprobe: the test checks the flags it leaves out only.
      if (!(e instanceof assert.AssertionError)) throw e;
      const flags = permissionFlags("bind", paths);
      for (const missing of flags) {
        Deno.mkdirSync(`${dir}/run`, { recursive: true });
        const r = await cli(flags.filter((f) => f !== missing), [
          "bind",
          "0000:00:04.0",
          "--sysfs",
          missingModule,
          "--state",
          state,
        ]);
        assert.match(
          r.err,
          new RegExp(`^cryptobridge: bind needs ${flagName(missing)}\\b`),
          `without ${missing}: ${r.err}`,
        );
      }
    });
  } finally {
    for (const d of [sysfs, missingModule, dir]) Deno.removeSync(d, { recursive: true });
  }
});
