/**
 * AES-CBC checks through AF_ALG in the guest, shared by every back-end's guest test: build a plan on the host
 * (keys, IVs, plaintexts, and the expected ciphertexts from the `openssl` command, never from code under test),
 * run `af_alg_client.ts` in the guest on it, and compare what it wrote with the expectation.
 *
 * ```ts ignore
 * const expectation = await buildAesCbcPlan();
 * await using run = await bootGuest({ crypto, command: afAlgGuestCommand(), files: afAlgGuestFiles(expectation) });
 * const report = checkAfAlgRun(run.resultsDir, expectation);
 * ```
 *
 * "In place" (`inPlace: true`) means: encrypt, then decrypt the result back, in one page-aligned buffer, whose
 * pages are handed to the kernel with vmsplice + splice (not copied by sendmsg) and into which the result is read.
 * Where AF_ALG splices without copying, the request's source and destination are then the same guest pages, as
 * for an in-kernel user with `req->src == req->dst`, and the back-end must cope with aliasing. Kernels hardened
 * after CVE-2026-31431 ("Copy Fail", 2026) copy spliced data, and the Debian 6.1.192 guest kernel is one of them:
 * the client measures this (`AfAlgResult.spliceAliases`, `false` there), and on such kernels the in-place cases
 * are out-of-place requests with a spliced source. No other user-space path reaches the driver in place:
 * dm-crypt refuses `virtio_crypto_aes_cbc` (it masks out CRYPTO_ALG_ALLOCATES_MEMORY: "Error allocating crypto
 * tfm (-ENOENT)"). Device-level in-place coverage comes from the boot-time self-test instead, whose default
 * configurations include "in-place (one sglist)", "in-place (two sglists)" and "misaligned splits crossing pages,
 * inplace": `selftest : passed` in `/proc/crypto` covers them.
 *
 * @module
 */

/** The virtio-crypto driver's AES-CBC implementation: asking for it by driver name bypasses AES-NI (prio 400). */
export const VIRTIO_AES_CBC_DRIVER = "virtio_crypto_aes_cbc";
/** Host path of the client; the same path in the guest, whose root is the host's. */
export const AF_ALG_CLIENT: string = new URL("./af_alg_client.ts", import.meta.url).pathname;
/** Plan file name on the results share. */
export const PLAN_FILE = "af_alg_plan.json";
/** Result file name on the results share. */
export const RESULT_FILE = "af_alg_result.json";
/** `/proc/crypto` copy on the results share. */
export const PROC_CRYPTO_FILE = "proc_crypto.txt";
/** Sizes tested by default: one block, two, odd multiples of 16 (3, 5, 63, 257 blocks), a page, 64 KiB. */
export const DEFAULT_SIZES: readonly number[] = [16, 32, 48, 80, 1008, 4096, 4112, 65536];
/** Sizes also tested in place by default: one block, one that straddles a page boundary, 64 KiB (16 pages). */
export const DEFAULT_IN_PLACE_SIZES: readonly number[] = [16, 4112, 65536];

/** One AES-CBC case: encrypt `plaintext`, then decrypt the ciphertext. All bytes as lowercase hex. */
export interface AfAlgCase {
  /** Unique name, such as `aes128-cbc-4112B-in-place`. */
  readonly id: string;
  /** 16, 24 or 32 bytes. */
  readonly key: string;
  /** 16 bytes. */
  readonly iv: string;
  /** A multiple of 16 bytes. */
  readonly plaintext: string;
  /** Source and destination are the same pages (see the module documentation). */
  readonly inPlace: boolean;
}

/** What the guest client runs. */
export interface AfAlgPlan {
  /** Format version. */
  readonly version: 1;
  /** `salg_type`. */
  readonly type: "skcipher";
  /** `salg_name`: a driver name such as `virtio_crypto_aes_cbc`. */
  readonly driver: string;
  /** What to run, in order. */
  readonly cases: readonly AfAlgCase[];
}

/** The client's answer for one case: the outputs, or the error that stopped it. */
export interface AfAlgCaseResult {
  /** The case's id. */
  readonly id: string;
  /** The encryption's output. */
  readonly ciphertext?: string;
  /** The decryption of `ciphertext`. */
  readonly decrypted?: string;
  /** Why the case stopped, such as `Cannot bind (...): ENOENT`. */
  readonly error?: string;
}

/** What the guest client writes. */
export interface AfAlgResult {
  /** Format version. */
  readonly version: 1;
  /** The plan's driver. */
  readonly driver: string;
  /** One per plan case, in plan order. */
  readonly cases: readonly AfAlgCaseResult[];
  /** Time the client spent on the cases. */
  readonly elapsedMs: number;
  /**
   * Whether splicing into AF_ALG was zero-copy in the guest, so that in-place cases gave the device aliased
   * source and destination pages (`false` on kernels that copy spliced data), or the probe's error.
   */
  readonly spliceAliases: boolean | string;
}

/** A plan and the answers computed on the host. */
export interface AfAlgExpectation {
  /** What the guest runs. */
  readonly plan: AfAlgPlan;
  /** Case id → expected ciphertext (hex), from `openssl enc`. */
  readonly ciphertexts: Readonly<Record<string, string>>;
}

/** Options of `buildAesCbcPlan`. */
export interface AesCbcPlanOptions {
  /** Default 128, 192, 256. */
  readonly keyBits?: readonly (128 | 192 | 256)[];
  /** Default `DEFAULT_SIZES`. Multiples of 16 (the driver rejects others with EINVAL). */
  readonly sizes?: readonly number[];
  /** Default `DEFAULT_IN_PLACE_SIZES`. */
  readonly inPlaceSizes?: readonly number[];
  /** Seed of the deterministic keys, IVs and data. Default 1. */
  readonly seed?: number;
  /** Default `VIRTIO_AES_CBC_DRIVER`. */
  readonly driver?: string;
}

/**
 * Bytes as lowercase hex.
 *
 * @param bytes The bytes.
 * @returns Two hex digits per byte.
 */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Hex to bytes.
 *
 * @param hex An even number of hex digits.
 * @returns The bytes, in a fresh (non-shared, off-heap) ArrayBuffer.
 */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new RangeError(`Invalid hex string of ${hex.length}`);
  }
  const out = new Uint8Array(new ArrayBuffer(hex.length / 2));
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** xorshift32: reproducible test data without a crypto RNG (the seed names the data set). */
function pseudoRandom(seed: number): (n: number) => Uint8Array {
  let state = (seed >>> 0) || 0x9e3779b9;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      out[i] = state & 0xff;
    }
    return out;
  };
}

/**
 * AES-CBC with the `openssl` command (no padding): the reference the guest's answers are compared with.
 *
 * @param key 16, 24 or 32 bytes.
 * @param iv 16 bytes.
 * @param plaintext A multiple of 16 bytes.
 * @returns The ciphertext.
 */
export async function opensslAesCbcEncrypt(
  key: Uint8Array,
  iv: Uint8Array,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  const args = ["enc", `-aes-${key.length * 8}-cbc`, "-K", toHex(key), "-iv", toHex(iv), "-nopad"];
  const child = new Deno.Command("openssl", { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const output = child.output(); // read stdout while writing stdin: 64 KiB fills a pipe
  const writer = child.stdin.getWriter();
  await writer.write(plaintext);
  await writer.close();
  const { success, stdout, stderr } = await output;
  if (!success || stdout.length !== plaintext.length) {
    throw new Error(`Cannot encrypt with openssl ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
  }
  return stdout;
}

/**
 * A plan over key sizes × data sizes (each once by copy, some also in place), with the expected ciphertexts.
 *
 * @param options Key sizes, data sizes, seed, driver.
 * @returns The plan for the guest and the host's answers.
 */
export async function buildAesCbcPlan(options: AesCbcPlanOptions = {}): Promise<AfAlgExpectation> {
  const random = pseudoRandom(options.seed ?? 1);
  const cases: AfAlgCase[] = [];
  const ciphertexts: Record<string, string> = {};
  const inPlaceSizes = new Set(options.inPlaceSizes ?? DEFAULT_IN_PLACE_SIZES);
  for (const bits of options.keyBits ?? [128, 192, 256]) {
    for (const size of options.sizes ?? DEFAULT_SIZES) {
      for (const inPlace of inPlaceSizes.has(size) ? [false, true] : [false]) {
        const [key, iv, plaintext] = [random(bits / 8), random(16), random(size)];
        const id = `aes${bits}-cbc-${size}B${inPlace ? "-in-place" : ""}`;
        cases.push({ id, key: toHex(key), iv: toHex(iv), plaintext: toHex(plaintext), inPlace });
        ciphertexts[id] = toHex(await opensslAesCbcEncrypt(key, iv, plaintext));
      }
    }
  }
  const plan: AfAlgPlan = {
    version: 1,
    type: "skcipher",
    driver: options.driver ?? VIRTIO_AES_CBC_DRIVER,
    cases,
  };
  return { plan, ciphertexts };
}

/**
 * The files `bootGuest` puts on the results share for `afAlgGuestCommand`.
 *
 * @param expectation From `buildAesCbcPlan`.
 * @returns `{ [PLAN_FILE]: plan JSON }`.
 */
export function afAlgGuestFiles(expectation: AfAlgExpectation): Record<string, string> {
  return { [PLAN_FILE]: JSON.stringify(expectation.plan) };
}

/**
 * The guest shell command: saves `/proc/crypto`, runs the client on the plan (with `--no-check`: type checking
 * under TCG would take longer than the checks), saves `dmesg`, and exits with the client's code.
 *
 * @returns A script for `BootOptions.command`.
 */
export function afAlgGuestCommand(): string {
  const client = AF_ALG_CLIENT.replaceAll("'", `'\\''`);
  return [
    `cat /proc/crypto >"$GUEST_RESULTS/${PROC_CRYPTO_FILE}"`,
    `"$DENO" run --no-check --no-lock --no-config --allow-ffi --allow-read --allow-write '${client}' ` +
    `"$GUEST_RESULTS/${PLAN_FILE}" "$GUEST_RESULTS/${RESULT_FILE}"`,
    "status=$?",
    `dmesg >"$GUEST_RESULTS/dmesg.txt"`,
    "exit $status",
  ].join("\n");
}

/** The outcome of comparing the client's answers with the host's. */
export interface AfAlgReport {
  /** Cases whose ciphertext and decryption both matched. */
  readonly passed: readonly string[];
  /** One message per mismatch, error or missing case. */
  readonly failures: readonly string[];
  /** One line, such as `33/33 AES-CBC cases passed through virtio_crypto_aes_cbc (9 in place: ...) in 3400 ms ...`. */
  readonly summary: string;
}

/**
 * Compares the client's result with the expectation: every case present, no error, ciphertext equal to openssl's,
 * decryption equal to the plaintext.
 *
 * @param expectation The plan and expected ciphertexts.
 * @param result The client's result file, parsed.
 * @returns Passed cases, failure messages and a summary line.
 */
export function checkAfAlgResult(expectation: AfAlgExpectation, result: AfAlgResult): AfAlgReport {
  const byId = new Map(result.cases.map((c) => [c.id, c]));
  const passed: string[] = [];
  const failures: string[] = [];
  for (const c of expectation.plan.cases) {
    const got = byId.get(c.id);
    const problem = got === undefined
      ? "no result"
      : got.error !== undefined
      ? `error: ${got.error}`
      : got.ciphertext !== expectation.ciphertexts[c.id]
      ? `ciphertext differs from openssl's ${
        firstDifference(got.ciphertext ?? "", expectation.ciphertexts[c.id]!)
      }`
      : got.decrypted !== c.plaintext
      ? `decryption differs from the plaintext ${firstDifference(got.decrypted ?? "", c.plaintext)}`
      : undefined;
    if (problem === undefined) passed.push(c.id);
    else failures.push(`${c.id}: ${problem}`);
  }
  const total = expectation.plan.cases.length;
  const inPlace = expectation.plan.cases.filter((c) => c.inPlace).length;
  const aliasing = result.spliceAliases === true
    ? "pages aliased"
    : result.spliceAliases === false
    ? "kernel copied spliced data"
    : `aliasing probe failed: ${result.spliceAliases}`;
  const summary = `${passed.length}/${total} AES-CBC cases passed through ${result.driver} ` +
    `(${inPlace} in place: ${aliasing}) in ${result.elapsedMs} ms of guest time`;
  return { passed, failures, summary };
}

function firstDifference(got: string, want: string): string {
  if (got.length !== want.length) return `(length ${got.length / 2} B, expected ${want.length / 2} B)`;
  let i = 0;
  while (i < got.length && got[i] === want[i]) i++;
  return `(first difference at byte ${Math.floor(i / 2)})`;
}

/**
 * Reads the client's result from a results directory and checks it.
 *
 * @param resultsDir `GuestRun.resultsDir`.
 * @param expectation The plan and expected ciphertexts.
 * @returns The report.
 * @throws {Error} If the client wrote no result file (see `output.txt` and `console.log` there).
 */
export function checkAfAlgRun(resultsDir: string, expectation: AfAlgExpectation): AfAlgReport {
  let text: string;
  try {
    text = Deno.readTextFileSync(`${resultsDir}/${RESULT_FILE}`);
  } catch (e) {
    throw new Error(`Cannot read the AF_ALG client's result ${resultsDir}/${RESULT_FILE}`, { cause: e });
  }
  return checkAfAlgResult(expectation, JSON.parse(text) as AfAlgResult);
}

/**
 * Parses `/proc/crypto` into one record per algorithm implementation (`name`, `driver`, `selftest`, ...).
 *
 * @param text The file's content.
 * @returns The entries, in file order.
 */
export function parseProcCrypto(text: string): Record<string, string>[] {
  const entries: Record<string, string>[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const entry: Record<string, string> = {};
    for (const line of block.split("\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) entry[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    }
    if (Object.keys(entry).length > 0) entries.push(entry);
  }
  return entries;
}

/**
 * The `/proc/crypto` entry of a driver.
 *
 * @param text `/proc/crypto`.
 * @param driver A driver name, such as `virtio_crypto_aes_cbc`.
 * @returns Its entry, or `undefined` when the driver is not registered.
 */
export function findCryptoDriver(text: string, driver: string): Record<string, string> | undefined {
  return parseProcCrypto(text).find((e) => e["driver"] === driver);
}
