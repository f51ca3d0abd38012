/**
 * `bench --peer`: the flags a known vhost-user crypto back-end needs to be driven as it is, with no change on its
 * side. DPDK's vhost_crypto takes only indirect chains, writes each used element at the ring slot numbered by the
 * request's head (right only when heads are handed out in avail order), has no control queue, starts serving
 * only after VHOST_USER_SET_VRING_ENABLE (which QEMU never sends for crypto), and copies each request into one
 * mbuf of RTE_MBUF_DEFAULT_BUF_SIZE (2048 + 128 bytes), so larger payloads are refused and never completed.
 * DPDK 22.11 (Debian 12) parses QEMU <= 7.0's message 26 layout (A), 26.07 QEMU >= 8.1's (C).
 *
 * @module
 */

import type { VhostSessionLayout } from "../crypto/mod.ts";
import type { HeadOrder } from "../frontend/mod.ts";
import { UsageError } from "./errors.ts";

/** The back-ends `--peer` knows (`dpdk` is `dpdk-22.11`, Debian 12's). */
export const BENCH_PEERS = ["dpdk", "dpdk-22.11", "dpdk-26.07"] as const;

/** A `--peer` value, with `dpdk` resolved to its version. */
export type BenchPeer = "dpdk-22.11" | "dpdk-26.07";

/** What a `--peer` implies; each field is overridden by its own flag when that flag is given too. */
export interface PeerPreset {
  readonly peer: BenchPeer;
  readonly indirect: boolean;
  readonly heads: HeadOrder;
  readonly vringEnable: boolean;
  readonly controlQueue: boolean;
  readonly sessionLayout: VhostSessionLayout;
  /** Largest payload per request the peer takes; larger sizes are skipped, not sent. */
  readonly maxSize: number;
}

/** DPDK's vhost_crypto copies a request into one mbuf of RTE_MBUF_DEFAULT_BUF_SIZE bytes (2048 + headroom 128). */
export const DPDK_MAX_SIZE = 2176;

/**
 * The preset of a `--peer` value.
 *
 * @param value What was typed.
 * @returns The flags it implies.
 * @throws UsageError for an unknown peer.
 */
export function peerPreset(value: string): PeerPreset {
  const v = value.toLowerCase();
  if (v !== "dpdk" && v !== "dpdk-22.11" && v !== "dpdk-26.07") {
    throw new UsageError(
      `--peer must be ${BENCH_PEERS.join(", ")} (dpdk is 22.11, Debian 12's): current value is ${value}`,
    );
  }
  const peer: BenchPeer = v === "dpdk-26.07" ? "dpdk-26.07" : "dpdk-22.11";
  return {
    peer,
    indirect: true,
    heads: "avail-order",
    vringEnable: true,
    controlQueue: false,
    sessionLayout: peer === "dpdk-26.07" ? "C" : "A",
    maxSize: DPDK_MAX_SIZE,
  };
}
