/**
 * Test fixture: a daemon on a socket in a fresh temporary folder, a driver connected to it, and small helpers to
 * send data requests and create sessions with it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Status, type VlfRole } from "../../src/crypto/mod.ts";
import type { DataRequest } from "../../src/crypto/mod.ts";
import { type Daemon, runDaemon } from "../../src/daemon/daemon.ts";
import {
  buildRequest,
  type ChainShape,
  type DriverOptions,
  type PartBytes,
  type SessionSpec,
  VirtioCryptoDriver,
} from "../../src/frontend/mod.ts";

/** A daemon and a connected driver; disposing tears down both (and the engine the test passed, if any). */
export interface Rig extends AsyncDisposable {
  readonly daemon: Daemon;
  readonly driver: VirtioCryptoDriver;
  readonly dir: string;
}

/**
 * Starts a daemon (software engine unless `daemonOptions.engine` is given) and connects a driver.
 *
 * @param driverOptions Driver options (the path is filled in).
 * @param daemonOptions Daemon options (the socket is filled in).
 */
export async function startRig(
  driverOptions: Omit<DriverOptions, "path"> = {},
  daemonOptions: Parameters<typeof runDaemon>[0] = {},
): Promise<Rig> {
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-test-" });
  const socket = `${dir}/vhost.sock`;
  // Inline: these tests look inside the device and server (tests/integration/workers_test.ts serves on Workers).
  const daemon = runDaemon({ placement: "inline", ...daemonOptions, socket });
  const cleanUp = async (): Promise<void> => {
    await daemon.stop();
    if (typeof daemonOptions.engine === "object") daemonOptions.engine.close();
    await Deno.remove(dir, { recursive: true });
  };
  let driver: VirtioCryptoDriver;
  try {
    driver = await VirtioCryptoDriver.open({ ...driverOptions, path: socket });
  } catch (e) {
    await cleanUp();
    throw e;
  }
  return {
    daemon,
    driver,
    dir,
    async [Symbol.asyncDispose](): Promise<void> {
      await driver.close();
      await cleanUp();
    },
  };
}

/** A completed data request, its device-written parts by role. */
export interface Sent {
  readonly status: number;
  readonly usedLen: number;
  /** Device-written parts (`dst_data`, `hash_result`) by role. */
  readonly out: Partial<Record<VlfRole, Uint8Array>>;
}

/** How `send` lays a request out. */
export interface SendOptions {
  /** The vring. Default 0. */
  readonly queue?: number;
  /** Direct or indirect, descriptor size. */
  readonly shape?: ChainShape;
  /** `dst_data` in the same guest buffer as `src_data`. */
  readonly inPlace?: boolean;
}

/**
 * Builds a data request in the driver's layout, submits it and waits for its completion.
 *
 * @param driver The driver.
 * @param req Header and flf fields.
 * @param bytes Bytes of the device-read parts.
 * @param options Queue, chain shape, in place.
 */
export async function send(
  driver: VirtioCryptoDriver,
  req: DataRequest,
  bytes: PartBytes,
  options: SendOptions = {},
): Promise<Sent> {
  const parts = buildRequest(req, driver.layout, bytes, options.inPlace ?? false);
  const c = await driver.submit(options.queue ?? 0, parts.out, parts.in, options.shape ?? {});
  const out: Partial<Record<VlfRole, Uint8Array>> = {};
  for (const [role, i] of Object.entries(parts.inIndex)) out[role as VlfRole] = c.in[i]!;
  return { status: c.status, usedLen: c.usedLen, out };
}

/**
 * Creates a session through the control queue and checks that the device answered OK.
 *
 * @returns The session id.
 */
export async function ctrlSession(driver: VirtioCryptoDriver, spec: SessionSpec): Promise<bigint> {
  const r = await driver.createSessionCtrl(spec);
  assert.equal(r.status, Status.OK, `control-queue create of a ${spec.service} session`);
  assert.ok(r.id >= 1n);
  return r.id;
}

/**
 * Waits until `condition()` holds (the daemon runs in this process, so its work interleaves with ours).
 *
 * @param condition What to wait for.
 * @param what Said in the error after `timeoutMs`.
 * @param timeoutMs The most to wait.
 */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Whether a promise has settled, without waiting for it (after the current microtasks). */
export async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(() => done = true, () => done = true);
  await new Promise((r) => setTimeout(r, 0));
  return done;
}

/** Hex string to bytes. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  if (clean.length === 0) return new Uint8Array(0);
  return new Uint8Array(clean.match(/../g)!.map((b) => parseInt(b, 16)));
}

/** Bytes to hex string. */
export function toHex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** Concatenation. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The known-answer vector with this id from a list (the engine suite's transcriptions, each id naming its source
 * document).
 */
export function vector<T extends { readonly id: string }>(list: readonly T[], id: string): T {
  const v = list.find((x) => x.id === id);
  if (v === undefined) throw new Error(`No vector "${id}"`);
  return v;
}
