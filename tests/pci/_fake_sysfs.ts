/**
 * A fake sysfs for the PCI tests: a real directory tree in a temporary folder laid out like /sys (read by the real
 * `Sysfs`, through libc), and `FakeKernel`, the one mock: a `SysfsAccess` whose writes play the kernel's reactions
 * (a temporary tree cannot unbind a driver), with scripted failures.
 *
 * @module
 */

import { ErrnoError, Sysfs, type SysfsAccess } from "../../src/os/mod.ts";

/** One PCI function of the fake tree. */
export interface FakeFunction {
  readonly bdf: string;
  readonly vendor: number;
  readonly device: number;
  readonly classCode: number;
  readonly driver?: string;
  readonly group?: number;
  readonly numa?: number;
}

/** The fake machine. */
export interface FakeMachine {
  readonly functions: readonly FakeFunction[];
  /** Whether /sys/class/iommu has an entry. Default true. */
  readonly iommu?: boolean;
  /** Loaded modules (`vfio_pci`, …); their drivers exist in bus/pci/drivers. Default vfio_pci. */
  readonly modules?: readonly string[];
}

const hex = (n: number, digits: number): string => `0x${n.toString(16).padStart(digits, "0")}`;

/** The usual test machine: the virtio-crypto function alone in group 4, and a chipset group 5 of three functions. */
export const TEST_MACHINE: FakeMachine = {
  functions: [
    { bdf: "0000:00:00.0", vendor: 0x8086, device: 0x29c0, classCode: 0x060000, group: 0 },
    {
      bdf: "0000:00:04.0",
      vendor: 0x1af4,
      device: 0x1054,
      classCode: 0x00ff00,
      driver: "virtio-pci",
      group: 4,
    },
    { bdf: "0000:00:1f.0", vendor: 0x8086, device: 0x2918, classCode: 0x060100, driver: "lpc_ich", group: 5 },
    { bdf: "0000:00:1f.2", vendor: 0x8086, device: 0x2922, classCode: 0x010601, driver: "ahci", group: 5 },
    {
      bdf: "0000:00:1f.3",
      vendor: 0x8086,
      device: 0x2930,
      classCode: 0x0c0500,
      driver: "i801_smbus",
      group: 5,
    },
    { bdf: "0000:3d:00.0", vendor: 0x8086, device: 0x4941, classCode: 0x0b4000, group: 7, numa: 1 },
  ],
};

/**
 * Builds the tree: `bus/pci/devices/<bdf>/{vendor,device,class,numa_node,driver_override}`, the `driver` and
 * `iommu_group` links, `kernel/iommu_groups/<n>/devices/<bdf>`, `bus/pci/drivers/<name>/`, `bus/pci/drivers_probe`,
 * `class/iommu/dmar0`, `module/<name>/`.
 *
 * @param machine What to build.
 * @returns The root directory (remove it after the test).
 */
export function buildFakeSysfs(machine: FakeMachine = TEST_MACHINE): string {
  const root = Deno.makeTempDirSync({ prefix: "fake-sysfs-" });
  const mkdir = (p: string): void => Deno.mkdirSync(`${root}/${p}`, { recursive: true });
  mkdir("bus/pci/devices");
  mkdir("class/iommu");
  Deno.writeTextFileSync(`${root}/bus/pci/drivers_probe`, "");
  if (machine.iommu ?? true) mkdir("class/iommu/dmar0");
  mkdir("module/vfio/parameters");
  Deno.writeTextFileSync(`${root}/module/vfio/parameters/enable_unsafe_noiommu_mode`, "N\n");
  for (const m of machine.modules ?? ["vfio_pci"]) {
    mkdir(`module/${m}`);
    mkdir(`bus/pci/drivers/${m === "vfio_pci" ? "vfio-pci" : m}`);
  }
  for (const fn of machine.functions) addFunction(root, fn);
  return root;
}

function addFunction(root: string, fn: FakeFunction): void {
  const dir = `${root}/bus/pci/devices/${fn.bdf}`;
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(`${dir}/vendor`, `${hex(fn.vendor, 4)}\n`);
  Deno.writeTextFileSync(`${dir}/device`, `${hex(fn.device, 4)}\n`);
  Deno.writeTextFileSync(`${dir}/class`, `${hex(fn.classCode, 6)}\n`);
  Deno.writeTextFileSync(`${dir}/numa_node`, `${fn.numa ?? -1}\n`);
  Deno.writeTextFileSync(`${dir}/driver_override`, "(null)\n");
  if (fn.driver !== undefined) {
    Deno.mkdirSync(`${root}/bus/pci/drivers/${fn.driver}`, { recursive: true });
    Deno.symlinkSync(`../../../../bus/pci/drivers/${fn.driver}`, `${dir}/driver`);
  }
  if (fn.group !== undefined) {
    const group = `${root}/kernel/iommu_groups/${fn.group}/devices`;
    Deno.mkdirSync(group, { recursive: true });
    Deno.symlinkSync(`../../../../bus/pci/devices/${fn.bdf}`, `${group}/${fn.bdf}`);
    Deno.symlinkSync(`../../../../kernel/iommu_groups/${fn.group}`, `${dir}/iommu_group`);
  }
}

/** A write the fake kernel saw. */
export interface SeenWrite {
  readonly path: string;
  readonly value: string;
}

/** Scripted misbehaviour. */
export interface FakeKernelOptions {
  /** Drivers whose probe fails: `drivers_probe` succeeds but leaves the function unbound, as a failing probe does. */
  readonly failingProbes?: readonly string[];
  /** Writes that fail with an errno (by path), like a sysfs store returning an error. */
  readonly failingWrites?: ReadonlyMap<string, number>;
  /** Writes to `drivers_probe` that return an errno although the probe binds (dpdk-devbind's spurious error). */
  readonly spuriousProbeErrno?: number;
  /** The driver the kernel picks for a function when no override is set (its id table match). */
  readonly defaultDrivers?: Readonly<Record<string, string>>;
}

/** sysfs with the kernel's reactions to writes played on the fake tree. */
export class FakeKernel implements SysfsAccess {
  readonly root: string;
  readonly writes: SeenWrite[] = [];
  readonly #sysfs: Sysfs;
  readonly #options: FakeKernelOptions;

  constructor(root: string, options: FakeKernelOptions = {}) {
    this.root = root;
    this.#sysfs = new Sysfs(root);
    this.#options = options;
  }

  readText(path: string): string | null {
    return this.#sysfs.readText(path);
  }

  readlink(path: string): string | null {
    return this.#sysfs.readlink(path);
  }

  list(path: string): string[] {
    return this.#sysfs.list(path);
  }

  exists(path: string): boolean {
    return this.#sysfs.exists(path);
  }

  /** The fake `modprobe`: registers the module and its driver. */
  loadModule = (name: string): void => {
    this.writes.push({ path: "(modprobe)", value: name });
    Deno.mkdirSync(`${this.root}/module/${name.replaceAll("-", "_")}`, { recursive: true });
    Deno.mkdirSync(`${this.root}/bus/pci/drivers/${name}`, { recursive: true });
  };

  write(path: string, text: string): void {
    this.writes.push({ path, value: text });
    const errno = this.#options.failingWrites?.get(path);
    if (errno !== undefined) throw new ErrnoError(errno, "write", `${this.root}/${path}`);
    let m: RegExpMatchArray | null;
    if ((m = path.match(/^bus\/pci\/devices\/([^/]+)\/driver_override$/)) !== null) {
      this.#override(m[1]!, text);
    } else if ((m = path.match(/^bus\/pci\/devices\/([^/]+)\/driver\/unbind$/)) !== null) {
      this.#unbind(m[1]!, text);
    } else if (path === "bus/pci/drivers_probe") this.#probe(text);
    else if (path === "module/vfio/parameters/enable_unsafe_noiommu_mode") this.#set(path, "Y");
    else this.#set(path, text);
  }

  #set(path: string, text: string): void {
    Deno.writeTextFileSync(`${this.root}/${path}`, text);
  }

  #override(bdf: string, text: string): void {
    const value = text.replace(/\n.*$/s, "").replace(/\0.*$/s, "");
    this.#set(`bus/pci/devices/${bdf}/driver_override`, `${value === "" ? "(null)" : value}\n`);
  }

  #unbind(bdf: string, text: string): void {
    const link = `${this.root}/bus/pci/devices/${bdf}/driver`;
    if (text !== bdf || this.readlink(`bus/pci/devices/${bdf}/driver`) === null) {
      throw new ErrnoError(2, "write", link);
    }
    Deno.removeSync(link);
  }

  #probe(bdf: string): void {
    const dir = `bus/pci/devices/${bdf}`;
    if (this.readlink(`${dir}/driver`) !== null) return;
    const override = this.readText(`${dir}/driver_override`);
    const driver = override !== null && override !== "(null)"
      ? override
      : this.#options.defaultDrivers?.[bdf];
    const binds = driver !== undefined && this.exists(`bus/pci/drivers/${driver}`) &&
      !(this.#options.failingProbes ?? []).includes(driver);
    if (binds) Deno.symlinkSync(`../../../../bus/pci/drivers/${driver}`, `${this.root}/${dir}/driver`);
    const spurious = this.#options.spuriousProbeErrno;
    if (spurious !== undefined) throw new ErrnoError(spurious, "write", `${this.root}/bus/pci/drivers_probe`);
  }
}
