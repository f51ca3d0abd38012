/**
 * DPDK's `vhost_crypto` example as a comparison back-end (issue 15, item 2): build it from the Debian package's
 * source, start it on the back-end's CPU with the OpenSSL software cryptodev, stop it. Used by
 * `scripts/bench_report.ts` (its DPDK column) and `tests/dpdk/`, and as a command line (docs/dpdk.md).
 *
 * Facts from the example's `main.c` (22.11 and 26.07) this depends on:
 * - It is the vhost-user server: `rte_vhost_driver_register(path, RTE_VHOST_USER_ASYNC_COPY)` without the CLIENT
 *   flag, so it listens on the socket and `bench --socket` connects to it.
 * - The worker runs on a worker lcore (`rte_eal_remote_launch`), never on the main one, so two lcores are needed;
 *   both are mapped to the one back-end CPU (`--lcores 0@CPU,1@CPU`) to keep the generator's CPU free.
 * - The main lcore then spins in `rte_eal_wait_lcore` (a `rte_pause` loop) for ever. Sharing the CPU with the
 *   worker it would take half of it, so the main thread is moved to SCHED_IDLE once started (`chrt -i`).
 * - Its worker polls the rings all the time, guest or not: the comparison stops it while the bridge is measured
 *   (SIGSTOP was seen to leave its threads running now and then).
 * - It installs no signal handler and cleans up nothing when killed: stop is SIGKILL, then the socket and EAL's
 *   runtime directory are removed here.
 *
 * Usage: deno run -A scripts/dpdk_vhost_crypto.ts build [--dpdk-binary PATH]
 *        deno run -A scripts/dpdk_vhost_crypto.ts start --socket PATH [--cpu N] [--dpdk-binary PATH]
 *        deno run -A scripts/dpdk_vhost_crypto.ts stop --pid N --socket PATH
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileExists } from "./guest/tools.ts";

/** Where Debian's `dpdk-doc` puts the example's source. */
export const EXAMPLE_DIR = "/usr/share/dpdk/examples/vhost_crypto";
/** What to install when the source or the toolchain is missing. */
export const APT_COMMAND = "apt-get install dpdk-doc libdpdk-dev pkg-config build-essential";
/** The example's binary name (its Makefile's APP). */
const BINARY = "vhost-crypto";
/** Memory for EAL without hugepages: the per-device mbuf pool (8192 x 4 KiB) and the op pool fit. */
const MEMORY_MB = 512;

/** DPDK is not there, or the example failed: the message says what to do. */
export class DpdkError extends Error {
  override readonly name = "DpdkError";
}

/** How to start the example. */
export interface StartOptions {
  /** The example's binary (built by `build`, or a newer one the user built). */
  readonly binary: string;
  /** The vhost-user socket it listens on. */
  readonly socket: string;
  /** The CPU of its main lcore and of its worker (not the generator's). */
  readonly cpu: number;
  /** EAL's `--file-prefix`, unique per instance (its runtime directory's name). */
  readonly prefix: string;
}

/**
 * The example's command line: EAL without hugepages, PCI or telemetry, two lcores on one CPU, the OpenSSL
 * cryptodev; then the worker lcore 1 on cryptodev 0 queue 0, serving `socket`.
 *
 * @param o How to start it.
 * @returns The arguments after the binary.
 */
export function vhostCryptoArgs(o: StartOptions): string[] {
  return [
    "--no-huge",
    "-m",
    String(MEMORY_MB),
    "--no-shconf",
    "--no-telemetry",
    "--no-pci",
    "--file-prefix",
    o.prefix,
    "--lcores",
    `0@${o.cpu},1@${o.cpu}`,
    "--vdev",
    "crypto_openssl0",
    "--",
    "--config",
    "(1,0,0)",
    "--socket-file",
    `1,${o.socket}`,
  ];
}

/**
 * The DPDK version `pkg-config` reports, as `22.11.11`.
 *
 * @param text `pkg-config --modversion libdpdk` output.
 * @returns The version.
 * @throws DpdkError when the text is not a version.
 */
export function parseVersion(text: string): string {
  const v = text.trim();
  if (!/^\d+\.\d+(\.\d+)*$/.test(v)) throw new DpdkError(`pkg-config gave no DPDK version: "${v}"`);
  return v;
}

/**
 * The EAL file prefix of the instance serving `socket` (one socket, one instance), so that a later `stop` finds
 * its runtime directory.
 *
 * @param socket The socket's path.
 * @returns A prefix of letters, digits and dashes.
 */
export function prefixOf(socket: string): string {
  return `cryptobridge-${socket.replaceAll(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "")}`.slice(0, 80);
}

/**
 * EAL's runtime directory of a prefix (`eal_get_runtime_dir`): /var/run/dpdk for root, else $XDG_RUNTIME_DIR/dpdk
 * or /tmp/dpdk.
 *
 * @param prefix The `--file-prefix`.
 * @param env uid and XDG_RUNTIME_DIR.
 * @returns The directory EAL creates and SIGKILL leaves behind.
 */
export function runtimeDir(
  prefix: string,
  env: { readonly uid: number | null; readonly xdg?: string },
): string {
  if (env.uid === 0) return `/var/run/dpdk/${prefix}`;
  return `${env.xdg ?? "/tmp"}/dpdk/${prefix}`;
}

async function output(cmd: string, args: string[], cwd?: string): Promise<{ ok: boolean; text: string }> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "piped",
      ...(cwd ? { cwd } : {}),
    })
      .output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { ok: out.success, text };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { ok: false, text: `${cmd}: not found` };
    throw e;
  }
}

/**
 * Checks that the example's source, libdpdk and a C toolchain are installed (it installs nothing).
 *
 * @returns The installed DPDK version.
 * @throws DpdkError naming the apt command when something is missing.
 */
export async function checkPackages(): Promise<string> {
  const missing: string[] = [];
  if (!fileExists(`${EXAMPLE_DIR}/main.c`)) missing.push(`${EXAMPLE_DIR}/main.c (dpdk-doc)`);
  const version = await output("pkg-config", ["--modversion", "libdpdk"]);
  if (!version.ok) missing.push("libdpdk for pkg-config (libdpdk-dev, pkg-config)");
  for (const tool of ["make", "cc"]) {
    if (!(await output(tool, ["--version"])).ok) missing.push(`${tool} (build-essential)`);
  }
  if (missing.length > 0) {
    throw new DpdkError(
      `DPDK's vhost_crypto cannot be built: missing ${missing.join(", ")}; as root: ${APT_COMMAND}`,
    );
  }
  return parseVersion(version.text);
}

/**
 * Builds the example (shared-library binary) in `.cache/dpdk/<version>/`, once per version.
 *
 * @param cacheRoot The cache folder (default `.cache/dpdk` of the project).
 * @returns The binary's path.
 * @throws DpdkError when the packages are missing or `make` fails.
 */
export async function build(cacheRoot = defaultCache()): Promise<string> {
  const version = await checkPackages();
  const dir = `${cacheRoot}/${version}/vhost_crypto`;
  const binary = `${dir}/build/${BINARY}`;
  if (fileExists(binary)) return binary;
  await Deno.mkdir(dir, { recursive: true });
  for (const entry of Deno.readDirSync(EXAMPLE_DIR)) {
    if (entry.isFile) await Deno.copyFile(`${EXAMPLE_DIR}/${entry.name}`, `${dir}/${entry.name}`);
  }
  const made = await output("make", ["shared"], dir);
  if (!made.ok || !fileExists(binary)) throw new DpdkError(`make in ${dir} failed:\n${made.text}`);
  return binary;
}

function defaultCache(): string {
  return new URL("../.cache/dpdk", import.meta.url).pathname;
}

/** A started example. */
export interface VhostCrypto {
  readonly pid: number;
  readonly socket: string;
  /** Its standard output and error. */
  readonly log: string;
  /** Kills it (SIGKILL: it has no orderly stop), removes its socket and runtime directory. */
  stop(): Promise<void>;
  /** Whether it is still running (it has been seen to exit mid-run). */
  alive(): boolean;
}

/**
 * Starts the example and waits (10 s at most) until it listens.
 *
 * @param o How to start it (`prefix` defaults to one unique to this process and socket).
 * @returns The running instance.
 * @throws DpdkError with its output when it exits or does not listen in time.
 */
export async function start(
  o: Omit<StartOptions, "prefix"> & { readonly prefix?: string },
): Promise<VhostCrypto> {
  if (!fileExists(o.binary)) {
    throw new DpdkError(`No vhost_crypto binary at ${o.binary}: run the build step first`);
  }
  const prefix = o.prefix ?? prefixOf(o.socket);
  const log = `${o.socket}.log`;
  await Deno.remove(o.socket).catch(() => {});
  // The shell only redirects and execs: the pid is the example's own (its main thread's tid).
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'exec "$@" >"$0" 2>&1',
      log,
      "taskset",
      "-c",
      String(o.cpu),
      o.binary,
      ...vhostCryptoArgs({
        ...o,
        prefix,
      }),
    ],
    stdin: "null",
  }).spawn();
  const stop = (): Promise<void> => kill(child, { socket: o.socket, prefix });
  let running = true;
  const exited = child.status.then(() => {
    running = false;
    return true;
  });
  for (let waited = 0; waited < 10_000; waited += 50) {
    if (await Promise.race([exited, new Promise((r) => setTimeout(() => r(false), 50))])) break;
    if (fileExists(o.socket)) {
      await idleMainThread(child.pid);
      return { pid: child.pid, socket: o.socket, log, stop, alive: () => running };
    }
  }
  await stop();
  throw new DpdkError(
    `vhost_crypto did not listen on ${o.socket}:\n${await Deno.readTextFile(log).catch(() => "")}`,
  );
}

/** Moves the main lcore's spinning thread out of the worker's way (see the module's notes). */
async function idleMainThread(pid: number): Promise<void> {
  const r = await output("chrt", ["--idle", "-p", "0", String(pid)]);
  if (!r.ok) console.error(`warning: chrt --idle on vhost_crypto's main thread failed (${r.text.trim()})`);
}

async function kill(child: Deno.ChildProcess, at: { socket: string; prefix: string }): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch {
    // it already exited
  }
  await child.status;
  await cleanUp(at.socket, at.prefix);
}

async function cleanUp(socket: string, prefix: string): Promise<void> {
  await Deno.remove(socket).catch(() => {});
  await Deno.remove(runtimeDir(prefix, { uid: Deno.uid(), ...xdg() }), { recursive: true }).catch(() => {});
}

function xdg(): { xdg?: string } {
  const v = Deno.env.get("XDG_RUNTIME_DIR");
  return v === undefined ? {} : { xdg: v };
}

/**
 * Stops an example started by the `start` command (another process): SIGKILL once its name says it is one.
 *
 * @param pid Its pid.
 * @param socket Its socket, removed.
 * @throws DpdkError when that pid is not a vhost_crypto.
 */
export async function stopPid(pid: number, socket: string): Promise<void> {
  const comm = await Deno.readTextFile(`/proc/${pid}/comm`).catch(() => null);
  if (comm !== null) {
    if (!comm.trim().startsWith(BINARY)) throw new DpdkError(`pid ${pid} is ${comm.trim()}, not ${BINARY}`);
    Deno.kill(pid, "SIGKILL");
    while (fileExists(`/proc/${pid}/exe`)) await new Promise((r) => setTimeout(r, 20));
  }
  await cleanUp(socket, prefixOf(socket));
}

async function cli(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      socket: { type: "string" },
      cpu: { type: "string", default: "1" },
      pid: { type: "string" },
      "dpdk-binary": { type: "string" },
    },
  });
  const binary = async (): Promise<string> => values["dpdk-binary"] ?? await build();
  const command = positionals[0];
  if (command === "build") console.log(await binary());
  else if (command === "start" && values.socket !== undefined) {
    const vc = await start({ binary: await binary(), socket: values.socket, cpu: Number(values.cpu) });
    console.log(JSON.stringify({ pid: vc.pid, socket: vc.socket, log: vc.log }));
    Deno.exit(0); // leaves it running; `stop --pid` ends it
  } else if (command === "stop" && values.pid !== undefined && values.socket !== undefined) {
    await stopPid(Number(values.pid), values.socket);
  } else {
    throw new DpdkError(
      "usage: build [--dpdk-binary PATH] | start --socket PATH [--cpu N] | stop --pid N --socket PATH",
    );
  }
}

if (import.meta.main) {
  try {
    await cli(Deno.args);
  } catch (e) {
    if (!(e instanceof DpdkError)) throw e;
    console.error(e.message);
    Deno.exit(1);
  }
}
