/**
 * Test fixture: the firmware's lookaside service of the QAT gen4 VF model. It reads a 128-byte request the way the
 * interface document describes it (qat-gen4.md; DPDK `icp_qat_fw_la.h`, `icp_qat_hw.h`), with its own offsets
 * (an independent reading, so a layout mistake in the driver shows as a wrong answer rather than cancelling out),
 * runs it with OpenSSL (the software engine for AES, `Sha256Resume` to finish hashes from the descriptor's
 * states), writes the results by IOVA and returns the status byte.
 *
 * What the model checks, as the firmware would refuse it: the valid flag and service type (invalid parameter),
 * the command and algorithms (unsupported), the slice chain for the command, lengths and regions, the descriptor
 * and buffers reachable (translation error). What it does not refuse but computes wrongly, as hardware would: a
 * CBC decryption without key convert, a wrong HMAC counter, a state or key at the wrong offset.
 *
 * @module
 */

import { allocHostMemory, CryptoOp, type EngineSession } from "../../src/engine/mod.ts";
import { SoftwareEngine } from "../../src/engine/software/mod.ts";
import { Sha256Resume } from "../../src/engine/software/sha256_midstate.ts";
import { AeadAlgo, CipherAlgo, Status } from "../../src/spec/virtio_crypto.ts";

/** Device memory by IOVA. */
export interface DeviceMemory {
  /** A view of `[iova, iova + length)`, or null when it is not mapped. */
  slice(iova: number, length: number): Uint8Array | null;
}

/** Status bits of a response. */
export const CRYPTO_ERROR = 0x80;
export const XLAT_ERROR = 0x10;
export const UNSUPPORTED = 0x04;
export const INVALID_PARAM = 0x02;

class Refusal extends Error {
  constructor(readonly status: number, why: string) {
    super(why);
  }
}

/** A request as the model reads it. */
interface Request {
  readonly bytes: DataView;
  readonly cmd: number;
  readonly flags: number;
  readonly sgl: boolean;
  readonly cd: DataView;
  readonly length: number;
}

const u64 = (v: DataView, at: number): number =>
  v.getUint32(at, true) + v.getUint32(at + 4, true) * 0x1_0000_0000;

/** The lookaside service. */
export class FakeLookaside {
  readonly #mem: DeviceMemory;
  readonly #soft = new SoftwareEngine();
  /** The last refusal's reason, for test failures. */
  lastRefusal = "";

  /** @param memory Device memory. */
  constructor(memory: DeviceMemory) {
    this.#mem = memory;
  }

  /**
   * Runs one request.
   *
   * @param request 128 bytes from the TX ring.
   * @returns The response's `comn_status`.
   */
  run(request: Uint8Array): number {
    try {
      this.#execute(this.#parse(request));
      return 0;
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      this.lastRefusal = e.message;
      return e.status;
    }
  }

  /** Frees the software engine. */
  close(): void {
    this.#soft.close();
  }

  #view(iova: number, length: number): Uint8Array {
    const s = this.#mem.slice(iova, length);
    if (s === null) throw new Refusal(XLAT_ERROR, `IOVA 0x${iova.toString(16)}+${length} is not mapped`);
    return s;
  }

  #parse(request: Uint8Array): Request {
    const v = new DataView(request.buffer, request.byteOffset, 128);
    if ((v.getUint8(3) & 0x80) === 0 || v.getUint8(2) !== 4) {
      throw new Refusal(INVALID_PARAM, "not a valid LA request");
    }
    const cmd = v.getUint8(1);
    if (cmd > 3) throw new Refusal(UNSUPPORTED, `command ${cmd}`);
    const cdBytes = v.getUint8(18) * 8;
    const cd = this.#view(u64(v, 8), cdBytes);
    const srcLen = v.getUint32(48, true);
    if (srcLen !== v.getUint32(52, true)) {
      throw new Refusal(INVALID_PARAM, "source and destination lengths differ");
    }
    const chain = [v.getUint8(111), v.getUint8(115)];
    const expect = [[0x41, 0], [0, 0x42], [0x21, 0x42], [0x41, 0x12]][cmd]!;
    if (chain[0] !== expect[0] || chain[1] !== expect[1]) {
      throw new Refusal(INVALID_PARAM, `slice chain ${chain} for command ${cmd}`);
    }
    return {
      bytes: v,
      cmd,
      flags: v.getUint16(4, true),
      sgl: (v.getUint8(6) & 1) !== 0,
      cd: new DataView(cd.buffer, cd.byteOffset, cd.byteLength),
      length: srcLen,
    };
  }

  // A buffer: flat at `address`, or the list there (16-byte header, 16-byte entries).
  #pieces(r: Request, address: number): Uint8Array[] {
    if (!r.sgl) return r.length === 0 ? [] : [this.#view(address, r.length)];
    const header = this.#view(address, 16);
    const count = new DataView(header.buffer, header.byteOffset).getUint32(8, true);
    const bytes = this.#view(address, 16 + 16 * count);
    const list = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const pieces: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < count; i++) {
      const len = list.getUint32(16 + 16 * i, true);
      pieces.push(this.#view(u64(list, 16 + 16 * i + 8), len));
      total += len;
    }
    if (total !== r.length) {
      throw new Refusal(INVALID_PARAM, `list holds ${total} bytes, request says ${r.length}`);
    }
    return pieces;
  }

  #execute(r: Request): void {
    const src = this.#pieces(r, u64(r.bytes, 32));
    const data = new Uint8Array(r.length);
    let at = 0;
    for (const p of src) {
      data.set(p, at);
      at += p.length;
    }
    const out = data.slice();
    let digest: Uint8Array | null = null;
    if (r.cmd === 3) digest = this.#auth(r, data);
    if (r.cmd !== 1) this.#cipher(r, data, out);
    if (r.cmd === 1) digest = this.#auth(r, data);
    if (r.cmd === 2) digest = this.#auth(r, out);
    if (digest !== null) this.#result(r, digest);
    if (r.cmd === 1) return; // auth only: nothing is written back
    let pos = 0;
    for (const p of this.#pieces(r, u64(r.bytes, 40))) {
      p.set(out.subarray(pos, pos + p.length));
      pos += p.length;
    }
  }

  #result(r: Request, digest: Uint8Array): void {
    const size = r.bytes.getUint8(107);
    const target = this.#view(u64(r.bytes, 96), size);
    if ((r.flags & (1 << 6)) !== 0) {
      if (!equal(target, digest.subarray(0, size))) throw new Refusal(CRYPTO_ERROR, "digest mismatch");
    } else if ((r.flags & (1 << 5)) !== 0) target.set(digest.subarray(0, size));
  }

  #auth(r: Request, data: Uint8Array): Uint8Array {
    const at = r.bytes.getUint8(108 + 6) * 8;
    const config = r.cd.getUint32(at, true);
    const mode = (config >>> 4) & 0xf;
    const algo = config & 0xf;
    const digestLen = (config >>> 8) & 0x7f;
    if (algo !== 4 || mode > 1) throw new Refusal(UNSUPPORTED, `auth algorithm ${algo} mode ${mode}`);
    if (digestLen !== r.bytes.getUint8(107)) throw new Refusal(INVALID_PARAM, "digest sizes disagree");
    const counter = r.cd.getUint32(at + 8, false);
    const s1 = r.bytes.getUint8(121);
    const s2At = r.bytes.getUint8(122) * 8;
    const state1 = new Uint8Array(r.cd.buffer, r.cd.byteOffset + at + 16, s1);
    const off = r.bytes.getUint32(80, true);
    const len = r.bytes.getUint32(84, true);
    if (off + len > data.length || s1 !== 32) throw new Refusal(INVALID_PARAM, "auth region or state size");
    try {
      const inner = new Sha256Resume(state1.slice(), counter).update(data.subarray(off, off + len)).digest();
      if (mode === 0) return inner;
      const state2 = new Uint8Array(r.cd.buffer, r.cd.byteOffset + s2At, r.bytes.getUint8(123));
      return new Sha256Resume(state2.slice(), counter).update(inner).digest();
    } catch (e) {
      if (e instanceof RangeError) throw new Refusal(INVALID_PARAM, e.message);
      throw e;
    }
  }

  #cipher(r: Request, data: Uint8Array, out: Uint8Array): void {
    const at = r.bytes.getUint8(108 + 2) * 8;
    const ucs = (r.flags & (1 << 14)) !== 0;
    const config = r.cd.getUint32(at, true);
    const mode = (config >>> 4) & 0xf;
    const algo = config & 0xf;
    const decrypt = (config & (1 << 8)) !== 0;
    const convert = (config & (1 << 9)) !== 0;
    const keyLen = [0, 0, 0, 16, 24, 32][algo];
    if (keyLen === undefined || keyLen === 0) throw new Refusal(UNSUPPORTED, `cipher algorithm ${algo}`);
    if (r.bytes.getUint8(109) * 8 < keyLen) throw new Refusal(INVALID_PARAM, "cipher key size");
    const key = new Uint8Array(r.cd.buffer, r.cd.byteOffset + at + (ucs ? 16 : 8), keyLen).slice();
    const off = r.bytes.getUint32(56, true);
    const len = r.bytes.getUint32(60, true);
    if (off + len > data.length) throw new Refusal(INVALID_PARAM, "cipher region outside the buffer");
    const iv = (r.flags & (1 << 2)) !== 0
      ? new Uint8Array(r.bytes.buffer, r.bytes.byteOffset + 64, 16).slice()
      : this.#view(u64(r.bytes, 64), 16).slice();
    const region = data.subarray(off, off + len);
    if (mode === 4) return this.#gcm(r, { key, decrypt, ucs, config, iv, region, out, off });
    if (mode === 1 && len % 16 !== 0) throw new Refusal(INVALID_PARAM, "CBC length not a multiple of 16");
    if (mode === 2 && !ucs) throw new Refusal(UNSUPPORTED, "CTR on gen4 runs on the UCS slice only");
    if (mode !== 1 && mode !== 2) throw new Refusal(UNSUPPORTED, `cipher mode ${mode}`);
    // Without key convert the slice decrypts with the encryption schedule: wrong plaintext, as on hardware.
    if (mode === 1 && decrypt && !convert) key[0]! ^= 0xff;
    const algoId = mode === 1 ? CipherAlgo.AES_CBC : CipherAlgo.AES_CTR;
    const s = this.#soft.createSession({ service: "cipher", algo: algoId, key, direction: decrypt ? 2 : 1 });
    out.set(this.#runSoftware(s, { iv, src: region })!, off);
  }

  #gcm(
    r: Request,
    c: {
      key: Uint8Array;
      decrypt: boolean;
      ucs: boolean;
      config: number;
      iv: Uint8Array;
      region: Uint8Array;
      out: Uint8Array;
      off: number;
    },
  ): void {
    const spc = (1 << 13) | (1 << 11);
    if (!c.ucs || (r.flags & spc) !== spc) {
      throw new Refusal(UNSUPPORTED, "AEAD mode needs single pass, 12-byte IV");
    }
    const tagLen = (c.config >>> 10) & 0x1f;
    const upper = r.cd.getUint32(r.bytes.getUint8(110) * 8 + 4, true);
    const aadLen = ((upper >>> 24) & 0xff) | (((upper >>> 16) & 0x3f) << 8);
    if (aadLen !== r.bytes.getUint32(84, true) || tagLen !== r.bytes.getUint8(107)) {
      throw new Refusal(INVALID_PARAM, "AAD or tag sizes disagree");
    }
    const aad = aadLen === 0 ? new Uint8Array(0) : this.#view(u64(r.bytes, 88), aadLen).slice();
    const tagAt = this.#view(u64(r.bytes, 96), tagLen);
    const s = this.#soft.createSession({
      service: "aead",
      algo: AeadAlgo.GCM,
      key: c.key,
      tagLen,
      aadLen,
      direction: c.decrypt ? 2 : 1,
    });
    const tag = c.decrypt ? tagAt.slice() : new Uint8Array(tagLen);
    const result = this.#runSoftware(s, { iv: c.iv.subarray(0, 12), src: c.region, aad, tag });
    if (result === null) {
      c.out.set(c.region, c.off); // the hardware writes its output before the compare fails
      throw new Refusal(CRYPTO_ERROR, "tag mismatch");
    }
    c.out.set(result.subarray(0, c.region.length), c.off);
    if (!c.decrypt) tagAt.set(result.subarray(c.region.length));
  }

  // Runs a software session over copies; AEAD encryption returns output ‖ tag; a BADMSG returns null.
  #runSoftware(
    s: EngineSession,
    d: { iv: Uint8Array; src: Uint8Array; aad?: Uint8Array; tag?: Uint8Array },
  ): Uint8Array | null {
    const put = (bytes: Uint8Array) => {
      const m = allocHostMemory(Math.max(1, bytes.length));
      m.bytes.set(bytes);
      return m;
    };
    const op = new CryptoOp(4);
    op.session = s;
    op.iv.push(put(d.iv), 0, d.iv.length);
    const src = put(d.src);
    op.src.push(src, 0, d.src.length);
    const dst = allocHostMemory(Math.max(1, d.src.length));
    op.dst.push(dst, 0, d.src.length);
    if (d.aad !== undefined) op.aad.push(put(d.aad), 0, d.aad.length);
    const tag = d.tag === undefined ? null : put(d.tag);
    if (tag !== null) op.digest.push(tag, 0, d.tag!.length);
    try {
      const status = this.#soft.submit(op);
      if (status === Status.BADMSG) return null;
      if (status !== Status.OK) throw new Refusal(INVALID_PARAM, `software said ${status}`);
      const out = dst.bytes.slice(0, d.src.length);
      return tag === null ? out : Uint8Array.from([...out, ...tag.bytes.subarray(0, d.tag!.length)]);
    } finally {
      this.#soft.closeSession(s);
    }
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
