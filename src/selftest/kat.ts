/**
 * Known-answer cases on the accelerator's own engine, one request at a time: the session is created on the
 * accelerator (never through the router, so nothing falls back to software unseen), the request runs, and its
 * status and bytes are compared with the published answer. Wrong bytes, a forged tag accepted or a good one
 * refused are a mismatch; an error status, a request given back (`ENGINE_FAILED`) or no answer is an error; a
 * session the accelerator refuses is counted apart (serve would run it in software).
 *
 * @module
 */

import { type CryptoEngine, type CryptoOp, ENGINE_FAILED, EngineError } from "../engine/mod.ts";
import { Status } from "../spec/virtio_crypto.ts";
import { shortHex } from "./hex.ts";
import { bytesOf, type KatCase, opOf } from "./kat_case.ts";
import { runOp, SelftestTimeout } from "./run_op.ts";

/** What the cases of one algorithm gave. */
export interface KatOutcome {
  readonly result: "pass" | "mismatch" | "error" | "refused";
  /** Cases that ran on the accelerator. */
  readonly run: number;
  /** Of those, how many gave the published answer. */
  readonly passed: number;
  /** The first mismatch or error (with how many more), the refusals, or null. */
  readonly detail: string | null;
  /** The first case the accelerator took a session for (the speed runs use its shape), or null. */
  readonly first: KatCase | null;
}

/** Options of `runCases`. */
export interface KatOptions {
  /** Longest wait for one answer, ms. */
  readonly timeoutMs: number;
  /** The accelerator's last failure, added to an error's detail. */
  readonly lastFailure?: () => string | null;
}

type Verdict = { readonly kind: "pass" } | {
  readonly kind: "mismatch" | "error" | "refused";
  readonly detail: string;
  /** No answer came: the rest is not waited for. */
  readonly stop?: boolean;
};

const STATUS_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(Status).map(([name, value]) => [value, name]),
);

function statusName(status: number): string {
  return STATUS_NAMES[status] ?? `status ${status}`;
}

/**
 * Runs the cases on the accelerator.
 *
 * @param engine The accelerator's engine.
 * @param cases The cases of one algorithm.
 * @param options Timeout, failure reason.
 * @returns The outcome; after a timeout the remaining cases are not run.
 */
export async function runCases(
  engine: CryptoEngine,
  cases: readonly KatCase[],
  options: KatOptions,
): Promise<KatOutcome> {
  const verdicts: Verdict[] = [];
  let first: KatCase | null = null;
  for (const c of cases) {
    const v = await runCase(engine, c, options);
    verdicts.push(v);
    if (v.kind !== "refused" && first === null) first = c;
    if ("stop" in v && v.stop === true) break;
  }
  return outcomeOf(verdicts, first);
}

async function runCase(engine: CryptoEngine, c: KatCase, options: KatOptions): Promise<Verdict> {
  let session;
  try {
    session = engine.createSession(c.params);
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    const refused = e.kind === "notsupp" || e.kind === "nospc" || e.kind === "quota";
    return { kind: refused ? "refused" : "error", detail: `${c.id}: session refused: ${e.message}` };
  }
  try {
    const op = opOf(session, c);
    const status = await runOp(engine, op, options.timeoutMs);
    return check(c, status, op, options);
  } catch (e) {
    if (!(e instanceof SelftestTimeout)) throw e;
    return { kind: "error", detail: `${c.id}: ${e.message}`, stop: true };
  } finally {
    engine.closeSession(session);
  }
}

function check(c: KatCase, status: number, op: CryptoOp, options: KatOptions): Verdict {
  if (status === ENGINE_FAILED) {
    const why = options.lastFailure?.() ?? null;
    const detail = `${c.id}: the accelerator gave the request back (serve would re-run it in software)` +
      (why === null ? "" : `: ${why}`);
    return { kind: "error", detail };
  }
  if (status !== c.expect.status) {
    const answered = status === Status.OK || status === Status.BADMSG;
    const detail = `${c.id}: status ${statusName(status)}, expected ${statusName(c.expect.status)}`;
    return { kind: answered ? "mismatch" : "error", detail };
  }
  return compare(c.id, "output", bytesOf(op.dst), c.expect.dst) ??
    compare(c.id, c.params.service === "aead" ? "tag" : "digest", bytesOf(op.digest), c.expect.digest) ??
    { kind: "pass" };
}

function compare(id: string, what: string, got: Uint8Array, want: Uint8Array | undefined): Verdict | null {
  if (want === undefined) return null;
  if (got.length === want.length && got.every((b, i) => b === want[i])) return null;
  return { kind: "mismatch", detail: `${id}: ${what} ${shortHex(got)}, expected ${shortHex(want)}` };
}

function outcomeOf(verdicts: readonly Verdict[], first: KatCase | null): KatOutcome {
  const of = (kind: Verdict["kind"]) => verdicts.filter((v) => v.kind === kind);
  const run = verdicts.length - of("refused").length;
  const passed = of("pass").length;
  for (const kind of ["mismatch", "error"] as const) {
    const bad = of(kind) as { detail: string }[];
    if (bad.length > 0) {
      const more = bad.length > 1 ? ` (and ${bad.length - 1} more)` : "";
      return { result: kind, run, passed, detail: `${bad[0]!.detail}${more}`, first };
    }
  }
  const refused = of("refused") as { detail: string }[];
  const detail = refused.length === 0
    ? null
    : `${refused.length} of ${verdicts.length} refused; first ${refused[0]!.detail}`;
  return { result: run === 0 && refused.length > 0 ? "refused" : "pass", run, passed, detail, first };
}
