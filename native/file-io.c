/*
 * The encrypted data path's file I/O fused with the cipher, one libuv pool job per request:
 *
 *   readDecrypt(key, fd, position, buf, sectorSize, firstUnit) -> Promise<void>
 *       pread(fd) fills buf from position (bytes past the end of the file read as zeros), then
 *       buf is decrypted in place.
 *   encryptWrite(key, fd, position, data, sectorSize, firstUnit, sync) -> Promise<void>
 *       data is encrypted into a private buffer, which pwrite(fd) writes at position in full;
 *       with sync, fdatasync(fd) follows (NBD FUA).
 *   readDecryptNow(...same...) -> boolean, encryptWriteNow(...same..., inPlace?) -> true
 *       the same jobs on the calling thread (an NBD transmission worker's own): the read uses
 *       preadv2(RWF_NOWAIT) and returns false, leaving buf undefined, unless the page cache holds
 *       the whole range. With inPlace, the write encrypts data itself (the caller gives the
 *       buffer up; it holds ciphertext afterwards) instead of into the thread's private buffer.
 *
 * Without this, an NBD read crosses the pool twice (pread, then the XTS batch) and each crossing
 * goes through the main thread in between; here the main thread only queues the job and sends
 * the reply. The key is copied into the job (cleansed when it completes); data/buf are held by
 * references until then. System call failures reject with an Error whose `code` is the errno
 * name (ENOSPC, EIO, ...) and `errno`/`syscall` are set, as Node's fs errors are.
 */
#define _GNU_SOURCE
#include "xts-core.h"
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref buf_ref;
  int encrypt; /* 1: encryptWrite, 0: readDecrypt */
  unsigned char key[XTS_MAX_KEY];
  size_t key_len;
  int fd;
  int64_t position;
  unsigned char *buf;
  size_t len;
  size_t sector_size;
  uint64_t first_unit;
  int sync;
  int in_place;        /* encryptWriteNow's inPlace: encrypt buf itself, not into the scratch buffer */
  int err;             /* errno of the failed system call, or 0 */
  const char *syscall; /* which one */
  int crypto_failed;
} io_job_t;

static int read_full(io_job_t *j) {
  size_t done = 0;
  while (done < j->len) {
    ssize_t n = pread(j->fd, j->buf + done, j->len - done, (off_t)(j->position + (int64_t)done));
    if (n < 0) {
      if (errno == EINTR) continue;
      j->err = errno;
      j->syscall = "pread";
      return -1;
    }
    if (n == 0) {
      memset(j->buf + done, 0, j->len - done);
      return 0;
    }
    done += (size_t)n;
  }
  return 0;
}

static int write_full(io_job_t *j, const unsigned char *data) {
  size_t done = 0;
  while (done < j->len) {
    ssize_t n = pwrite(j->fd, data + done, j->len - done, (off_t)(j->position + (int64_t)done));
    if (n < 0) {
      if (errno == EINTR) continue;
      j->err = errno;
      j->syscall = "pwrite";
      return -1;
    }
    done += (size_t)n;
  }
  if (j->sync && fdatasync(j->fd) != 0) {
    j->err = errno;
    j->syscall = "fdatasync";
    return -1;
  }
  return 0;
}

/*
 * Each pool thread keeps one ciphertext buffer of up to SCRATCH_MAX bytes for encryptWrite, so a
 * steady stream of writes does not map, fault in and unmap fresh pages per request; larger
 * requests get their own allocation. It only ever holds ciphertext: nothing to cleanse.
 */
#define SCRATCH_MAX (4u << 20)
static __thread unsigned char *scratch;
static __thread size_t scratch_len;

static unsigned char *ciphertext_buffer(size_t len) {
  if (len > SCRATCH_MAX) return (unsigned char *)malloc(len);
  if (scratch_len < len) {
    free(scratch);
    scratch_len = 0;
    scratch = (unsigned char *)malloc(len < (256u << 10) ? (256u << 10) : len);
    if (scratch == NULL) return NULL;
    scratch_len = len < (256u << 10) ? (256u << 10) : len;
  }
  return scratch;
}

static void io_execute(napi_env env, void *p) {
  (void)env;
  io_job_t *j = (io_job_t *)p;
  if (!j->encrypt) {
    if (read_full(j) != 0) return;
    j->crypto_failed = xts_crypt_sectors(0, j->key, j->key_len, j->buf, j->buf, j->len, j->sector_size, j->first_unit) != 0;
    return;
  }
  unsigned char *tmp = j->in_place ? j->buf : ciphertext_buffer(j->len);
  if (tmp == NULL) {
    j->err = ENOMEM;
    j->syscall = "malloc";
    return;
  }
  j->crypto_failed = xts_crypt_sectors(1, j->key, j->key_len, j->buf, tmp, j->len, j->sector_size, j->first_unit) != 0;
  if (!j->crypto_failed) write_full(j, tmp);
  if (tmp != scratch && tmp != j->buf) free(tmp);
}

/* The errno's symbolic name, as Node's fs errors carry it in `code`. */
static const char *errno_name(int e) {
  switch (e) {
    case ENOSPC: return "ENOSPC";
    case EDQUOT: return "EDQUOT";
    case EFBIG: return "EFBIG";
    case EROFS: return "EROFS";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "EIO";
  }
}

static napi_value io_error(napi_env env, const io_job_t *j) {
  napi_value code, msg, err, num, sys;
  char text[160];
  if (j->err != 0) {
    snprintf(text, sizeof text, "%s failed: %s", j->syscall, strerror(j->err));
    napi_create_string_utf8(env, errno_name(j->err), NAPI_AUTO_LENGTH, &code);
  } else {
    snprintf(text, sizeof text, "OpenSSL XTS operation failed");
    napi_create_string_utf8(env, "ERR_CRYPTO_OPERATION_FAILED", NAPI_AUTO_LENGTH, &code);
  }
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &err);
  if (j->err != 0) {
    napi_create_int32(env, -j->err, &num);
    napi_create_string_utf8(env, j->syscall, NAPI_AUTO_LENGTH, &sys);
    napi_set_named_property(env, err, "errno", num);
    napi_set_named_property(env, err, "syscall", sys);
  }
  return err;
}

static void io_complete(napi_env env, napi_status status, void *p) {
  io_job_t *j = (io_job_t *)p;
  OPENSSL_cleanse(j->key, sizeof j->key);
  napi_value result;
  if (status != napi_ok || j->err != 0 || j->crypto_failed) {
    napi_reject_deferred(env, j->deferred, io_error(env, j));
  } else {
    napi_get_undefined(env, &result);
    napi_resolve_deferred(env, j->deferred, result);
  }
  napi_delete_reference(env, j->buf_ref);
  napi_delete_async_work(env, j->work);
  free(j);
}

/* Reads the arguments both functions share: key, fd, position, buffer, sectorSize, firstUnit. */
static int get_io_args(napi_env env, napi_value argv[6], io_job_t *j) {
  unsigned char *key;
  size_t key_len;
  int32_t fd;
  int64_t position;
  uint32_t sector_size;
  bool lossless = false;
  if (xts_get_key(env, argv[0], &key, &key_len)) return -1;
  if (napi_get_value_int32(env, argv[1], &fd) != napi_ok || fd < 0) {
    return xts_throw_error(env, "ERR_INVALID_ARG_VALUE", "fd must be a non-negative integer");
  }
  if (napi_get_value_int64(env, argv[2], &position) != napi_ok || position < 0 || position > ((int64_t)1 << 53)) {
    return xts_throw_error(env, "ERR_INVALID_ARG_VALUE", "position must be a non-negative safe integer");
  }
  if (xts_get_bytes(env, argv[3], &j->buf, &j->len)) return -1;
  if (napi_get_value_uint32(env, argv[4], &sector_size) != napi_ok || (sector_size != 512 && sector_size != 4096)) {
    return xts_throw_error(env, "ERR_INVALID_ARG_VALUE", "the sector size must be 512 or 4096");
  }
  if (napi_get_value_bigint_uint64(env, argv[5], &j->first_unit, &lossless) != napi_ok || !lossless) {
    return xts_throw_error(env, "ERR_INVALID_ARG_VALUE", "the first unit must be a bigint in [0, 2^64)");
  }
  if (j->len == 0 || j->len % sector_size != 0) return xts_throw_error(env, "ERR_INVALID_ARG_VALUE", "data must be whole sectors");
  memcpy(j->key, key, key_len);
  j->key_len = key_len;
  j->fd = fd;
  j->position = position;
  j->sector_size = sector_size;
  return 0;
}

static napi_value queue_job(napi_env env, napi_value buf, io_job_t *j) {
  napi_value promise, name;
  if (napi_create_reference(env, buf, 1, &j->buf_ref) != napi_ok || napi_create_promise(env, &j->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "cryptvisor:xts-io", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, io_execute, io_complete, j, &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    /* Only reachable when N-API itself fails; the reference (if any) leaks with the env. */
    OPENSSL_cleanse(j->key, sizeof j->key);
    free(j);
    xts_throw_error(env, "ERR_CRYPTO_OPERATION_FAILED", "could not queue the XTS file job");
    return NULL;
  }
  return promise;
}

static napi_value start(napi_env env, napi_callback_info info, int encrypt) {
  size_t argc = 7;
  napi_value argv[7];
  size_t want = encrypt ? 7 : 6;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != want) {
    xts_throw_error(env, "ERR_MISSING_ARGS", encrypt ? "encryptWrite takes 7 arguments" : "readDecrypt takes 6 arguments");
    return NULL;
  }
  io_job_t *j = (io_job_t *)calloc(1, sizeof *j);
  if (j == NULL) {
    xts_throw_error(env, "ERR_MEMORY_ALLOCATION_FAILED", "out of memory");
    return NULL;
  }
  j->encrypt = encrypt;
  if (get_io_args(env, argv, j) != 0 || (encrypt && xts_get_bool(env, argv[6], &j->sync) != 0)) {
    OPENSSL_cleanse(j->key, sizeof j->key);
    free(j);
    return NULL;
  }
  return queue_job(env, argv[3], j);
}

/*
 * The same jobs on the calling thread. readDecryptNow reads with RWF_NOWAIT and returns false
 * (nothing done) when the page cache does not hold the whole range; encryptWriteNow always writes.
 */
static napi_value start_now(napi_env env, napi_callback_info info, int encrypt) {
  size_t argc = 8;
  napi_value argv[8];
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || (encrypt ? argc != 7 && argc != 8 : argc != 6)) {
    xts_throw_error(env, "ERR_MISSING_ARGS", "wrong number of arguments");
    return NULL;
  }
  io_job_t j;
  memset(&j, 0, sizeof j);
  j.encrypt = encrypt;
  if (get_io_args(env, argv, &j) != 0 || (encrypt && xts_get_bool(env, argv[6], &j.sync) != 0) ||
      (argc == 8 && xts_get_bool(env, argv[7], &j.in_place) != 0)) {
    OPENSSL_cleanse(j.key, sizeof j.key);
    return NULL;
  }
  int done = 1;
  if (!encrypt) {
    struct iovec v = {j.buf, j.len};
    ssize_t n;
    do n = preadv2(j.fd, &v, 1, (off_t)j.position, RWF_NOWAIT); while (n < 0 && errno == EINTR);
    if (n == (ssize_t)j.len) {
      j.crypto_failed = xts_crypt_sectors(0, j.key, j.key_len, j.buf, j.buf, j.len, j.sector_size, j.first_unit) != 0;
    } else if (n < 0 && errno != EAGAIN && errno != EOPNOTSUPP) {
      j.err = errno;
      j.syscall = "preadv2";
    } else {
      done = 0;
    }
  } else {
    io_execute(env, &j);
  }
  OPENSSL_cleanse(j.key, sizeof j.key);
  if (j.err != 0 || j.crypto_failed) {
    napi_throw(env, io_error(env, &j));
    return NULL;
  }
  napi_get_boolean(env, done, &result);
  return result;
}

static napi_value js_read_decrypt_now(napi_env env, napi_callback_info info) {
  return start_now(env, info, 0);
}

static napi_value js_encrypt_write_now(napi_env env, napi_callback_info info) {
  return start_now(env, info, 1);
}

static napi_value js_read_decrypt(napi_env env, napi_callback_info info) {
  return start(env, info, 0);
}

static napi_value js_encrypt_write(napi_env env, napi_callback_info info) {
  return start(env, info, 1);
}

int xts_file_io_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"readDecrypt", NULL, js_read_decrypt, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encryptWrite", NULL, js_encrypt_write, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readDecryptNow", NULL, js_read_decrypt_now, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encryptWriteNow", NULL, js_encrypt_write_now, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, 4, props) == napi_ok ? 0 : -1;
}
