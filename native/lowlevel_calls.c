// The kernel's requests, as the session thread receives them: each is copied out of libfuse's
// receive buffer (names, link targets and write data are only valid during the callback),
// stamped with the caller's context, and queued to JavaScript. forget needs no answer, and
// release none the kernel waits for: both are answered here (a release's call held as a note,
// lowlevel_notes.c); every other request is answered from JavaScript (lowlevel_reply.c), where
// the session thread does not answer it itself.
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
    if (op != OP_FORGET && op != OP_BATCH_FORGET && op != OP_CREATED && op != OP_RELEASE) {
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

// Counted before it is queued, so a count read later never misses a call queued before; the
// notes held are queued ahead of it (lowlevel_notes.c).
static void send_call(ll_call *c) {
  if (c != NULL) ll_send_after_notes(c->session, c);
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

// Requests by kind as the kernel sent them, answered here or in JavaScript (the request
// trace's "at the kernel" line, kernelCounts): only the session thread adds to them.
static void seen(fuse_req_t req, int op) {
  ll_session *s = fuse_req_userdata(req);
  __atomic_add_fetch(&s->seen[op], 1, __ATOMIC_RELAXED);
}

static double fh_of(struct fuse_file_info *fi) { return fi == NULL ? -1 : (double)fi->fh; }

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  seen(req, OP_LOOKUP);
  if (ll_node_lookup(fuse_req_userdata(req), req, parent, name)) return;
  ll_call *c = new_call(req, OP_LOOKUP, parent);
  if (c == NULL) return;
  set_name(c, name);
  send_call(c);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  seen(req, OP_FORGET);
  ll_call *c = new_call(req, OP_FORGET, ino);
  fuse_reply_none(req);
  if (c == NULL) return;
  c->req = NULL;
  c->x1 = (double)nlookup;
  send_call(c);
}

static void ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets) {
  seen(req, OP_BATCH_FORGET);
  ll_call *c = new_call(req, OP_BATCH_FORGET, 0);
  fuse_reply_none(req);
  if (c == NULL) return;
  c->req = NULL;
  c->datalen = count * sizeof *forgets;
  c->data = dup_bytes((const char *)forgets, c->datalen);
  send_call(c);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  seen(req, OP_GETATTR);
  if (ll_node_getattr(fuse_req_userdata(req), req, ino)) return;
  ll_call *c = new_call(req, OP_GETATTR, ino);
  if (c == NULL) return;
  c->x1 = fh_of(fi);
  send_call(c);
}

static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi) {
  seen(req, OP_SETATTR);
  if (ll_direct_setattr(fuse_req_userdata(req), req, ino, attr, to_set, fi)) return;
  ll_call *c = new_call(req, OP_SETATTR, ino);
  if (c == NULL) return;
  c->attr = *attr;
  c->x1 = to_set;
  // An open directory's handle (an fchmod or futimens of it) is 0, the kernel's own: the
  // directory has no descriptor here (and fd 0 is never a file's).
  c->x3 = fi != NULL && fi->fh == 0 ? -1 : fh_of(fi);
  send_call(c);
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino) {
  seen(req, OP_READLINK);
  send_call(new_call(req, OP_READLINK, ino));
}

static void ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) {
  seen(req, OP_MKNOD);
  ll_call *c = new_call(req, OP_MKNOD, parent);
  if (c == NULL) return;
  set_name(c, name);
  c->x2 = mode;
  c->x3 = (double)rdev;
  send_call(c);
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
  seen(req, OP_MKDIR);
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
  seen(req, OP_UNLINK);
  name_only(req, OP_UNLINK, parent, name);
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) {
  seen(req, OP_RMDIR);
  name_only(req, OP_RMDIR, parent, name);
}

static void ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name) {
  seen(req, OP_SYMLINK);
  ll_call *c = new_call(req, OP_SYMLINK, parent);
  if (c == NULL) return;
  set_name(c, name);
  set_name2(c, link);
  send_call(c);
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags) {
  seen(req, OP_RENAME);
  ll_call *c = new_call(req, OP_RENAME, parent);
  if (c == NULL) return;
  set_name(c, name);
  set_name2(c, newname);
  c->x2 = (double)newparent;
  c->x4 = flags;
  send_call(c);
}

static void ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname) {
  seen(req, OP_LINK);
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
  seen(req, OP_OPEN);
  with_flags(req, OP_OPEN, ino, fi);
}

// OPENDIR is answered ENOSYS, once: the kernel then never sends OPENDIR or RELEASEDIR again
// (fs/fuse/file.c, no_opendir) and opens every directory itself with keep_cache and
// cache_readdir, so a walk of directories it has listed costs no request at all. Readdirs
// arrive with fh 0: JavaScript keeps listings by node (lowlevel-dirs.ts).
static void ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)ino;
  (void)fi;
  seen(req, OP_OPENDIR);
  fuse_reply_err(req, ENOSYS);
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
  seen(req, OP_READ);
  if (ll_direct_read(fuse_req_userdata(req), req, size, off, fi->fh)) return;
  sized(req, OP_READ, ino, size, off, fi);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi) {
  seen(req, OP_READDIR);
  if (ll_dir_end(fuse_req_userdata(req), req, ino, off)) return;
  sized(req, OP_READDIR, ino, size, off, fi);
}

static void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                           struct fuse_file_info *fi) {
  seen(req, OP_READDIRPLUS);
  if (ll_dir_end(fuse_req_userdata(req), req, ino, off)) return;
  sized(req, OP_READDIRPLUS, ino, size, off, fi);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi) {
  seen(req, OP_WRITE);
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

// A release is answered here at once and JavaScript told by a note: nothing of what it does
// then (notes the file changed, closes the descriptor) is anything the kernel waits for, and
// every later request reaches JavaScript after the note.
static void ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  seen(req, OP_RELEASE);
  ll_node_released(fuse_req_userdata(req), ino, fi->fh);
  ll_call *c = new_call(req, OP_RELEASE, ino);
  if (c == NULL) {
    fuse_reply_err(req, 0);  // out of memory: answered all the same (the descriptor stays open)
    return;
  }
  c->x1 = fh_of(fi);
  c->x2 = fi->flags;
  c->req = NULL;
  fuse_reply_err(req, 0);
  ll_send_note(c);
}

// Never sent once OPENDIR was answered ENOSYS (and the one refused open has no handle):
// answered here all the same, should a kernel send it.
static void ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)ino;
  (void)fi;
  seen(req, OP_RELEASEDIR);
  fuse_reply_err(req, 0);
}

static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  seen(req, OP_FSYNC);
  with_fh(req, OP_FSYNC, ino, datasync, fi);
}

static void ll_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  seen(req, OP_FSYNCDIR);
  with_fh(req, OP_FSYNCDIR, ino, datasync, fi);
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino) {
  seen(req, OP_STATFS);
  send_call(new_call(req, OP_STATFS, ino));
}

static void ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                        size_t size, int flags) {
  seen(req, OP_SETXATTR);
  ll_call *c = new_call(req, OP_SETXATTR, ino);
  if (c == NULL) return;
  set_name(c, name);
  c->data = dup_bytes(value, size);
  c->datalen = size;
  c->x4 = flags;
  send_call(c);
}

static void ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size) {
  seen(req, OP_GETXATTR);
  if (ll_node_getxattr(fuse_req_userdata(req), req, ino, name, size)) return;
  ll_call *c = new_call(req, OP_GETXATTR, ino);
  if (c == NULL) return;
  set_name(c, name);
  c->x2 = (double)size;
  send_call(c);
}

static void ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  seen(req, OP_LISTXATTR);
  ll_call *c = new_call(req, OP_LISTXATTR, ino);
  if (c == NULL) return;
  c->x1 = (double)size;
  send_call(c);
}

static void ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name) {
  seen(req, OP_REMOVEXATTR);
  name_only(req, OP_REMOVEXATTR, ino, name);
}

static void ll_access(fuse_req_t req, fuse_ino_t ino, int mask) {
  seen(req, OP_ACCESS);
  ll_call *c = new_call(req, OP_ACCESS, ino);
  if (c == NULL) return;
  c->x1 = mask;
  send_call(c);
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi) {
  seen(req, OP_CREATE);
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
