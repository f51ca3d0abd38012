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

/** A row's result when nothing runs on the device. */
export interface Settled {
  /** `skipped` (not advertised, no vector), `refused` (refused at open), `error` (no software reference). */
  readonly result: "skipped" | "refused" | "error";
  readonly detail: string;
}

/** One row of the self-test. */
export interface SelftestTarget {
  readonly name: string;
  readonly service: VectorService | "chain" | "akcipher";
  /** The specification id (null for the chain). */
  readonly algo: number | null;
  readonly advertised: boolean;
  /** The result when nothing runs on the device, or null. */
  readonly settled: Settled | null;
  readonly cases: readonly KatCase[];
}

/** What the device says of itself. */
export interface DeviceClaims {
  /** Its capabilities (after its driver's probe). */
  readonly caps: Capabilities;
  /** Labels of the claims its driver's probe found refused (`SHA1`, `AES-CBC/32`). */
  readonly refusedAtOpen: readonly string[];
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
const REFUSED_AT_OPEN = "advertised, but the device refused its session when the driver probed it at open " +
  "(serve runs it in software)";

/**
 * The rows, by service: the advertised algorithms in the device's order, then the expected ones it lacks and
 * those its driver's probe found refused (named as the software engine names them, as the virtio-crypto
 * driver's labels are); the chain; asymmetric algorithms (advertised ones only, skipped: no vectors here).
 *
 * @param device The accelerator's claims.
 * @param names Another table naming algorithms the device does not claim (the software engine's).
 * @param chain The chained cases (or why they could not be built).
 * @returns The rows.
 */
export function selftestTargets(
  device: DeviceClaims,
  names: Capabilities,
  chain: ChainCases,
): SelftestTarget[] {
  const { caps } = device;
  const refused = new Set(device.refusedAtOpen.map((label) => label.split("/")[0]!));
  const rows: SelftestTarget[] = [];
  for (const service of SERVICES) {
    const probed = [...names[service]].filter(([, info]) => refused.has(info.name)).map(([id]) => id);
    const ids = new Set([...caps[service].keys(), ...EXPECTED[service], ...probed]);
    for (const algo of ids) rows.push(vectorTarget(service, algo, caps, names, refused));
  }
  rows.push(chainTarget(caps, names, chain));
  for (const [algo, info] of caps.akcipher) {
    const detail = "asymmetric algorithms are not self-tested (no known-answer vectors here)";
    rows.push({
      name: info.name,
      service: "akcipher",
      algo,
      advertised: true,
      settled: { result: "skipped", detail },
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
  refused: ReadonlySet<string>,
): SelftestTarget {
  const name = nameOf(caps[service], names[service], algo);
  const base = { name, service, algo };
  if (!caps[service].has(algo)) {
    const settled: Settled = refused.has(name)
      ? { result: "refused", detail: REFUSED_AT_OPEN }
      : { result: "skipped", detail: NOT_ADVERTISED };
    return { ...base, advertised: settled.result === "refused", settled, cases: [] };
  }
  const cases = vectorCases(service, algo, caps);
  const settled: Settled | null = cases.length === 0
    ? { result: "skipped", detail: "no known-answer vector here at the key lengths it advertises" }
    : null;
  return { ...base, advertised: true, settled, cases };
}

function chainTarget(caps: Capabilities, names: Capabilities, chain: ChainCases): SelftestTarget {
  const cbc = nameOf(caps.cipher, names.cipher, CipherAlgo.AES_CBC);
  const hmac = nameOf(caps.mac, names.mac, MacAlgo.HMAC_SHA_256);
  const advertised = supports(caps, chainParams(AlgChainOrder.CIPHER_THEN_HASH));
  const base = { name: `${cbc} + ${hmac}`, service: "chain" as const, algo: null, advertised };
  if (!advertised) {
    const why = caps.chaining ? "it chains, but not these two" : "no chaining";
    return { ...base, settled: { result: "skipped", detail: `${NOT_ADVERTISED} (${why})` }, cases: [] };
  }
  if ("problem" in chain) return { ...base, settled: { result: "error", detail: chain.problem }, cases: [] };
  return { ...base, settled: null, cases: chain.cases };
}
