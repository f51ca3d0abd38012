/**
 * `deno task fuzz`: drives a live `cryptobridge serve` (its own process) with seeded, structure-aware mutations
 * of vhost-user messages (with fds), data requests (cipher and hash, session and layout, direct, indirect and
 * split chains) and control-queue session create/destroy pairs, and checks after each batch that the daemon
 * lives, serves a known-answer request on a fresh connection, wrote nothing into a canary area of guest RAM, and
 * did not grow in fds or memory past a bound. Batch `i` uses a PRNG seeded from (seed, i), so one batch replays.
 *
 * Usage: deno task fuzz [--seed N] [--inputs N | --duration S] [--mode event|busy|poll] [--queues N]
 *   [--sockets N] [--batch N] [--from-batch I]
 *
 * Exits 1 on the first crash, hang, stray write or growth, printing the command that replays that batch.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { dataBatch, messageBatch } from "./fuzz/batches.ts";
import { Rng } from "./fuzz/mutate.ts";
import { knownAnswer, startTarget, type Target } from "./fuzz/target.ts";

interface Options {
  seed: number;
  inputs: number;
  durationS: number;
  mode: string;
  queues: number;
  sockets: number;
  batch: number;
  fromBatch: number;
}

const HELP = `deno task fuzz: fuzz a live cryptobridge serve (docs/hostile.md)

Options:
  --seed N         the campaign's seed (default: random, printed); batch i uses a PRNG seeded from (N, i)
  --inputs N       stop after about N inputs (default 10000)
  --duration S     or stop after S seconds
  --mode MODE      event (default), busy (serve --busy-poll 200) or poll (serve --poll)
  --queues N       data queues per VM (default 2)
  --sockets N      VMs served (one --socket each; default 1)
  --batch N        inputs per batch, between two live checks (default 400)
  --from-batch I   start at batch I (with --inputs equal to --batch: replay one batch)
  -h, --help       show this help

Exits 1 on the first crash, hang, stray write or growth in fds or memory, printing the command that replays it.`;

function options(): Options | null {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seed: { type: "string" },
      inputs: { type: "string" },
      duration: { type: "string" },
      mode: { type: "string" },
      queues: { type: "string" },
      sockets: { type: "string" },
      batch: { type: "string" },
      "from-batch": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return null;
  const mode = values.mode ?? "event";
  if (!["event", "busy", "poll"].includes(mode)) {
    throw new Error(`--mode must be event, busy or poll: ${mode}`);
  }
  return {
    seed: Number(values.seed ?? Math.floor(Math.random() * 2 ** 31)),
    inputs: Number(values.inputs ?? (values.duration === undefined ? 10_000 : Infinity)),
    durationS: Number(values.duration ?? Infinity),
    mode,
    queues: Number(values.queues ?? 2),
    sockets: Number(values.sockets ?? 1),
    batch: Number(values.batch ?? 400),
    fromBatch: Number(values["from-batch"] ?? 0),
  };
}

function replay(o: Options, batch: number): string {
  return `deno task fuzz --seed ${o.seed} --mode ${o.mode} --queues ${o.queues} --sockets ${o.sockets} ` +
    `--batch ${o.batch} --from-batch ${batch} --inputs ${o.batch}`;
}

async function runBatch(
  t: Target,
  o: Options,
  index: number,
): Promise<{ inputs: number; problem: string | null }> {
  const rng = new Rng((o.seed * 0x9e3779b1 + index) >>> 0);
  const socket = t.sockets[index % t.sockets.length]!;
  const half = Math.floor(o.batch / 2);
  const m = await messageBatch(socket, rng, half);
  const d = await dataBatch(socket, rng, { count: o.batch - half, queues: o.queues });
  const inputs = m.inputs + d.inputs;
  if (!t.alive()) return { inputs, problem: "crash: serve exited" };
  if (d.hangs > 0) return { inputs, problem: `hang: ${d.hangs} requests never completed` };
  if (d.strayWrites > 0) return { inputs, problem: `stray writes: ${d.strayWrites} canary bytes changed` };
  const kat = await knownAnswer(socket);
  return { inputs, problem: kat === null ? null : `no service: ${kat}` };
}

// A batch's last connections may still be closing in the daemon when it ends (with several VMs, their rings'
// eventfds and memfds add up past the bound): growth counts only if it is still there after a second.
async function settledUsage(target: Target, bound: number): Promise<{ fds: number; rssKiB: number }> {
  let now = target.usage();
  for (let i = 0; i < 10 && now.fds > bound && target.alive(); i++) {
    await new Promise((r) => setTimeout(r, 100));
    now = target.usage();
  }
  return now;
}

function summary(o: Options, inputs: number, s: number, problem: string | null): void {
  const crashes = problem?.startsWith("crash") ? 1 : 0;
  const hangs = problem?.startsWith("hang") ? 1 : 0;
  const stray = problem?.startsWith("stray") ? 1 : 0;
  console.log(
    `fuzz: ${inputs} inputs in ${s.toFixed(1)} s (${(inputs / s).toFixed(0)}/s), seed ${o.seed}: ` +
      `${crashes} crashes, ${hangs} hangs, ${stray} stray writes`,
  );
}

async function main(): Promise<number> {
  const o = options();
  if (o === null) {
    console.log(HELP);
    return 0;
  }
  const dir = await Deno.makeTempDir({ prefix: "cryptobridge-fuzz-" });
  const target = await startTarget(dir, o);
  console.log(`fuzz: seed ${o.seed}, mode ${o.mode}, queues ${o.queues}, sockets ${target.sockets.length}`);
  console.log(`fuzz: serve pid ${target.pid}: ${target.command.join(" ")}`);
  const base = target.usage();
  const t0 = performance.now();
  let inputs = 0;
  let problem: string | null = null;
  let batch = o.fromBatch;
  try {
    while (inputs < o.inputs && (performance.now() - t0) / 1000 < o.durationS) {
      const r = await runBatch(target, o, batch);
      inputs += r.inputs;
      const now = target.alive() ? await settledUsage(target, base.fds + 32) : base;
      if (r.problem === null && now.fds > base.fds + 32) problem = `fd growth: ${base.fds} -> ${now.fds}`;
      if (r.problem === null && now.rssKiB > base.rssKiB + 256 * 1024) {
        problem = `memory growth: ${base.rssKiB} -> ${now.rssKiB} KiB`;
      }
      problem ??= r.problem;
      if (problem !== null) break;
      batch++;
      if (batch % 10 === 0) {
        const rate = inputs / ((performance.now() - t0) / 1000);
        console.log(
          `fuzz: ${inputs} inputs, ${batch} batches, ${
            rate.toFixed(0)
          }/s, fds ${now.fds}, rss ${now.rssKiB} KiB`,
        );
      }
    }
  } finally {
    await target.stop();
    await Deno.remove(dir, { recursive: true });
  }
  summary(o, inputs, (performance.now() - t0) / 1000, problem);
  if (problem === null) return 0;
  console.error(`fuzz: FAILED in batch ${batch}: ${problem}\nreplay: ${replay(o, batch)}`);
  return 1;
}

if (import.meta.main) Deno.exit(await main());
