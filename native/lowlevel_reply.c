// Replies, called from JavaScript with the request's handle (a number). Attributes travel as
// a Float64Array of ATTR_FIELDS values per node (see fill_stat); times carry whole seconds and
// nanoseconds separately, so no precision is lost.
#include "lowlevel.h"

#include <stdlib.h>
#include <string.h>

enum {
  A_NODE,
  A_GENERATION,
  A_INO,
  A_MODE,
  A_NLINK,
  A_UID,
  A_GID,
  A_RDEV,
  A_SIZE,
  A_BLKSIZE,
  A_BLOCKS,
  A_ATIME,
  A_ATIME_NS,
  A_MTIME,
  A_MTIME_NS,
  A_CTIME,
  A_CTIME_NS,
  ATTR_FIELDS
};

// Open reply bits (openFlags): page cache and readdir cache kept across opens.
#define OPEN_DIRECT_IO 1
#define OPEN_KEEP_CACHE 2
#define OPEN_CACHE_DIR 4

static void fill_stat(const double *a, struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_ino = (ino_t)a[A_INO];
  st->st_mode = (mode_t)a[A_MODE];
  st->st_nlink = (nlink_t)a[A_NLINK];
  st->st_uid = (uid_t)a[A_UID];
  st->st_gid = (gid_t)a[A_GID];
  st->st_rdev = (dev_t)a[A_RDEV];
  st->st_size = (off_t)a[A_SIZE];
  st->st_blksize = (blksize_t)a[A_BLKSIZE];
  st->st_blocks = (blkcnt_t)a[A_BLOCKS];
  st->st_atim.tv_sec = (time_t)a[A_ATIME];
  st->st_atim.tv_nsec = (long)a[A_ATIME_NS];
  st->st_mtim.tv_sec = (time_t)a[A_MTIME];
  st->st_mtim.tv_nsec = (long)a[A_MTIME_NS];
  st->st_ctim.tv_sec = (time_t)a[A_CTIME];
  st->st_ctim.tv_nsec = (long)a[A_CTIME_NS];
}

static void fill_entry(const double *a, double attr_timeout, double entry_timeout,
                       struct fuse_entry_param *e) {
  memset(e, 0, sizeof *e);
  e->ino = (fuse_ino_t)a[A_NODE];
  e->generation = (uint64_t)a[A_GENERATION];
  fill_stat(a, &e->attr);
  e->attr_timeout = attr_timeout;
  e->entry_timeout = entry_timeout;
}

static void fill_open(double fh, double flags, struct fuse_file_info *fi) {
  memset(fi, 0, sizeof *fi);
  fi->fh = (uint64_t)fh;
  int f = (int)flags;
  fi->direct_io = (f & OPEN_DIRECT_IO) != 0;
  fi->keep_cache = (f & OPEN_KEEP_CACHE) != 0;
  fi->cache_readdir = (f & OPEN_CACHE_DIR) != 0;
}

// Reads `want` arguments: argv[0] the request, the rest as given.
static fuse_req_t args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want) return NULL;
  return ll_req_arg(env, argv[0]);
}

static const double *attrs_arg(napi_env env, napi_value v, size_t *count) {
  napi_typedarray_type type;
  size_t len = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(env, v, &type, &len, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || len % ATTR_FIELDS != 0 || len == 0) {
    return NULL;
  }
  *count = len / ATTR_FIELDS;
  return data;
}

static double dbl(napi_env env, napi_value v) {
  double d = 0;
  ll_get_double(env, v, &d);
  return d;
}

static napi_value result(napi_env env, int rc) {
  napi_value v;
  napi_create_int32(env, rc, &v);
  return v;
}

#define REQ_OR_THROW(n, what)                       \
  napi_value argv[n];                               \
  fuse_req_t req = args(env, info, n, argv);        \
  if (req == NULL) return ll_throw(env, what);

// replyErr(req, errno): 0 answers success where the request wants nothing more.
static napi_value reply_err(napi_env env, napi_callback_info info) {
  REQ_OR_THROW(2, "replyErr(req, errno)");
  return result(env, fuse_reply_err(req, (int)dbl(env, argv[1])));
}

// replyEntry(req, attrs, attrTimeout, entryTimeout); attrs' node 0 is a negative entry.
static napi_value reply_entry(napi_env env, napi_callback_info info) {
  REQ_OR_THROW(4, "replyEntry(req, attrs, attrTimeout, entryTimeout)");
  size_t n;
  const double *a = attrs_arg(env, argv[1], &n);
  if (a == NULL) return ll_throw(env, "replyEntry: attrs must be a Float64Array of one node");
  struct fuse_entry_param e;
  fill_entry(a, dbl(env, argv[2]), dbl(env, argv[3]), &e);
  return result(env, fuse_reply_entry(req, &e));
}

// replyCreate(req, attrs, attrTimeout, entryTimeout, fh, openFlags)
static napi_value reply_create(napi_env env, napi_callback_info info) {
  REQ_OR_THROW(6, "replyCreate(req, attrs, attrTimeout, entryTimeout, fh, openFlags)");
  size_t n;
  const double *a = attrs_arg(env, argv[1], &n);
  if (a == NULL) return ll_throw(env, "replyCreate: attrs must be a Float64Array of one node");
  struct fuse_entry_param e;
  struct fuse_file_info fi;
  fill_entry(a, dbl(env, argv[2]), dbl(env, argv[3]), &e);
  fill_open(dbl(env, argv[4]), dbl(env, argv[5]), &fi);
  return result(env, fuse_reply_create(req, &e, &fi));
}

// replyAttr(req, attrs, attrTimeout)
static napi_value reply_attr(napi_env env, napi_callback_info info) {
  REQ_OR_THROW(3, "replyAttr(req, attrs, attrTimeout)");
  size_t n;
  const double *a = attrs_arg(env, argv[1], &n);
  if (a == NULL) return ll_throw(env, "replyAttr: attrs must be a Float64Array of one node");
  struct stat st;
  fill_stat(a, &st);
  return result(env, fuse_reply_attr(req, &st, dbl(env, argv[2])));
}

// replyOpen(req, fh, openFlags)
static napi_value reply_open(napi_env env, napi_callback_info info) {
  REQ_OR_THROW(3, "replyOpen(req, fh, openFlags)");
  struct fuse_file_info fi;
  fill_open(dbl(env, argv[1]), dbl(env, argv[2]), &fi);
  return result(env, fuse_reply_open(req, &fi));
}

// replyBuf(req, buffer, length): read, readlink-free data, getxattr and listxattr values.
static napi_value reply_buf(napi_env env, napi_callback_info info) {
  REQ_OR_THROW(3, "replyBuf(req, buffer, length)");
  void *data = NULL;
  size_t len = 0;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    return ll_throw(env, "replyBuf: not a Buffer");
  }
  size_t want = (size_t)dbl(env, argv[2]);
  return result(env, fuse_reply_buf(req, data, want < len ? want : len));
}

// replyReadlink(req, target: Buffer)
static napi_value reply_readlink(napi_env env, napi_callback_info info) {
  REQ_OR_THROW(2, "replyReadlink(req, target)");
  void *data = NULL;
  size_t len = 0;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    return ll_throw(env, "replyReadlink: not a Buffer");
  }
  char *z = malloc(len + 1);
  if (z == NULL) return result(env, fuse_reply_err(req, ENOMEM));
  memcpy(z, data, len);
  z[len] = 0;
  int rc = fuse_reply_readlink(req, z);
  free(z);
  return result(env, rc);
}

// replyWrite(req, count) · replyXattr(req, size)
static napi_value reply_write(napi_env env, napi_callback_info info) {
  REQ_OR_THROW(2, "replyWrite(req, count)");
  return result(env, fuse_reply_write(req, (size_t)dbl(env, argv[1])));
}

static napi_value reply_xattr(napi_env env, napi_callback_info info) {
  REQ_OR_THROW(2, "replyXattr(req, size)");
  return result(env, fuse_reply_xattr(req, (size_t)dbl(env, argv[1])));
}

// replyStatfs(req, [bsize, frsize, blocks, bfree, bavail, files, ffree, favail, namemax])
static napi_value reply_statfs(napi_env env, napi_callback_info info) {
  REQ_OR_THROW(2, "replyStatfs(req, values)");
  napi_typedarray_type type;
  size_t len = 0;
  void *raw = NULL;
  if (napi_get_typedarray_info(env, argv[1], &type, &len, &raw, NULL, NULL) != napi_ok ||
      type != napi_float64_array || len < 9) {
    return ll_throw(env, "replyStatfs: values must be a Float64Array of 9");
  }
  const double *v = raw;
  struct statvfs s;
  memset(&s, 0, sizeof s);
  s.f_bsize = (unsigned long)v[0];
  s.f_frsize = (unsigned long)v[1];
  s.f_blocks = (fsblkcnt_t)v[2];
  s.f_bfree = (fsblkcnt_t)v[3];
  s.f_bavail = (fsblkcnt_t)v[4];
  s.f_files = (fsfilcnt_t)v[5];
  s.f_ffree = (fsfilcnt_t)v[6];
  s.f_favail = (fsfilcnt_t)v[7];
  s.f_namemax = (unsigned long)v[8];
  return result(env, fuse_reply_statfs(req, &s));
}

// replyDir(req, size, plus, start, names: string[], attrs, attrTimeout, entryTimeout): sends
// the entries from index `start` that fit in `size` bytes (entry i's offset is i + 1) and
// returns the index of the first entry not sent; with plus, each sent entry but . and .. is a
// lookup. Names are their bytes as Latin-1 strings; an empty one is an entry gone since the
// listing: skipped.
static napi_value reply_dir(napi_env env, napi_callback_info info) {
  REQ_OR_THROW(8, "replyDir(req, size, plus, start, names, attrs, attrTimeout, entryTimeout)");
  size_t size = (size_t)dbl(env, argv[1]);
  bool plus = false;
  napi_get_value_bool(env, argv[2], &plus);
  uint32_t start = (uint32_t)dbl(env, argv[3]), count = 0;
  napi_get_array_length(env, argv[4], &count);
  size_t nodes = 0;
  const double *a = count == 0 ? NULL : attrs_arg(env, argv[5], &nodes);
  if (count > 0 && (a == NULL || nodes < count)) return ll_throw(env, "replyDir: attrs too short");
  double at = dbl(env, argv[6]), et = dbl(env, argv[7]);
  char *buf = malloc(size > 0 ? size : 1);
  if (buf == NULL) {
    fuse_reply_err(req, ENOMEM);
    return result(env, 0);
  }
  size_t used = 0;
  uint32_t next = start;
  for (uint32_t i = start; i < count; i++) {
    napi_value nv;
    size_t nlen = 0;
    char name[257];  // one byte more than a name may have, to tell a longer one
    napi_get_element(env, argv[4], i, &nv);
    if (napi_get_value_string_latin1(env, nv, name, sizeof name, &nlen) != napi_ok || nlen == 0 ||
        nlen > 255) {
      next = i + 1;  // gone since it was listed: skipped, its offset kept
      continue;
    }
    const double *row = a + (size_t)i * ATTR_FIELDS;
    size_t need;
    if (plus) {
      struct fuse_entry_param e;
      fill_entry(row, at, et, &e);
      need = fuse_add_direntry_plus(req, buf + used, size - used, name, &e, (off_t)i + 1);
    } else {
      struct stat st;
      fill_stat(row, &st);
      need = fuse_add_direntry(req, buf + used, size - used, name, &st, (off_t)i + 1);
    }
    if (need > size - used) break;
    used += need;
    next = i + 1;
  }
  fuse_reply_buf(req, buf, used);
  free(buf);
  return result(env, (int)next);
}

void ll_define_replies(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"replyErr", NULL, reply_err, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyEntry", NULL, reply_entry, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyCreate", NULL, reply_create, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyAttr", NULL, reply_attr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyOpen", NULL, reply_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyBuf", NULL, reply_buf, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyReadlink", NULL, reply_readlink, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyWrite", NULL, reply_write, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyXattr", NULL, reply_xattr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyStatfs", NULL, reply_statfs, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyDir", NULL, reply_dir, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
