/**
 * A VM thread's QAT client's calls to the main thread: the memory table, a failure, having let go use the
 * virtio-crypto client's calls as they are (`callControl`, `answerCall`: same names, same wire forms); `restart`
 * is the QAT's own (sessions need no call: they are made on the VM's thread).
 *
 * @module
 */

import type { IncomingCall } from "../../threads/mod.ts";
import { answerCall, callControl, type VmControl } from "../virtio_pci/mod.ts";
import type { QatGrant, QatVmControl } from "./host_types.ts";

/**
 * The control of a QAT client in a VM's Worker: each call a synchronous call to the main thread.
 *
 * @param call Calls the main thread (`SyncCaller.call`).
 * @returns The control.
 */
export function qatCallControl(
  call: (method: string, params: unknown, blobs?: readonly Uint8Array[]) => unknown,
): QatVmControl {
  const shared = callControl(call);
  return {
    mapMemory: (regions) => shared.mapMemory(regions),
    reportFailure: (reason, epoch) => shared.reportFailure(reason, epoch),
    detached: (epoch) => shared.detached(epoch),
    restart: () => {
      try {
        return call("restart", null) as QatGrant | null;
      } catch {
        return null; // the main thread could not restart it: software, as while it is down
      }
    },
  };
}

function notForQat(method: string): never {
  throw new TypeError(`Unknown QAT accelerator call ${method}: sessions are made on the VM's thread`);
}

/**
 * Runs a QAT client's call on the main thread's control of that VM.
 *
 * @param control The VM's control.
 * @param call The call, from the VM's Worker.
 * @returns Its JSON result.
 * @throws What the control threw (it goes back to the Worker as the call's fault); TypeError for another call.
 */
export function answerQatCall(control: QatVmControl, call: IncomingCall): unknown {
  if (call.method === "restart") return control.restart();
  const shared: VmControl = {
    mapMemory: (regions) => control.mapMemory(regions),
    reportFailure: (reason, epoch) => control.reportFailure(reason, epoch),
    detached: (epoch) => control.detached(epoch),
    createSession: () => notForQat("createSession"),
    destroySession: () => notForQat("destroySession"),
    createShared: () => notForQat("createShared"),
    closeShared: () => notForQat("closeShared"),
  };
  return answerCall(shared, call);
}
