/**
 * What `cryptobridge serve` prints: the QEMU options that attach a VM, and the counters when it stops.
 *
 * @module
 */

import type { HostStats, VirtioPciStats } from "../accel/virtio_pci/mod.ts";
import type { DaemonStats } from "../daemon/daemon.ts";
import type { VmSnapshot } from "../vm/mod.ts";

/**
 * The QEMU options that attach a VM to a socket (README, "Attach a VM").
 *
 * @param socket The socket path.
 * @param queues Data queues.
 * @returns The options, one per line.
 */
export function qemuOptions(socket: string, queues: number): string {
  const q = queues > 1 ? `,queues=${queues}` : "";
  return [
    "-object memory-backend-memfd,id=mem,size=2G,share=on -numa node,memdev=mem",
    `-chardev socket,id=vu0,path=${socket}`,
    `-object cryptodev-vhost-user,id=cd0,chardev=vu0${q}`,
    "-device virtio-crypto-pci,id=crypto0,cryptodev=cd0",
  ].join(" \\\n  ");
}

/**
 * The counters as printed when serve stops: one line each for requests, the paths, the fallbacks and the routing
 * policy's choices.
 *
 * @param stats The daemon's counters.
 * @returns The text.
 */
export function formatStats(stats: DaemonStats): string {
  const d = stats.device;
  const lines = [
    `requests: ${d["requests"]} (ok ${d["ok"]}, err ${d["err"]}, badmsg ${d["badmsg"]}, ` +
    `notsupp ${d["notsupp"]}, invsess ${d["invsess"]}, nospc ${d["nospc"]}), ${d["bytes"]} bytes out`,
  ];
  const r = stats.router;
  if (r !== null) {
    const f = r.fallbacks;
    lines.push(
      `served by the accelerator: ${r.accelRequests} requests, ${r.accelSessions} sessions; ` +
        `in software: ${r.softwareRequests} requests`,
      `to software: not advertised ${f["not-advertised"]}, refused ${f.refused}, no space ${f.nospc}, ` +
        `accelerator unavailable ${f.unavailable} (sessions); accelerator failed ${f.failed} (requests re-run)`,
      `route ${r.policy}: software faster ${f["software-faster"]} (requests), ` +
        `policy software ${f["policy-software"]} (sessions)`,
    );
  }
  if (stats.accelerator !== null) lines.push(formatAccelerator(stats.accelerator));
  return lines.join("\n");
}

/**
 * The accelerator's line of the counters: its state, failures and what it refused when probed.
 *
 * @param a Its counters.
 * @returns The line.
 */
export function formatAccelerator(a: VirtioPciStats): string {
  const last = a.lastFailure === null ? "" : ` (last: ${a.lastFailure})`;
  const refused = a.refused.length > 0 ? `, refused when probed: ${a.refused.join(", ")}` : "";
  return `accelerator: ${a.state}, ${a.failures} failures${last}${refused}`;
}

/**
 * The shared accelerator's line when serve stops: state, failures, what it refused, and each VM's queue.
 *
 * @param h The host's counters.
 * @returns The text.
 */
export function formatSharedAccelerator(h: HostStats): string {
  const last = h.lastFailure === null ? "" : ` (last: ${h.lastFailure})`;
  const refused = h.refused.length > 0 ? `, refused when probed: ${h.refused.join(", ")}` : "";
  const queues = h.vms.map((v) => `${v.name}: ${v.queue === null ? "no queue" : `queue ${v.queue}`}`).join(
    ", ",
  );
  return `accelerator: ${h.state}, epoch ${h.epoch}, ${h.failures} failures${last}${refused}; ${queues}`;
}

/**
 * One VM's counters as printed when serve stops: its name, then `formatStats` indented.
 *
 * @param vm The VM's last snapshot.
 * @returns The text.
 */
export function formatVmStats(vm: VmSnapshot): string {
  const body = formatStats({ device: vm.device, router: vm.router, accelerator: null });
  const head = `${vm.name} (${vm.socket}): ${vm.connections} front-end connections`;
  return [head, ...body.split("\n").map((l) => `  ${l}`)].join("\n");
}
