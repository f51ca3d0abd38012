/**
 * sd_notify(3): tells systemd how a `Type=notify` service is doing, by datagrams of newline-separated
 * `VARIABLE=value` assignments to the AF_UNIX socket named by `$NOTIFY_SOCKET` (a path, or `@name` for the
 * abstract namespace). Without `$NOTIFY_SOCKET` (not started by systemd) there is nobody to tell and nothing is
 * sent, as sd_notify does.
 *
 * The daemon sends `READY=1` once every socket listens (vhost-user, control, metrics), `STATUS=` lines as it
 * goes, `STOPPING=1` when it starts to stop, and `WATCHDOG=1` every half `$WATCHDOG_USEC` when the unit sets
 * `WatchdogSec=`.
 *
 * @module
 */

import { UnixDatagram } from "../os/mod.ts";

/** Reads an environment variable (`Deno.env.get` by default; tests pass a map). */
export type EnvReader = (name: string) => string | undefined;

const denoEnv: EnvReader = (name) => Deno.env.get(name);

const VARIABLE = /^[A-Z_][A-Z0-9_]*$/;

/**
 * The datagram for a set of assignments.
 *
 * @param state Variables and values (`{ READY: 1, STATUS: "serving 2 VMs" }`).
 * @returns `READY=1\nSTATUS=serving 2 VMs`.
 * @throws RangeError for a variable that is not upper-case letters, digits and `_`, or a value with a newline.
 */
export function notifyMessage(state: Readonly<Record<string, string | number>>): string {
  return Object.entries(state).map(([k, v]) => {
    const value = String(v);
    if (!VARIABLE.test(k) || value.includes("\n")) {
      throw new RangeError(`Cannot notify systemd: ${k}=${JSON.stringify(value)} is not one assignment`);
    }
    return `${k}=${value}`;
  }).join("\n");
}

/** Sends sd_notify messages to one socket. */
export class Notifier implements Disposable {
  readonly #address: string;
  readonly #socket: UnixDatagram;

  /**
   * @param address The socket: a path, or `@name`.
   * @throws RangeError for an address that is empty or longer than 107 bytes.
   */
  constructor(address: string) {
    if (address === "" || (!address.startsWith("/") && !address.startsWith("@"))) {
      throw new RangeError(`Cannot notify systemd: NOTIFY_SOCKET must be a path or @name: got "${address}"`);
    }
    this.#address = address;
    this.#socket = UnixDatagram.open();
  }

  /**
   * The notifier `$NOTIFY_SOCKET` names, or null when the service was not started by systemd.
   *
   * @param env Where to read the environment (default `Deno.env.get`, which needs `--allow-env=NOTIFY_SOCKET`).
   * @returns The notifier, or null.
   */
  static fromEnvironment(env: EnvReader = denoEnv): Notifier | null {
    const address = env("NOTIFY_SOCKET");
    return address === undefined || address === "" ? null : new Notifier(address);
  }

  /** The socket messages go to. */
  get address(): string {
    return this.#address;
  }

  /**
   * Sends assignments in one datagram.
   *
   * @param state Variables and values.
   * @throws RangeError for a malformed assignment; ErrnoError when the socket is gone (ECONNREFUSED, ENOENT).
   */
  notify(state: Readonly<Record<string, string | number>>): void {
    this.#socket.sendTo(
      this.#address,
      new TextEncoder().encode(notifyMessage(state)) as Uint8Array<ArrayBuffer>,
    );
  }

  /**
   * `READY=1`: start-up is done (every socket listens); systemd starts the units ordered after this one.
   *
   * @param status A `STATUS=` line to go with it.
   */
  ready(status?: string): void {
    this.notify({ READY: 1, ...(status === undefined ? {} : { STATUS: status }) });
  }

  /**
   * `STOPPING=1`: stopping has begun.
   *
   * @param status A `STATUS=` line to go with it.
   */
  stopping(status?: string): void {
    this.notify({ STOPPING: 1, ...(status === undefined ? {} : { STATUS: status }) });
  }

  /**
   * `STATUS=`: one line for `systemctl status`.
   *
   * @param text The line.
   */
  status(text: string): void {
    this.notify({ STATUS: text });
  }

  /** `WATCHDOG=1`: still alive (`WatchdogSec=`). */
  watchdog(): void {
    this.notify({ WATCHDOG: 1 });
  }

  /**
   * `EXTEND_TIMEOUT_USEC=`: start-up or stopping takes longer (an accelerator that is slow to reset).
   *
   * @param microseconds From now.
   */
  extendTimeout(microseconds: number): void {
    this.notify({ EXTEND_TIMEOUT_USEC: Math.max(0, Math.round(microseconds)) });
  }

  /** Closes the socket; idempotent. */
  close(): void {
    this.#socket.close();
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * How often to send `WATCHDOG=1`: half of `$WATCHDOG_USEC` (sd_watchdog_enabled(3)), when the watchdog is for
 * this process (`$WATCHDOG_PID` unset or this pid).
 *
 * @param env Where to read the environment (needs `--allow-env=WATCHDOG_USEC,WATCHDOG_PID`).
 * @returns Milliseconds, or null when no watchdog is asked for.
 */
export function watchdogIntervalMs(env: EnvReader = denoEnv): number | null {
  const usec = Number(env("WATCHDOG_USEC") ?? "");
  if (!Number.isInteger(usec) || usec <= 0) return null;
  const pid = env("WATCHDOG_PID");
  if (pid !== undefined && pid !== "" && Number(pid) !== Deno.pid) return null;
  return Math.max(1, Math.floor(usec / 2000));
}
