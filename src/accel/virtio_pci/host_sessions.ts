/**
 * `SessionBroker`: every VM's sessions on the device's one control queue, on the main thread: created one at a
 * time, filed under the VM they belong to, and held to each VM's share. A VM with `accelSessions` set gets that
 * many; the others, once the device first says it is full, an equal share of what it held then (a device's
 * capacity is not in its configuration space: QEMU's built-in back-end answers a full table of 256 with ERR).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type Capabilities, EngineError, type SessionParams } from "../../engine/mod.ts";
import type { DeviceSessionRef } from "./control_link.ts";
import type { ControlQueue } from "./control.ts";
import { sessionSignature } from "./engine_options.ts";
import type { DeviceRuntime } from "./runtime.ts";
import { checkSession } from "./session_checks.ts";

const log = getLogger(["cryptobridge", "accel"]);

/** What the broker knows of a VM. */
export interface SessionOwner {
  readonly name: string;
  /** Its explicit share, or null for an equal one. */
  readonly quota: number | null;
  /** Its device sessions, by id. */
  readonly sessions: Map<bigint, SessionParams["service"]>;
}

/** The device's sessions, for every VM. */
export class SessionBroker {
  readonly #runtime: DeviceRuntime;
  readonly #owners: () => readonly SessionOwner[];
  readonly #mayRestart: () => boolean;
  readonly #accepted = new Set<string>();
  #capacity: number | null = null;

  /**
   * @param runtime The device's lifecycle (its control queue while ready).
   * @param owners Every attached VM.
   * @param mayRestart Whether every VM let go of its queue, so a failed device may be restarted now.
   */
  constructor(runtime: DeviceRuntime, owners: () => readonly SessionOwner[], mayRestart: () => boolean) {
    this.#runtime = runtime;
    this.#owners = owners;
    this.#mayRestart = mayRestart;
  }

  /** What the device held when it first said it was full, or null before that. */
  get capacity(): number | null {
    return this.#capacity;
  }

  /**
   * Creates a session on the device for a VM.
   *
   * @param vm The VM.
   * @param caps What the device serves.
   * @param params The parameters.
   * @returns The device session.
   * @throws EngineError `quota`, `unavailable` (down), `nospc` (full), or the device's refusal.
   */
  create(vm: SessionOwner, caps: Capabilities, params: SessionParams): DeviceSessionRef {
    checkSession(caps, params);
    const quota = this.quotaOf(vm);
    if (quota !== null && vm.sessions.size >= quota) {
      throw new EngineError("quota", `Cannot create session: VM ${vm.name} holds its share (${quota})`);
    }
    const control = this.readyControl();
    const key = sessionSignature(params);
    let id: bigint;
    try {
      id = control.create(params, key);
    } catch (e) {
      throw this.#refusal(e, key);
    }
    this.#accepted.add(key);
    vm.sessions.set(id, params.service);
    return { id, epoch: this.#runtime.epoch };
  }

  /**
   * A VM's share of the device's sessions.
   *
   * @param vm The VM.
   * @returns The most it may hold, or null: no limit but the device's.
   */
  quotaOf(vm: SessionOwner): number | null {
    if (vm.quota !== null) return vm.quota;
    const vms = this.#owners().length;
    if (this.#capacity === null || vms < 2) return null; // one VM: the device's own limit (nospc)
    return Math.max(1, Math.floor(this.#capacity / vms));
  }

  /**
   * The control queue of a running device, restarting a failed one first when allowed.
   *
   * @returns The control queue.
   * @throws EngineError `unavailable` while the device is down.
   */
  readyControl(): ControlQueue {
    const r = this.#runtime;
    if (r.state === "failed" && r.mayRestart && this.#mayRestart()) r.restart();
    const control = r.state === "ready" && r.checkHealth() ? r.control : null;
    if (control === null) {
      throw new EngineError("unavailable", `Cannot create session: ${r.lastFailure ?? "the device is down"}`);
    }
    return control;
  }

  #refusal(e: unknown, key: string): EngineError {
    if (e instanceof EngineError) {
      if (e.kind !== "invalid" || !this.#accepted.has(key)) return e;
      this.#capacity ??= this.#owners().reduce((n, v) => n + v.sessions.size, 0);
      return new EngineError("nospc", `${e.message}: taken as a full session table`, { cause: e });
    }
    const why = (e as Error).message;
    this.#runtime.fail(`control queue: ${why}`);
    return new EngineError("unavailable", `Cannot create session: ${why}`, { cause: e });
  }

  /**
   * Destroys a VM's device session (nothing to do when the device was reset since it was made).
   *
   * @param vm The VM.
   * @param service Its service.
   * @param ref The device session.
   */
  destroy(vm: SessionOwner, service: SessionParams["service"], ref: DeviceSessionRef): void {
    vm.sessions.delete(ref.id);
    const control = this.#runtime.control;
    if (ref.epoch !== this.#runtime.epoch || control === null) return; // the device forgot it
    try {
      const status = control.destroy(service, ref.id);
      if (status !== 0) log.warn("device session {id}: destroy answered {status}", { id: ref.id, status });
    } catch (e) {
      this.#runtime.fail(`control queue: ${(e as Error).message}`);
    }
  }
}
