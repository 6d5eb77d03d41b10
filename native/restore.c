// Writing many small files in one call, off the JavaScript thread (`tether snapshot restore`).
// JavaScript hands a batch of files here, each with its content (bytes it copied out of the
// store, or the path of a blob file) and the id the content must have. For each file, on a
// thread-pool thread: the content is read (from a blob file) and hashed (BLAKE3-256), and only
// if it matches its id is a new file created, its bytes written, then owner, mode and times set
// on the open descriptor, as cp -a does (owner and mode only where they differ), and only then
// is it given its name (never an existing one replaced): it is made unnamed (O_TMPFILE) and
// linked, so a restore killed midway leaves no part of a file under a real name. Where the
// filesystem cannot make unnamed files, it is made under its name, as cp does (without that
// guarantee). Batches run on the libuv thread pool, so a few are written at once while
// JavaScript gathers the next.
//
// writeFilesAsync(paths, contents, meta, chown, ids, sources):
//     Promise<null | [index, errno, step]>
//   paths: one Buffer of NUL-terminated paths, one per file, in order;
//   contents: an Array of Buffers, one per file (ignored where the file has a source);
//   meta: a Float64Array of META_FIELDS numbers per file (mode, uid, gid, mtime): the mtime is
//     a signed 64-bit count of nanoseconds since 1970 in the number's 8 bytes (JavaScript
//     writes it through a BigInt64Array over the same memory: no number can hold it exactly);
//   chown: whether to set owners (as root);
//   ids: a Buffer of 32 bytes per file, the BLAKE3-256 its content must have;
//   sources: one Buffer of NUL-terminated paths, one per file: the file whose bytes are the
//     content, or empty where the content is in `contents`.
// It resolves with null when every file was written, or with the first failure: the file's
// index, errno and the step that failed ("verify" with EBADMSG: the content does not match its
// id; "source": the source could not be read). Files after a failure are not written; a file
// whose content failed is not created.
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blake3/blake3.h"
#include "restore.h"

enum { KEEP = 5, ID_BYTES = 32 };

enum { META_MODE, META_UID, META_GID, META_MTIME_NS, META_FIELDS };

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref keep[KEEP];
  size_t count;
  const char **paths;
  const char **sources;
  const uint8_t **data;
  size_t *lens;
  const uint8_t *ids;
  // Where a source's bytes are read (grown as needed, freed with the batch).
  uint8_t *buf;
  size_t cap;
  const double *meta;
  bool chown;
  // The first failure (index -1: none).
  int64_t failed;
  int err;
  const char *step;
} batch;

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

// One file; on failure sets errno and names the step. Made with its mode (less the umask),
// then only the fields that differ from what the new file has are set: each change of an
// inode is a journal update, and most files restored are the restorer's with a plain mode.
// A source file's bytes, read whole into the batch's buffer.
static int read_source(batch *b, const char *path, const uint8_t **out, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -1;
  struct stat st;
  size_t n = 0;
  int rc = -1;
  if (fstat(fd, &st) != 0) goto out;
  for (;;) {
    // One byte more than the size, so a file grown since the fstat is read to its end.
    size_t want = (n < (size_t)st.st_size ? (size_t)st.st_size : n + (1 << 16)) + 1;
    if (want > b->cap) {
      uint8_t *p = realloc(b->buf, want);
      if (p == NULL) {
        errno = ENOMEM;
        goto out;
      }
      b->buf = p;
      b->cap = want;
    }
    ssize_t r = read(fd, b->buf + n, b->cap - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      goto out;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  *out = b->buf;
  *len = n;
  rc = 0;
out:;
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

// The directory a batch's files go to, kept open while consecutive files share it (most do:
// files are queued directory by directory), so each file is made and named by its last name
// alone rather than by a walk of its whole path, twice.
typedef struct {
  int fd;
  size_t len;
  char path[PATH_MAX];
} dir_cache;

// The open directory of `path`, and where its last name starts; -1 on failure, errno set.
static int dir_of(dir_cache *c, const char *path, const char **name) {
  const char *slash = strrchr(path, '/');
  *name = slash == NULL ? path : slash + 1;
  const char *dir = slash == NULL ? "." : path;
  size_t n = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
  if (c->fd >= 0 && c->len == n && memcmp(c->path, dir, n) == 0) return c->fd;
  if (n >= sizeof c->path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  if (c->fd >= 0) close(c->fd);
  memcpy(c->path, dir, n);
  c->path[n] = '\0';
  c->len = n;
  c->fd = open(c->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return c->fd;
}

// Give the unnamed file `fd` its name `name` in `dir` (EEXIST if something has it: never
// replaced).
static int name_unnamed(int fd, int dir, const char *name) {
  if (linkat(fd, "", dir, name, AT_EMPTY_PATH) == 0) return 0;
  // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; through /proc it needs none.
  if (errno != ENOENT && errno != EPERM) return -1;
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  return linkat(AT_FDCWD, proc, dir, name, AT_SYMLINK_FOLLOW);
}

static int write_one(batch *b, dir_cache *dirs, size_t i, const char **step) {
  const double *m = b->meta + i * META_FIELDS;
  const uint8_t *bytes = b->data[i];
  size_t len = b->lens[i];
  if (b->sources[i][0] != '\0') {
    *step = "source";
    if (read_source(b, b->sources[i], &bytes, &len) != 0) return -1;
  }
  // Verified before anything is created: content that does not match its id is never written.
  uint8_t hash[ID_BYTES];
  blake3_hasher hasher;
  blake3_hasher_init(&hasher);
  blake3_hasher_update(&hasher, bytes, len);
  blake3_hasher_finalize(&hasher, hash, ID_BYTES);
  if (memcmp(hash, b->ids + i * ID_BYTES, ID_BYTES) != 0) {
    *step = "verify";
    errno = EBADMSG;
    return -1;
  }
  const mode_t mode = (mode_t)m[META_MODE] & 07777;
  const uid_t uid = (uid_t)m[META_UID];
  const gid_t gid = (gid_t)m[META_GID];
  *step = "open";
  const char *name;
  const int dir = dir_of(dirs, b->paths[i], &name);
  if (dir < 0) return -1;
  // A new file with no name yet (O_TMPFILE), named once whole with its fields set: a restore
  // killed midway leaves no part of a file under a real name. Where the filesystem has none,
  // it is made under its name, as cp does.
  int fd = openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
  const bool unnamed = fd >= 0;
  if (!unnamed)
    fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return -1;
  int rc = -1;
  struct stat st;
  *step = "write";
  if (write_all(fd, bytes, len) != 0) goto out;
  *step = "fstat";
  if (fstat(fd, &st) != 0) goto out;
  bool set_mode = (st.st_mode & 07777) != mode;
  if (b->chown && (st.st_uid != uid || st.st_gid != gid)) {
    *step = "fchown";
    if (fchown(fd, uid, gid) != 0) goto out;
    // fchown as root clears the set-id bits.
    if ((mode & 06000) != 0) set_mode = true;
  }
  *step = "fchmod";
  if (set_mode && fchmod(fd, mode) != 0) goto out;
  struct timespec ts[2];
  int64_t ns;
  memcpy(&ns, &m[META_MTIME_NS], sizeof ns);
  // Whole seconds rounded down, nanoseconds 0..1e9-1 (a time before 1970 too).
  int64_t sec = ns / 1000000000, rem = ns % 1000000000;
  if (rem < 0) {
    sec -= 1;
    rem += 1000000000;
  }
  ts[0].tv_sec = ts[1].tv_sec = (time_t)sec;
  ts[0].tv_nsec = ts[1].tv_nsec = (long)rem;
  *step = "futimens";
  if (futimens(fd, ts) != 0) goto out;
  *step = "link";
  if (unnamed && name_unnamed(fd, dir, name) != 0) goto out;
  rc = 0;
out:;
  int saved = errno;
  if (close(fd) != 0 && rc == 0) {
    *step = "close";
    return -1;
  }
  errno = saved;
  return rc;
}

static void execute(napi_env env, void *p) {
  batch *b = p;
  dir_cache dirs = {.fd = -1};
  for (size_t i = 0; i < b->count; i++) {
    const char *step = NULL;
    if (write_one(b, &dirs, i, &step) != 0) {
      b->failed = (int64_t)i;
      b->err = errno;
      b->step = step;
      break;
    }
  }
  if (dirs.fd >= 0) close(dirs.fd);
}

static void free_batch(batch *b) {
  free(b->paths);
  free(b->sources);
  free(b->data);
  free(b->lens);
  free(b->buf);
  free(b);
}

static void complete(napi_env env, napi_status status, void *p) {
  batch *b = p;
  napi_value result;
  if (status != napi_ok && b->failed < 0) {
    b->failed = 0;
    b->err = ECANCELED;
    b->step = "cancelled";
  }
  if (b->failed < 0) {
    napi_get_null(env, &result);
  } else {
    napi_value v;
    napi_create_array_with_length(env, 3, &result);
    napi_create_int64(env, b->failed, &v);
    napi_set_element(env, result, 0, v);
    napi_create_int32(env, b->err, &v);
    napi_set_element(env, result, 1, v);
    napi_create_string_utf8(env, b->step, NAPI_AUTO_LENGTH, &v);
    napi_set_element(env, result, 2, v);
  }
  napi_resolve_deferred(env, b->deferred, result);
  for (int k = 0; k < KEEP; k++) napi_delete_reference(env, b->keep[k]);
  napi_delete_async_work(env, b->work);
  free_batch(b);
}

static napi_value fail(napi_env env, batch *b, const char *msg) {
  if (b != NULL) free_batch(b);
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

// The NUL-terminated strings of `buf`, one per file, into `out`; false if there are too few.
static bool split_paths(const char *buf, size_t len, size_t count, const char **out) {
  size_t at = 0;
  for (size_t i = 0; i < count; i++) {
    if (at >= len) return false;
    const char *nul = memchr(buf + at, 0, len - at);
    if (nul == NULL) return false;
    out[i] = buf + at;
    at = (size_t)(nul - buf) + 1;
  }
  return true;
}

static napi_value write_files_async(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 6)
    return fail(env, NULL, "writeFilesAsync(paths, contents, meta, chown, ids, sources)");
  char *pathbuf, *srcbuf;
  size_t pathlen, srclen, idlen;
  void *ids;
  uint32_t count;
  napi_typedarray_type type;
  size_t metalen;
  void *metadata;
  bool is_array;
  if (napi_get_buffer_info(env, argv[0], (void **)&pathbuf, &pathlen) != napi_ok)
    return fail(env, NULL, "writeFilesAsync: paths must be a Buffer");
  if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[1], &count) != napi_ok)
    return fail(env, NULL, "writeFilesAsync: contents must be an Array of Buffers");
  if (napi_get_typedarray_info(env, argv[2], &type, &metalen, &metadata, NULL, NULL) != napi_ok ||
      type != napi_float64_array || metalen != (size_t)count * META_FIELDS)
    return fail(env, NULL, "writeFilesAsync: meta must be a Float64Array of 4 numbers a file");
  if (napi_get_buffer_info(env, argv[4], &ids, &idlen) != napi_ok ||
      idlen != (size_t)count * ID_BYTES)
    return fail(env, NULL, "writeFilesAsync: ids must be a Buffer of 32 bytes a file");
  if (napi_get_buffer_info(env, argv[5], (void **)&srcbuf, &srclen) != napi_ok)
    return fail(env, NULL, "writeFilesAsync: sources must be a Buffer");
  batch *b = calloc(1, sizeof *b);
  if (b == NULL) return fail(env, NULL, "writeFilesAsync: out of memory");
  b->count = count;
  b->failed = -1;
  b->meta = metadata;
  b->ids = ids;
  napi_get_value_bool(env, argv[3], &b->chown);
  b->paths = calloc(count + 1, sizeof *b->paths);
  b->sources = calloc(count + 1, sizeof *b->sources);
  b->data = calloc(count + 1, sizeof *b->data);
  b->lens = calloc(count + 1, sizeof *b->lens);
  if (b->paths == NULL || b->sources == NULL || b->data == NULL || b->lens == NULL)
    return fail(env, b, "writeFilesAsync: out of memory");
  if (!split_paths(pathbuf, pathlen, count, b->paths))
    return fail(env, b, "writeFilesAsync: one NUL-terminated path a file");
  if (!split_paths(srcbuf, srclen, count, b->sources))
    return fail(env, b, "writeFilesAsync: one NUL-terminated source a file");
  for (uint32_t i = 0; i < count; i++) {
    napi_value e;
    void *d;
    size_t n;
    if (napi_get_element(env, argv[1], i, &e) != napi_ok ||
        napi_get_buffer_info(env, e, &d, &n) != napi_ok)
      return fail(env, b, "writeFilesAsync: every content must be a Buffer");
    b->data[i] = d;
    b->lens[i] = n;
  }
  // The arguments stay alive (and their bytes in place) until the batch completes.
  const int kept[KEEP] = {0, 1, 2, 4, 5};
  for (int k = 0; k < KEEP; k++) napi_create_reference(env, argv[kept[k]], 1, &b->keep[k]);
  napi_value promise, name;
  napi_create_promise(env, &b->deferred, &promise);
  napi_create_string_utf8(env, "tether.writeFiles", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, b, &b->work);
  napi_queue_async_work(env, b->work);
  return promise;
}

void restore_register(napi_env env, napi_value exports) {
  napi_value fn, fields;
  napi_create_function(env, "writeFilesAsync", NAPI_AUTO_LENGTH, write_files_async, NULL, &fn);
  napi_set_named_property(env, exports, "writeFilesAsync", fn);
  napi_create_uint32(env, META_FIELDS, &fields);
  napi_set_named_property(env, exports, "writeFilesMetaFields", fields);
  // Marks a build that verifies each content against its id (an older one took no ids).
  napi_value id_bytes;
  napi_create_uint32(env, ID_BYTES, &id_bytes);
  napi_set_named_property(env, exports, "writeFilesIdBytes", id_bytes);
}
