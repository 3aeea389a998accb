/*
 * cryptvisor_sys: process hardening the agent needs and Node.js does not offer.
 *
 * disableCoreDumps() sets RLIMIT_CORE to 0 (soft and hard) and clears the dumpable flag with
 * prctl(PR_SET_DUMPABLE, 0), so the kernel never writes a core file of a process that holds KEKs
 * and DEKs (and other users' ptrace and /proc/PID/mem are refused). It returns
 * { rlimit: boolean, dumpable: boolean }: whether each step succeeded.
 * isDumpable() returns prctl(PR_GET_DUMPABLE) != 0; coreLimit() returns the soft RLIMIT_CORE
 * (-1 for unlimited), for tests.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <sys/prctl.h>
#include <sys/resource.h>

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

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"disableCoreDumps", NULL, js_disable_core_dumps, NULL, NULL, NULL, napi_enumerable, NULL},
      {"isDumpable", NULL, js_is_dumpable, NULL, NULL, NULL, napi_enumerable, NULL},
      {"coreLimit", NULL, js_core_limit, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, 3, props) != napi_ok) return NULL;
  return exports;
}
