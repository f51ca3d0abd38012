/**
 * Test fixture: one VM's device served on a socket without `runDaemon`, so a test can set the server options the
 * daemon does not expose (time limits, shrinkable memory). Run as a script it is a serve process of its own:
 * `deno run -A tests/_fixtures/vm_server.ts SOCKET [--allow-shrinkable]` prints `listening` and serves until
 * SIGTERM (tests of what a SIGBUS in one process does to another).
 *
 * @module
 */

import { CryptoDevice } from "../../src/crypto/device.ts";
import { SoftwareEngine } from "../../src/engine/software/mod.ts";
import { Reactor } from "../../src/os/mod.ts";
import { type Backend, type ServerOptions, VhostUserServer } from "../../src/vhost_user/mod.ts";

/** A served device and what it runs on. */
export interface VmServer extends AsyncDisposable {
  readonly socket: string;
  readonly server: VhostUserServer;
  readonly device: CryptoDevice;
  readonly reactor: Reactor;
  /** Stops serving and frees everything; idempotent. */
  close(): Promise<void>;
}

/** Server options a test may set (the socket, reactor and device are the fixture's). */
export type VmServerOptions = Omit<ServerOptions, "path" | "reactor" | "backend">;

/**
 * Serves a software-engine device on `socket`.
 *
 * @param socket The socket path (its folder must exist).
 * @param options Server options.
 * @param backendOf What the server serves: the device itself, or a wrapper around it (a misbehaving one).
 * @returns The running server.
 */
export function startVmServer(
  socket: string,
  options: VmServerOptions = {},
  backendOf: (device: CryptoDevice) => Backend = (device) => device,
): VmServer {
  const reactor = new Reactor();
  const engine = new SoftwareEngine();
  const device = new CryptoDevice({ engine });
  let server: VhostUserServer;
  try {
    server = VhostUserServer.listen({ ...options, path: socket, reactor, backend: backendOf(device) });
  } catch (e) {
    engine.close();
    reactor.close();
    throw e;
  }
  const done = reactor.run();
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      server.close();
      reactor.stop();
      await done;
      engine.close();
      reactor.close();
    })();
    return closing;
  };
  return { socket, server, device, reactor, close, [Symbol.asyncDispose]: close };
}

if (import.meta.main) {
  const [socket, flag] = Deno.args;
  const vm = startVmServer(socket!, flag === "--allow-shrinkable" ? { shrinkableMemory: "allow" } : {});
  Deno.addSignalListener("SIGTERM", () => void vm.close());
  console.log("listening");
}
