// The kernel's requests, as the session thread receives them: each is copied out of libfuse's
// receive buffer (names, link targets and write data are only valid during the callback),
// stamped with the caller's context, and queued to JavaScript. forget needs no answer and is
// answered here; every other request is answered from JavaScript (lowlevel_reply.c).
#include "lowlevel.h"

#include <stdlib.h>
#include <string.h>

static char *dup_bytes(const char *src, size_t len) {
  char *out = malloc(len + 1);
  if (out == NULL) return NULL;
  memcpy(out, src, len);
  out[len] = 0;
  return out;
}

static ll_call *new_call(fuse_req_t req, int op, fuse_ino_t ino) {
  ll_call *c = calloc(1, sizeof *c);
  if (c == NULL) {
    if (op != OP_FORGET && op != OP_BATCH_FORGET && op != OP_RELEASEDIR && op != OP_CREATED) {
      fuse_reply_err(req, ENOMEM);
    }
    return NULL;
  }
  c->op = op;
  c->req = req;
  c->session = fuse_req_userdata(req);
  c->ino = ino;
  const struct fuse_ctx *ctx = fuse_req_ctx(req);
  c->uid = ctx->uid;
  c->gid = ctx->gid;
  c->pid = (uint32_t)ctx->pid;
  c->umask = ctx->umask;
  return c;
}

static void set_name(ll_call *c, const char *name) {
  c->namelen = strlen(name);
  c->name = dup_bytes(name, c->namelen);
}

static void set_name2(ll_call *c, const char *name) {
  c->name2len = strlen(name);
  c->name2 = dup_bytes(name, c->name2len);
}

static void send_call(ll_call *c) {
  if (c == NULL) return;
  ll_session *s = c->session;
  // Counted before it is queued, so a count read later never misses a call queued before.
  __atomic_add_fetch(&s->calls_sent, 1, __ATOMIC_RELEASE);
  if (napi_call_threadsafe_function(s->tsfn, c, napi_tsfn_blocking) != napi_ok) {
    __atomic_add_fetch(&s->calls_seen, 1, __ATOMIC_RELEASE);
    if (c->req != NULL) fuse_reply_err(c->req, EIO);
    ll_free_call(c);
  }
}

// For the requests answered elsewhere that still tell JavaScript (lowlevel_create.c).
ll_call *ll_new_call(fuse_req_t req, int op, fuse_ino_t ino) { return new_call(req, op, ino); }
void ll_set_name(ll_call *c, const char *name) { set_name(c, name); }
void ll_send_call(ll_call *c) { send_call(c); }

void ll_free_call(ll_call *c) {
  free(c->name);
  free(c->name2);
  free(c->data);
  free(c);
}

static double fh_of(struct fuse_file_info *fi) { return fi == NULL ? -1 : (double)fi->fh; }

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  if (ll_node_lookup(fuse_req_userdata(req), req, parent, name)) return;
  ll_call *c = new_call(req, OP_LOOKUP, parent);
  if (c == NULL) return;
  set_name(c, name);
  send_call(c);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  ll_call *c = new_call(req, OP_FORGET, ino);
  fuse_reply_none(req);
  if (c == NULL) return;
  c->req = NULL;
  c->x1 = (double)nlookup;
  send_call(c);
}

static void ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets) {
  ll_call *c = new_call(req, OP_BATCH_FORGET, 0);
  fuse_reply_none(req);
  if (c == NULL) return;
  c->req = NULL;
  c->datalen = count * sizeof *forgets;
  c->data = dup_bytes((const char *)forgets, c->datalen);
  send_call(c);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  if (ll_node_getattr(fuse_req_userdata(req), req, ino)) return;
  ll_call *c = new_call(req, OP_GETATTR, ino);
  if (c == NULL) return;
  c->x1 = fh_of(fi);
  send_call(c);
}

static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi) {
  if (ll_direct_setattr(fuse_req_userdata(req), req, ino, attr, to_set, fi)) return;
  ll_call *c = new_call(req, OP_SETATTR, ino);
  if (c == NULL) return;
  c->attr = *attr;
  c->x1 = to_set;
  c->x3 = fh_of(fi);
  send_call(c);
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino) { send_call(new_call(req, OP_READLINK, ino)); }

static void ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) {
  ll_call *c = new_call(req, OP_MKNOD, parent);
  if (c == NULL) return;
  set_name(c, name);
  c->x2 = mode;
  c->x3 = (double)rdev;
  send_call(c);
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
  ll_call *c = new_call(req, OP_MKDIR, parent);
  if (c == NULL) return;
  set_name(c, name);
  c->x2 = mode;
  send_call(c);
}

static void name_only(fuse_req_t req, int op, fuse_ino_t parent, const char *name) {
  ll_call *c = new_call(req, op, parent);
  if (c == NULL) return;
  set_name(c, name);
  send_call(c);
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
  name_only(req, OP_UNLINK, parent, name);
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) {
  name_only(req, OP_RMDIR, parent, name);
}

static void ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name) {
  ll_call *c = new_call(req, OP_SYMLINK, parent);
  if (c == NULL) return;
  set_name(c, name);
  set_name2(c, link);
  send_call(c);
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags) {
  ll_call *c = new_call(req, OP_RENAME, parent);
  if (c == NULL) return;
  set_name(c, name);
  set_name2(c, newname);
  c->x2 = (double)newparent;
  c->x4 = flags;
  send_call(c);
}

static void ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname) {
  ll_call *c = new_call(req, OP_LINK, ino);
  if (c == NULL) return;
  set_name2(c, newname);
  c->x2 = (double)newparent;
  send_call(c);
}

static void with_flags(fuse_req_t req, int op, fuse_ino_t ino, struct fuse_file_info *fi) {
  ll_call *c = new_call(req, op, ino);
  if (c == NULL) return;
  c->x1 = fi->flags;
  send_call(c);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  with_flags(req, OP_OPEN, ino, fi);
}

// Directories are opened and released here, never waiting on JavaScript: the kernel checks
// permissions itself, keeps listings cached across opens, and JavaScript lists a directory at
// its first readdir (a warm walk opens many directories and reads none of them).
static void ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  ll_session *s = fuse_req_userdata(req);
  fi->fh = __atomic_add_fetch(&s->next_dir, 1, __ATOMIC_RELAXED);
  fi->keep_cache = 1;
  fi->cache_readdir = 1;
  fuse_reply_open(req, fi);
}

static void sized(fuse_req_t req, int op, fuse_ino_t ino, size_t size, off_t off,
                  struct fuse_file_info *fi) {
  ll_call *c = new_call(req, op, ino);
  if (c == NULL) return;
  c->x1 = (double)size;
  c->x2 = (double)off;
  c->x3 = fh_of(fi);
  send_call(c);
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  if (ll_direct_read(fuse_req_userdata(req), req, size, off, fi->fh)) return;
  sized(req, OP_READ, ino, size, off, fi);
}

// The handles JavaScript holds a listing for: an open-addressed set (handles start at 1, 0 is
// an empty slot), so that a releasedir of a directory only opened (a warm walk's: the kernel
// lists it from its cache) is not sent there. Only the session thread touches it.
static size_t slot_of(const ll_session *s, uint64_t fh) {
  size_t i = (size_t)(fh * 0x9E3779B97F4A7C15ull) & (s->listed_cap - 1);
  while (s->listed[i] != 0 && s->listed[i] != fh) i = (i + 1) & (s->listed_cap - 1);
  return i;
}

// Whether fh is in the set (and, with drop, takes it out).
static bool listed(ll_session *s, uint64_t fh, bool drop) {
  if (s->listed_n == 0) return false;
  size_t i = slot_of(s, fh);
  if (s->listed[i] == 0) return false;
  if (!drop) return true;
  // Backward-shift deletion keeps every probe run unbroken.
  size_t mask = s->listed_cap - 1, j = i;
  s->listed[i] = 0;
  for (;;) {
    j = (j + 1) & mask;
    if (s->listed[j] == 0) break;
    size_t home = (size_t)(s->listed[j] * 0x9E3779B97F4A7C15ull) & mask;
    if (((j - home) & mask) >= ((j - i) & mask)) {
      s->listed[i] = s->listed[j];
      s->listed[j] = 0;
      i = j;
    }
  }
  s->listed_n--;
  return true;
}

// Adds fh; false when out of memory (the releasedir is then sent, as before).
static bool list_add(ll_session *s, uint64_t fh) {
  if (s->listed_cap != 0 && listed(s, fh, false)) return true;
  if ((s->listed_n + 1) * 2 > s->listed_cap) {
    size_t cap = s->listed_cap == 0 ? 64 : s->listed_cap * 2;
    uint64_t *old = s->listed, *grown = calloc(cap, sizeof *grown);
    if (grown == NULL) return false;
    size_t old_cap = s->listed_cap;
    s->listed = grown;
    s->listed_cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
      if (old[i] != 0) s->listed[slot_of(s, old[i])] = old[i];
    }
    free(old);
  }
  s->listed[slot_of(s, fh)] = fh;
  s->listed_n++;
  return true;
}

// A readdir reaches JavaScript (which lists the directory): its releasedir must too.
static void dir_call(fuse_req_t req, int op, fuse_ino_t ino, size_t size, off_t off,
                     struct fuse_file_info *fi) {
  ll_session *s = fuse_req_userdata(req);
  if (!list_add(s, fi->fh)) s->listed_overflow = true;
  sized(req, op, ino, size, off, fi);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi) {
  dir_call(req, OP_READDIR, ino, size, off, fi);
}

static void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                           struct fuse_file_info *fi) {
  dir_call(req, OP_READDIRPLUS, ino, size, off, fi);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi) {
  if (ll_direct_write(fuse_req_userdata(req), req, buf, size, off, fi->fh)) return;
  ll_call *c = new_call(req, OP_WRITE, ino);
  if (c == NULL) return;
  c->data = malloc(size > 0 ? size : 1);
  if (c->data == NULL) {
    fuse_reply_err(req, ENOMEM);
    ll_free_call(c);
    return;
  }
  memcpy(c->data, buf, size);
  c->datalen = size;
  c->x2 = (double)off;
  c->x4 = fh_of(fi);
  send_call(c);
}

static void with_fh(fuse_req_t req, int op, fuse_ino_t ino, double x, struct fuse_file_info *fi) {
  ll_call *c = new_call(req, op, ino);
  if (c == NULL) return;
  c->x1 = fh_of(fi);
  c->x2 = x;
  send_call(c);
}

// flush (each close of a descriptor) has nothing to do: changes are noted at fsync and
// release, and the view's file is written through at once. It is left out of the table, so
// libfuse answers the first one ENOSYS and the kernel sends no more (each close then costs no
// round trip; a release is asynchronous).

static void ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  ll_node_released(fuse_req_userdata(req), ino, fi->fh);
  with_fh(req, OP_RELEASE, ino, fi->flags, fi);
}

static void ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  ll_session *s = fuse_req_userdata(req);
  // JavaScript holds no listing for a handle it was never sent a readdir of.
  if (!listed(s, fi->fh, true) && !s->listed_overflow) {
    fuse_reply_err(req, 0);
    return;
  }
  ll_call *c = new_call(req, OP_RELEASEDIR, ino);
  fuse_reply_err(req, 0);
  if (c == NULL) return;
  c->req = NULL;  // answered: JavaScript only lets go of the listing
  c->x1 = (double)fi->fh;
  send_call(c);
}

static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  with_fh(req, OP_FSYNC, ino, datasync, fi);
}

static void ll_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  with_fh(req, OP_FSYNCDIR, ino, datasync, fi);
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino) { send_call(new_call(req, OP_STATFS, ino)); }

static void ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                        size_t size, int flags) {
  ll_call *c = new_call(req, OP_SETXATTR, ino);
  if (c == NULL) return;
  set_name(c, name);
  c->data = dup_bytes(value, size);
  c->datalen = size;
  c->x4 = flags;
  send_call(c);
}

static void ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size) {
  if (ll_node_getxattr(fuse_req_userdata(req), req, ino, name, size)) return;
  ll_call *c = new_call(req, OP_GETXATTR, ino);
  if (c == NULL) return;
  set_name(c, name);
  c->x2 = (double)size;
  send_call(c);
}

static void ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  ll_call *c = new_call(req, OP_LISTXATTR, ino);
  if (c == NULL) return;
  c->x1 = (double)size;
  send_call(c);
}

static void ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name) {
  name_only(req, OP_REMOVEXATTR, ino, name);
}

static void ll_access(fuse_req_t req, fuse_ino_t ino, int mask) {
  ll_call *c = new_call(req, OP_ACCESS, ino);
  if (c == NULL) return;
  c->x1 = mask;
  send_call(c);
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi) {
  if (ll_direct_create(fuse_req_userdata(req), req, parent, name, mode, fi)) return;
  ll_call *c = new_call(req, OP_CREATE, parent);
  if (c == NULL) return;
  set_name(c, name);
  c->x2 = mode;
  c->x3 = fi->flags;
  send_call(c);
}

static void ll_init(void *userdata, struct fuse_conn_info *conn) {
  // An open with O_TRUNC arrives as such, not as an open and then a truncate.
  if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC) conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
  if (conn->capable & FUSE_CAP_READDIRPLUS) conn->want |= FUSE_CAP_READDIRPLUS;
  if (conn->capable & FUSE_CAP_CACHE_SYMLINKS) conn->want |= FUSE_CAP_CACHE_SYMLINKS;
  // The kernel would own sizes and times of written files: not until that is shown correct.
  conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
  // No splice: every request's bytes are copied once, into the call.
  conn->want &= ~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
  conn->max_write = 1u << 20;
}

const struct fuse_lowlevel_ops ll_ops = {
    .init = ll_init,
    .lookup = ll_lookup,
    .forget = ll_forget,
    .forget_multi = ll_forget_multi,
    .getattr = ll_getattr,
    .setattr = ll_setattr,
    .readlink = ll_readlink,
    .mknod = ll_mknod,
    .mkdir = ll_mkdir,
    .unlink = ll_unlink,
    .rmdir = ll_rmdir,
    .symlink = ll_symlink,
    .rename = ll_rename,
    .link = ll_link,
    .open = ll_open,
    .read = ll_read,
    .write = ll_write,
    .release = ll_release,
    .fsync = ll_fsync,
    .opendir = ll_opendir,
    .readdir = ll_readdir,
    .readdirplus = ll_readdirplus,
    .releasedir = ll_releasedir,
    .fsyncdir = ll_fsyncdir,
    .statfs = ll_statfs,
    .setxattr = ll_setxattr,
    .getxattr = ll_getxattr,
    .listxattr = ll_listxattr,
    .removexattr = ll_removexattr,
    .access = ll_access,
    .create = ll_create,
};
