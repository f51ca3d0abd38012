/**
 * Example: host administration as a library (mod.ts). Binds a virtio-crypto PCI function to vfio-pci, serves one VM
 * with it as the accelerator until SIGINT or SIGTERM (or `--seconds N`), and gives the function back to its original
 * driver in a `finally`: also when serving fails.
 *
 * Usage (as root; the function's IOMMU group must hold nothing else that is bound):
 *   deno run -A scripts/example_bind_serve.ts 0000:00:04.0 [--socket /run/cryptobridge/vm1.sock] [--seconds N]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { AdminError, bind, type BindOutcome, PciError, runDaemon, unbind } from "../mod.ts";

/** The calls the example makes to the host (the library's, unless a test records them). */
export interface HostAdmin {
  bind(bdf: string): BindOutcome;
  unbind(bdf: string): BindOutcome;
}

/** What to serve once bound. */
export interface ExampleOptions {
  readonly bdf: string;
  /** Serves with the bound function until it returns (or throws). */
  readonly serve: (bdf: string) => Promise<void>;
  readonly admin?: HostAdmin;
}

/**
 * Binds, serves, gives back: the function goes back to its original driver whatever `serve` does.
 *
 * @param o The function and how to serve it.
 * @returns What unbind did, or null when bind changed nothing (it was on vfio-pci already).
 * @throws AdminError, PciError from bind (nothing to give back then); whatever `serve` throws, after giving back.
 */
export async function bindServeGiveBack(o: ExampleOptions): Promise<BindOutcome | null> {
  const admin = o.admin ?? { bind: (bdf: string) => bind(bdf), unbind: (bdf: string) => unbind(bdf) };
  const bound = admin.bind(o.bdf);
  let back: BindOutcome | null = null;
  try {
    await o.serve(bound.bdf);
  } finally {
    if (bound.changed) {
      back = admin.unbind(bound.bdf);
      console.error(`gave ${back.bdf} back to ${back.to ?? "no driver"}`);
    }
  }
  return back;
}

/**
 * Serves one VM with the function as its accelerator until a signal or `seconds`.
 *
 * @param bdf The bound function.
 * @param socket The VM's socket.
 * @param seconds How long, or null: until SIGINT or SIGTERM.
 */
export async function serveUntilStopped(bdf: string, socket: string, seconds: number | null): Promise<void> {
  const daemon = runDaemon({ socket, device: bdf, engine: "accel" });
  const stop = (): void => void daemon.stop();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const timer = seconds === null ? undefined : setTimeout(stop, seconds * 1000);
  try {
    await daemon.ready;
    console.error(`serving ${socket} with ${bdf}`);
    await daemon.done;
  } finally {
    clearTimeout(timer);
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    await daemon.stop();
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { socket: { type: "string" }, seconds: { type: "string" } },
  });
  const bdf = positionals[0];
  if (bdf === undefined) {
    console.error("Usage: deno run -A scripts/example_bind_serve.ts BDF [--socket PATH] [--seconds N]");
    return 2;
  }
  const socket = values.socket ?? "/run/cryptobridge/vm1.sock";
  const seconds = values.seconds === undefined ? null : Number(values.seconds);
  try {
    await bindServeGiveBack({ bdf, serve: (b) => serveUntilStopped(b, socket, seconds) });
    return 0;
  } catch (e) {
    const what = e instanceof AdminError || e instanceof PciError ? "cannot bind" : "serving failed";
    console.error(`example: ${what}: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main());
