/**
 * What the self-test runs: one row per algorithm the accelerator advertises, plus the algorithms every
 * accelerator driver here is expected to serve (AES-CBC, AES-CTR, SHA-256, HMAC-SHA-256, AES-GCM, and
 * AES-CBC + HMAC-SHA-256 chained), listed as skipped when the device does not advertise them, so a report shows
 * what was not tested as plainly as what was.
 *
 * @module
 */

import { type AlgorithmInfo, type Capabilities, supports } from "../engine/mod.ts";
import { AeadAlgo, AlgChainOrder, CipherAlgo, HashAlgo, MacAlgo } from "../spec/virtio_crypto.ts";
import { type ChainCases, chainParams } from "./chain_case.ts";
import type { KatCase } from "./kat_case.ts";
import { vectorCases, type VectorService } from "./vector_cases.ts";

/** One row of the self-test. */
export interface SelftestTarget {
  readonly name: string;
  readonly service: VectorService | "chain" | "akcipher";
  /** The specification id (null for the chain). */
  readonly algo: number | null;
  readonly advertised: boolean;
  /** Why nothing runs (not advertised, no vector), or null. */
  readonly skip: string | null;
  /** Why it cannot be tested although it should be (the chain's software reference failed), or null. */
  readonly problem: string | null;
  readonly cases: readonly KatCase[];
}

const SERVICES: readonly VectorService[] = ["cipher", "hash", "mac", "aead"];

/** The algorithms every row list includes, advertised or not. */
const EXPECTED: Readonly<Record<VectorService, readonly number[]>> = {
  cipher: [CipherAlgo.AES_CBC, CipherAlgo.AES_CTR],
  hash: [HashAlgo.SHA_256],
  mac: [MacAlgo.HMAC_SHA_256],
  aead: [AeadAlgo.GCM],
};

const NOT_ADVERTISED = "not advertised by the device";

/**
 * The rows, by service: the advertised algorithms in the device's order, then the expected ones it lacks; the
 * chain; asymmetric algorithms (advertised ones only, skipped: no vectors here).
 *
 * @param caps The accelerator's capabilities (after its driver's probe).
 * @param names Another table naming algorithms the device does not advertise (the software engine's).
 * @param chain The chained cases (or why they could not be built).
 * @returns The rows.
 */
export function selftestTargets(
  caps: Capabilities,
  names: Capabilities,
  chain: ChainCases,
): SelftestTarget[] {
  const rows: SelftestTarget[] = [];
  for (const service of SERVICES) {
    const ids = [...caps[service].keys(), ...EXPECTED[service].filter((id) => !caps[service].has(id))];
    for (const algo of ids) rows.push(vectorTarget(service, algo, caps, names));
  }
  rows.push(chainTarget(caps, names, chain));
  for (const [algo, info] of caps.akcipher) {
    rows.push({
      name: info.name,
      service: "akcipher",
      algo,
      advertised: true,
      skip: "asymmetric algorithms are not self-tested (no known-answer vectors here)",
      problem: null,
      cases: [],
    });
  }
  return rows;
}

function nameOf(
  table: ReadonlyMap<number, AlgorithmInfo>,
  other: ReadonlyMap<number, AlgorithmInfo>,
  id: number,
): string {
  return table.get(id)?.name ?? other.get(id)?.name ?? `algorithm ${id}`;
}

function vectorTarget(
  service: VectorService,
  algo: number,
  caps: Capabilities,
  names: Capabilities,
): SelftestTarget {
  const advertised = caps[service].has(algo);
  const base = {
    name: nameOf(caps[service], names[service], algo),
    service,
    algo,
    advertised,
    problem: null,
  };
  if (!advertised) return { ...base, skip: NOT_ADVERTISED, cases: [] };
  const cases = vectorCases(service, algo, caps);
  const skip = cases.length === 0 ? "no known-answer vector here at the key lengths it advertises" : null;
  return { ...base, skip, cases };
}

function chainTarget(caps: Capabilities, names: Capabilities, chain: ChainCases): SelftestTarget {
  const cbc = nameOf(caps.cipher, names.cipher, CipherAlgo.AES_CBC);
  const hmac = nameOf(caps.mac, names.mac, MacAlgo.HMAC_SHA_256);
  const advertised = supports(caps, chainParams(AlgChainOrder.CIPHER_THEN_HASH));
  const base = { name: `${cbc} + ${hmac}`, service: "chain" as const, algo: null, advertised };
  if (!advertised) {
    const skip = caps.chaining
      ? `${NOT_ADVERTISED} (it chains, but not these two)`
      : `${NOT_ADVERTISED} (no chaining)`;
    return { ...base, skip, problem: null, cases: [] };
  }
  if ("problem" in chain) return { ...base, skip: null, problem: chain.problem, cases: [] };
  return { ...base, skip: null, problem: null, cases: chain.cases };
}
