/**
 * Test fixture: a daemon on a socket in a fresh temporary folder, and a driver connected to it.
 *
 * @module
 */

import { type Daemon, runDaemon } from "../../src/daemon/daemon.ts";
import { type DriverOptions, VirtioCryptoDriver } from "../../src/frontend/mod.ts";

/** A daemon and a connected driver; `close()` tears both down. */
export interface Rig extends AsyncDisposable {
  readonly daemon: Daemon;
  readonly driver: VirtioCryptoDriver;
  readonly dir: string;
}

/**
 * Starts a daemon (software engine) and connects a driver.
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
  const daemon = runDaemon({ ...daemonOptions, socket });
  let driver: VirtioCryptoDriver;
  try {
    driver = await VirtioCryptoDriver.open({ ...driverOptions, path: socket });
  } catch (e) {
    await daemon.stop();
    await Deno.remove(dir, { recursive: true });
    throw e;
  }
  return {
    daemon,
    driver,
    dir,
    async [Symbol.asyncDispose](): Promise<void> {
      await driver.close();
      await daemon.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Hex string to bytes. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  return new Uint8Array(clean.match(/../g)!.map((b) => parseInt(b, 16)));
}

/** Bytes to hex string. */
export function toHex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}
