/**
 * OpenSSL libcrypto (3.x) through Deno FFI: the project's only `Deno.dlopen` of libcrypto. Every symbol is
 * declared once, with the C parameter names as comments. Only `src/engine/software/` imports this file.
 *
 * Parameter types follow FFI costs measured with Deno 2.9.6 on the development machine (docs/engine.md):
 * - every parameter of a per-operation call is a primitive: addresses are `usize` and get a `bigint` (a `number`
 *   there costs ~140 ns), C `int` lengths are `i32`, `size_t` lengths are `usize`;
 * - that includes the per-session handles (`EVP_CIPHER_CTX *`, `EVP_MD_CTX *`, `EVP_MAC_CTX *`) and the
 *   out-parameters (`int *outl`): they are kept as `bigint` addresses (`addressOf`). A `pointer` parameter fed
 *   from a field makes V8 keep a slow-call fallback, for which it materialises every computed `bigint` argument
 *   on the heap: ~115 bytes of garbage and ~40 ns more per AES-CBC operation than with `usize` handles;
 * - calls made once (fetching algorithms, creating contexts) keep `pointer` and `buffer` (a `cString`).
 *
 * A raw address does not keep its buffer alive: keep a reference to the buffer while C may use it.
 *
 * @module
 */

const symbols = {
  OpenSSL_version: {
    parameters: [
      "i32", // int type
    ],
    result: "pointer",
  },
  OSSL_PROVIDER_load: {
    parameters: [
      "pointer", // OSSL_LIB_CTX *libctx
      "buffer", // const char *name
    ],
    result: "pointer",
  },
  ERR_get_error: { parameters: [], result: "u64" },
  ERR_clear_error: { parameters: [], result: "void" },
  ERR_error_string_n: {
    parameters: [
      "u64", // unsigned long e
      "buffer", // char *buf
      "usize", // size_t len
    ],
    result: "void",
  },
  EVP_CIPHER_fetch: {
    parameters: [
      "pointer", // OSSL_LIB_CTX *ctx
      "buffer", // const char *algorithm
      "pointer", // const char *properties
    ],
    result: "pointer",
  },
  EVP_CIPHER_free: {
    parameters: [
      "pointer", // EVP_CIPHER *cipher
    ],
    result: "void",
  },
  EVP_CIPHER_get_iv_length: {
    parameters: [
      "pointer", // const EVP_CIPHER *cipher
    ],
    result: "i32",
  },
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
  EVP_CIPHER_CTX_free: {
    parameters: [
      "usize", // EVP_CIPHER_CTX *ctx
    ],
    result: "void",
  },
  EVP_CIPHER_CTX_set_padding: {
    parameters: [
      "usize", // EVP_CIPHER_CTX *c
      "i32", // int pad
    ],
    result: "i32",
  },
  EVP_CIPHER_CTX_set_key_length: {
    parameters: [
      "usize", // EVP_CIPHER_CTX *x
      "i32", // int keylen
    ],
    result: "i32",
  },
  EVP_CIPHER_CTX_ctrl: {
    parameters: [
      "usize", // EVP_CIPHER_CTX *ctx
      "i32", // int type
      "i32", // int arg
      "usize", // void *ptr (an address, 0n for NULL)
    ],
    result: "i32",
  },
  EVP_CipherInit_ex: {
    parameters: [
      "usize", // EVP_CIPHER_CTX *ctx
      "usize", // const EVP_CIPHER *type (0n: keep the cipher)
      "usize", // ENGINE *impl (always 0n)
      "usize", // const unsigned char *key (0n: keep the key)
      "usize", // const unsigned char *iv (0n: keep the IV)
      "i32", // int enc (1 encrypt, 0 decrypt, -1 unchanged)
    ],
    result: "i32",
  },
  EVP_CipherUpdate: {
    parameters: [
      "usize", // EVP_CIPHER_CTX *ctx
      "usize", // unsigned char *out (0n: AAD for AEAD ciphers)
      "usize", // int *outl
      "usize", // const unsigned char *in
      "i32", // int inl
    ],
    result: "i32",
  },
  EVP_CipherFinal_ex: {
    parameters: [
      "usize", // EVP_CIPHER_CTX *ctx
      "usize", // unsigned char *outm
      "usize", // int *outl
    ],
    result: "i32",
  },
  EVP_MD_fetch: {
    parameters: [
      "pointer", // OSSL_LIB_CTX *ctx
      "buffer", // const char *algorithm
      "pointer", // const char *properties
    ],
    result: "pointer",
  },
  EVP_MD_free: {
    parameters: [
      "pointer", // EVP_MD *md
    ],
    result: "void",
  },
  EVP_MD_get_size: {
    parameters: [
      "pointer", // const EVP_MD *md
    ],
    result: "i32",
  },
  EVP_MD_CTX_new: { parameters: [], result: "pointer" },
  EVP_MD_CTX_free: {
    parameters: [
      "usize", // EVP_MD_CTX *ctx
    ],
    result: "void",
  },
  EVP_DigestInit_ex: {
    parameters: [
      "usize", // EVP_MD_CTX *ctx
      "usize", // const EVP_MD *type
      "usize", // ENGINE *impl (always 0n)
    ],
    result: "i32",
  },
  EVP_DigestUpdate: {
    parameters: [
      "usize", // EVP_MD_CTX *ctx
      "usize", // const void *d
      "usize", // size_t cnt
    ],
    result: "i32",
  },
  EVP_DigestFinal_ex: {
    parameters: [
      "usize", // EVP_MD_CTX *ctx
      "usize", // unsigned char *md
      "usize", // unsigned int *s (0n: NULL)
    ],
    result: "i32",
  },
  EVP_DigestFinalXOF: {
    parameters: [
      "usize", // EVP_MD_CTX *ctx
      "usize", // unsigned char *md
      "usize", // size_t len
    ],
    result: "i32",
  },
  EVP_MAC_fetch: {
    parameters: [
      "pointer", // OSSL_LIB_CTX *libctx
      "buffer", // const char *algorithm
      "pointer", // const char *properties
    ],
    result: "pointer",
  },
  EVP_MAC_free: {
    parameters: [
      "pointer", // EVP_MAC *mac
    ],
    result: "void",
  },
  EVP_MAC_CTX_new: {
    parameters: [
      "pointer", // EVP_MAC *mac
    ],
    result: "pointer",
  },
  EVP_MAC_CTX_free: {
    parameters: [
      "usize", // EVP_MAC_CTX *ctx
    ],
    result: "void",
  },
  EVP_MAC_CTX_get_mac_size: {
    parameters: [
      "usize", // EVP_MAC_CTX *ctx
    ],
    result: "usize",
  },
  EVP_MAC_init: {
    parameters: [
      "usize", // EVP_MAC_CTX *ctx
      "usize", // const unsigned char *key (0n: keep the key)
      "usize", // size_t keylen
      "usize", // const OSSL_PARAM params[] (0n: NULL)
    ],
    result: "i32",
  },
  EVP_MAC_update: {
    parameters: [
      "usize", // EVP_MAC_CTX *ctx
      "usize", // const unsigned char *data
      "usize", // size_t datalen
    ],
    result: "i32",
  },
  EVP_MAC_final: {
    parameters: [
      "usize", // EVP_MAC_CTX *ctx
      "usize", // unsigned char *out
      "usize", // size_t *outl
      "usize", // size_t outsize
    ],
    result: "i32",
  },
  // Deprecated in OpenSSL 3 but exported (optional, as the SHA-256 calls below): the provider's own IV buffer,
  // which CBC chains through (OSSL_CIPHER_PARAM_UPDATED_IV as a pointer). See CipherContext.chainingIv.
  EVP_CIPHER_CTX_iv_noconst: {
    parameters: [
      "usize", // EVP_CIPHER_CTX *ctx
    ],
    result: "pointer", // unsigned char *, or NULL
    optional: true,
  },
  // The low-level SHA-256 API (deprecated in OpenSSL 3, still exported): the only way to read a SHA-256 state
  // after a partial message, which HMAC precomputes for accelerators need (a QAT content descriptor holds the
  // states after key ^ ipad and key ^ opad). Optional, so a libcrypto without them still loads.
  SHA256_Init: {
    parameters: [
      "buffer", // SHA256_CTX *c
    ],
    result: "i32",
    optional: true,
  },
  SHA256_Update: {
    parameters: [
      "buffer", // SHA256_CTX *c
      "buffer", // const void *data
      "usize", // size_t len
    ],
    result: "i32",
    optional: true,
  },
  SHA256_Final: {
    parameters: [
      "buffer", // unsigned char *md
      "buffer", // SHA256_CTX *c
    ],
    result: "i32",
    optional: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

let library: Deno.DynamicLibrary<typeof symbols>;
try {
  library = Deno.dlopen("libcrypto.so.3", symbols);
} catch (cause) {
  // A missing --allow-ffi is not a missing package: rethrown as is, so the CLI can name the flag.
  if (cause instanceof Deno.errors.NotCapable) throw cause;
  throw new Error(
    "Cannot load libcrypto.so.3: install the Debian package libssl3 (apt-get install libssl3)",
    {
      cause,
    },
  );
}

/** The libcrypto symbols. Only `src/engine/software/` calls them. */
export const libcrypto: Deno.StaticForeignLibraryInterface<typeof symbols> = library.symbols;

/**
 * `SHA256_CTX` (`sha.h`) on x86-64: `{ SHA_LONG h[8]; SHA_LONG Nl, Nh; SHA_LONG data[16]; unsigned int num,
 * md_len; }`, SHA_LONG being a 32-bit unsigned int in host order.
 */
export const SHA256_CTX = {
  SIZE: 112,
  H: 0,
  NL: 32,
  NH: 36,
  NUM: 104,
  MD_LEN: 108,
} as const;

/** `OpenSSL_version()` selector for the full version text (`crypto.h`). */
export const OPENSSL_VERSION = 0;

/** `EVP_CIPHER_CTX_ctrl` commands (`evp.h`). */
export const EvpCtrl = {
  /** Set the AEAD nonce length (GCM, CCM, ChaCha20-Poly1305). */
  AEAD_SET_IVLEN: 0x9,
  /** Read the tag after encryption. */
  AEAD_GET_TAG: 0x10,
  /** Set the expected tag before decryption (CCM: the tag length before the key, data may be NULL). */
  AEAD_SET_TAG: 0x11,
} as const;

/** `OSSL_PARAM.data_type` values (`core.h`). */
export const OsslParamType = {
  INTEGER: 1,
  UNSIGNED_INTEGER: 2,
  UTF8_STRING: 4,
  OCTET_STRING: 5,
} as const;

/**
 * `struct ossl_param_st` (`core.h`) on x86-64:
 * `{ const char *key; unsigned int data_type; void *data; size_t data_size; size_t return_size; }`.
 */
export const OSSL_PARAM = {
  SIZE: 40,
  KEY: 0,
  DATA_TYPE: 8,
  DATA: 16,
  DATA_SIZE: 24,
  RETURN_SIZE: 32,
} as const;

/**
 * The address of a pointer, as the `bigint` the per-operation symbols take.
 *
 * @param pointer A pointer from a `pointer` result (null gives 0n).
 * @returns Its address.
 */
export function addressOf(pointer: Deno.PointerValue): bigint {
  return BigInt(Deno.UnsafePointer.value(pointer));
}

/**
 * A NUL-terminated C string, for `buffer` parameters.
 *
 * @param s The JS string.
 * @returns Its UTF-8 bytes followed by a NUL.
 */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/**
 * Drains OpenSSL's error queue of this thread and returns the first error as text, for error messages.
 *
 * @returns For example `error:1C800066:Provider routines::cipher operation failed`, or `no OpenSSL error`.
 */
export function takeOpenSslError(): string {
  const code = libcrypto.ERR_get_error();
  libcrypto.ERR_clear_error();
  if (code === 0n) return "no OpenSSL error";
  const buf = new Uint8Array(256);
  libcrypto.ERR_error_string_n(code, buf, BigInt(buf.length));
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
}

/**
 * The version text of the loaded library.
 *
 * @returns For example `OpenSSL 3.0.19 27 Jan 2026`.
 */
export function openSslVersion(): string {
  const p = libcrypto.OpenSSL_version(OPENSSL_VERSION);
  return p === null ? "OpenSSL" : new Deno.UnsafePointerView(p).getCString();
}
