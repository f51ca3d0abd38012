/**
 * `OSSL_PARAM` arrays laid out in engine-owned memory, built once per session (the MAC's digest or cipher name),
 * so OpenSSL reads them by address and nothing is built per operation.
 *
 * @module
 */

import { OSSL_PARAM, OsslParamType } from "../../../ffi/libcrypto.ts";
import { allocHostMemory, type HostMemory } from "../host_memory.ts";

/** One UTF-8 string parameter, such as `{ key: "digest", value: "SHA2-256" }`. */
export interface Utf8Param {
  readonly key: string;
  readonly value: string;
}

/** A NUL-terminated `OSSL_PARAM[]` with its strings, in one off-heap block. */
export class OsslParams {
  readonly #memory: HostMemory;
  /** Address of the first `OSSL_PARAM`. */
  readonly address: bigint;

  /**
   * @param params The parameters, in order.
   */
  constructor(params: readonly Utf8Param[]) {
    const encoder = new TextEncoder();
    const strings = params.map((p) => [encoder.encode(p.key), encoder.encode(p.value)] as const);
    const tableSize = (params.length + 1) * OSSL_PARAM.SIZE;
    const stringSize = strings.reduce((n, [k, v]) => n + k.length + v.length + 2, 0);
    this.#memory = allocHostMemory(tableSize + stringSize);
    const view = new DataView(this.#memory.bytes.buffer);
    let at = tableSize;
    const place = (bytes: Uint8Array): bigint => {
      this.#memory.bytes.set(bytes, at); // the byte after it stays 0: the NUL
      const address = this.#memory.address + BigInt(at);
      at += bytes.length + 1;
      return address;
    };
    strings.forEach(([key, value], i) => {
      const base = i * OSSL_PARAM.SIZE;
      view.setBigUint64(base + OSSL_PARAM.KEY, place(key), true);
      view.setUint32(base + OSSL_PARAM.DATA_TYPE, OsslParamType.UTF8_STRING, true);
      view.setBigUint64(base + OSSL_PARAM.DATA, place(value), true);
      view.setBigUint64(base + OSSL_PARAM.DATA_SIZE, BigInt(value.length), true); // strlen, without the NUL
      view.setBigUint64(base + OSSL_PARAM.RETURN_SIZE, 0xffff_ffff_ffff_ffffn, true); // OSSL_PARAM_UNMODIFIED
    });
    // The terminating OSSL_PARAM_END is all zeros (key NULL), as allocated.
    this.address = this.#memory.address;
  }
}
