// A directory of the local view listed with every entry's attributes in one call, for
// readdirplus (DESIGN decision 18): one readdir loop and an fstatat per entry on the calling
// thread, instead of a stat per entry through Node's thread pool. Only for the local view, a
// directory on a local disk; never for the remote.
#include "lowlevel.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// The row layout of lowlevel_reply.c's attribute arrays (node and generation left 0).
enum { R_INO = 2, R_MODE, R_NLINK, R_UID, R_GID, R_RDEV, R_SIZE, R_BLKSIZE, R_BLOCKS, R_ATIME,
       R_ATIME_NS, R_MTIME, R_MTIME_NS, R_CTIME, R_CTIME_NS, ROW };

static void put_row(double *r, const struct stat *st) {
  memset(r, 0, ROW * sizeof *r);
  r[R_INO] = (double)st->st_ino;
  r[R_MODE] = st->st_mode;
  r[R_NLINK] = (double)st->st_nlink;
  r[R_UID] = st->st_uid;
  r[R_GID] = st->st_gid;
  r[R_RDEV] = (double)st->st_rdev;
  r[R_SIZE] = (double)st->st_size;
  r[R_BLKSIZE] = (double)st->st_blksize;
  r[R_BLOCKS] = (double)st->st_blocks;
  r[R_ATIME] = (double)st->st_atim.tv_sec;
  r[R_ATIME_NS] = (double)st->st_atim.tv_nsec;
  r[R_MTIME] = (double)st->st_mtim.tv_sec;
  r[R_MTIME_NS] = (double)st->st_mtim.tv_nsec;
  r[R_CTIME] = (double)st->st_ctim.tv_sec;
  r[R_CTIME_NS] = (double)st->st_ctim.tv_nsec;
}

typedef struct {
  char *name;
  size_t len;
  struct stat st;
} entry;

// listAttrs(path: Buffer, skipPrefix: Buffer): [names: string, attrs: Float64Array] or the
// errno (a number) when the directory cannot be listed. The names are their bytes as one
// Latin-1 string, joined by '/' (no name holds one): JavaScript splits it in one call, where a
// Buffer a name cost a listing an allocation and a finaliser each, and an element set through
// N-API per name cost more than the split. Names starting with skipPrefix are left out; an
// entry gone between readdir and its fstatat is left out too.
napi_value ll_list_attrs(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *pdata = NULL, *sdata = NULL;
  size_t plen = 0, slen = 0;
  if (argc < 2 || napi_get_buffer_info(env, argv[0], &pdata, &plen) != napi_ok ||
      napi_get_buffer_info(env, argv[1], &sdata, &slen) != napi_ok || plen == 0 || plen >= 4096) {
    return ll_throw(env, "listAttrs(path: Buffer, skipPrefix: Buffer)");
  }
  char path[4096];
  memcpy(path, pdata, plen);
  path[plen] = 0;
  int err = 0;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (d == NULL) {
    err = errno;
    if (fd >= 0) close(fd);
  }
  entry *items = NULL;
  size_t n = 0, cap = 0;
  while (d != NULL) {
    errno = 0;
    struct dirent *de = readdir(d);
    if (de == NULL) {
      err = errno;
      break;
    }
    size_t len = strlen(de->d_name);
    if (slen > 0 && len >= slen && memcmp(de->d_name, sdata, slen) == 0) continue;
    struct stat st;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (n == cap) {
      cap = cap == 0 ? 64 : cap * 2;
      entry *grown = realloc(items, cap * sizeof *items);
      if (grown == NULL) {
        err = ENOMEM;
        break;
      }
      items = grown;
    }
    items[n].name = malloc(len);
    if (items[n].name == NULL) {
      err = ENOMEM;
      break;
    }
    memcpy(items[n].name, de->d_name, len);
    items[n].len = len;
    items[n].st = st;
    n++;
  }
  if (d != NULL) closedir(d);
  napi_value out;
  if (err != 0) {
    for (size_t i = 0; i < n; i++) free(items[i].name);
    free(items);
    napi_create_int32(env, err, &out);
    return out;
  }
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += items[i].len + 1;
  char *joined = malloc(total > 0 ? total : 1);
  if (joined == NULL) {
    for (size_t i = 0; i < n; i++) free(items[i].name);
    free(items);
    napi_create_int32(env, ENOMEM, &out);
    return out;
  }
  napi_value names, ab, attrs;
  void *raw;
  napi_create_arraybuffer(env, (n > 0 ? n : 1) * ROW * sizeof(double), &raw, &ab);
  double *rows = raw;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    if (i > 0) joined[at++] = '/';
    memcpy(joined + at, items[i].name, items[i].len);
    at += items[i].len;
    put_row(rows + i * ROW, &items[i].st);
    free(items[i].name);
  }
  free(items);
  napi_create_string_latin1(env, joined, at, &names);
  free(joined);
  napi_create_typedarray(env, napi_float64_array, (n > 0 ? n : 1) * ROW, ab, 0, &attrs);
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, names);
  napi_set_element(env, out, 1, attrs);
  return out;
}
