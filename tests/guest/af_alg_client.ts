/**
 * Runs INSIDE the guest: AES-CBC through the kernel crypto API (AF_ALG, by FFI) on a named driver, for every case
 * of a plan (`_af_alg_plan.ts`), and writes the outputs as JSON. It knows no expected answers: the host checks.
 *
 * Usage (in the guest): deno run --no-check --allow-ffi --allow-read --allow-write af_alg_client.ts PLAN RESULT
 *
 * Per case: socket(AF_ALG, SOCK_SEQPACKET) bound to `{ "skcipher", <driver> }`, setsockopt(ALG_SET_KEY) (the
 * virtio driver creates its two sessions here), accept() an operation socket, then encrypt and decrypt, each one
 * request: ALG_SET_OP and ALG_SET_IV as control messages, the data, and read() of the result. "Copy" cases send
 * the data with sendmsg; "in place" cases vmsplice + splice a page-aligned buffer into the socket and read the
 * result back into that same buffer (see `_af_alg_plan.ts`). Finally a probe finds out whether this kernel's
 * splice into AF_ALG is zero-copy, i.e. whether the in-place cases really aliased source and destination.
 *
 * Prints `GUEST-AF-ALG cases=<n> errors=<n> ms=<n> splice-aliases=<bool>` on stdout when done; exits 1 if any
 * case failed with an error (wrong answers are for the host to find).
 *
 * @module
 */

import { check, checkSize, libc } from "../../ffi/libc.ts";
import {
  AF_ALG,
  ALG_OP_DECRYPT,
  ALG_OP_ENCRYPT,
  ALG_SET_IV,
  ALG_SET_KEY,
  ALG_SET_OP,
  MAP_ANONYMOUS,
  MAP_FAILED,
  MAP_PRIVATE,
  MSG_MORE,
  O_CLOEXEC,
  PROT_READ,
  PROT_WRITE,
  SOCK_CLOEXEC,
  SOCK_SEQPACKET,
  SOL_ALG,
  SPLICE_F_MORE,
} from "../../ffi/constants.ts";
import {
  CMSGHDR_DATA,
  cmsgSpace,
  encodeCmsghdr,
  encodeIovec,
  encodeMsghdr,
  IOVEC_SIZE,
  MSGHDR_SIZE,
} from "../../ffi/structs.ts";
import {
  type AfAlgCase,
  type AfAlgCaseResult,
  type AfAlgPlan,
  type AfAlgResult,
  fromHex,
  toHex,
} from "./_af_alg_plan.ts";

const PAGE_SIZE = 4096;
const AES_IV_SIZE = 16;

// struct sockaddr_alg {
//   __u16 salg_family;    @0
//   __u8  salg_type[14];  @2
//   __u32 salg_feat;      @16
//   __u32 salg_mask;      @20
//   __u8  salg_name[64];  @24
// }                       88 bytes (linux/if_alg.h)
const SOCKADDR_ALG_SIZE = 88;

function sockaddrAlg(type: string, name: string): Uint8Array<ArrayBuffer> {
  const encoder = new TextEncoder();
  const [typeBytes, nameBytes] = [encoder.encode(type), encoder.encode(name)];
  if (typeBytes.length > 13 || nameBytes.length > 63) {
    throw new RangeError(`Algorithm name too long: ${name}`);
  }
  const addr = new Uint8Array(new ArrayBuffer(SOCKADDR_ALG_SIZE));
  new DataView(addr.buffer).setUint16(0, AF_ALG, true);
  addr.set(typeBytes, 2);
  addr.set(nameBytes, 24);
  return addr;
}

/** An fd closed at the end of its scope. */
class OwnedFd implements Disposable {
  readonly fd: number;
  constructor(fd: number) {
    this.fd = fd;
  }
  [Symbol.dispose](): void {
    libc.close(this.fd);
  }
}

/** An anonymous, page-aligned mapping: its address never moves, unlike a GC-managed buffer's might. */
class PinnedBuffer implements Disposable {
  readonly address: number;
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly #pointer: Deno.PointerObject;
  readonly #length: bigint;

  constructor(size: number) {
    this.#length = BigInt(Math.ceil(Math.max(size, 1) / PAGE_SIZE) * PAGE_SIZE);
    const prot = PROT_READ | PROT_WRITE;
    const pointer = libc.mmap(null, this.#length, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0n);
    if (pointer === null || BigInt(Deno.UnsafePointer.value(pointer)) === MAP_FAILED) {
      throw new Error(`Cannot mmap ${this.#length} bytes`);
    }
    this.#pointer = pointer;
    this.address = Number(Deno.UnsafePointer.value(pointer));
    this.bytes = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer, size));
  }

  [Symbol.dispose](): void {
    libc.munmap(this.#pointer, this.#length);
  }
}

function addressOf(bytes: Uint8Array<ArrayBuffer>): number {
  return bytes.length === 0 ? 0 : Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
}

/**
 * One request's header: ALG_SET_OP and ALG_SET_IV control messages, and the data (or none, when it follows by
 * splice). `flags` is MSG_MORE when more data follows for the same request.
 */
function sendRequest(
  opFd: number,
  op: number,
  iv: Uint8Array,
  data: Uint8Array<ArrayBuffer> | null,
  flags: number,
): void {
  const opSpace = cmsgSpace(4);
  const control = new Uint8Array(new ArrayBuffer(opSpace + cmsgSpace(4 + iv.length)));
  const cv = new DataView(control.buffer);
  encodeCmsghdr(cv, 0, SOL_ALG, ALG_SET_OP, 4);
  cv.setUint32(CMSGHDR_DATA, op, true);
  // struct af_alg_iv { __u32 ivlen; __u8 iv[]; }
  encodeCmsghdr(cv, opSpace, SOL_ALG, ALG_SET_IV, 4 + iv.length);
  cv.setUint32(opSpace + CMSGHDR_DATA, iv.length, true);
  control.set(iv, opSpace + CMSGHDR_DATA + 4);
  const iov = new Uint8Array(new ArrayBuffer(IOVEC_SIZE));
  if (data !== null) encodeIovec(new DataView(iov.buffer), 0, addressOf(data), data.length);
  const msg = new Uint8Array(new ArrayBuffer(MSGHDR_SIZE));
  encodeMsghdr(
    new DataView(msg.buffer),
    addressOf(iov),
    data === null ? 0 : 1,
    addressOf(control),
    control.length,
  );
  const sent = checkSize(libc.sendmsg(opFd, msg, flags), "sendmsg", "(AF_ALG request)");
  if (data !== null && sent !== data.length) {
    throw new Error(`Short sendmsg: ${sent} of ${data.length} bytes`);
  }
}

/** Ends the current request (no data, no MSG_MORE). */
function endRequest(opFd: number): void {
  const msg = new Uint8Array(new ArrayBuffer(MSGHDR_SIZE));
  encodeMsghdr(new DataView(msg.buffer), 0, 0, 0, 0);
  checkSize(libc.sendmsg(opFd, msg, 0), "sendmsg", "(end of AF_ALG request)");
}

function readFull(fd: number, out: Uint8Array): void {
  let done = 0;
  while (done < out.length) {
    const n = checkSize(
      libc.read(fd, out.subarray(done), BigInt(out.length - done)),
      "read",
      "(AF_ALG result)",
    );
    if (n === 0) throw new Error(`AF_ALG result ended after ${done} of ${out.length} bytes`);
    done += n;
  }
}

/** Copy: the kernel copies `input` into its own pages; the result lands in a separate buffer. */
function cryptCopy(opFd: number, op: number, iv: Uint8Array, input: Uint8Array): Uint8Array {
  const data = new Uint8Array(new ArrayBuffer(input.length));
  data.set(input);
  sendRequest(opFd, op, iv, data, 0);
  const out = new Uint8Array(new ArrayBuffer(input.length));
  readFull(opFd, out);
  return out;
}

/** Sends `buf` as one request's data by vmsplice + splice, without ending the request. */
function spliceRequest(opFd: number, pipe: Pipe, op: number, iv: Uint8Array, buf: PinnedBuffer): void {
  const length = buf.bytes.length;
  sendRequest(opFd, op, iv, null, MSG_MORE);
  const iov = new Uint8Array(new ArrayBuffer(IOVEC_SIZE));
  let offset = 0;
  while (offset < length) {
    encodeIovec(new DataView(iov.buffer), 0, buf.address + offset, length - offset);
    const n = checkSize(libc.vmsplice(pipe.write.fd, iov, 1n, 0), "vmsplice");
    for (let moved = 0; moved < n;) {
      moved += checkSize(
        libc.splice(pipe.read.fd, null, opFd, null, BigInt(n - moved), SPLICE_F_MORE),
        "splice",
      );
    }
    offset += n;
  }
}

/** In place: `buf`'s pages are the request's spliced source, and its destination (read). */
function cryptInPlace(opFd: number, pipe: Pipe, op: number, iv: Uint8Array, buf: PinnedBuffer): void {
  spliceRequest(opFd, pipe, op, iv, buf);
  endRequest(opFd);
  readFull(opFd, buf.bytes);
}

/** A pipe for vmsplice + splice. */
class Pipe implements Disposable {
  readonly read: OwnedFd;
  readonly write: OwnedFd;
  constructor() {
    const fds = new Int32Array(new ArrayBuffer(8));
    check(libc.pipe2(fds, O_CLOEXEC), "pipe2");
    [this.read, this.write] = [new OwnedFd(fds[0]!), new OwnedFd(fds[1]!)];
  }
  [Symbol.dispose](): void {
    this.read[Symbol.dispose]();
    this.write[Symbol.dispose]();
  }
}

/** A bound, keyed transform socket and one operation socket accepted from it. */
class Operation implements Disposable {
  readonly #tfm: OwnedFd;
  readonly #op: OwnedFd;
  constructor(driver: string, key: Uint8Array<ArrayBuffer>) {
    this.#tfm = new OwnedFd(
      check(libc.socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), "socket", "(AF_ALG)"),
    );
    try {
      const addr = sockaddrAlg("skcipher", driver);
      check(
        libc.bind(this.#tfm.fd, addr, addr.length),
        "bind",
        `(skcipher ${driver}: registered and self-tested?)`,
      );
      check(
        libc.setsockopt(this.#tfm.fd, SOL_ALG, ALG_SET_KEY, key, key.length),
        "setsockopt",
        "(ALG_SET_KEY)",
      );
      this.#op = new OwnedFd(
        check(libc.accept4(this.#tfm.fd, null, null, SOCK_CLOEXEC), "accept4", "(AF_ALG)"),
      );
    } catch (e) {
      this.#tfm[Symbol.dispose]();
      throw e;
    }
  }
  get fd(): number {
    return this.#op.fd;
  }
  [Symbol.dispose](): void {
    this.#op[Symbol.dispose]();
    this.#tfm[Symbol.dispose]();
  }
}

function runCase(driver: string, c: AfAlgCase): AfAlgCaseResult {
  const [key, iv, plaintext] = [fromHex(c.key), fromHex(c.iv), fromHex(c.plaintext)];
  if (iv.length !== AES_IV_SIZE) throw new RangeError(`IV must be ${AES_IV_SIZE} bytes: got ${iv.length}`);
  using op = new Operation(driver, key);
  if (!c.inPlace) {
    const ciphertext = cryptCopy(op.fd, ALG_OP_ENCRYPT, iv, plaintext);
    const decrypted = cryptCopy(op.fd, ALG_OP_DECRYPT, iv, ciphertext);
    return { id: c.id, ciphertext: toHex(ciphertext), decrypted: toHex(decrypted) };
  }
  using pipe = new Pipe();
  using buf = new PinnedBuffer(plaintext.length);
  buf.bytes.set(plaintext);
  cryptInPlace(op.fd, pipe, ALG_OP_ENCRYPT, iv, buf);
  const ciphertext = toHex(buf.bytes);
  cryptInPlace(op.fd, pipe, ALG_OP_DECRYPT, iv, buf);
  return { id: c.id, ciphertext, decrypted: toHex(buf.bytes) };
}

/**
 * Whether this kernel splices into AF_ALG without copying, so that "in place" cases really give the device the
 * same pages as source and destination: the probe changes a page after splicing it, before the request runs,
 * and sees which data was encrypted. (Kernels hardened after CVE-2026-31431 copy spliced data.)
 */
function probeSpliceAliasing(driver: string): boolean {
  const original = new Uint8Array(new ArrayBuffer(PAGE_SIZE)).fill(0x5a);
  const iv = new Uint8Array(new ArrayBuffer(AES_IV_SIZE));
  using op = new Operation(driver, new Uint8Array(new ArrayBuffer(16)).fill(1));
  const encryptedOriginal = toHex(cryptCopy(op.fd, ALG_OP_ENCRYPT, iv, original));
  const encryptedZeros = toHex(cryptCopy(op.fd, ALG_OP_ENCRYPT, iv, new Uint8Array(PAGE_SIZE)));
  using pipe = new Pipe();
  using buf = new PinnedBuffer(PAGE_SIZE);
  buf.bytes.set(original);
  spliceRequest(op.fd, pipe, ALG_OP_ENCRYPT, iv, buf);
  buf.bytes.fill(0);
  endRequest(op.fd);
  readFull(op.fd, buf.bytes);
  const got = toHex(buf.bytes);
  if (got === encryptedZeros) return true;
  if (got === encryptedOriginal) return false;
  throw new Error("Splice probe: the result matches neither the spliced nor the later data");
}

function main(args: readonly string[]): number {
  if (args.length !== 2) {
    console.error("Usage: af_alg_client.ts PLAN.json RESULT.json");
    return 2;
  }
  const plan = JSON.parse(Deno.readTextFileSync(args[0]!)) as AfAlgPlan;
  const started = performance.now();
  const cases = plan.cases.map((c): AfAlgCaseResult => {
    try {
      return runCase(plan.driver, c);
    } catch (e) {
      return { id: c.id, error: e instanceof Error ? e.message : String(e) };
    }
  });
  const elapsedMs = Math.round(performance.now() - started);
  let spliceAliases: boolean | string;
  try {
    spliceAliases = probeSpliceAliasing(plan.driver);
  } catch (e) {
    spliceAliases = e instanceof Error ? e.message : String(e);
  }
  const result: AfAlgResult = { version: 1, driver: plan.driver, cases, elapsedMs, spliceAliases };
  Deno.writeTextFileSync(args[1]!, JSON.stringify(result));
  const errors = cases.filter((c) => c.error !== undefined);
  for (const e of errors) console.error(`${e.id}: ${e.error}`);
  console.log(
    `GUEST-AF-ALG cases=${cases.length} errors=${errors.length} ms=${elapsedMs} splice-aliases=${spliceAliases}`,
  );
  return errors.length === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(main(Deno.args));
