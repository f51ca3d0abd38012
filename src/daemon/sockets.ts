/**
 * Binding the VMs' sockets all together or not at all, before anything is served (issue 10 item 6).
 *
 * @module
 */

import { UnixListener } from "../os/mod.ts";
import type { VmConfig } from "../vm/config.ts";

/**
 * Binds every VM's socket, or none: a path in use (or unsafe) is refused before any socket is bound.
 *
 * @param vms The VMs.
 * @returns One listener per VM, in order.
 * @throws UnixSocketError naming the path.
 */
export function bindSockets(vms: readonly VmConfig[]): UnixListener[] {
  const listeners: UnixListener[] = [];
  try {
    for (const vm of vms) UnixListener.check(vm.socket, vm.owner);
    for (const vm of vms) {
      listeners.push(UnixListener.listen(vm.socket, { mode: vm.mode, owner: vm.owner, group: vm.group }));
    }
    return listeners;
  } catch (e) {
    for (const l of listeners) l.close();
    throw e;
  }
}
