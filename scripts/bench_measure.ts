/**
 * The measurements of `scripts/bench_report.ts`: `openssl speed` pinned to the bridge's CPU, and
 * `cryptobridge bench` (which starts `cryptobridge serve` as a separate process) in each mode, case by case. The
 * machine may be shared, so before each measurement it waits (up to 60 s) until the CPUs are idle and records how
 * idle they were; with `repeat` above 1 it keeps the best of that many runs on both sides.
 *
 * @module
 */

import type { Algorithm, BridgeRow, Matrix, Mode, OpensslRow } from "./bench_rows.ts";

/** `openssl speed` arguments of the ceiling of each measured algorithm, and of the reference extras. */
const OPENSSL_ARGS: Record<string, readonly string[]> = {
  "aes-128-cbc": ["-evp", "aes-128-cbc"],
  "aes-256-gcm": ["-evp", "aes-256-gcm"],
  "hmac-sha256": ["-hmac", "sha256"],
  "aes-256-gcm (-aead)": ["-aead", "-evp", "aes-256-gcm"],
  "aes-128-cbc-hmac-sha256 (stitched)": ["-evp", "aes-128-cbc-hmac-sha256"],
};

/** How each case is measured (the report's command line). */
export interface MeasureSettings {
  /** Runs per figure; the best is kept. */
  readonly repeat: number;
  /** CPU of `openssl speed` and of `cryptobridge serve`. */
  readonly pinServe: string;
  /** CPU of the bench process (the guest's side). */
  readonly pinBench: string;
  /** `bench --duration`, seconds. */
  readonly duration: string;
  /** `bench --warmup`, seconds. */
  readonly warmup: string;
  /** `bench --depth`. */
  readonly depth: string;
  /** `openssl speed -seconds`. */
  readonly opensslSeconds: string;
  /** Wait for idle CPUs before each measurement (false: only record how idle they are). */
  readonly waitIdle: boolean;
  /** Path of the project's `mod.ts`. */
  readonly mod: string;
}

/** CPU idle fraction over `ms`, from /proc/stat (all CPUs). */
async function idleFraction(ms: number): Promise<number> {
  const read = (): [number, number] => {
    const fields = Deno.readTextFileSync("/proc/stat").split("\n")[0]!.trim().split(/\s+/).slice(1).map(
      Number,
    );
    const total = fields.reduce((a, b) => a + b, 0);
    return [fields[3]! + (fields[4] ?? 0), total];
  };
  const [i1, t1] = read();
  await new Promise((r) => setTimeout(r, ms));
  const [i2, t2] = read();
  return t2 > t1 ? (i2 - i1) / (t2 - t1) : 1;
}

/** Waits until the machine is idle (other processes would steal the cores measured), at most 60 s. */
async function waitIdle(s: MeasureSettings): Promise<number> {
  if (!s.waitIdle) return await idleFraction(200);
  const deadline = Date.now() + 60_000;
  let idle = 0;
  while (Date.now() < deadline) {
    idle = await idleFraction(500);
    if (idle >= 0.9) return idle;
  }
  console.error(`warning: the CPUs stayed busy (${(idle * 100).toFixed(0)} % idle): measuring anyway`);
  return idle;
}

/**
 * Runs a command to its end.
 *
 * @param cmd The program and its arguments.
 * @returns Its standard output.
 * @throws Error with both outputs when it fails.
 */
export async function run(cmd: string[]): Promise<string> {
  const out = await new Deno.Command(cmd[0]!, { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd.join(" ")} failed:\n${text}\n${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

async function measureOpenssl(name: string, size: number, s: MeasureSettings): Promise<OpensslRow> {
  const args = OPENSSL_ARGS[name]!;
  let best = 0;
  let idleBefore = 1;
  for (let r = 0; r < s.repeat; r++) {
    idleBefore = await waitIdle(s);
    const text = await run([
      "taskset",
      "-c",
      s.pinServe,
      "openssl",
      "speed",
      "-elapsed",
      "-mr",
      "-seconds",
      s.opensslSeconds,
      "-bytes",
      String(size),
      ...args,
    ]);
    const m = /^\+F:\d+:[^:]+:([\d.]+)/m.exec(text);
    if (m === null) throw new Error(`Cannot read openssl speed ${args.join(" ")} output:\n${text}`);
    best = Math.max(best, Number(m[1]));
  }
  return { name, size, args, bytesPerSec: best, idleBefore };
}

/**
 * The generator's command for one bridge case (it starts its own `cryptobridge serve`).
 *
 * @param mode How guest and daemon meet.
 * @param algorithm The algorithm.
 * @param size Request size.
 * @param s How to measure.
 * @returns The command.
 */
export function benchCommand(mode: Mode, algorithm: Algorithm, size: number, s: MeasureSettings): string[] {
  return [
    Deno.execPath(),
    "run",
    "--allow-all",
    s.mod,
    "bench",
    "--json",
    "--algo",
    algorithm,
    "--size",
    String(size),
    "--duration",
    s.duration,
    "--warmup",
    s.warmup,
    "--depth",
    s.depth,
    "--pin-serve",
    s.pinServe,
    "--pin-bench",
    s.pinBench,
    ...(mode === "poll"
      ? ["--poll", "--completion", "poll"]
      : mode === "busy"
      ? ["--busy-poll", "1000"]
      : mode === "irq"
      ? ["--busy-poll", "0"]
      : []),
  ];
}

async function measureBridge(
  mode: Mode,
  c: { readonly algorithm: Algorithm; readonly size: number },
  s: MeasureSettings,
): Promise<BridgeRow> {
  const { algorithm, size } = c;
  let best: BridgeRow | null = null;
  for (let r = 0; r < s.repeat; r++) {
    const idleBefore = await waitIdle(s);
    const report = JSON.parse(await run(benchCommand(mode, algorithm, size, s)));
    const result = report.results[0];
    if (result.status !== "ok") throw new Error(`${algorithm} ${size} B skipped: ${result.reason}`);
    const row: BridgeRow = {
      mode,
      algorithm,
      size,
      opsPerSec: result.opsPerSec,
      bytesPerSec: result.bytesPerSec,
      latencyUs: result.latencyUs,
      verified: result.verified,
      idleBefore,
    };
    if (best === null || row.opsPerSec > best.opsPerSec) best = row;
  }
  return best!;
}

/** The `openssl speed` figures the algorithms need: their ceilings, and the reference extras. */
function opensslNames(algorithms: readonly Algorithm[]): Set<string> {
  const needed = new Set<string>();
  for (const a of algorithms) {
    if (a === "aes-128-cbc-hmac-sha256") {
      ["aes-128-cbc", "hmac-sha256", `${a} (stitched)`].forEach((n) => needed.add(n));
    } else needed.add(a);
    if (a === "aes-256-gcm") needed.add("aes-256-gcm (-aead)");
  }
  return needed;
}

/**
 * Every case, OpenSSL first, then the bridge in each mode, case by case (a ratio of two runs minutes apart
 * would mean little on a shared machine).
 *
 * @param matrix The cases.
 * @param s How to measure.
 * @returns The figures of both sides.
 */
export async function measureAll(
  matrix: Matrix,
  s: MeasureSettings,
): Promise<{ openssl: OpensslRow[]; bridge: BridgeRow[] }> {
  const { algorithms, sizes, modes } = matrix;
  const openssl: OpensslRow[] = [];
  const bridge: BridgeRow[] = [];
  const needed = opensslNames(algorithms);
  const total = algorithms.length * sizes.length;
  let done = 0;
  for (const algorithm of algorithms) {
    for (const size of sizes) {
      done++;
      console.error(`[${done}/${total}] ${algorithm} ${size} B`);
      for (const name of needed) {
        const relevant = name.startsWith(algorithm) ||
          (algorithm === "aes-128-cbc-hmac-sha256" && (name === "aes-128-cbc" || name === "hmac-sha256"));
        if (relevant && !openssl.some((o) => o.name === name && o.size === size)) {
          openssl.push(await measureOpenssl(name, size, s));
        }
      }
      for (const mode of modes) bridge.push(await measureBridge(mode, { algorithm, size }, s));
    }
  }
  return { openssl, bridge };
}
