/**
 * Each command run as a separate `deno run` of cli.ts with exactly its permissions from src/cli/permissions.ts
 * (README, "Least privilege"), against a fake sysfs, a fake control server or a temporary runtime directory: it
 * works (it reaches its own result, or the error its scenario is meant to meet, never a permission error), and with
 * any one flag left out it stops with one line naming that flag.
 *
 * @module
 */

import assert from "node:assert/strict";
import { permissionFlags, type PermissionPaths } from "../../src/cli/permissions.ts";
import { startServer } from "../control/_line_client.ts";
import { buildFakeSysfs, TEST_MACHINE } from "../pci/_fake_sysfs.ts";
import { SERVE_V8_FLAGS } from "../../src/os/jit_budget.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const CODE = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
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

/** serve: runs until its control socket appears (every socket listens then), then gets SIGTERM. */
async function daemon(flags: readonly string[], args: readonly string[], ready: string): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let done = false;
  const output = child.output().finally(() => done = true);
  for (let i = 0; i < 1500 && !done; i++) {
    try {
      if (Deno.lstatSync(ready).isSocket) break;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  try {
    if (!done) child.kill("SIGTERM");
  } catch (e) {
    // It ended between the last look and the kill (a run that lacks a permission exits at once): `done` is set
    // by a callback that has not run yet.
    if (!(e instanceof TypeError)) throw e;
  }
  const out = await output;
  return { code: out.code, out: decode(out.stdout), err: decode(out.stderr) };
}

const flagName = (flag: string): string => flag.split("=")[0]!;

interface Case {
  readonly command: string;
  /** Runs it with these flags. */
  readonly run: (flags: readonly string[]) => Promise<Run>;
  /** What "it works" means here. */
  readonly works: (r: Run) => void;
  /** Flags of the set this scenario does not reach (checked by a scenario of their own). */
  readonly unreached?: readonly string[];
}

function assertNamesFlag(command: string, missing: string, r: Run): void {
  assert.notEqual(r.code, 0, `${command} without ${missing} should fail`);
  const line = r.err.trim().split("\n").find((l) => l.includes("needs --allow")) ?? r.err;
  assert.match(
    line,
    new RegExp(`^cryptobridge: ${command} needs ${flagName(missing)}\\b`),
    `without ${missing}`,
  );
}

async function checkCase(c: Case, paths: PermissionPaths): Promise<void> {
  const flags = permissionFlags(c.command, paths);
  const r = await c.run(flags);
  assert.doesNotMatch(
    r.err,
    /needs --allow|NotCapable|Requires .* access/,
    `${c.command} with its own flags`,
  );
  c.works(r);
  for (const missing of flags.filter((f) => !(c.unreached ?? []).includes(f))) {
    assertNamesFlag(c.command, missing, await c.run(flags.filter((f) => f !== missing)));
  }
}

function pathsIn(dir: string, control = `${dir}/c.sock`): PermissionPaths {
  return { control, runtimeDir: `${dir}/run`, code: CODE, deno: Deno.execPath(), tmp: dir };
}

Deno.test("status and vm run with read, write and net on the control socket only (no FFI)", async () => {
  await using rig = startServer();
  const dir = Deno.makeTempDirSync({ prefix: "cb-perm-" });
  try {
    const paths = pathsIn(dir, rig.path);
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

Deno.test("list and info run with --allow-ffi alone", async () => {
  const sysfs = buildFakeSysfs();
  const dir = Deno.makeTempDirSync({ prefix: "cb-perm-" });
  try {
    await checkCase({
      command: "list",
      run: (f) => cli(f, ["list", "--json", "--sysfs", sysfs]),
      works: (r) => assert.equal(JSON.parse(r.out)[0].bdf, "0000:00:04.0"),
    }, pathsIn(dir));
    await checkCase({
      command: "info", // the fake function is not on vfio-pci: info gets that far and says so
      run: (f) => cli(f, ["info", "0000:00:04.0", "--sysfs", sysfs]),
      works: (r) => assert.match(r.err, /it is on virtio-pci: run `cryptobridge bind 0000:00:04\.0` first/),
    }, pathsIn(dir));
  } finally {
    Deno.removeSync(sysfs, { recursive: true });
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("selftest runs with --allow-ffi alone", async () => {
  const sysfs = buildFakeSysfs();
  const dir = Deno.makeTempDirSync({ prefix: "cb-perm-" });
  try {
    await checkCase({
      command: "selftest", // the fake function is not on vfio-pci: selftest gets that far and says so
      run: (f) => cli(f, ["selftest", "--device", "0000:00:04.0", "--sysfs", sysfs]),
      works: (r) => {
        assert.equal(r.code, 3);
        assert.match(r.err, /it is on virtio-pci: run `cryptobridge bind 0000:00:04\.0` first/);
      },
    }, pathsIn(dir));
  } finally {
    Deno.removeSync(sysfs, { recursive: true });
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("bind and unbind run with --allow-ffi and the runtime directory; bind's modprobe is named too", async () => {
  const sysfs = buildFakeSysfs();
  const noModule = buildFakeSysfs({ ...TEST_MACHINE, modules: [] });
  const dir = Deno.makeTempDirSync({ prefix: "cb-perm-" });
  const paths = pathsIn(dir);
  const state = ["--state", `${paths.runtimeDir}/bindings.json`];
  try {
    await checkCase({
      command: "bind", // the fake tree has no driver/unbind file: bind records the driver, then rolls back
      run: (f) => cli(f, ["bind", "0000:00:04.0", "--sysfs", sysfs, ...state]),
      works: (r) => assert.match(r.err, /rolled back, it is on virtio-pci again/),
      unreached: ["--allow-run=modprobe"], // vfio_pci is loaded in this tree
    }, paths);
    // vfio_pci missing: without --allow-run=modprobe, bind says so (with it, it would really run modprobe).
    const flags = permissionFlags("bind", paths).filter((f) => f !== "--allow-run=modprobe");
    assertNamesFlag(
      "bind",
      "--allow-run=modprobe",
      await cli(flags, ["bind", "0000:00:04.0", "--sysfs", noModule, ...state]),
    );
    await checkCase({
      command: "unbind",
      run: (f) => cli(f, ["unbind", "0000:00:04.0", "--sysfs", sysfs, ...state]),
      works: (r) => assert.match(r.err, /is not on a VFIO driver \(it is on virtio-pci\)/),
      // The fake tree cannot complete a bind, so unbind stops before it would rewrite the record.
      unreached: [`--allow-write=${paths.runtimeDir}`],
    }, paths);
  } finally {
    for (const d of [sysfs, noModule, dir]) Deno.removeSync(d, { recursive: true });
  }
});

Deno.test("serve runs with FFI, its runtime directory, its code folder and NOTIFY_SOCKET, and stops cleanly", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "cb-perm-" });
  const paths = pathsIn(dir);
  const run = paths.runtimeDir;
  try {
    await checkCase({
      command: "serve",
      run: (f) => {
        Deno.mkdirSync(run, { recursive: true });
        return daemon(
          f,
          ["serve", "--socket", `${run}/vm1.sock`, "--engine", "software"],
          `${run}/cryptobridge-control.sock`,
        );
      },
      works: (r) => {
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /Control socket: .*cryptobridge-control\.sock/);
      },
    }, paths);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("the deno task of each command runs it with exactly its flags (the root deployment's paths)", () => {
  const tasks = JSON.parse(Deno.readTextFileSync(new URL("../../deno.json", import.meta.url))).tasks;
  const paths = {
    control: "/run/cryptobridge/cryptobridge-control.sock",
    runtimeDir: "/run/cryptobridge",
    code: ".",
    deno: "deno",
    tmp: "/tmp",
  };
  for (const command of ["serve", "status", "vm", "list", "info", "selftest", "bind", "unbind"]) {
    const all = String(tasks[command].command).split(" ");
    // serve also passes its V8 flags (src/os/jit_budget.ts), which are no permission.
    assert.equal(all.includes(SERVE_V8_FLAGS), command === "serve", command);
    const words = all.filter((w) => w !== SERVE_V8_FLAGS);
    assert.deepEqual(words.slice(0, 2), ["deno", "run"], command);
    assert.deepEqual(words.slice(-2), ["cli.ts", command], command);
    assert.deepEqual(words.slice(2, -2), permissionFlags(command, paths), `deno task ${command}`);
  }
});
