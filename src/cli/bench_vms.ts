/**
 * `cryptobridge bench` on several VMs at once (`--socket` more than once, or `--vms N` for its own serve): one
 * front-end per socket, all running the same cases at the same time, in one reactor on this thread that blocks in
 * `epoll_wait` (event completions: no thread hop per wake-up on the generator's side either). Results per VM and
 * in total, so a VM's figures can be read against the others'.
 *
 * @module
 */

import { Reactor } from "../os/mod.ts";
import { type BenchCaseResult, type BenchConfig, runBench } from "./bench_run.ts";

/** One VM's results. */
export interface VmResults {
  readonly socket: string;
  readonly results: readonly BenchCaseResult[];
}

/**
 * Runs `config`'s cases on every socket at once.
 *
 * @param config The cases (its `socket` is replaced per VM).
 * @param sockets The VMs' sockets.
 * @returns Each VM's results, in socket order.
 */
export async function runOnSockets(config: BenchConfig, sockets: readonly string[]): Promise<VmResults[]> {
  const reactor = config.completion === "event" ? new Reactor({ wait: "thread" }) : null;
  const running = reactor?.run();
  try {
    const shared = reactor === null ? {} : { reactor };
    const all = await Promise.all(
      sockets.map((socket, i) =>
        runBench(
          { ...config, ...shared, socket, ...(i === 0 ? {} : { onProgress: undefined }) } as BenchConfig,
        )
      ),
    );
    return all.map((results, i) => ({ socket: sockets[i]!, results }));
  } finally {
    reactor?.stop();
    await running;
    reactor?.close();
  }
}

/**
 * The cases summed over VMs: operations and bytes per second added, requests added, the worst p99 and max.
 *
 * @param vms Each VM's results (same cases in the same order).
 * @returns One result per case.
 */
export function totals(vms: readonly VmResults[]): BenchCaseResult[] {
  const first = vms[0]?.results ?? [];
  return first.map((c, i) => {
    const each = vms.map((v) => v.results[i]!).filter((r) => r.status === "ok");
    if (each.length < vms.length || c.status !== "ok") return c;
    const sum = (f: (r: BenchCaseResult) => number | undefined): number =>
      each.reduce((n, r) => n + (f(r) ?? 0), 0);
    const worst = (f: (r: BenchCaseResult) => number | undefined): number =>
      Math.max(...each.map((r) => f(r) ?? 0));
    return {
      ...c,
      requests: sum((r) => r.requests),
      opsPerSec: sum((r) => r.opsPerSec),
      bytesPerSec: sum((r) => r.bytesPerSec),
      verified: sum((r) => r.verified),
      latencyUs: {
        ...c.latencyUs!,
        p99Us: worst((r) => r.latencyUs?.p99Us),
        maxUs: worst((r) => r.latencyUs?.maxUs),
      },
    };
  });
}
