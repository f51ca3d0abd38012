/**
 * User and group names to ids, through the C library (getpwnam, getgrnam): what NSS says, so LDAP or systemd's
 * dynamic users resolve as they do for every other program. For per-VM socket ownership (libvirt runs each QEMU
 * as its own user).
 *
 * @module
 */

import { cString, libc } from "../../ffi/libc.ts";

const PW_UID = 16;
const PW_GID = 20;
const GR_GID = 16;

/**
 * A user's id and primary group.
 *
 * @param name The user name.
 * @returns The ids, or null when there is no such user.
 */
export function lookupUser(name: string): { uid: number; gid: number } | null {
  const p = libc.getpwnam(cString(name));
  if (p === null) return null;
  const view = new Deno.UnsafePointerView(p);
  return { uid: view.getUint32(PW_UID), gid: view.getUint32(PW_GID) };
}

/**
 * A group's id.
 *
 * @param name The group name.
 * @returns The id, or null when there is no such group.
 */
export function lookupGroup(name: string): number | null {
  const p = libc.getgrnam(cString(name));
  if (p === null) return null;
  return new Deno.UnsafePointerView(p).getUint32(GR_GID);
}
