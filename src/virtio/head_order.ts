/**
 * `HeadOrder`: how a `DriverQueue` picks the head descriptor of each chain it adds.
 *
 * @module
 */

/**
 * `free-list`: the most recently freed descriptor (as Linux's virtio_ring does). `avail-order`: descriptor
 * `availIdx mod size`, so a request's head id equals its avail ring position (indirect chains only, one
 * descriptor per request). A device that writes each used element at the slot numbered by its head rather than
 * at `used.idx` (DPDK's vhost_crypto) is only right with `avail-order` and in-order completion.
 */
export type HeadOrder = "free-list" | "avail-order";
