/**
 * The specifications' vocabulary, at the bottom of the module map: virtio transport feature bits (`virtio.ts`) and
 * the virtio-crypto numbers: services, opcodes, algorithm ids, status codes, feature bits and struct sizes
 * (`virtio_crypto.ts`). Nothing here imports anything of the project's, so every layer may import it.
 *
 * @module
 */

export * from "./virtio.ts";
export * from "./virtio_crypto.ts";
