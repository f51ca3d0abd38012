/**
 * The software engine: cryptography by OpenSSL's libcrypto (3.x, EVP) through Deno FFI, on the caller's memory
 * in place. Imported only by the composition root (`src/daemon/`) and tests.
 *
 * @example
 * ```ts
 * import { SoftwareEngine } from "./mod.ts";
 * import { CryptoOp, allocHostMemory } from "../mod.ts";
 * import { CipherAlgo, Status } from "../../spec/virtio_crypto.ts";
 *
 * const engine = new SoftwareEngine();
 * const session = engine.createSession({ service: "cipher", algo: CipherAlgo.AES_CBC, key: new Uint8Array(16), direction: 1 });
 * const memory = allocHostMemory(48); // 16-byte IV, 32 bytes of data, encrypted in place
 * const op = new CryptoOp(4);
 * op.session = session;
 * op.iv.push(memory, 0, 16);
 * op.src.push(memory, 16, 32);
 * op.dst.push(memory, 16, 32);
 * if (engine.submit(op) !== Status.OK) throw new Error("encryption failed");
 * engine.close();
 * ```
 *
 * @module
 */

export { SoftwareEngine, type SoftwareEngineOptions } from "./software_engine.ts";
