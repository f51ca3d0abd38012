/**
 * Where the daemon's sockets go by default: never in a directory every user can write (design.md reliability
 * rules). For root `/run/cryptobridge/` (systemd's `RuntimeDirectory=cryptobridge`); for another user their
 * `$XDG_RUNTIME_DIR` (`/run/user/UID`, theirs alone).
 *
 * @module
 */

import { effectiveUid } from "../os/mod.ts";

/** The runtime directory of a root daemon. */
export const ROOT_RUNTIME_DIR = "/run/cryptobridge";

/**
 * The directory default sockets go in.
 *
 * @returns The directory.
 * @throws Error for a user without `$XDG_RUNTIME_DIR` (say where instead).
 */
export function runtimeDir(): string {
  if (effectiveUid() === 0) return ROOT_RUNTIME_DIR;
  const xdg = Deno.env.get("XDG_RUNTIME_DIR");
  if (xdg !== undefined && xdg !== "") return xdg;
  throw new Error(
    "No default place for the socket: $XDG_RUNTIME_DIR is not set and the daemon is not root: give --socket PATH " +
      "in a directory only you can write",
  );
}

/**
 * The default vhost-user socket: `cryptobridge.sock` in the runtime directory, which is created (mode 0755) when
 * it is root's and missing.
 *
 * @returns The path.
 */
export function defaultSocketPath(): string {
  const dir = runtimeDir();
  if (dir === ROOT_RUNTIME_DIR) Deno.mkdirSync(dir, { recursive: true, mode: 0o755 });
  return `${dir}/cryptobridge.sock`;
}

/** How `--help` names the default socket. */
export const DEFAULT_SOCKET_TEXT =
  "/run/cryptobridge/cryptobridge.sock as root, else $XDG_RUNTIME_DIR/cryptobridge.sock";
