/**
 * The fuzzer's target: `cryptobridge serve` in its own process, and the checks after each batch (alive, a
 * known-answer request on a fresh connection, descriptors and memory not growing past a bound).
 *
 * @module
 */

import { selfCommand } from "../../src/cli/bench_serve.ts";
import { buildRequest, cipherRequest, VirtioCryptoDriver } from "../../src/frontend/mod.ts";
import { Sysfs, UnixConnection } from "../../src/os/mod.ts";
import { CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";

// NIST SP 800-38A F.2.1 CBC-AES128, first block.
const KEY = hexBytes("2b7e151628aed2a6abf7158809cf4f3c");
const IV = hexBytes("000102030405060708090a0b0c0d0e0f");
const PT = hexBytes("6bc1bee22e409f96e93d7e117393172a");
const CT = hexBytes("7649abac8119b246cee98e9b12e9197d");

function hexBytes(s: string): Uint8Array {
  return new Uint8Array(s.match(/../g)!.map((b) => parseInt(b, 16)));
}

/** A serve process under test. */
export interface Target {
  readonly sockets: readonly string[];
  readonly pid: number;
  readonly command: readonly string[];
  /** Whether it is still running. */
  alive(): boolean;
  /** Open fds and resident KiB now. */
  usage(): { fds: number; rssKiB: number };
  /** Stops it. */
  stop(): Promise<void>;
}

/**
 * Starts serve with `o.sockets` sockets (one VM each, each on its own thread).
 *
 * @param dir Where the sockets go.
 * @param o Mode, queues, socket count.
 * @returns The target.
 */
export async function startTarget(
  dir: string,
  o: { mode: string; queues: number; sockets: number },
): Promise<Target> {
  const sockets = Array.from({ length: o.sockets }, (_, i) => `${dir}/vm${i}.sock`);
  const target = await trySpawn(sockets, o);
  if (target !== null) return target;
  throw new Error("Cannot start cryptobridge serve for fuzzing");
}

async function trySpawn(sockets: string[], o: { mode: string; queues: number }): Promise<Target | null> {
  const args = ["serve", ...sockets.flatMap((s) => ["--socket", s]), "--queues", String(o.queues)];
  args.push("--log-level", "error", "--max-sessions", "4096");
  if (o.mode === "poll") args.push("--poll");
  if (o.mode === "busy") args.push("--busy-poll", "200");
  const command = selfCommand(args);
  const child = new Deno.Command(command[0]!, { args: command.slice(1), stdout: "null", stderr: "inherit" })
    .spawn();
  let exited = false;
  const status = child.status.then(() => void (exited = true));
  const deadline = Date.now() + 20_000;
  while (!sockets.every(listening)) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGKILL");
      await status;
      return null;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const proc = new Sysfs("/proc");
  return {
    sockets,
    pid: child.pid,
    command,
    alive: () => !exited,
    usage: () => ({
      fds: proc.list(`${child.pid}/fd`).length,
      rssKiB: Number(/VmRSS:\s+(\d+)/.exec(proc.readText(`${child.pid}/status`) ?? "")?.[1] ?? 0),
    }),
    stop: async () => {
      if (!exited) child.kill("SIGTERM");
      await status;
    },
  };
}

function listening(path: string): boolean {
  try {
    UnixConnection.connect(path).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * A fresh connection encrypts SP 800-38A F.2.1 right: the daemon serves.
 *
 * @param socket The socket.
 * @returns null, or what went wrong.
 */
export async function knownAnswer(socket: string): Promise<string | null> {
  let driver: VirtioCryptoDriver | null = null;
  try {
    driver = await openDriver({
      path: socket,
      qemuFeatures: true,
      queueSize: 16,
      ramSize: 4 << 20,
    });
    const id = await driver.createSessionVhost({
      service: "cipher",
      algo: CipherAlgo.AES_CBC,
      key: KEY,
      op: 1,
    });
    const parts = buildRequest(cipherRequest(id, true, IV, 16), driver.layout, { iv: IV, src_data: PT });
    const c = await withTimeout(driver.submit(0, parts.out, parts.in, {}), 5000);
    if (c === null) return "known-answer request hung";
    if (c.status !== Status.OK || c.in[0]!.join() !== CT.join()) {
      return `known answer wrong: status ${c.status}`;
    }
    return null;
  } catch (e) {
    return `known-answer request failed: ${(e as Error).message}`;
  } finally {
    await driver?.close();
  }
}

/**
 * Opens a driver, retrying while the daemon still holds the previous connection's slot (it sees that one's close
 * on its next turn and refuses a newcomer meanwhile).
 *
 * @param options Driver options.
 * @returns The driver.
 */
export async function openDriver(
  options: Parameters<typeof VirtioCryptoDriver.open>[0],
): Promise<VirtioCryptoDriver> {
  for (let attempt = 0;; attempt++) {
    try {
      return await VirtioCryptoDriver.open(options);
    } catch (e) {
      if (attempt >= 50) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** `p`, or null after `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<null>((r) => timer = setTimeout(() => r(null), ms));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}
