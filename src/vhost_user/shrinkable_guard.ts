/**
 * The process-wide rule behind `ServerOptions.shrinkableMemory: "allow"`: memory that can shrink is served only
 * by a process that serves no other VM. A truncation of such memory under the daemon raises SIGBUS, which ends
 * the whole process; alone in its process, the VM that allowed it is the only one whose device ends.
 *
 * @module
 */

import type { ShrinkableMemoryPolicy } from "./memory_table.ts";

/** Thrown by `VhostUserServer.listen` when allowing shrinkable memory would put other VMs at risk. */
export class ShrinkableMemoryError extends Error {
  override name = "ShrinkableMemoryError";
}

/** Servers alive in this process (this isolate), with their policy. */
const live = new Map<object, { path: string; shrinkable: ShrinkableMemoryPolicy }>();

/**
 * Registers a server about to listen, or refuses the mix.
 *
 * @param server The server (a key).
 * @param path Its socket.
 * @param shrinkable Its policy.
 * @throws ShrinkableMemoryError when "allow" would share the process with another server.
 */
export function registerServer(server: object, path: string, shrinkable: ShrinkableMemoryPolicy): void {
  const others = [...live.values()];
  const allowing = others.find((o) => o.shrinkable === "allow");
  if (shrinkable === "allow" && others.length > 0) {
    throw new ShrinkableMemoryError(
      `Cannot allow shrinkable memory on ${path}: this process also serves ${
        others.map((o) => o.path).join(", ")
      }, whose devices a truncation would kill too: serve it from a process of its own`,
    );
  }
  if (allowing !== undefined) {
    throw new ShrinkableMemoryError(
      `Cannot serve ${path} here: this process allows shrinkable memory on ${allowing.path}, and a ` +
        "truncation there would kill this device too: serve it from another process",
    );
  }
  live.set(server, { path, shrinkable });
}

/** Forgets a server that stopped listening. */
export function unregisterServer(server: object): void {
  live.delete(server);
}
