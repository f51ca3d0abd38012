/**
 * `VfioGroup`: a VFIO group fd (`/dev/vfio/<n>`, or `/dev/vfio/noiommu-<n>` in no-IOMMU mode). A group can be
 * open only once system-wide (EBUSY). Only group ioctls are sent to this fd.
 *
 * @module
 */

import {
  O_RDWR,
  VFIO_GROUP_FLAGS_CONTAINER_SET,
  VFIO_GROUP_FLAGS_VIABLE,
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_GET_STATUS,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_GROUP_UNSET_CONTAINER,
} from "../../ffi/constants.ts";
import { VFIO_ARGSZ, VFIO_FLAGS, VfioGroupStatus } from "../../ffi/vfio_structs.ts";
import { Errno, ErrnoError, Fd, IoctlArg, ioctlArg, ioctlValue, openPathIfExists } from "../os/mod.ts";
import type { VfioContainer } from "./container.ts";
import { VfioDevice } from "./device.ts";
import { VfioError } from "./errors.ts";

/** VFIO_GROUP_GET_STATUS. */
export interface GroupStatus {
  /** Every function of the group is unbound or on a VFIO-compatible driver. */
  readonly viable: boolean;
  /** The group is attached to a container. */
  readonly containerSet: boolean;
}

/** A VFIO group. */
export class VfioGroup implements Disposable {
  /** Its path. */
  readonly path: string;
  readonly #fd: Fd;
  readonly #arg = new IoctlArg(64);
  #container: VfioContainer | null = null;

  private constructor(fd: Fd, path: string) {
    this.#fd = fd;
    this.path = path;
  }

  /**
   * Opens a group.
   *
   * @param path `/dev/vfio/<n>`.
   * @returns The group.
   * @throws VfioError `unavailable` when the node does not exist (the function is not bound to vfio-pci) or
   *   another process has the group open (EBUSY).
   */
  static open(path: string): VfioGroup {
    let fd: Fd | null;
    try {
      fd = openPathIfExists(path, O_RDWR);
    } catch (e) {
      if (e instanceof ErrnoError && e.errno === Errno.EBUSY) {
        throw new VfioError("unavailable", `Cannot open ${path}: another process has this VFIO group open`, {
          cause: e,
        });
      }
      throw e;
    }
    if (fd === null) {
      throw new VfioError(
        "unavailable",
        `Cannot open VFIO group ${path}: it does not exist: bind the function to vfio-pci first`,
      );
    }
    return new VfioGroup(fd, path);
  }

  /** VFIO_GROUP_GET_STATUS. */
  status(): GroupStatus {
    const v = this.#arg.reset(VfioGroupStatus.SIZE);
    v.setUint32(VFIO_ARGSZ, VfioGroupStatus.SIZE, true);
    ioctlArg(
      this.#fd.raw,
      VFIO_GROUP_GET_STATUS,
      this.#arg.bytes.subarray(0, VfioGroupStatus.SIZE),
      "VFIO_GROUP_GET_STATUS",
    );
    const flags = v.getUint32(VFIO_FLAGS, true);
    return {
      viable: (flags & VFIO_GROUP_FLAGS_VIABLE) !== 0,
      containerSet: (flags & VFIO_GROUP_FLAGS_CONTAINER_SET) !== 0,
    };
  }

  /**
   * VFIO_GROUP_SET_CONTAINER (its argument is a pointer to the container fd, not the fd by value).
   *
   * @param container The container.
   */
  setContainer(container: VfioContainer): void {
    const v = this.#arg.reset(4);
    v.setInt32(0, container.fd, true);
    ioctlArg(
      this.#fd.raw,
      VFIO_GROUP_SET_CONTAINER,
      this.#arg.bytes.subarray(0, 4),
      "VFIO_GROUP_SET_CONTAINER",
    );
    this.#container = container;
  }

  /** VFIO_GROUP_UNSET_CONTAINER, when set; idempotent. */
  unsetContainer(): void {
    if (this.#container === null || !this.#fd.isOpen) return;
    this.#container = null;
    ioctlValue(this.#fd.raw, VFIO_GROUP_UNSET_CONTAINER, 0, "VFIO_GROUP_UNSET_CONTAINER");
  }

  /**
   * VFIO_GROUP_GET_DEVICE_FD.
   *
   * @param name The device's name (its PCI address).
   * @returns The device.
   */
  openDevice(name: string): VfioDevice {
    const bytes = new TextEncoder().encode(`${name}\0`);
    const arg = new Uint8Array(new ArrayBuffer(bytes.length));
    arg.set(bytes);
    const fd = ioctlArg(this.#fd.raw, VFIO_GROUP_GET_DEVICE_FD, arg, "VFIO_GROUP_GET_DEVICE_FD");
    return new VfioDevice(new Fd(fd), name);
  }

  /** Detaches from the container and closes; idempotent. Close the group's devices first. */
  close(): void {
    try {
      this.unsetContainer();
    } finally {
      this.#fd.close();
    }
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
