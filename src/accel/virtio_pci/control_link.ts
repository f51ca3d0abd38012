/**
 * What a VM's client of the accelerator asks of the main thread, which owns the device: sessions on the device's
 * one control queue (serialized: the main thread runs one call at a time), the VM's guest RAM in the IOMMU, and
 * failures it noticed. In one thread these are direct calls; from a VM's Worker they are synchronous calls
 * through shared memory (`src/threads/sync_call.ts`), with keys as blobs that are zeroed once read.
 *
 * @module
 */

import { type DmaRegion, EngineError, type EngineErrorKind, type SessionParams } from "../../engine/mod.ts";
import { type IncomingCall, SyncCallError } from "../../threads/mod.ts";
import type { IovaEntry } from "./guest_dma.ts";
import { paramsFromWire, paramsToWire, type ParamsWire } from "./session_wire.ts";

/** A device session, as the client keeps it. */
export interface DeviceSessionRef {
  readonly id: bigint;
  readonly epoch: number;
}

/** The main thread's services to one VM's client. */
export interface AccelControl {
  /**
   * Creates a device session.
   *
   * @throws EngineError `unavailable` (device down), `nospc`, `quota` (the VM's share is used up), `invalid`,
   *   `notsupp` (the device refused).
   */
  createSession(params: SessionParams): DeviceSessionRef;
  /** Destroys a device session of an epoch (nothing to do when the device was reset since). */
  destroySession(service: SessionParams["service"], ref: DeviceSessionRef): void;
  /** Maps the VM's memory table for DMA (replacing the previous one); returns what got mapped. */
  mapMemory(regions: readonly DmaRegion[]): IovaEntry[];
  /** The client saw the device fail (a request that timed out, a broken used ring). */
  reportFailure(reason: string, epoch: number): void;
  /** The client let go of its queue after the device went down in `epoch` (the device may restart). */
  detached(epoch: number): void;
}

/** What a VM on a shared queue asks of the main thread, besides its memory table. */
export interface SharedControl {
  /** Creates a session at the shared queue's thread (and on the device); returns its handle. */
  createShared(params: SessionParams): number;
  /** Closes a shared session. */
  closeShared(handle: number): void;
  /** Maps the VM's memory table for DMA; returns what got mapped. */
  mapMemory(regions: readonly DmaRegion[]): IovaEntry[];
}

/** Both controls: what the main thread answers a VM's calls with. */
export type VmControl = AccelControl & SharedControl;

const ENGINE_KINDS: readonly EngineErrorKind[] = ["notsupp", "invalid", "nospc", "unavailable", "quota"];

function engineErrorOf(e: unknown): never {
  if (e instanceof SyncCallError && e.fault?.name === "EngineError") {
    const kind = e.fault.kind as EngineErrorKind;
    throw new EngineError(ENGINE_KINDS.includes(kind) ? kind : "unavailable", e.fault.message);
  }
  throw new EngineError("unavailable", `Cannot reach the accelerator: ${(e as Error).message}`, { cause: e });
}

/**
 * The control of a client in a VM's Worker: each call a synchronous call to the main thread.
 *
 * @param call Calls the main thread (`SyncCaller.call`).
 * @returns The control.
 */
export function callControl(
  call: (method: string, params: unknown, blobs?: readonly Uint8Array[]) => unknown,
): VmControl {
  const invoke = (method: string, params: unknown, blobs?: readonly Uint8Array[]): unknown => {
    try {
      return call(method, params, blobs);
    } catch (e) {
      return engineErrorOf(e);
    }
  };
  return {
    createSession(params): DeviceSessionRef {
      const { wire, blobs } = paramsToWire(params);
      const r = invoke("createSession", wire, blobs) as { id: string; epoch: number };
      return { id: BigInt(r.id), epoch: r.epoch };
    },
    destroySession(service, ref): void {
      invoke("destroySession", { service, id: ref.id.toString(), epoch: ref.epoch });
    },
    mapMemory(regions): IovaEntry[] {
      const wire = regions.map((r) => ({ gpa: r.gpa, size: r.size, address: r.address.toString() }));
      return invoke("mapMemory", wire) as IovaEntry[];
    },
    reportFailure(reason, epoch): void {
      invoke("reportFailure", { reason, epoch });
    },
    detached(epoch): void {
      invoke("detached", { epoch });
    },
    createShared(params): number {
      const { wire, blobs } = paramsToWire(params);
      return invoke("createShared", wire, blobs) as number;
    },
    closeShared(handle): void {
      invoke("closeShared", { handle });
    },
  };
}

/**
 * Runs a client's call on the main thread's control of that VM.
 *
 * @param control The VM's control (direct).
 * @param call The call, from the VM's Worker.
 * @returns Its JSON result.
 * @throws What the control threw (it goes back to the Worker as the call's fault).
 */
export function answerCall(control: VmControl, call: IncomingCall): unknown {
  const p = call.params as Record<string, unknown>;
  switch (call.method) {
    case "createSession": {
      const ref = control.createSession(paramsFromWire(p as ParamsWire, call.blobs));
      return { id: ref.id.toString(), epoch: ref.epoch };
    }
    case "destroySession":
      control.destroySession(p["service"] as SessionParams["service"], {
        id: BigInt(p["id"] as string),
        epoch: p["epoch"] as number,
      });
      return null;
    case "mapMemory": {
      const regions = (call.params as { gpa: number; size: number; address: string }[]).map((r) => ({
        gpa: r.gpa,
        size: r.size,
        address: BigInt(r.address),
      }));
      return control.mapMemory(regions);
    }
    case "reportFailure":
      control.reportFailure(p["reason"] as string, p["epoch"] as number);
      return null;
    case "detached":
      control.detached(p["epoch"] as number);
      return null;
    case "createShared":
      return control.createShared(paramsFromWire(p as ParamsWire, call.blobs));
    case "closeShared":
      control.closeShared(p["handle"] as number);
      return null;
    default:
      throw new TypeError(`Unknown accelerator call ${call.method}`);
  }
}
