/*
 * cryptvisor native XTS addon: AES-XTS over many sectors per call, with plain64 tweaks.
 *
 * Plain C over N-API (node_api.h). It compiles against Node's own headers, which carry Node's
 * OpenSSL headers, and links no libcrypto: the EVP symbols resolve at load time to the ones the
 * `node` binary exports, so the addon uses exactly the OpenSSL that Node's crypto module uses.
 *
 * Exports:
 *   unit(encrypt, key, tweak16, data, out)                         synchronous, one data unit
 *   batch(encrypt, key, data, out, sectorSize, firstUnit) -> Promise   on the libuv pool
 *   batchSync(same)                                                    on the calling thread (small batches)
 *   readDecrypt / encryptWrite (file-io.c): pread + decrypt, encrypt + pwrite in one pool job
 * A batch copies the key into its own memory (cleansed when done), holds references to data and
 * out until it completes, and uses one cipher context for all its sectors.
 *
 * Fast path: OpenSSL 3.0 spends about a tenth of a 4 KiB sector in EVP_CipherInit_ex's parameter
 * lookups when only the IV changes. So at load time the addon looks up, through the public provider
 * API (OSSL_PROVIDER_query_operation, core_dispatch.h), the AES-XTS implementation that EVP itself
 * would call, and drives it directly: newctx, init with the key once, then per sector init with
 * only the IV and update. If anything is missing it uses the plain EVP calls instead; both give
 * the same bytes (the tests compare the batch path with the EVP single-unit path).
 */
#include "xts-core.h"
#include <openssl/core_dispatch.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEY XTS_MAX_KEY

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref data_ref;
  napi_ref out_ref;
  int encrypt;
  unsigned char key[MAX_KEY];
  size_t key_len;
  const unsigned char *in;
  unsigned char *out;
  size_t len;
  size_t sector_size;
  uint64_t first_unit;
  int failed;
} batch_t;

static const EVP_CIPHER *cipher_for(size_t key_len) {
  if (key_len == 64) return EVP_aes_256_xts();
  if (key_len == 32) return EVP_aes_128_xts();
  return NULL;
}

/* The provider's own functions for one XTS cipher, or all NULL. */
typedef struct {
  EVP_CIPHER *fetched; /* held so the provider stays loaded */
  void *provctx;
  OSSL_FUNC_cipher_newctx_fn *newctx;
  OSSL_FUNC_cipher_freectx_fn *freectx;
  OSSL_FUNC_cipher_encrypt_init_fn *einit;
  OSSL_FUNC_cipher_decrypt_init_fn *dinit;
  OSSL_FUNC_cipher_update_fn *update;
} xts_impl_t;

static xts_impl_t impl_256, impl_128;

static void find_impl(xts_impl_t *impl, const char *name) {
  memset(impl, 0, sizeof *impl);
  EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, name, NULL);
  if (c == NULL) return;
  const OSSL_PROVIDER *prov = EVP_CIPHER_get0_provider(c);
  int no_cache = 0;
  const OSSL_ALGORITHM *algs = prov == NULL ? NULL : OSSL_PROVIDER_query_operation(prov, OSSL_OP_CIPHER, &no_cache);
  const OSSL_DISPATCH *d = NULL;
  size_t n = strlen(name);
  for (const OSSL_ALGORITHM *a = algs; a != NULL && a->algorithm_names != NULL; a++) {
    if (strncmp(a->algorithm_names, name, n) == 0 && (a->algorithm_names[n] == '\0' || a->algorithm_names[n] == ':')) {
      d = a->implementation;
      break;
    }
  }
  for (; d != NULL && d->function_id != 0; d++) {
    switch (d->function_id) {
      case OSSL_FUNC_CIPHER_NEWCTX: impl->newctx = OSSL_FUNC_cipher_newctx(d); break;
      case OSSL_FUNC_CIPHER_FREECTX: impl->freectx = OSSL_FUNC_cipher_freectx(d); break;
      case OSSL_FUNC_CIPHER_ENCRYPT_INIT: impl->einit = OSSL_FUNC_cipher_encrypt_init(d); break;
      case OSSL_FUNC_CIPHER_DECRYPT_INIT: impl->dinit = OSSL_FUNC_cipher_decrypt_init(d); break;
      case OSSL_FUNC_CIPHER_UPDATE: impl->update = OSSL_FUNC_cipher_update(d); break;
      default: break;
    }
  }
  if (algs != NULL) OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_CIPHER, algs);
  if (impl->newctx == NULL || impl->freectx == NULL || impl->einit == NULL || impl->dinit == NULL || impl->update == NULL) {
    memset(impl, 0, sizeof *impl);
    EVP_CIPHER_free(c);
    return;
  }
  impl->fetched = c;
  impl->provctx = OSSL_PROVIDER_get0_provider_ctx(prov);
}

static pthread_once_t impls_once = PTHREAD_ONCE_INIT;

static void find_impls(void) {
  find_impl(&impl_256, "AES-256-XTS");
  find_impl(&impl_128, "AES-128-XTS");
}

static const xts_impl_t *impl_for(size_t key_len) {
  const xts_impl_t *impl = key_len == 64 ? &impl_256 : key_len == 32 ? &impl_128 : NULL;
  return impl != NULL && impl->fetched != NULL ? impl : NULL;
}

static void plain64(uint64_t unit, unsigned char iv[16]) {
  for (int i = 0; i < 8; i++) iv[i] = (unsigned char)(unit >> (8 * i));
  memset(iv + 8, 0, 8);
}

/*
 * A cipher context for one batch, either the provider's own (fast path) or an EVP one. The key
 * is set once; crypt_one sets a sector's IV and runs the sector.
 */
typedef struct {
  const xts_impl_t *impl; /* NULL: the EVP path */
  void *pctx;
  EVP_CIPHER_CTX *ectx;
  int encrypt;
} batch_ctx_t;

static int ctx_open(batch_ctx_t *c, int encrypt, const unsigned char *key, size_t key_len) {
  c->impl = impl_for(key_len);
  c->encrypt = encrypt;
  c->pctx = NULL;
  c->ectx = NULL;
  if (c->impl != NULL) {
    c->pctx = c->impl->newctx(c->impl->provctx);
    if (c->pctx == NULL) return -1;
    OSSL_FUNC_cipher_encrypt_init_fn *init = encrypt ? c->impl->einit : c->impl->dinit;
    return init(c->pctx, key, key_len, NULL, 0, NULL) == 1 ? 0 : -1;
  }
  c->ectx = EVP_CIPHER_CTX_new();
  if (c->ectx == NULL) return -1;
  return EVP_CipherInit_ex(c->ectx, cipher_for(key_len), NULL, key, NULL, encrypt) == 1 ? 0 : -1;
}

static int crypt_one(batch_ctx_t *c, const unsigned char iv[16], const unsigned char *in, unsigned char *out, size_t n) {
  if (c->impl != NULL) {
    OSSL_FUNC_cipher_encrypt_init_fn *init = c->encrypt ? c->impl->einit : c->impl->dinit;
    size_t outl = 0;
    if (init(c->pctx, NULL, 0, iv, 16, NULL) != 1) return -1;
    return c->impl->update(c->pctx, out, &outl, n, in, n) == 1 && outl == n ? 0 : -1;
  }
  int outl = 0;
  if (EVP_CipherInit_ex(c->ectx, NULL, NULL, NULL, iv, -1) != 1) return -1;
  return EVP_CipherUpdate(c->ectx, out, &outl, in, (int)n) == 1 && (size_t)outl == n ? 0 : -1;
}

static void ctx_close(batch_ctx_t *c) {
  if (c->pctx != NULL) c->impl->freectx(c->pctx); /* the provider cleanses its key schedule */
  EVP_CIPHER_CTX_free(c->ectx);                  /* likewise; NULL is a no-op */
}

/* Runs every sector through one context; returns 0 on success. */
int xts_crypt_sectors(int encrypt, const unsigned char *key, size_t key_len, const unsigned char *in,
                         unsigned char *out, size_t len, size_t sector_size, uint64_t first_unit) {
  if (cipher_for(key_len) == NULL || sector_size == 0 || len % sector_size != 0 || sector_size > INT32_MAX) return -1;
  batch_ctx_t c;
  int rc = ctx_open(&c, encrypt, key, key_len);
  unsigned char iv[16];
  uint64_t unit = first_unit;
  for (size_t off = 0; rc == 0 && off < len; off += sector_size, unit += sector_size / 512) {
    plain64(unit, iv);
    rc = crypt_one(&c, iv, in + off, out + off, sector_size);
  }
  ctx_close(&c);
  return rc;
}

int xts_throw_error(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return -1;
}

/* Reads a Buffer or Uint8Array argument. */
int xts_get_bytes(napi_env env, napi_value v, unsigned char **data, size_t *len) {
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) {
    return xts_throw_error(env, "ERR_INVALID_ARG_TYPE", "expected a Uint8Array");
  }
  napi_typedarray_type type;
  void *ptr = NULL;
  size_t length = 0;
  if (napi_get_typedarray_info(env, v, &type, &length, &ptr, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    return xts_throw_error(env, "ERR_INVALID_ARG_TYPE", "expected a Uint8Array");
  }
  *data = (unsigned char *)ptr;
  *len = length;
  return 0;
}

int xts_get_bool(napi_env env, napi_value v, int *out) {
  bool b = false;
  if (napi_get_value_bool(env, v, &b) != napi_ok) return xts_throw_error(env, "ERR_INVALID_ARG_TYPE", "expected a boolean");
  *out = b ? 1 : 0;
  return 0;
}

int xts_get_key(napi_env env, napi_value v, unsigned char **key, size_t *len) {
  if (xts_get_bytes(env, v, key, len) != 0) return -1;
  if (cipher_for(*len) == NULL) return xts_throw_error(env, "ERR_INVALID_ARG_VALUE", "an XTS key is 32 or 64 bytes");
  if (CRYPTO_memcmp(*key, *key + *len / 2, *len / 2) == 0) {
    return xts_throw_error(env, "ERR_INVALID_ARG_VALUE", "the two halves of an XTS key must differ");
  }
  return 0;
}

/* unit(encrypt, key, tweak16, data, out) */
static napi_value js_unit(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5) {
    xts_throw_error(env, "ERR_MISSING_ARGS", "unit takes 5 arguments");
    return NULL;
  }
  int encrypt;
  unsigned char *key, *tweak, *in, *out;
  size_t key_len, tweak_len, in_len, out_len;
  if (xts_get_bool(env, argv[0], &encrypt) || xts_get_key(env, argv[1], &key, &key_len) ||
      xts_get_bytes(env, argv[2], &tweak, &tweak_len) || xts_get_bytes(env, argv[3], &in, &in_len) ||
      xts_get_bytes(env, argv[4], &out, &out_len)) {
    return NULL;
  }
  if (tweak_len != 16 || in_len != out_len || in_len < 16 || in_len % 16 != 0 || in_len > INT32_MAX) {
    xts_throw_error(env, "ERR_INVALID_ARG_VALUE", "bad tweak or data length");
    return NULL;
  }
  const EVP_CIPHER *cipher = cipher_for(key_len);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int outl = 0;
  int ok = ctx != NULL && EVP_CipherInit_ex(ctx, cipher, NULL, key, tweak, encrypt) == 1 &&
           EVP_CipherUpdate(ctx, out, &outl, in, (int)in_len) == 1 && (size_t)outl == in_len;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) xts_throw_error(env, "ERR_CRYPTO_OPERATION_FAILED", "OpenSSL XTS operation failed");
  return NULL;
}

static void batch_execute(napi_env env, void *p) {
  (void)env;
  batch_t *b = (batch_t *)p;
  b->failed = xts_crypt_sectors(b->encrypt, b->key, b->key_len, b->in, b->out, b->len, b->sector_size, b->first_unit) != 0;
}

static void batch_complete(napi_env env, napi_status status, void *p) {
  batch_t *b = (batch_t *)p;
  OPENSSL_cleanse(b->key, sizeof b->key);
  napi_value result;
  if (status != napi_ok || b->failed) {
    napi_value msg;
    napi_create_string_utf8(env, "OpenSSL XTS operation failed", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, b->deferred, result);
  } else {
    napi_get_undefined(env, &result);
    napi_resolve_deferred(env, b->deferred, result);
  }
  napi_delete_reference(env, b->data_ref);
  napi_delete_reference(env, b->out_ref);
  napi_delete_async_work(env, b->work);
  free(b);
}

/* Reads the arguments shared by batch and batchSync; returns 0, or -1 with a JS error thrown. */
typedef struct {
  int encrypt;
  unsigned char *key, *in, *out;
  size_t key_len, len;
  uint32_t sector_size;
  uint64_t first_unit;
} batch_args_t;

static int get_batch_args(napi_env env, napi_callback_info info, napi_value argv[6], batch_args_t *a) {
  size_t argc = 6;
  size_t out_len = 0;
  bool lossless = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 6) {
    return xts_throw_error(env, "ERR_MISSING_ARGS", "a batch takes 6 arguments");
  }
  if (xts_get_bool(env, argv[0], &a->encrypt) || xts_get_key(env, argv[1], &a->key, &a->key_len) ||
      xts_get_bytes(env, argv[2], &a->in, &a->len) || xts_get_bytes(env, argv[3], &a->out, &out_len)) {
    return -1;
  }
  if (napi_get_value_uint32(env, argv[4], &a->sector_size) != napi_ok || (a->sector_size != 512 && a->sector_size != 4096)) {
    return xts_throw_error(env, "ERR_INVALID_ARG_VALUE", "the sector size must be 512 or 4096");
  }
  if (napi_get_value_bigint_uint64(env, argv[5], &a->first_unit, &lossless) != napi_ok || !lossless) {
    return xts_throw_error(env, "ERR_INVALID_ARG_VALUE", "the first unit must be a bigint in [0, 2^64)");
  }
  if (a->len != out_len || a->len % a->sector_size != 0) {
    return xts_throw_error(env, "ERR_INVALID_ARG_VALUE", "data must be whole sectors and out as long as data");
  }
  return 0;
}

/* batchSync(encrypt, key, data, out, sectorSize, firstUnit: bigint): on the calling thread, for small batches. */
static napi_value js_batch_sync(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  batch_args_t a;
  if (get_batch_args(env, info, argv, &a) != 0) return NULL;
  if (xts_crypt_sectors(a.encrypt, a.key, a.key_len, a.in, a.out, a.len, a.sector_size, a.first_unit) != 0) {
    xts_throw_error(env, "ERR_CRYPTO_OPERATION_FAILED", "OpenSSL XTS operation failed");
  }
  return NULL;
}

/* batch(encrypt, key, data, out, sectorSize, firstUnit: bigint) -> Promise<void> */
static napi_value js_batch(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  batch_args_t a;
  if (get_batch_args(env, info, argv, &a) != 0) return NULL;
  batch_t *b = (batch_t *)calloc(1, sizeof *b);
  if (b == NULL) {
    xts_throw_error(env, "ERR_MEMORY_ALLOCATION_FAILED", "out of memory");
    return NULL;
  }
  b->encrypt = a.encrypt;
  memcpy(b->key, a.key, a.key_len);
  b->key_len = a.key_len;
  b->in = a.in;
  b->out = a.out;
  b->len = a.len;
  b->sector_size = a.sector_size;
  b->first_unit = a.first_unit;
  napi_value promise, name;
  if (napi_create_reference(env, argv[2], 1, &b->data_ref) != napi_ok ||
      napi_create_reference(env, argv[3], 1, &b->out_ref) != napi_ok ||
      napi_create_promise(env, &b->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "cryptvisor:xts", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, batch_execute, batch_complete, b, &b->work) != napi_ok ||
      napi_queue_async_work(env, b->work) != napi_ok) {
    /* Only reachable when N-API itself fails; the references (if any) leak with the env. */
    OPENSSL_cleanse(b->key, sizeof b->key);
    xts_throw_error(env, "ERR_CRYPTO_OPERATION_FAILED", "could not queue the XTS batch");
    return NULL;
  }
  return promise;
}

NAPI_MODULE_INIT() {
  /* Once per process, also when worker threads load the addon too. CRYPTVISOR_XTS_EVP=1 keeps
   * batches on the plain EVP path (tests compare both paths). */
  const char *evp_only = getenv("CRYPTVISOR_XTS_EVP");
  if (evp_only == NULL || strcmp(evp_only, "1") != 0) pthread_once(&impls_once, find_impls);
  napi_value direct;
  napi_get_boolean(env, impl_256.fetched != NULL, &direct);
  napi_property_descriptor props[] = {
      {"direct", NULL, NULL, NULL, NULL, direct, napi_enumerable, NULL},
      {"unit", NULL, js_unit, NULL, NULL, NULL, napi_enumerable, NULL},
      {"batch", NULL, js_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"batchSync", NULL, js_batch_sync, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, 4, props) != napi_ok || xts_file_io_register(env, exports) != 0) return NULL;
  return exports;
}
