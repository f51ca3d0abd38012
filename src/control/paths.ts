/**
 * Where the control socket is by default: beside the daemon's first vhost-user socket, so a deployment that
 * keeps its sockets in one directory (systemd's `RuntimeDirectory=cryptobridge`, `/run/cryptobridge`) finds it
 * there too. Pure: the CLI computes it without any permission.
 *
 * @module
 */

/** The control socket's file name. */
export const CONTROL_SOCKET_NAME = "cryptobridge-control.sock";

/**
 * The control socket beside a vhost-user socket.
 *
 * @param socket The daemon's first vhost-user socket.
 * @returns `<its directory>/cryptobridge-control.sock`.
 */
export function controlPathBeside(socket: string): string {
  const slash = socket.lastIndexOf("/");
  const dir = slash < 0 ? "." : slash === 0 ? "" : socket.slice(0, slash);
  return `${dir}/${CONTROL_SOCKET_NAME}`;
}

/**
 * The default of `--control` for the CLI: beside a root serve's default vhost-user socket
 * (`/run/cryptobridge/cryptobridge.sock`, the systemd service's runtime directory); a daemon of another user is
 * reached with `--control`.
 * tests/control/client_test.ts keeps the two in step.
 */
export const DEFAULT_CONTROL_PATH = "/run/cryptobridge/cryptobridge-control.sock";
