/**
 * A VM as the daemon serves it: its settings (`config.ts`), its device on a reactor (`VmService`), its own Worker
 * thread (`vm_worker.ts`, started and watched from the main thread by `VmThread`), and what the two threads say
 * to each other (`messages.ts`).
 *
 * @module
 */

export {
  checkUnique,
  ConfigError,
  describe,
  FieldReader,
  parseVmConfig,
  VM_DEFAULTS,
  type VmConfig,
  vmsFromSockets,
} from "./config.ts";
export { type ServingMode, VmService, type VmServiceOptions, type VmSnapshot } from "./vm_service.ts";
export { type VmAccelLink, VmThread, type VmThreadOptions } from "./vm_thread.ts";
export type { VmCommand, VmEvent, WorkerInit } from "./messages.ts";
