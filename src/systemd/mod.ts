/**
 * Running under systemd: the sd_notify(3) protocol (`READY=1`, `STOPPING=1`, `STATUS=`, `WATCHDOG=1`) over a
 * datagram socket. The unit file and its installer are in `packaging/` and `scripts/install_service.ts`
 * (docs/operations.md, "systemd").
 *
 * @example
 * ```ts ignore
 * import { Notifier, watchdogIntervalMs } from "./src/systemd/mod.ts";
 * const notifier = Notifier.fromEnvironment(); // null outside systemd
 * notifier?.ready("serving 2 VMs");
 * const every = watchdogIntervalMs();
 * if (notifier !== null && every !== null) setInterval(() => notifier.watchdog(), every);
 * ```
 *
 * @module
 */

export { type EnvReader, Notifier, notifyMessage, watchdogIntervalMs } from "./notify.ts";
