/**
 * The daemon's VMs while it runs: adding one (its settings checked, its socket bound, its thread started) and
 * removing one (its front-end dropped, its sessions closed and keys zeroed by its thread's stop, its socket file
 * removed), the others untouched. What the control socket's `vm.add` and `vm.remove` do.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { UnixListener } from "../os/mod.ts";
import { checkUnique, parseVmConfig, type VmConfig } from "../vm/config.ts";
import type { VmSnapshot } from "../vm/vm_service.ts";
import type { HostedVm } from "./hosted_vm.ts";

const log = getLogger(["cryptobridge", "daemon"]);

/** Why a VM cannot be added or removed now. */
export type RosterErrorKind = "not-found" | "exists" | "stopping" | "busy";

/** A VM cannot be added or removed (the daemon's settings are fine: the request is not). */
export class RosterError extends Error {
  /** Always `RosterError`. */
  override name = "RosterError";
  /** Why. */
  readonly kind: RosterErrorKind;

  /**
   * @param kind Why.
   * @param message What happened and what to do.
   */
  constructor(kind: RosterErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** Starts a VM on its bound socket (the daemon's placement: a Worker, or inline). */
export type VmHoster = (config: VmConfig, listener: UnixListener) => Promise<HostedVm>;

/** The VMs being served, and the ones being added or removed. */
export class VmRoster {
  /** The VMs, in the order they were added. */
  readonly hosted: HostedVm[];
  readonly #host: VmHoster;
  readonly #busy = new Set<string>();
  #stopping = false;

  /**
   * @param hosted The VMs the daemon started with (filled as they start).
   * @param host How a new VM is started.
   */
  constructor(hosted: HostedVm[], host: VmHoster) {
    this.hosted = hosted;
    this.#host = host;
  }

  /** No more adds or removes (the daemon is stopping). */
  close(): void {
    this.#stopping = true;
  }

  /**
   * Serves one more VM.
   *
   * @param entry Its settings, as a configuration file's `vms` entry (docs/config.md).
   * @returns The VM, serving.
   * @throws ConfigError naming the bad field (a taken name or socket included); UnixSocketError for its socket;
   *   RosterError `stopping`, `busy`.
   */
  async add(entry: unknown): Promise<HostedVm> {
    if (this.#stopping) throw new RosterError("stopping", "Cannot add a VM: the daemon is stopping");
    const config = parseVmConfig(entry, "vm");
    const taken = [...this.hosted.map((h) => h.config)];
    checkUnique([...taken, config], "vms");
    if (this.#busy.has(config.name) || this.#busy.has(config.socket)) {
      throw new RosterError("busy", `Cannot add VM ${config.name}: it is being added or removed`);
    }
    this.#busy.add(config.name).add(config.socket);
    try {
      UnixListener.check(config.socket);
      const listener = UnixListener.listen(config.socket, {
        mode: config.mode,
        owner: config.owner,
        group: config.group,
      });
      let vm: HostedVm;
      try {
        vm = await this.#host(config, listener);
      } catch (e) {
        listener.close();
        throw e;
      }
      this.hosted.push(vm);
      log.info("VM {vm} added on {socket}", { vm: config.name, socket: config.socket });
      return vm;
    } finally {
      this.#busy.delete(config.name);
      this.#busy.delete(config.socket);
    }
  }

  /**
   * Stops serving one VM: its front-end dropped, its sessions closed (keys zeroed), its socket file removed.
   *
   * @param name The VM.
   * @returns Its last snapshot, or null when its thread had died.
   * @throws RosterError `not-found`, `stopping`, `busy`.
   */
  async remove(name: string): Promise<VmSnapshot | null> {
    if (this.#stopping) throw new RosterError("stopping", "Cannot remove a VM: the daemon is stopping");
    const vm = this.hosted.find((h) => h.config.name === name);
    if (vm === undefined) {
      const names = this.hosted.map((h) => h.config.name).join(", ") || "none";
      throw new RosterError("not-found", `No VM named "${name}": the daemon serves ${names}`);
    }
    if (this.#busy.has(name)) throw new RosterError("busy", `Cannot remove VM ${name}: it is being removed`);
    this.#busy.add(name);
    try {
      const last = await vm.stop();
      vm.listener.close();
      this.hosted.splice(this.hosted.indexOf(vm), 1);
      log.info("VM {vm} removed: its front-end dropped, its sessions closed", { vm: name });
      return last;
    } finally {
      this.#busy.delete(name);
    }
  }
}
