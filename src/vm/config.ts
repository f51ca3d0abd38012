/**
 * What a VM is to the daemon: a name, its vhost-user socket (and who may open it), its device's limits, and the CPU
 * its thread runs on. `serve --socket` makes one per socket; `serve --config FILE` reads a list (docs/config.md).
 *
 * Every value is checked here, before anything binds, and a bad one names its field: `vms[1].queues: must be an
 * integer in 1..64: got 0`.
 *
 * @module
 */

import { lookupGroup, lookupUser } from "../os/mod.ts";

/** One VM's settings, checked and with defaults filled in. */
export interface VmConfig {
  /** Its name in logs, counters and the control socket ([A-Za-z0-9_.-], at most 64). */
  readonly name: string;
  /** The vhost-user socket path (at most 107 bytes). */
  readonly socket: string;
  /** Data queues offered to QEMU (`queues=`). Default 1. */
  readonly queues: number;
  /** Open sessions allowed; more get NOSPC (or an error reply to QEMU). Default 1024. */
  readonly maxSessions: number;
  /** Requests in flight (popped, not completed) at once, over all its queues; the rest wait in the ring. */
  readonly maxInflight: number;
  /** CPUs its thread is pinned to, or null (the scheduler decides). */
  readonly cpu: readonly number[] | null;
  /** Owner of the socket file (uid), or null: the daemon's user. */
  readonly owner: number | null;
  /** Group of the socket file (gid), or null: the daemon's group. */
  readonly group: number | null;
  /** Permission bits of the socket file. Default 0600. */
  readonly mode: number;
  /** Accelerator sessions this VM may hold, or null for an equal share of the accelerator. */
  readonly accelSessions: number | null;
  /**
   * Accept guest RAM that can still shrink (a memfd without F_SEAL_SHRINK that cannot be sealed, a tmpfs or
   * hugetlbfs file). A truncation of it kills the whole daemon with SIGBUS, so `runDaemon` accepts this only for
   * a daemon that serves this one VM (docs/hostile.md). Default false.
   */
  readonly allowUnsealedMemory: boolean;
}

/** Defaults of a VM's settings. */
export const VM_DEFAULTS = {
  queues: 1,
  maxSessions: 1024,
  maxInflight: 256,
  mode: 0o600,
} as const;

/** A setting that cannot work, naming its field. */
export class ConfigError extends Error {
  /** Always `ConfigError`. */
  override name = "ConfigError";
  /** The field, such as `vms[1].queues`. */
  readonly field: string;

  /**
   * @param field The field.
   * @param problem What is wrong and what would do.
   */
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.field = field;
  }
}

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Reads typed values out of an untrusted object, naming the field of any bad one. */
export class FieldReader {
  readonly #object: Record<string, unknown>;
  readonly #path: string;
  readonly #known: readonly string[];

  /**
   * @param value The object.
   * @param path Its place, for messages (`vms[0]`).
   * @param known The fields it may have: any other is an error (a typo must not pass silently).
   */
  constructor(value: unknown, path: string, known: readonly string[]) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new ConfigError(path, `must be an object: got ${describe(value)}`);
    }
    this.#object = value as Record<string, unknown>;
    this.#path = path;
    this.#known = known;
    for (const key of Object.keys(this.#object)) {
      if (!known.includes(key)) {
        throw new ConfigError(this.field(key), `unknown setting: the settings here are ${known.join(", ")}`);
      }
    }
  }

  /** The full name of a field. */
  field(key: string): string {
    return this.#path === "" ? key : `${this.#path}.${key}`;
  }

  /** The raw value. */
  raw(key: string): unknown {
    return this.#object[key];
  }

  /** A string, or the fallback when absent. */
  string<T extends string | undefined>(key: string, fallback: T): string | T {
    const v = this.#object[key];
    if (v === undefined) return fallback;
    if (typeof v !== "string" || v === "") {
      throw new ConfigError(this.field(key), `must be a non-empty string: got ${describe(v)}`);
    }
    return v;
  }

  /** An integer in `min..max`, or the fallback when absent. */
  int<T extends number | undefined>(key: string, min: number, max: number, fallback: T): number | T {
    const v = this.#object[key];
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      throw new ConfigError(this.field(key), `must be an integer in ${min}..${max}: got ${describe(v)}`);
    }
    return v;
  }

  /** A boolean, or the fallback when absent. */
  bool(key: string, fallback: boolean): boolean {
    const v = this.#object[key];
    if (v === undefined) return fallback;
    if (typeof v !== "boolean") {
      throw new ConfigError(this.field(key), `must be true or false: got ${describe(v)}`);
    }
    return v;
  }
}

/**
 * A value, as a message shows it.
 *
 * @param v The value.
 * @returns Its JSON, shortened.
 */
export function describe(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

const VM_FIELDS = [
  "name",
  "socket",
  "queues",
  "maxSessions",
  "maxInflight",
  "cpu",
  "owner",
  "group",
  "mode",
  "accelSessions",
  "allowUnsealedMemory",
] as const;

/**
 * Checks one VM entry and fills in its defaults.
 *
 * @param value The entry (from JSON, or built from `--socket`).
 * @param path Its place, for messages.
 * @returns The settings.
 * @throws ConfigError naming the bad field.
 */
export function parseVmConfig(value: unknown, path: string): VmConfig {
  const r = new FieldReader(value, path, VM_FIELDS);
  const name = r.string("name", undefined);
  if (name === undefined || !NAME_RE.test(name)) {
    throw new ConfigError(
      r.field("name"),
      `must be 1-64 of A-Z a-z 0-9 _ . -: got ${describe(r.raw("name"))}`,
    );
  }
  const socket = r.string("socket", undefined);
  if (socket === undefined) {
    throw new ConfigError(r.field("socket"), "is required: the vhost-user socket path");
  }
  if (new TextEncoder().encode(socket).length > 107) {
    throw new ConfigError(r.field("socket"), `must be at most 107 bytes (sockaddr_un): got ${socket.length}`);
  }
  const owner = r.raw("owner") === undefined ? null : resolveOwner(r.raw("owner"), r.field("owner"));
  return {
    name,
    socket,
    queues: r.int("queues", 1, 64, VM_DEFAULTS.queues),
    maxSessions: r.int("maxSessions", 1, 1 << 24, VM_DEFAULTS.maxSessions),
    maxInflight: r.int("maxInflight", 1, 65536, VM_DEFAULTS.maxInflight),
    cpu: parseCpus(r.raw("cpu"), r.field("cpu")),
    owner: owner?.uid ?? null,
    group: r.raw("group") === undefined ? null : resolveGroup(r.raw("group"), r.field("group")),
    mode: parseMode(r.raw("mode"), r.field("mode")),
    accelSessions: r.int("accelSessions", 0, 1 << 24, undefined) ?? null,
    allowUnsealedMemory: r.bool("allowUnsealedMemory", false),
  };
}

function parseCpus(v: unknown, field: string): readonly number[] | null {
  if (v === undefined) return null;
  const list = Array.isArray(v) ? v : [v];
  const ok = list.length > 0 && list.every((c) => Number.isInteger(c) && c >= 0 && c < 1024);
  if (!ok) {
    throw new ConfigError(field, `must be a CPU number (0-1023) or a list of them: got ${describe(v)}`);
  }
  return list as number[];
}

function parseMode(v: unknown, field: string): number {
  if (v === undefined) return VM_DEFAULTS.mode;
  const mode = typeof v === "string" && /^0?[0-7]{3}$/.test(v) ? parseInt(v, 8) : v;
  if (typeof mode !== "number" || !Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw new ConfigError(
      field,
      `must be permission bits as an octal string such as "0660": got ${describe(v)}`,
    );
  }
  if ((mode & 0o007) !== 0) {
    throw new ConfigError(
      field,
      `must not let other users in (the last digit must be 0): got ${describe(v)}`,
    );
  }
  return mode;
}

function resolveOwner(v: unknown, field: string): { uid: number } {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return { uid: v };
  if (typeof v !== "string") throw new ConfigError(field, `must be a user name or uid: got ${describe(v)}`);
  const user = lookupUser(v);
  if (user === null) throw new ConfigError(field, `there is no user "${v}" on this host`);
  return user;
}

function resolveGroup(v: unknown, field: string): number {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  if (typeof v !== "string") throw new ConfigError(field, `must be a group name or gid: got ${describe(v)}`);
  const gid = lookupGroup(v);
  if (gid === null) throw new ConfigError(field, `there is no group "${v}" on this host`);
  return gid;
}

/**
 * Checks that names and socket paths are unique.
 *
 * @param vms The VMs, in order.
 * @param path The list's place, for messages.
 * @throws ConfigError naming the second of a pair.
 */
export function checkUnique(vms: readonly VmConfig[], path = "vms"): void {
  const names = new Map<string, number>();
  const sockets = new Map<string, number>();
  vms.forEach((vm, i) => {
    const sameName = names.get(vm.name);
    if (sameName !== undefined) {
      throw new ConfigError(`${path}[${i}].name`, `"${vm.name}" is also the name of ${path}[${sameName}]`);
    }
    const sameSocket = sockets.get(vm.socket);
    if (sameSocket !== undefined) {
      throw new ConfigError(
        `${path}[${i}].socket`,
        `${vm.socket} is also the socket of ${path}[${sameSocket}]`,
      );
    }
    if (vm.allowUnsealedMemory && vms.length > 1) {
      throw new ConfigError(
        `${path}[${i}].allowUnsealedMemory`,
        "memory that can shrink kills the whole daemon when it is truncated (SIGBUS), and with it the other " +
          `${
            vms.length - 1
          } VMs' devices: serve ${vm.name} from a daemon of its own, or give QEMU sealed memory ` +
          "(-object memory-backend-memfd,share=on, which seals by default)",
      );
    }
    names.set(vm.name, i);
    sockets.set(vm.socket, i);
  });
}

/**
 * VM entries for sockets given on the command line: named after the socket file (`/run/x/vm1.sock` is `vm1`),
 * or `vm<i>` (`vm<i>.<k>` if that is taken too) when that is not a valid or unique name. Checked later by `parseVmConfig`, like a file's entries.
 *
 * @param sockets The paths.
 * @param settings Settings every VM gets (`queues`, `maxSessions`, …).
 * @returns The entries.
 */
export function vmsFromSockets(
  sockets: readonly string[],
  settings: Readonly<Record<string, unknown>> = {},
): Record<string, unknown>[] {
  const taken = new Set<string>();
  return sockets.map((socket, i) => {
    const base = socket.split("/").pop()!.replace(/\.sock$/, "");
    let name = NAME_RE.test(base) && !taken.has(base) ? base : `vm${i}`;
    for (let k = 1; taken.has(name); k++) name = `vm${i}.${k}`;
    taken.add(name);
    return { ...settings, name, socket };
  });
}
