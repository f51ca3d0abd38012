/**
 * How the thread that drives a data queue tells the device about new buffers, without the transport object (which
 * lives on the main thread): a plain description that crosses threads, and the function it opens to.
 *
 * - `mmio`: the queue's notification register, a 16-bit store of the queue index at a host address inside the
 *   mapped BAR (VIRTIO v1.2 §4.1.5.2). The address is the process's, so any thread can store there; the register
 *   is re-wrapped as a one-element `Uint16Array`, never a DataView (vfio-ffi.md finding 5: one store, not two).
 * - `eventfd`: a write to an eventfd that the device watches (the device model of the host tests).
 * - `local`: a function in this thread (the single-thread engine; never crosses a thread).
 *
 * @module
 */

import { EventFd, Fd } from "../../os/mod.ts";

/** A queue's doorbell, as it crosses threads. */
export type DoorbellTicket =
  | { readonly kind: "mmio"; readonly address: string; readonly value: number }
  | { readonly kind: "eventfd"; readonly fd: number }
  | { readonly kind: "local"; readonly ring: () => void };

/**
 * The notification function of a doorbell.
 *
 * @param ticket The doorbell.
 * @returns Rings it.
 */
export function openDoorbell(ticket: DoorbellTicket): () => void {
  switch (ticket.kind) {
    case "local":
      return ticket.ring;
    case "eventfd": {
      const event = new EventFd(Fd.borrow(ticket.fd)); // borrowed: the device's owner closes it
      return () => event.signal();
    }
    case "mmio": {
      const pointer = Deno.UnsafePointer.create(BigInt(ticket.address));
      if (pointer === null) throw new RangeError("Cannot open a doorbell at address 0");
      // UNSAFE: the BAR mapping lives as long as the device is open, which outlives every queue of it.
      const register = new Uint16Array(Deno.UnsafePointerView.getArrayBuffer(pointer, 2));
      const value = ticket.value;
      return () => {
        register[0] = value;
      };
    }
  }
}
