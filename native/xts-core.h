/*
 * What xts.c shares with file-io.c (both are linked into the cryptvisor_xts addon).
 */
#ifndef CRYPTVISOR_XTS_CORE_H
#define CRYPTVISOR_XTS_CORE_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#define XTS_MAX_KEY 64

/* Runs every sector of in[0, len) through one cipher context into out; returns 0 on success. */
int xts_crypt_sectors(int encrypt, const unsigned char *key, size_t key_len, const unsigned char *in, unsigned char *out,
                      size_t len, size_t sector_size, uint64_t first_unit);

/* Argument readers: 0, or -1 with a JS exception pending. */
int xts_throw_error(napi_env env, const char *code, const char *msg);
int xts_get_bytes(napi_env env, napi_value v, unsigned char **data, size_t *len);
int xts_get_bool(napi_env env, napi_value v, int *out);
int xts_get_key(napi_env env, napi_value v, unsigned char **key, size_t *len);

/* Adds readDecrypt and encryptWrite (file-io.c) to the addon's exports. */
int xts_file_io_register(napi_env env, napi_value exports);

#endif
