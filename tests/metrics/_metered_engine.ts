/**
 * Test fixture: an engine wrapper that counts what the daemon's counters do not split yet (requests and bytes by
 * service, algorithm and status, and latency per request), so a scrape under load has every family filled. The
 * daemon's own counters will come from its data path (see docs/operations.md, "Metrics").
 *
 * @module
 */

import type {
  Capabilities,
  CryptoEngine,
  CryptoOp,
  EngineSession,
  SessionParams,
} from "../../src/engine/mod.ts";
import { SoftwareEngine } from "../../src/engine/software/mod.ts";
import { LatencyHistogram, type RequestCount } from "../../src/metrics/mod.ts";

const STATUS_NAMES = ["ok", "err", "badmsg", "notsupp", "invsess", "nospc", "key_rejected"];

/** The software engine, metered. */
export class MeteredEngine implements CryptoEngine {
  readonly name = "metered";
  readonly inner = new SoftwareEngine();
  readonly latency = new LatencyHistogram();
  readonly #rows = new Map<
    string,
    { service: string; algorithm: string; status: string; requests: number; bytes: number }
  >();

  capabilities(): Capabilities {
    return this.inner.capabilities();
  }

  createSession(params: SessionParams): EngineSession {
    return this.inner.createSession(params);
  }

  closeSession(session: EngineSession): void {
    this.inner.closeSession(session);
  }

  submit(op: CryptoOp): number {
    const t0 = performance.now();
    const status = this.inner.submit(op);
    this.latency.observe((performance.now() - t0) / 1000);
    const params = op.session!.params;
    const algorithm = this.#algorithm(params);
    const statusName = STATUS_NAMES[status] ?? `status-${status}`;
    const key = `${params.service}/${algorithm}/${statusName}`;
    let row = this.#rows.get(key);
    if (row === undefined) {
      this.#rows.set(
        key,
        row = { service: params.service, algorithm, status: statusName, requests: 0, bytes: 0 },
      );
    }
    row.requests++;
    row.bytes += status === 0 ? op.dst.total + op.digest.total : 0; // what the device writes back
    return status;
  }

  /** The counters as snapshot rows (path: software). */
  rows(): RequestCount[] {
    return [...this.#rows.values()].map((r) => ({ ...r, path: "software" as const }));
  }

  close(): void {
    this.inner.close();
  }

  #algorithm(params: SessionParams): string {
    const caps = this.inner.capabilities();
    switch (params.service) {
      case "chain":
        return `${caps.cipher.get(params.cipher.algo)?.name}+${
          (params.auth.hashMode === 1 ? caps.hash : caps.mac).get(params.auth.algo)?.name
        }`;
      case "akcipher":
        return caps.akcipher.get(params.algo)?.name ?? `akcipher-${params.algo}`;
      default:
        return caps[params.service].get(params.algo)?.name ?? `${params.service}-${params.algo}`;
    }
  }
}
