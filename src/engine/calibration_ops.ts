/**
 * What the start-up calibration runs for one algorithm: its session parameters and operations with buffers of a
 * given size, built from what the accelerator advertises. The contents are fixed filler (nothing secret is
 * measured); encryption direction, 16-byte digests and tags, 12-byte AEAD nonces and 16-byte cipher IVs, which
 * every algorithm the accelerators here claim accepts (a refusal makes the measurement fail, and the algorithm
 * stays accelerator-first).
 *
 * @module
 */

import type { AlgorithmInfo, Capabilities, SessionParams } from "./engine.ts";
import { CryptoOp } from "./engine.ts";
import { allocHostMemory } from "./host_memory.ts";

/** The services the calibration measures (chains and asymmetric keys are not: accelerator first). */
export type CalibratedService = "cipher" | "hash" | "mac" | "aead";

/** One algorithm the accelerator advertises. */
export interface CalibrationTarget {
  readonly service: CalibratedService;
  /** The specification's algorithm id. */
  readonly algo: number;
  /** Its readable name (the accelerator's table). */
  readonly name: string;
  /** The session both engines get. */
  readonly params: SessionParams;
}

const DIGEST = 16;
const SERVICES: readonly CalibratedService[] = ["cipher", "hash", "mac", "aead"];

/**
 * Every algorithm of the accelerator's single-algorithm services, with its calibration session.
 *
 * @param caps The accelerator's capabilities.
 * @returns The targets, by service then id.
 */
export function calibrationTargets(caps: Capabilities): CalibrationTarget[] {
  const targets: CalibrationTarget[] = [];
  for (const service of SERVICES) {
    for (const [algo, info] of caps[service]) {
      targets.push({ service, algo, name: info.name, params: paramsOf(service, algo, info) });
    }
  }
  return targets;
}

function paramsOf(service: CalibratedService, algo: number, info: AlgorithmInfo): SessionParams {
  switch (service) {
    case "cipher":
      return { service, algo, key: keyOf(info, 16), direction: 1 };
    case "hash":
      return { service, algo, resultLen: DIGEST };
    case "mac":
      return { service, algo, resultLen: DIGEST, key: keyOf(info, 32) };
    case "aead":
      return { service, algo, key: keyOf(info, 16), tagLen: DIGEST, aadLen: 0, direction: 1 };
  }
}

// The preferred key length when advertised, else the first non-empty one.
function keyOf(info: AlgorithmInfo, preferred: number): Uint8Array {
  const lengths = info.keyLengths;
  const len = lengths.includes(preferred) ? preferred : lengths.find((n) => n > 0) ?? preferred;
  return new Uint8Array(len).fill(0x5a);
}

/**
 * An operation of `size` source bytes for a target, with its own buffers (the caller sets its session).
 *
 * @param target The algorithm.
 * @param size Source bytes (> 0).
 * @returns The operation.
 */
export function calibrationOp(target: CalibrationTarget, size: number): CryptoOp {
  const op = new CryptoOp(1);
  const src = allocHostMemory(size);
  src.bytes.fill(0xa5);
  op.src.push(src, 0, size);
  const service = target.service;
  if (service === "cipher" || service === "aead") {
    const ivLen = service === "aead" ? 12 : 16;
    op.iv.push(allocHostMemory(ivLen), 0, ivLen);
    op.dst.push(allocHostMemory(size), 0, size);
  }
  if (service !== "cipher") op.digest.push(allocHostMemory(DIGEST), 0, DIGEST);
  return op;
}
