// Requests the session thread answers from a descriptor JavaScript left it for a node
// (DESIGN decision 18): a directory of the local view (opened O_PATH), or a file just created
// and still open. With one, a lookup of a name the directory lacks is answered "no such name"
// here, a getattr from fstat, and a getxattr (not tether's own names) from fgetxattr, each
// without a trip to JavaScript; every other case still goes there. JavaScript takes a node's
// descriptor back (setNodeFd to -1) before it closes it, whenever the node may no longer be
// that descriptor's file (forgotten, removed, changed by the volume underneath the mount); the
// lock keeps a descriptor from being closed while this thread uses it.
#include "lowlevel.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

void ll_nodes_init(ll_session *s) {
  pthread_rwlock_init(&s->node_lock, NULL);
  s->node_fd = calloc(LL_NODE_FDS, sizeof *s->node_fd);  // fd + 1; 0: none
  s->dir_end = calloc(LL_NODE_FDS, sizeof *s->dir_end);
}

void ll_nodes_free(ll_session *s) {
  free(s->node_fd);
  s->node_fd = NULL;
  free(s->dir_end);
  s->dir_end = NULL;
  pthread_rwlock_destroy(&s->node_lock);
}

// The node's descriptor, with the read lock held (released by the caller), or -1 unlocked.
int ll_node_hold(ll_session *s, fuse_ino_t ino) {
  if (s->node_fd == NULL || ino >= LL_NODE_FDS) return -1;
  pthread_rwlock_rdlock(&s->node_lock);
  int fd = s->node_fd[ino] - 1;
  if (fd < 0) pthread_rwlock_unlock(&s->node_lock);
  return fd;
}

bool ll_node_lookup(ll_session *s, fuse_req_t req, fuse_ino_t parent, const char *name) {
  if (s->negative_timeout <= 0) return false;
  int fd = ll_node_hold(s, parent);
  if (fd < 0) return false;
  struct stat st;
  int err = fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
  pthread_rwlock_unlock(&s->node_lock);
  if (err != ENOENT) return false;  // there (JavaScript makes its node), or a failure
  struct fuse_entry_param e;
  memset(&e, 0, sizeof e);
  e.entry_timeout = s->negative_timeout;  // node 0: a negative entry
  fuse_reply_entry(req, &e);
  return true;
}

bool ll_node_getattr(ll_session *s, fuse_req_t req, fuse_ino_t ino) {
  int fd = ll_node_hold(s, ino);
  if (fd < 0) return false;
  struct stat st;
  int rc = fstat(fd, &st);
  pthread_rwlock_unlock(&s->node_lock);
  if (rc != 0) return false;
  fuse_reply_attr(req, &st, s->attr_timeout);
  return true;
}

bool ll_node_getxattr(ll_session *s, fuse_req_t req, fuse_ino_t ino, const char *name, size_t size) {
  if (strncmp(name, "user.tether.", 12) == 0) return false;
  int fd = ll_node_hold(s, ino);
  if (fd < 0) return false;
  char *buf = size > 0 ? malloc(size) : NULL;
  if (size > 0 && buf == NULL) {
    pthread_rwlock_unlock(&s->node_lock);
    return false;
  }
  ssize_t n = fgetxattr(fd, name, buf, size);
  int err = n < 0 ? errno : 0;
  pthread_rwlock_unlock(&s->node_lock);
  // An O_PATH descriptor cannot read attributes (EBADF): JavaScript answers by path.
  if (err != 0 && err != ENODATA && err != ERANGE) {
    free(buf);
    return false;
  }
  if (err != 0) fuse_reply_err(req, err);
  else if (size == 0) fuse_reply_xattr(req, (size_t)n);
  else fuse_reply_buf(req, buf, (size_t)n);
  free(buf);
  return true;
}

void ll_node_let_go(ll_session *s) { pthread_rwlock_unlock(&s->node_lock); }

// The session thread answers for node from fd (-1: no more).
void ll_node_set_fd(ll_session *s, uint64_t node, int fd) {
  if (s->node_fd == NULL || node >= LL_NODE_FDS) return;
  pthread_rwlock_wrlock(&s->node_lock);
  s->node_fd[node] = fd < 0 ? 0 : fd + 1;
  pthread_rwlock_unlock(&s->node_lock);
}

// At a release of fh: a node answered from fh (a file created and open) no longer is, before
// JavaScript closes it. Done here, on the only thread that reads the table, so that the
// release costs JavaScript no wait for the lock (it drops the descriptor from its own map).
void ll_node_released(ll_session *s, fuse_ino_t ino, uint64_t fh) {
  if (s->node_fd == NULL || ino >= LL_NODE_FDS || fh >= INT32_MAX) return;
  if (__atomic_load_n(&s->node_fd[ino], __ATOMIC_RELAXED) != (int)fh + 1) return;
  pthread_rwlock_wrlock(&s->node_lock);
  if (s->node_fd[ino] == (int)fh + 1) s->node_fd[ino] = 0;
  pthread_rwlock_unlock(&s->node_lock);
}

// setNodeFd(session, node, fd): the session thread may answer for node from fd (-1: no more).
// Returns once the thread no longer uses the node's previous descriptor.
napi_value ll_set_node_fd(napi_env env, napi_callback_info info) {
  ll_session *s;
  double node, fd;
  if (!ll_session_numbers(env, info, &s, &node, &fd)) {
    return ll_throw(env, "setNodeFd(session, node, fd)");
  }
  bool taken = false;
  if (s->node_fd != NULL && node >= 0 && node < LL_NODE_FDS) {
    ll_node_set_fd(s, (uint64_t)node, fd < 0 ? -1 : (int)fd);
    taken = fd >= 0;
  }
  napi_value out;
  napi_get_boolean(env, taken, &out);
  return out;
}

// setTimes(session, attr, negative): the lifetimes of the replies answered here.
napi_value ll_set_times(napi_env env, napi_callback_info info) {
  ll_session *s;
  double attr, negative;
  if (!ll_session_numbers(env, info, &s, &attr, &negative)) {
    return ll_throw(env, "setTimes(session, attr, negative)");
  }
  s->attr_timeout = attr;
  s->negative_timeout = negative;
  return ll_undefined(env);
}

// A readdir of directory ino at the offset where JavaScript's last reply ended its listing
// (the kernel asks once more past the last entry before it knows the listing ended) is
// answered "no more entries" here, without a trip to JavaScript: one request fewer for every
// directory a walk lists. JavaScript sets the offset with the reply that carried the last
// entries and clears it before the directory is listed again, changed or forgotten.
bool ll_dir_end(ll_session *s, fuse_req_t req, fuse_ino_t ino, off_t off) {
  if (s->dir_end == NULL || ino >= LL_NODE_FDS || off <= 0 || off > UINT32_MAX) return false;
  if (__atomic_load_n(&s->dir_end[ino], __ATOMIC_ACQUIRE) != (uint32_t)off) return false;
  fuse_reply_buf(req, NULL, 0);
  return true;
}

// setDirEnd(session, node, end): a readdir of node at end is told the listing ended (0: no
// longer). Returns whether the session thread will.
napi_value ll_set_dir_end(napi_env env, napi_callback_info info) {
  ll_session *s;
  double node, end;
  if (!ll_session_numbers(env, info, &s, &node, &end)) {
    return ll_throw(env, "setDirEnd(session, node, end)");
  }
  bool set = s->dir_end != NULL && node >= 0 && node < LL_NODE_FDS && end >= 0 && end <= UINT32_MAX;
  if (set) __atomic_store_n(&s->dir_end[(uint64_t)node], (uint32_t)end, __ATOMIC_RELEASE);
  napi_value out;
  napi_get_boolean(env, set && end > 0, &out);
  return out;
}
