/**
 * The DPDK harness end to end (issue 15, item 2): `scripts/dpdk_vhost_crypto.ts` builds Debian 12's
 * `vhost_crypto` example, starts it, `cryptobridge bench --peer dpdk` drives it for a short counted run with every
 * sampled output checked against OpenSSL, and stop leaves neither the process nor its socket. Ignored where the
 * DPDK packages are missing (`deno task test:dpdk`; not part of `deno task test` or CI).
 *
 * @module
 */

import assert from "node:assert/strict";
import { build, checkPackages, DpdkError, start } from "../../scripts/dpdk_vhost_crypto.ts";

async function dpdkMissing(): Promise<boolean> {
  try {
    await checkPackages();
    return false;
  } catch (e) {
    if (e instanceof DpdkError) return true;
    throw e;
  }
}

function alive(pid: number): boolean {
  try {
    // A zombie (killed, not yet reaped by its parent) has no executable any more.
    Deno.readLinkSync(`/proc/${pid}/exe`);
    return true;
  } catch {
    return false;
  }
}

interface BenchJson {
  readonly results: {
    readonly size: number;
    readonly status: string;
    readonly requests: number;
    readonly verified: number;
  }[];
}

async function benchOn(socket: string, completion: string): Promise<{ code: number; report: BenchJson }> {
  const mod = new URL("../../mod.ts", import.meta.url).pathname;
  const args = ["run", "-A", mod, "bench", "--socket", socket, "--peer", "dpdk", "--algo", "aes-128-cbc"];
  args.push(
    "--size",
    "64,2048",
    "--count",
    "5000",
    "--verify-every",
    "1",
    "--completion",
    completion,
    "--json",
  );
  const out = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  return { code: out.code, report: JSON.parse(text.trim() === "" ? '{"results":[]}' : text) };
}

Deno.test({
  name: "DPDK vhost_crypto: built, started, served a verified bench run, stopped without leftovers",
  ignore: await dpdkMissing(),
  async fn(): Promise<void> {
    const binary = await build();
    const dir = await Deno.makeTempDir({ prefix: "cryptobridge-dpdk-test-" });
    const socket = `${dir}/vc.sock`;
    const cpu = navigator.hardwareConcurrency > 1 ? 1 : 0;
    const vc = await start({ binary, socket, cpu });
    try {
      assert.ok(alive(vc.pid), "vhost_crypto runs once start returns");
      for (const completion of ["poll", "event"]) {
        const { code, report } = await benchOn(socket, completion);
        assert.equal(code, 0, `bench --completion ${completion} exits 0 (a mismatch exits 1)`);
        assert.equal(report.results.length, 2, "both sizes reported");
        for (const r of report.results) {
          assert.equal(r.status, "ok", `${r.size} B served`);
          assert.equal(r.requests, 5000);
          assert.ok(r.verified >= 1, `${r.size} B outputs were compared with OpenSSL`);
        }
      }
    } finally {
      await vc.stop();
    }
    assert.equal(alive(vc.pid), false, "no vhost_crypto process after stop");
    assert.throws(() => Deno.statSync(socket), Deno.errors.NotFound, "no socket after stop");
    await Deno.remove(dir, { recursive: true });
  },
});
