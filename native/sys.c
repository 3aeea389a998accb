/*
 * cryptvisor_sys: process hardening the agent needs and Node.js does not offer.
 *
 * disableCoreDumps() sets RLIMIT_CORE to 0 (soft and hard) and clears the dumpable flag with
 * prctl(PR_SET_DUMPABLE, 0), so the kernel never writes a core file of a process that holds KEKs
 * and DEKs (and other users' ptrace and /proc/PID/mem are refused). It returns
 * { rlimit: boolean, dumpable: boolean }: whether each step succeeded.
 * isDumpable() returns prctl(PR_GET_DUMPABLE) != 0; coreLimit() returns the soft RLIMIT_CORE
 * (-1 for unlimited), for tests.
 *
 * punchHole(fd, offset, length) -> Promise<void> runs fallocate(PUNCH_HOLE | KEEP_SIZE) on the
 * libuv pool (Node has no fallocate): the range becomes a hole that reads as zeros and the file
 * size stays. It rejects with an Error whose `code` is the errno name (EOPNOTSUPP when the file
 * system cannot punch holes), and `errno`/`syscall` set, like Node's fs errors.
 *
 * setSendBuffer(fd, bytes) -> number sets SO_SNDBUF of a socket (Node has no setsockopt for
 * stream sockets) and returns the size the kernel then reports (it doubles the request and caps
 * it at net.core.wmem_max), or -1 if the descriptor is not a socket or the call fails.
 *
 * dupSocket(fd) -> number returns a close-on-exec duplicate of a stream socket's descriptor (or
 * -1), so the NBD server can re-wrap an accepted connection in a net.Socket that reads into
 * buffers it chooses (src/nbd/socket-requests.ts) while the original handle is closed.
 *
 * sendSome(fd, buffer, length) -> number sends buffer[0, length) on a stream socket without
 * blocking (MSG_DONTWAIT | MSG_NOSIGNAL) and returns how many bytes the kernel took: 0 when the
 * socket is full, -errno when the send fails (EPIPE, ECONNRESET, ...). The NBD transmission loop
 * sends the replies of one event-loop turn with it, instead of through Node's stream machinery,
 * while Node's own stream has nothing queued (src/nbd/transmission.ts).
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static napi_value js_disable_core_dumps(napi_env env, napi_callback_info info) {
  (void)info;
  struct rlimit none = {0, 0};
  int rlimit_ok = setrlimit(RLIMIT_CORE, &none) == 0;
  int dumpable_ok = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0;
  napi_value result, a, b;
  if (napi_create_object(env, &result) != napi_ok || napi_get_boolean(env, rlimit_ok, &a) != napi_ok ||
      napi_get_boolean(env, dumpable_ok, &b) != napi_ok || napi_set_named_property(env, result, "rlimit", a) != napi_ok ||
      napi_set_named_property(env, result, "dumpable", b) != napi_ok) {
    return NULL;
  }
  return result;
}

static napi_value js_is_dumpable(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_get_boolean(env, prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0, &v);
  return v;
}

static napi_value js_core_limit(napi_env env, napi_callback_info info) {
  (void)info;
  struct rlimit cur;
  napi_value v;
  if (getrlimit(RLIMIT_CORE, &cur) != 0) return NULL;
  napi_create_double(env, cur.rlim_cur == RLIM_INFINITY ? -1.0 : (double)cur.rlim_cur, &v);
  return v;
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int fd;
  int64_t offset, length;
  int err;
} punch_t;

static void punch_execute(napi_env env, void *p) {
  (void)env;
  punch_t *j = (punch_t *)p;
  int rc;
  do {
    rc = fallocate(j->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)j->offset, (off_t)j->length);
  } while (rc != 0 && errno == EINTR);
  j->err = rc == 0 ? 0 : errno;
}

static const char *errno_name(int e) {
  switch (e) {
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case EROFS: return "EROFS";
    case ENOSPC: return "ENOSPC";
    case ENODEV: return "ENODEV";
    default: return "EIO";
  }
}

static void punch_complete(napi_env env, napi_status status, void *p) {
  punch_t *j = (punch_t *)p;
  napi_value v;
  if (status == napi_ok && j->err == 0) {
    napi_get_undefined(env, &v);
    napi_resolve_deferred(env, j->deferred, v);
  } else {
    int e = j->err != 0 ? j->err : EIO;
    napi_value code, msg, num, sys;
    napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, strerror(e), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &v);
    napi_create_int32(env, -e, &num);
    napi_create_string_utf8(env, "fallocate", NAPI_AUTO_LENGTH, &sys);
    napi_set_named_property(env, v, "errno", num);
    napi_set_named_property(env, v, "syscall", sys);
    napi_reject_deferred(env, j->deferred, v);
  }
  napi_delete_async_work(env, j->work);
  free(j);
}

/* sendSome(fd, buffer, length) -> bytes sent, 0 when the socket is full, or -errno. */
static napi_value js_send_some(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  int32_t fd;
  uint32_t length;
  void *data = NULL;
  size_t size = 0;
  bool is_buffer = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 || napi_is_buffer(env, argv[1], &is_buffer) != napi_ok ||
      !is_buffer || napi_get_buffer_info(env, argv[1], &data, &size) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &length) != napi_ok || length > size) {
    napi_throw_error(env, "ERR_INVALID_ARG_VALUE", "sendSome(fd, buffer, length) takes a descriptor, a Buffer and a length within it");
    return NULL;
  }
  ssize_t n;
  do n = send(fd, data, length, MSG_DONTWAIT | MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  double r = n >= 0 ? (double)n : (errno == EAGAIN || errno == EWOULDBLOCK) ? 0.0 : -(double)errno;
  napi_create_double(env, r, &result);
  return result;
}

/* setSendBuffer(fd, bytes) -> the size the kernel reports, or -1 */
static napi_value js_set_send_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  int32_t fd, bytes;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &bytes) != napi_ok || fd < 0 ||
      bytes <= 0) {
    napi_throw_error(env, "ERR_INVALID_ARG_VALUE", "setSendBuffer(fd, bytes) takes a descriptor and a positive size");
    return NULL;
  }
  int got = -1;
  socklen_t len = sizeof got;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) != 0 || getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len) != 0) {
    got = -1;
  }
  napi_create_int32(env, got, &result);
  return result;
}

/* dupSocket(fd) -> number: a close-on-exec duplicate of a socket descriptor, or -1. */
static napi_value js_dup_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_error(env, "ERR_INVALID_ARG_VALUE", "dupSocket(fd) takes a descriptor");
    return NULL;
  }
  int type = 0;
  socklen_t len = sizeof type;
  int copy = -1;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM) copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  napi_create_int32(env, copy, &result);
  return result;
}

/* punchHole(fd, offset, length) -> Promise<void> */
static napi_value js_punch_hole(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], promise, name;
  int32_t fd;
  int64_t offset, length;
  const int64_t max = (int64_t)1 << 53;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int64(env, argv[1], &offset) != napi_ok ||
      napi_get_value_int64(env, argv[2], &length) != napi_ok || fd < 0 || offset < 0 || length <= 0 || offset > max ||
      length > max) {
    napi_throw_error(env, "ERR_INVALID_ARG_VALUE", "punchHole(fd, offset, length) takes non-negative integers and a positive length");
    return NULL;
  }
  punch_t *j = (punch_t *)calloc(1, sizeof *j);
  if (j == NULL) {
    napi_throw_error(env, "ERR_MEMORY_ALLOCATION_FAILED", "out of memory");
    return NULL;
  }
  j->fd = fd;
  j->offset = offset;
  j->length = length;
  if (napi_create_promise(env, &j->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "cryptvisor:punch-hole", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, punch_execute, punch_complete, j, &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    free(j);
    napi_throw_error(env, "ERR_OPERATION_FAILED", "could not queue fallocate");
    return NULL;
  }
  return promise;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"disableCoreDumps", NULL, js_disable_core_dumps, NULL, NULL, NULL, napi_enumerable, NULL},
      {"isDumpable", NULL, js_is_dumpable, NULL, NULL, NULL, napi_enumerable, NULL},
      {"coreLimit", NULL, js_core_limit, NULL, NULL, NULL, napi_enumerable, NULL},
      {"punchHole", NULL, js_punch_hole, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setSendBuffer", NULL, js_set_send_buffer, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dupSocket", NULL, js_dup_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendSome", NULL, js_send_some, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, 7, props) != napi_ok) return NULL;
  return exports;
}
