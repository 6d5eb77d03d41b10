// Reads and writes of open files served by the session thread itself: JavaScript opens the
// file (the volume fetches a placeholder first, and so on) and marks its descriptor direct;
// from then on each read or write is one pread/pwrite on the local view, answered without a
// trip to JavaScript or the thread pool (DESIGN decision 18). A write is remembered, so that
// JavaScript still learns at fsync and release that the file changed (takeWritten).
#include "lowlevel.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static bool test_bit(const uint8_t *map, uint64_t fd) {
  return fd < LL_DIRECT_FDS &&
         (__atomic_load_n(&map[fd / 8], __ATOMIC_ACQUIRE) & (1u << (fd % 8))) != 0;
}

static void put_bit(uint8_t *map, uint64_t fd, bool on) {
  if (fd >= LL_DIRECT_FDS) return;
  uint8_t mask = (uint8_t)(1u << (fd % 8));
  if (on) __atomic_fetch_or(&map[fd / 8], mask, __ATOMIC_ACQ_REL);
  else __atomic_fetch_and(&map[fd / 8], (uint8_t)~mask, __ATOMIC_ACQ_REL);
}

// From now on the session thread serves fd's reads and writes (or no longer).
void ll_direct_on(ll_session *s, uint64_t fd, bool on) {
  put_bit(s->direct, fd, on);
  if (on) put_bit(s->written, fd, false);
}

bool ll_direct_read(ll_session *s, fuse_req_t req, size_t size, off_t off, uint64_t fh) {
  if (!test_bit(s->direct, fh)) return false;
  char *buf = malloc(size > 0 ? size : 1);
  if (buf == NULL) return false;
  size_t got = 0;
  while (got < size) {
    ssize_t n = pread((int)fh, buf + got, size - got, off + (off_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      free(buf);
      fuse_reply_err(req, errno);
      return true;
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  fuse_reply_buf(req, buf, got);
  free(buf);
  return true;
}

bool ll_direct_write(ll_session *s, fuse_req_t req, const char *buf, size_t size, off_t off,
                     uint64_t fh) {
  if (!test_bit(s->direct, fh)) return false;
  put_bit(s->written, fh, true);
  size_t done = 0;
  while (done < size) {
    ssize_t n = pwrite((int)fh, buf + done, size - done, off + (off_t)done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (done > 0) break;
      fuse_reply_err(req, errno);
      return true;
    }
    done += (size_t)n;
  }
  fuse_reply_write(req, done);
  return true;
}

// A chmod, chown or utimens of a file the session thread serves a descriptor of (as an untar
// makes for each new file: fchown, futimens and fchmod before close; the kernel names the node,
// not the descriptor, so it is the node's own, lowlevel_nodes.c): applied here and answered
// from fstat, in the handlers' order (mode, owner, times). The descriptor is marked written, so
// JavaScript notes the change at fsync or release as for a write (the file is already noted
// as being written since its create). An owner is set here only while the handlers would set
// it in the local view alone (setOwners: offline; online it is the server's first); the kernel
// has checked that the caller may set it (default_permissions), and the daemon's own right to
// is the same as the handlers' lchown. Sizes still go to JavaScript (a size may need room).
static int setattr_here(int fd, const struct stat *attr, int to_set, struct stat *st) {
  if ((to_set & FUSE_SET_ATTR_MODE) != 0 && fchmod(fd, attr->st_mode & 07777) != 0) return errno;
  if ((to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) != 0) {
    uid_t uid = (to_set & FUSE_SET_ATTR_UID) != 0 ? attr->st_uid : (uid_t)-1;
    gid_t gid = (to_set & FUSE_SET_ATTR_GID) != 0 ? attr->st_gid : (gid_t)-1;
    if (fchown(fd, uid, gid) != 0) return errno;
  }
  if ((to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
                 FUSE_SET_ATTR_MTIME_NOW)) != 0) {
    struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    if ((to_set & FUSE_SET_ATTR_ATIME_NOW) != 0) ts[0].tv_nsec = UTIME_NOW;
    else if ((to_set & FUSE_SET_ATTR_ATIME) != 0) ts[0] = attr->st_atim;
    if ((to_set & FUSE_SET_ATTR_MTIME_NOW) != 0) ts[1].tv_nsec = UTIME_NOW;
    else if ((to_set & FUSE_SET_ATTR_MTIME) != 0) ts[1] = attr->st_mtim;
    if (futimens(fd, ts) != 0) return errno;
  }
  return fstat(fd, st) == 0 ? 0 : errno;
}

bool ll_direct_setattr(ll_session *s, fuse_req_t req, fuse_ino_t ino, const struct stat *attr,
                       int to_set, struct fuse_file_info *fi) {
  const int here = FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
                   FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME;
  const int owner = FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID;
  if ((to_set & ~(here | owner)) != 0) return false;
  int fd = ll_node_hold(s, ino);
  if (fd < 0) return false;
  // Only a descriptor of the file itself, open and served here (not a directory's O_PATH one),
  // and an owner only while setOwners allows (read under the node lock: see ll_set_owners).
  if (!test_bit(s->direct, (uint64_t)fd) ||
      ((to_set & owner) != 0 && !__atomic_load_n(&s->owners, __ATOMIC_ACQUIRE))) {
    ll_node_let_go(s);
    return false;
  }
  put_bit(s->written, (uint64_t)fd, true);
  struct stat st;
  int err = setattr_here(fd, attr, to_set, &st);
  ll_node_let_go(s);
  if (err != 0) fuse_reply_err(req, err);
  else fuse_reply_attr(req, &st, s->attr_timeout);
  return true;
}

static bool fd_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv,
                    ll_session **s, double *fd) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want) return false;
  *s = ll_session_arg(env, argv[0]);
  return *s != NULL && ll_get_double(env, argv[1], fd) && *fd >= 0;
}

// setDirect(session, fd, on): the session thread serves fd's reads and writes (or stops).
napi_value ll_set_direct(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  ll_session *s;
  double fd;
  bool on = false;
  if (!fd_args(env, info, 3, argv, &s, &fd) || napi_get_value_bool(env, argv[2], &on) != napi_ok) {
    return ll_throw(env, "setDirect(session, fd, on)");
  }
  ll_direct_on(s, (uint64_t)fd, on);
  napi_value out;
  napi_get_boolean(env, on && (uint64_t)fd < LL_DIRECT_FDS, &out);
  return out;
}

// takeWritten(session, fd): whether fd was written since the last call (and clears that).
napi_value ll_take_written(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  ll_session *s;
  double fd;
  if (!fd_args(env, info, 2, argv, &s, &fd)) return ll_throw(env, "takeWritten(session, fd)");
  bool was = test_bit(s->written, (uint64_t)fd);
  put_bit(s->written, (uint64_t)fd, false);
  napi_value out;
  napi_get_boolean(env, was, &out);
  return out;
}

// setOwners(session, on): whether the session thread sets the owners of the files it serves
// (on only while a chown is the local view's alone). Turned off, it returns once no chown
// begun under the old setting is still being made.
napi_value ll_set_owners(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  ll_session *s = argc == 2 ? ll_session_arg(env, argv[0]) : NULL;
  bool on = false;
  if (s == NULL || napi_get_value_bool(env, argv[1], &on) != napi_ok) {
    return ll_throw(env, "setOwners(session, on)");
  }
  __atomic_store_n(&s->owners, on, __ATOMIC_RELEASE);
  if (!on) {
    pthread_rwlock_wrlock(&s->node_lock);
    pthread_rwlock_unlock(&s->node_lock);
  }
  return ll_undefined(env);
}
