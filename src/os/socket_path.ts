/**
 * Where a listening socket may live, and who may open it (design.md reliability rules): a socket in a directory
 * that other users can write without the sticky bit could be replaced by theirs; a socket file of another user
 * at the path is most likely a squat, waiting for a front-end to hand it guest memory.
 *
 * @module
 */

import { check, cString, libc } from "../../ffi/libc.ts";
import { UnixSocketError } from "./unix_socket.ts";

const OTHERS_WRITE = 0o002;
const STICKY = 0o1000;

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : path.slice(0, i);
}

/**
 * Refuses a socket path whose directory others can write (unless sticky, as /tmp is) or whose file belongs to
 * another user. For root, "another user" is anyone but root and the socket's configured owner (the file a
 * killed daemon left behind belongs to that owner): root would otherwise replace any user's socket.
 *
 * @param path The socket path.
 * @param owner The uid the socket file is given (`UnixListenOptions.owner`), or null: the daemon's user.
 * @throws UnixSocketError `unsafe-directory`, `squatted`; Deno.errors.NotFound when the directory is missing.
 */
export function checkSocketPath(path: string, owner: number | null = null): void {
  const dir = dirOf(path);
  const info = Deno.statSync(dir);
  const mode = info.mode ?? 0;
  if ((mode & OTHERS_WRITE) !== 0 && (mode & STICKY) === 0) {
    throw new UnixSocketError(
      "unsafe-directory",
      `Cannot listen on ${path}: ${dir} is writable by every user (mode ${
        (mode & 0o7777).toString(8)
      }), so ` +
        "another user could replace the socket: use a directory only the daemon's user can write, such as " +
        "/run/cryptobridge",
    );
  }
  let file: Deno.FileInfo;
  try {
    file = Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  const me = libc.geteuid();
  if (file.isSocket && file.uid !== null && file.uid !== me && file.uid !== owner) {
    throw new UnixSocketError(
      "squatted",
      `Cannot listen on ${path}: a socket of another user (uid ${file.uid}) is there, likely a squat: remove it ` +
        "and keep the directory for the daemon's user",
    );
  }
}

/**
 * Sets a new socket file's mode, owner and group.
 *
 * @param path The socket path.
 * @param options Mode (default 0600), owner and group (default: unchanged).
 * @throws ErrnoError when chmod or chown fails (EPERM: only root may give a file away).
 */
export function setOwnership(
  path: string,
  options: { readonly mode?: number; readonly owner?: number | null; readonly group?: number | null },
): void {
  const c = cString(path);
  const mode = options.mode ?? 0o600;
  if (mode !== 0o600) check(libc.chmod(c, mode), "chmod", `${path} to ${mode.toString(8)}`);
  const owner = options.owner ?? null;
  const group = options.group ?? null;
  if (owner === null && group === null) return;
  check(libc.chown(c, owner ?? 0xffff_ffff, group ?? 0xffff_ffff), "chown", path);
}
