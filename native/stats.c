// statsAlike(paths, expected): whether each of many paths still has the lstat it had, in one
// call. A volume snapshot reuses the tree composed in the background only while every path
// that compose looked at is as it was (src/volume/local-memo.ts): some hundreds of lstats, which
// from JavaScript cost a BigIntStats object each, several times the system call itself.
#include "stats.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

// Fields per path in `expected`, in this order; a path that was absent has all of them -1.
#define STAT_FIELDS 8

static int64_t ns_of(struct timespec t) {
  return (int64_t)((uint64_t)(int64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec);
}

// Whether `path` (NUL-terminated) has the fields `want` describes (absent: all -1).
static int alike(const char *path, const int64_t *want) {
  struct stat st;
  if (lstat(path, &st) != 0)
    return (errno == ENOENT || errno == ENOTDIR) && want[0] == -1 && want[3] == -1;
  const int64_t got[STAT_FIELDS] = {(int64_t)st.st_size,   ns_of(st.st_mtim), ns_of(st.st_ctim),
                                    (int64_t)st.st_ino,    (int64_t)st.st_mode,
                                    (int64_t)st.st_uid,    (int64_t)st.st_gid,
                                    (int64_t)st.st_nlink};
  return memcmp(got, want, sizeof got) == 0;
}

// statsAlike(paths: Buffer, expected: BigInt64Array): number. `paths`: NUL-terminated paths,
// one after another; `expected`: STAT_FIELDS per path. The index of the first path whose lstat
// differs (or fails otherwise than ENOENT, or was absent and is there now), or -1.
static napi_value stats_alike(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char *paths = NULL;
  size_t plen = 0;
  napi_typedarray_type type;
  size_t count = 0;
  void *data = NULL;
  if (argc < 2 || napi_get_buffer_info(env, argv[0], (void **)&paths, &plen) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &type, &count, &data, NULL, NULL) != napi_ok ||
      type != napi_bigint64_array || count % STAT_FIELDS != 0) {
    napi_throw_type_error(env, NULL, "statsAlike(paths, expected) takes a Buffer and a BigInt64Array");
    return NULL;
  }
  const int64_t *want = data;
  size_t n = count / STAT_FIELDS, at = 0;
  int64_t differs = -1;
  for (size_t i = 0; i < n; i++) {
    const char *end = at < plen ? memchr(paths + at, 0, plen - at) : NULL;
    if (end == NULL || !alike(paths + at, want + i * STAT_FIELDS)) {
      differs = (int64_t)i;
      break;
    }
    at = (size_t)(end - paths) + 1;
  }
  napi_create_int64(env, differs, &out);
  return out;
}

void stats_register(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "statsAlike", NAPI_AUTO_LENGTH, stats_alike, NULL, &fn);
  napi_set_named_property(env, exports, "statsAlike", fn);
}
