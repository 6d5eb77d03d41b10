// tether's native helpers. One directory listed in one call: every entry's name and lstat fields, sorted by name bytes,
// packed into one buffer. A scan of 20,000 files otherwise makes 20,000 lstat calls from
// JavaScript, each allocating a Stats object; here it is one readdir loop and fstatat per
// entry, and an unchanged directory is recognised by comparing two buffers.
//
// Layout (little-endian): u64 count; count records of RECORD_FIELDS u64 fields (see FIELD_*);
// then the names, back to back (a record holds its name's offset from the start of the names
// and its length). The buffer is a pure function of the directory's state (no atime), so two
// listings compare equal exactly when no entry was added, removed or changed.
#define NAPI_VERSION 8
#define _GNU_SOURCE // SEEK_DATA, SEEK_HOLE
#include <node_api.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "restore.h"
#include "stats.h"

enum {
  FIELD_MODE,
  FIELD_UID,
  FIELD_GID,
  FIELD_SIZE,
  FIELD_MTIME_SEC,
  FIELD_MTIME_NSEC,
  FIELD_CTIME_SEC,
  FIELD_CTIME_NSEC,
  FIELD_INO,
  FIELD_DEV,
  FIELD_RDEV,
  FIELD_FLAGS,
  FIELD_NAME_OFFSET,
  FIELD_NAME_LENGTH,
  RECORD_FIELDS
};

// FIELD_FLAGS: the entry may have user.* extended attributes (listxattr said so, or could not
// tell); 0 when it has none, or when xattrs were not asked for.
#define FLAG_USER_XATTRS 1

typedef struct {
  char *name;
  size_t len;
  struct stat st;
  uint64_t flags;
} item;

static int by_name(const void *a, const void *b) {
  const item *x = a, *y = b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->name, y->name, n);
  if (c != 0) return c;
  return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}

static const char *errno_code(int err) {
  switch (err) {
    case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ELOOP: return "ELOOP";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOMEM: return "ENOMEM";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ESTALE: return "ESTALE";
    case ENOTCONN: return "ENOTCONN";
    case ECANCELED: return "ECANCELED";
    default: return "EIO";
  }
}

// Does `path` carry a user.* xattr? Errors other than "no support" answer yes, so that the
// caller reads the attributes itself and reports what is wrong.
static int has_user_xattrs(const char *path) {
  char small[1024];
  ssize_t n = llistxattr(path, small, sizeof small);
  if (n < 0) {
    if (errno == ENOTSUP || errno == ENODATA) return 0;
    return 1;
  }
  for (ssize_t i = 0; i < n;) {
    if (strncmp(small + i, "user.", 5) == 0) return 1;
    i += (ssize_t)strlen(small + i) + 1;
  }
  return 0;
}

// A failed listing: errno, what was being done, and where.
typedef struct {
  int err;
  const char *what;
  char where[4352 + 258];
} failure;

// An entry's record (FIELD_*), but for its name's place, which the caller fills in.
static void fields_of(const item *it, uint64_t r[RECORD_FIELDS]) {
  const struct stat *s = &it->st;
  memset(r, 0, RECORD_FIELDS * 8);
  r[FIELD_MODE] = s->st_mode;
  r[FIELD_UID] = s->st_uid;
  r[FIELD_GID] = s->st_gid;
  r[FIELD_SIZE] = (uint64_t)s->st_size;
  r[FIELD_MTIME_SEC] = (uint64_t)s->st_mtim.tv_sec;
  r[FIELD_MTIME_NSEC] = (uint64_t)s->st_mtim.tv_nsec;
  r[FIELD_CTIME_SEC] = (uint64_t)s->st_ctim.tv_sec;
  r[FIELD_CTIME_NSEC] = (uint64_t)s->st_ctim.tv_nsec;
  r[FIELD_INO] = (uint64_t)s->st_ino;
  r[FIELD_DEV] = (uint64_t)s->st_dev;
  r[FIELD_RDEV] = (uint64_t)s->st_rdev;
  r[FIELD_FLAGS] = it->flags;
}

// A time in whole microseconds, as the scan compares times (exact as a double for any date
// this side of year 200000).
static double micros(int64_t sec, uint64_t nsec) {
  return (double)sec * 1e6 + (double)(nsec / 1000);
}

// An earlier listing of the same directory, whose xattr flags may be kept: an entry with the
// same name and every lstat field the same, ctime included, whose ctime is before `cutoff_us`
// (the earlier scan's start less a margin, in microseconds), has had no xattr set or removed
// since (that changes ctime), so its flag then is its flag now: no llistxattr for it.
typedef struct {
  const uint8_t *data;  // NULL: none
  size_t len;
  uint64_t count;
  double cutoff_us;
} oldlist;

// The earlier listing's checked shape (false: unusable, every entry is asked).
static bool old_valid(oldlist *o) {
  if (o->data == NULL || o->len < 8) return false;
  memcpy(&o->count, o->data, 8);
  if (o->count > (o->len - 8) / (RECORD_FIELDS * 8)) return false;
  size_t header = 8 + o->count * RECORD_FIELDS * 8;
  for (uint64_t k = 0; k < o->count; k++) {
    uint64_t off, len;
    memcpy(&off, o->data + 8 + k * RECORD_FIELDS * 8 + FIELD_NAME_OFFSET * 8, 8);
    memcpy(&len, o->data + 8 + k * RECORD_FIELDS * 8 + FIELD_NAME_LENGTH * 8, 8);
    if (off > o->len - header || len > o->len - header - off) return false;
  }
  return true;
}

// Fill each item's xattr flag: kept from the earlier listing where it vouches, else asked.
// Both lists are in name order, so they are walked side by side.
static void xattr_flags(item *items, size_t n, const char *dirpath, size_t plen, oldlist *old) {
  char child[8448];
  memcpy(child, dirpath, plen);
  child[plen] = '/';
  bool use_old = old_valid(old);
  size_t header = use_old ? 8 + old->count * RECORD_FIELDS * 8 : 0;
  uint64_t k = 0;
  for (size_t i = 0; i < n; i++) {
    item *it = &items[i];
    const struct stat *s = &it->st;
    if (!S_ISREG(s->st_mode) && !S_ISDIR(s->st_mode)) continue;
    if (use_old) {
      uint64_t r[RECORD_FIELDS], now[RECORD_FIELDS];
      int c = 1;
      while (k < old->count) {
        memcpy(r, old->data + 8 + k * RECORD_FIELDS * 8, sizeof r);
        item was;
        was.name = (char *)old->data + header + r[FIELD_NAME_OFFSET];
        was.len = r[FIELD_NAME_LENGTH];
        c = by_name(&was, it);
        if (c >= 0) break;
        k++;
      }
      fields_of(it, now);
      // Every lstat field (they come before the flags) as then, and old enough to tell.
      if (c == 0 && memcmp(r, now, FIELD_FLAGS * 8) == 0 &&
          micros(s->st_ctim.tv_sec, (uint64_t)s->st_ctim.tv_nsec) < old->cutoff_us) {
        it->flags |= r[FIELD_FLAGS] & FLAG_USER_XATTRS;
        continue;
      }
    }
    if (plen + 1 + it->len >= sizeof child) continue;
    memcpy(child + plen + 1, it->name, it->len);
    child[plen + 1 + it->len] = 0;
    if (has_user_xattrs(child)) it->flags |= FLAG_USER_XATTRS;
  }
}

// List `dirpath` into a malloc'd buffer in the layout above (*out, *outlen). Returns 0, or
// -1 with `f` filled in. Runs without touching JavaScript, so it can run on a worker thread.
static int list(const char *dirpath, size_t plen, bool want_xattrs, oldlist *old, uint8_t **out,
                size_t *outlen, failure *f) {
  snprintf(f->where, sizeof f->where, "%s", dirpath);
  int fd = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    f->err = errno;
    f->what = "cannot open directory";
    return -1;
  }
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    f->err = errno;
    f->what = "cannot list directory";
    close(fd);
    return -1;
  }
  size_t cap = 64, n = 0, names = 0;
  item *items = malloc(cap * sizeof *items);
  f->err = 0;
  for (;;) {
    errno = 0;
    struct dirent *de = readdir(d);
    if (de == NULL) {
      if (errno != 0) {
        f->err = errno;
        f->what = "cannot list directory";
      }
      break;
    }
    const char *nm = de->d_name;
    if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0))) continue;
    struct stat st;
    if (fstatat(fd, nm, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // gone since readdir: not part of the listing
      f->err = errno;
      f->what = "cannot stat";
      snprintf(f->where, sizeof f->where, "%s/%s", dirpath, nm);
      break;
    }
    if (items == NULL || (n == cap && (items = realloc(items, (cap *= 2) * sizeof *items)) == NULL)) {
      f->err = ENOMEM;
      f->what = "out of memory listing";
      break;
    }
    size_t len = strlen(nm);
    item *it = &items[n];
    it->name = malloc(len);
    if (it->name == NULL) {
      f->err = ENOMEM;
      f->what = "out of memory listing";
      break;
    }
    memcpy(it->name, nm, len);
    it->len = len;
    it->st = st;
    it->flags = 0;
    n++;
    names += len;
  }
  closedir(d);

  uint8_t *b = NULL;
  size_t header = 8 + n * RECORD_FIELDS * 8;
  if (f->err == 0) {
    qsort(items, n, sizeof *items, by_name);
    if (want_xattrs) xattr_flags(items, n, dirpath, plen, old);
    b = malloc(header + names);
    if (b == NULL) {
      f->err = ENOMEM;
      f->what = "out of memory listing";
    }
  }
  if (b != NULL) {
    uint64_t count = n;
    memcpy(b, &count, 8);
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
      uint64_t r[RECORD_FIELDS];
      fields_of(&items[i], r);
      r[FIELD_NAME_OFFSET] = off;
      r[FIELD_NAME_LENGTH] = items[i].len;
      memcpy(b + 8 + i * RECORD_FIELDS * 8, r, sizeof r);
      memcpy(b + header + off, items[i].name, items[i].len);
      off += items[i].len;
    }
  }
  if (items != NULL) {
    for (size_t i = 0; i < n; i++) free(items[i].name);
    free(items);
  }
  if (f->err != 0) return -1;
  *out = b;
  *outlen = header + names;
  return 0;
}

static napi_value error_of(napi_env env, const failure *f) {
  char msg[4352 + 512];
  snprintf(msg, sizeof msg, "%s '%s': %s", f->what, f->where, strerror(f->err));
  napi_value code, text, err;
  napi_create_string_utf8(env, errno_code(f->err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &err);
  return err;
}

static void free_listing(napi_env env, void *data, void *hint) { free(data); }

static napi_value buffer_of(napi_env env, uint8_t *data, size_t len) {
  napi_value out;
  if (napi_create_external_buffer(env, len, data, free_listing, NULL, &out) != napi_ok) {
    // Some runtimes forbid external buffers: copy instead.
    void *copy;
    napi_create_buffer_copy(env, len, data, &copy, &out);
    free(data);
  }
  return out;
}

// The path argument as a NUL-terminated string in `dirpath` (false after throwing).
static bool path_arg(napi_env env, napi_value v, char *dirpath, size_t *plen) {
  void *pdata;
  if (napi_get_buffer_info(env, v, &pdata, plen) != napi_ok || *plen == 0 ||
      memchr(pdata, 0, *plen) != NULL) {
    napi_throw_type_error(env, NULL, "listDir: the path must be a non-empty Buffer without NUL bytes");
    return false;
  }
  if (*plen > 4095) {
    failure f = {ENAMETOOLONG, "cannot open directory", ""};
    snprintf(f.where, sizeof f.where, "%.*s...", 200, (const char *)pdata);
    napi_throw(env, error_of(env, &f));
    return false;
  }
  memcpy(dirpath, pdata, *plen);
  dirpath[*plen] = 0;
  return true;
}

// The optional earlier listing (argv[2], a Buffer) and its cutoff (argv[3], microseconds): in
// `o`, copied when `copy` (a worker thread reads it after the call returns). Anything else
// there is no earlier listing.
static void old_arg(napi_env env, size_t argc, napi_value *argv, oldlist *o, bool copy) {
  o->data = NULL;
  o->len = 0;
  o->cutoff_us = -INFINITY;
  void *data;
  size_t len;
  if (argc < 4 || napi_get_buffer_info(env, argv[2], &data, &len) != napi_ok ||
      napi_get_value_double(env, argv[3], &o->cutoff_us) != napi_ok)
    return;
  if (copy) {
    void *mine = malloc(len > 0 ? len : 1);
    if (mine == NULL) return;
    memcpy(mine, data, len);
    data = mine;
  }
  o->data = data;
  o->len = len;
}

// listDir(path: Buffer, xattrs: boolean, old?: Buffer, cutoffUs?: number): Buffer
static napi_value list_dir(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char dirpath[4096];
  size_t plen;
  if (argc < 1 || !path_arg(env, argv[0], dirpath, &plen)) return NULL;
  bool want_xattrs = false;
  if (argc >= 2) napi_get_value_bool(env, argv[1], &want_xattrs);
  oldlist old;
  old_arg(env, argc, argv, &old, false);
  uint8_t *data;
  size_t len;
  failure f;
  if (list(dirpath, plen, want_xattrs, &old, &data, &len, &f) != 0) {
    napi_throw(env, error_of(env, &f));
    return NULL;
  }
  return buffer_of(env, data, len);
}

// The same on a worker thread: listDirAsync(path, xattrs, old?, cutoffUs?): Promise<Buffer>
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char dirpath[4096];
  size_t plen;
  bool want_xattrs;
  oldlist old;
  uint8_t *data;
  size_t len;
  int rc;
  failure f;
} job;

static void job_execute(napi_env env, void *p) {
  job *j = p;
  j->rc = list(j->dirpath, j->plen, j->want_xattrs, &j->old, &j->data, &j->len, &j->f);
}

static void job_complete(napi_env env, napi_status status, void *p) {
  job *j = p;
  if (status != napi_ok) {
    j->f.err = ECANCELED;
    j->f.what = "cancelled listing";
    j->rc = -1;
  }
  if (j->rc == 0)
    napi_resolve_deferred(env, j->deferred, buffer_of(env, j->data, j->len));
  else
    napi_reject_deferred(env, j->deferred, error_of(env, &j->f));
  napi_delete_async_work(env, j->work);
  free((void *)j->old.data);
  free(j);
}

static napi_value list_dir_async(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  job *j = calloc(1, sizeof *j);
  if (j == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  if (argc < 1 || !path_arg(env, argv[0], j->dirpath, &j->plen)) {
    free(j);
    return NULL;
  }
  if (argc >= 2) napi_get_value_bool(env, argv[1], &j->want_xattrs);
  old_arg(env, argc, argv, &j->old, true);
  napi_value promise, name;
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, "tether.listDir", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, job_execute, job_complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}


// Extended attributes by byte path (names and values are bytes too). The l* calls act on the
// path itself; tether reads and writes xattrs of files and directories only.

// A Buffer argument as a NUL-terminated C string in `out` (false after throwing).
static bool cstr_arg(napi_env env, napi_value v, char *out, size_t cap, const char *what) {
  void *data;
  size_t len;
  if (napi_get_buffer_info(env, v, &data, &len) != napi_ok || len == 0 || len >= cap ||
      memchr(data, 0, len) != NULL) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a non-empty Buffer without NUL bytes, shorter than %zu", what, cap);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  memcpy(out, data, len);
  out[len] = 0;
  return true;
}

static napi_value throw_path_errno(napi_env env, int err, const char *what, const char *path) {
  failure f = {err, what, ""};
  snprintf(f.where, sizeof f.where, "%s", path);
  napi_throw(env, error_of(env, &f));
  return NULL;
}

// l*xattr calls that fill a buffer, in one shape: (path, name or NULL, buffer, size).
typedef ssize_t (*xattr_fill)(const char *path, const char *name, char *buf, size_t size);
static ssize_t fill_names(const char *path, const char *name, char *buf, size_t size) {
  (void)name;
  return llistxattr(path, buf, size);
}
static ssize_t fill_value(const char *path, const char *name, char *buf, size_t size) {
  return lgetxattr(path, name, buf, size);
}

// Ask for the size, then read; again if it grew in between. A malloc'd buffer (*len bytes), or
// NULL with errno set.
static char *read_sized(xattr_fill fill, const char *path, const char *name, ssize_t *len) {
  for (;;) {
    ssize_t n = fill(path, name, NULL, 0);
    if (n < 0) return NULL;
    char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf == NULL) {
      errno = ENOMEM;
      return NULL;
    }
    ssize_t got = n > 0 ? fill(path, name, buf, (size_t)n) : 0;
    if (got >= 0) {
      *len = got;
      return buf;
    }
    int e = errno;
    free(buf);
    if (e != ERANGE) {
      errno = e;
      return NULL;
    }
  }
}

// xattrNames(path: Buffer): Buffer[] (none where the filesystem has no xattrs)
static napi_value xattr_names(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[4096];
  if (argc < 1 || !cstr_arg(env, argv[0], path, sizeof path, "path")) return NULL;
  ssize_t got = 0;
  char *buf = read_sized(fill_names, path, NULL, &got);
  if (buf == NULL && errno != ENOTSUP && errno != ENODATA)
    return throw_path_errno(env, errno, "cannot list xattrs of", path);
  napi_value out;
  napi_create_array(env, &out);
  uint32_t k = 0;
  for (ssize_t i = 0; buf != NULL && i < got;) {
    size_t len = strlen(buf + i);
    napi_value name;
    void *copy;
    napi_create_buffer_copy(env, len, buf + i, &copy, &name);
    napi_set_element(env, out, k++, name);
    i += (ssize_t)len + 1;
  }
  free(buf);
  return out;
}

// The (path, name) arguments every xattr call starts with, as C strings; the full argv for the
// caller's further arguments. False after throwing.
static bool path_name_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv,
                           char *path, char *name) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want) {
    napi_throw_type_error(env, NULL, "missing arguments");
    return false;
  }
  return cstr_arg(env, argv[0], path, 4096, "path") && cstr_arg(env, argv[1], name, 256, "name");
}

// xattrGet(path: Buffer, name: Buffer): Buffer | null (null: no such attribute)
static napi_value xattr_get(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char path[4096], name[256];
  if (!path_name_args(env, info, 2, argv, path, name)) return NULL;
  ssize_t got = 0;
  char *buf = read_sized(fill_value, path, name, &got);
  napi_value out;
  if (buf == NULL) {
    if (errno != ENODATA && errno != ENOTSUP)
      return throw_path_errno(env, errno, "cannot read an xattr of", path);
    napi_get_null(env, &out);
    return out;
  }
  void *copy;
  napi_create_buffer_copy(env, (size_t)got, buf, &copy, &out);
  free(buf);
  return out;
}

// xattrSet(path: Buffer, name: Buffer, value: Buffer): void
static napi_value xattr_set(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  char path[4096], name[256];
  void *value;
  size_t vlen;
  if (!path_name_args(env, info, 3, argv, path, name)) return NULL;
  if (napi_get_buffer_info(env, argv[2], &value, &vlen) != napi_ok) {
    napi_throw_type_error(env, NULL, "value must be a Buffer");
    return NULL;
  }
  if (lsetxattr(path, name, value, vlen, 0) != 0)
    return throw_path_errno(env, errno, "cannot set an xattr of", path);
  return NULL;
}

// xattrRemove(path: Buffer, name: Buffer): void (nothing to remove is fine)
static napi_value xattr_remove(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char path[4096], name[256];
  if (!path_name_args(env, info, 2, argv, path, name)) return NULL;
  if (lremovexattr(path, name) != 0 && errno != ENODATA)
    return throw_path_errno(env, errno, "cannot remove an xattr of", path);
  return NULL;
}

// xattrsAsync(path: Buffer): Promise<Buffer[]>. The user.* attributes of `path`, read on a
// worker thread (a scan on a hung network share must not stop the event loop), as names and
// values alternating: [name0, value0, name1, value1, ...]. None where they cannot be listed
// (gone, unreadable, no xattr support); an attribute removed between listing and reading is
// left out; one that cannot be read is an error.
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char path[4096];
  char *names;  // the list, NUL-separated, user.* only kept by `keep`
  ssize_t names_len;
  char **values;
  ssize_t *value_lens;
  size_t count;
  failure f;
  int rc;
} xjob;

static void xjob_execute(napi_env env, void *p) {
  xjob *j = p;
  j->names = read_sized(fill_names, j->path, NULL, &j->names_len);
  // Gone, unreadable, or no xattr support: none to carry (as xattrNames' callers take it).
  if (j->names == NULL) return;
  size_t n = 0;
  for (ssize_t i = 0; i < j->names_len; i += (ssize_t)strlen(j->names + i) + 1) n++;
  j->values = calloc(n > 0 ? n : 1, sizeof *j->values);
  j->value_lens = calloc(n > 0 ? n : 1, sizeof *j->value_lens);
  if (j->values == NULL || j->value_lens == NULL) {
    j->f.err = ENOMEM;
    j->f.what = "out of memory reading xattrs of";
    snprintf(j->f.where, sizeof j->f.where, "%s", j->path);
    j->rc = -1;
    return;
  }
  size_t k = 0;
  for (ssize_t i = 0; i < j->names_len; i += (ssize_t)strlen(j->names + i) + 1, k++) {
    const char *name = j->names + i;
    j->value_lens[k] = -1;
    if (strncmp(name, "user.", 5) != 0) continue;
    j->values[k] = read_sized(fill_value, j->path, name, &j->value_lens[k]);
    if (j->values[k] != NULL) continue;
    j->value_lens[k] = -1;
    if (errno == ENODATA || errno == ENOTSUP) continue;
    j->f.err = errno;
    j->f.what = "cannot read an xattr of";
    snprintf(j->f.where, sizeof j->f.where, "%s", j->path);
    j->rc = -1;
    return;
  }
  j->count = k;
}

static void xjob_complete(napi_env env, napi_status status, void *p) {
  xjob *j = p;
  if (status != napi_ok && j->rc == 0) {
    j->f.err = ECANCELED;
    j->f.what = "cancelled reading xattrs of";
    j->rc = -1;
  }
  if (j->rc == 0) {
    napi_value out;
    napi_create_array(env, &out);
    uint32_t at = 0;
    size_t k = 0;
    for (ssize_t i = 0; j->names != NULL && i < j->names_len && k < j->count;
         i += (ssize_t)strlen(j->names + i) + 1, k++) {
      if (j->value_lens[k] < 0) continue;
      napi_value name, value;
      void *copy;
      napi_create_buffer_copy(env, strlen(j->names + i), j->names + i, &copy, &name);
      napi_create_buffer_copy(env, (size_t)j->value_lens[k], j->values[k], &copy, &value);
      napi_set_element(env, out, at++, name);
      napi_set_element(env, out, at++, value);
    }
    napi_resolve_deferred(env, j->deferred, out);
  } else {
    napi_reject_deferred(env, j->deferred, error_of(env, &j->f));
  }
  napi_delete_async_work(env, j->work);
  for (size_t k = 0; j->values != NULL && k < j->count; k++) free(j->values[k]);
  free(j->values);
  free(j->value_lens);
  free(j->names);
  free(j);
}

static napi_value xattrs_async(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  xjob *j = calloc(1, sizeof *j);
  if (j == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  if (argc < 1 || !cstr_arg(env, argv[0], j->path, sizeof j->path, "path")) {
    free(j);
    return NULL;
  }
  napi_value promise, name;
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, "tether.xattrs", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, xjob_execute, xjob_complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

// matchListings(now: Buffer, old: Buffer): Int32Array. For each entry of `now`, the index of
// the entry of `old` with the same name and the same record up to the name's place (type,
// mode, owner, size, times, inode, device, rdev, xattr flag), or -1. Both listings are sorted
// by name bytes, so one walk through both finds every pair.
static napi_value match_listings(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint8_t *a = NULL, *b = NULL;
  size_t alen = 0, blen = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_buffer_info(env, argv[0], (void **)&a, &alen) != napi_ok ||
      napi_get_buffer_info(env, argv[1], (void **)&b, &blen) != napi_ok) {
    napi_throw_type_error(env, NULL, "matchListings(now, old) takes two listing buffers");
    return NULL;
  }
  const size_t rec = RECORD_FIELDS * 8;
  uint64_t an = 0, bn = 0;
  if (alen >= 8) memcpy(&an, a, 8);
  if (blen >= 8) memcpy(&bn, b, 8);
  if (alen < 8 || blen < 8 || an > (alen - 8) / rec || bn > (blen - 8) / rec || an > INT32_MAX ||
      bn > INT32_MAX) {
    napi_throw_range_error(env, NULL, "matchListings: a truncated listing");
    return NULL;
  }
  const uint8_t *anames = a + 8 + an * rec, *bnames = b + 8 + bn * rec;
  const size_t aroom = alen - 8 - an * rec, broom = blen - 8 - bn * rec;
  int32_t *m = NULL;
  napi_value ab, out;
  napi_create_arraybuffer(env, an * 4, (void **)&m, &ab);
  napi_create_typedarray(env, napi_int32_array, an, ab, 0, &out);
  uint64_t j = 0;
  for (uint64_t i = 0; i < an; i++) {
    m[i] = -1;
    const uint8_t *ra = a + 8 + i * rec;
    uint64_t aoff, alen1;
    memcpy(&aoff, ra + FIELD_NAME_OFFSET * 8, 8);
    memcpy(&alen1, ra + FIELD_NAME_LENGTH * 8, 8);
    if (aoff > aroom || alen1 > aroom - aoff) {
      napi_throw_range_error(env, NULL, "matchListings: a name outside its listing");
      return NULL;
    }
    while (j < bn) {
      const uint8_t *rb = b + 8 + j * rec;
      uint64_t boff, blen1;
      memcpy(&boff, rb + FIELD_NAME_OFFSET * 8, 8);
      memcpy(&blen1, rb + FIELD_NAME_LENGTH * 8, 8);
      if (boff > broom || blen1 > broom - boff) {
        napi_throw_range_error(env, NULL, "matchListings: a name outside its listing");
        return NULL;
      }
      size_t n = alen1 < blen1 ? alen1 : blen1;
      int c = memcmp(anames + aoff, bnames + boff, n);
      if (c == 0) c = alen1 < blen1 ? -1 : alen1 > blen1 ? 1 : 0;
      if (c > 0) {
        j++;
        continue;
      }
      if (c == 0 && memcmp(ra, rb, FIELD_NAME_OFFSET * 8) == 0) m[i] = (int32_t)j;
      break;
    }
  }
  return out;
}

// latestMtimeUs(listing: Buffer): number. The latest mtime or ctime among the entries, in
// whole microseconds (-Infinity for none): what a scan keeps to tell whether any entry was
// racy. ctime counts: a rewrite that puts the old mtime back (touch -r) sets ctime to now.
static napi_value latest_mtime_us(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg, out;
  uint8_t *a = NULL;
  size_t alen = 0;
  napi_get_cb_info(env, info, &argc, &arg, NULL, NULL);
  if (argc < 1 || napi_get_buffer_info(env, arg, (void **)&a, &alen) != napi_ok) {
    napi_throw_type_error(env, NULL, "latestMtimeUs(listing) takes a listing buffer");
    return NULL;
  }
  const size_t rec = RECORD_FIELDS * 8;
  uint64_t n = 0;
  if (alen >= 8) memcpy(&n, a, 8);
  if (alen < 8 || n > (alen - 8) / rec) {
    napi_throw_range_error(env, NULL, "latestMtimeUs: a truncated listing");
    return NULL;
  }
  double latest = -INFINITY;
  for (uint64_t i = 0; i < n; i++) {
    for (int f = FIELD_MTIME_SEC; f <= FIELD_CTIME_SEC; f += FIELD_CTIME_SEC - FIELD_MTIME_SEC) {
      int64_t sec;
      uint64_t nsec;
      memcpy(&sec, a + 8 + i * rec + f * 8, 8);
      memcpy(&nsec, a + 8 + i * rec + (f + 1) * 8, 8);
      double us = micros(sec, nsec);
      if (us > latest) latest = us;
    }
  }
  napi_create_double(env, latest, &out);
  return out;
}

// holes(fd: number, start: number): Float64Array. The holes of the open file fd from byte
// `start` on, as [start, end) pairs (SEEK_DATA / SEEK_HOLE), so readers hash zeros for them
// without reading and copies leave them unwritten: a sparse file stays sparse and is not read
// whole. A filesystem without hole support reports none (all data), which is only slower.
static napi_value holes(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2], out, ab;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t fd = -1;
  double start = 0;
  if (argc < 2 || napi_get_value_int32(env, args[0], &fd) != napi_ok ||
      napi_get_value_double(env, args[1], &start) != napi_ok) {
    napi_throw_type_error(env, NULL, "holes(fd, start) takes a file descriptor and an offset");
    return NULL;
  }
  struct stat st;
  size_t n = 0, cap = 16;
  double *v = malloc(cap * sizeof *v);
  if (v != NULL && fstat(fd, &st) == 0) {
    off_t off = (off_t)start;
    while (off < st.st_size) {
      off_t data = lseek(fd, off, SEEK_DATA);
      off_t end = data < 0 ? st.st_size : data; // ENXIO: a hole to the end
      if (data < 0 && errno != ENXIO) break;     // no hole support: report none
      if (end > off) {
        if (n + 2 > cap) {
          double *w = realloc(v, (cap *= 2) * sizeof *v);
          if (w == NULL) break;
          v = w;
        }
        v[n++] = (double)off;
        v[n++] = (double)end;
      }
      if (data < 0) break;
      off_t hole = lseek(fd, data, SEEK_HOLE);
      if (hole < 0 || hole <= data) break;
      off = hole;
    }
  }
  void *bytes = NULL;
  napi_create_arraybuffer(env, n * sizeof(double), &bytes, &ab);
  if (n > 0) memcpy(bytes, v, n * sizeof(double));
  free(v);
  napi_create_typedarray(env, napi_float64_array, n, ab, 0, &out);
  return out;
}

// punchHole(fd: number, start: number, length: number): void. Bytes [start, start + length) of
// the open file fd become a hole (fallocate PUNCH_HOLE, the size kept): their blocks are freed
// and they read as zeros. What a file the cache cannot hold whole gives back of its ranges.
static napi_value punch_hole(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t fd = -1;
  double start = 0, length = 0;
  if (argc < 3 || napi_get_value_int32(env, args[0], &fd) != napi_ok ||
      napi_get_value_double(env, args[1], &start) != napi_ok ||
      napi_get_value_double(env, args[2], &length) != napi_ok || start < 0 || length < 0) {
    napi_throw_type_error(env, NULL, "punchHole(fd, start, length) takes a descriptor and two offsets");
    return NULL;
  }
  if (length > 0 &&
      fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)start, (off_t)length) != 0) {
    failure f = {errno, "cannot punch a hole in", "a cached file"};
    napi_throw(env, error_of(env, &f));
  }
  return NULL;
}

// mknod(path: Buffer, mode: number, rdev: number): void. Any node type mknod(2) makes: a
// fifo, a socket, a device, a regular file. The permission bits are set exactly as given
// afterwards: the daemon's umask must not apply (the caller's was applied by the kernel), and
// changing the process umask would race the thread pool's own file creations.
static napi_value make_node(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  char path[4096];
  uint32_t mode = 0, rdev = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "mknod(path, mode, rdev) takes three arguments");
    return NULL;
  }
  if (!cstr_arg(env, argv[0], path, sizeof path, "the path")) return NULL;
  if (napi_get_value_uint32(env, argv[1], &mode) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &rdev) != napi_ok) {
    napi_throw_type_error(env, NULL, "mknod: mode and rdev must be numbers");
    return NULL;
  }
  if (mknod(path, (mode_t)mode, (dev_t)rdev) != 0)
    return throw_path_errno(env, errno, "cannot make a node at", path);
  if (chmod(path, (mode_t)(mode & 07777)) != 0)
    return throw_path_errno(env, errno, "cannot set the mode of", path);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn, fields;
  napi_create_function(env, "listDir", NAPI_AUTO_LENGTH, list_dir, NULL, &fn);
  napi_set_named_property(env, exports, "listDir", fn);
  napi_create_function(env, "listDirAsync", NAPI_AUTO_LENGTH, list_dir_async, NULL, &fn);
  napi_set_named_property(env, exports, "listDirAsync", fn);
  const struct {
    const char *name;
    napi_callback cb;
  } more[] = {{"matchListings", match_listings},
              {"latestMtimeUs", latest_mtime_us},
              {"xattrNames", xattr_names},
              {"xattrGet", xattr_get},
              {"xattrsAsync", xattrs_async},
              {"xattrSet", xattr_set},
              {"xattrRemove", xattr_remove},
              {"holes", holes},
              {"punchHole", punch_hole},
              {"mknod", make_node}};
  for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
    napi_create_function(env, more[i].name, NAPI_AUTO_LENGTH, more[i].cb, NULL, &fn);
    napi_set_named_property(env, exports, more[i].name, fn);
  }
  napi_create_uint32(env, RECORD_FIELDS, &fields);
  napi_set_named_property(env, exports, "recordFields", fields);
  restore_register(env, exports);
  stats_register(env, exports);
  return exports;
}
