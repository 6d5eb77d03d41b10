// Creates answered by the session thread itself (DESIGN decision 18): in a directory the
// session thread holds a descriptor for (lowlevel_nodes.c), a new file is made with openat
// (O_EXCL: only a name that is not there), given to its creator when the daemon runs as root,
// stat'ed, handed to the kernel as a node whose id JavaScript set aside, and served from then
// on like a file JavaScript opened (direct reads and writes, getattr and getxattr from its
// descriptor). JavaScript learns of it by a created call queued before any later request
// (the session thread reads the next request only after this one): it records the node,
// notes the change in the volume and, at release, closes the descriptor as for any create.
// Anything else (no descriptor for the directory, no id left, the name there, an open that
// fails, creates turned off because the cache has no room) goes to JavaScript as before.
#include "lowlevel.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// The next id set aside, or 0 when none is left (then JavaScript makes the node).
static uint64_t take_id(ll_session *s) {
  pthread_mutex_lock(&s->ids_lock);
  if (s->ids_next == s->ids_end && s->spare_count > 0) {
    s->ids_next = s->spare_first;
    s->ids_end = s->spare_first + s->spare_count;
    s->spare_count = 0;
  }
  uint64_t id = s->ids_next < s->ids_end ? s->ids_next++ : 0;
  pthread_mutex_unlock(&s->ids_lock);
  return id;
}

// The created call telling JavaScript of the file made (made before the reply: the request
// is gone once answered): parent and name, its node id and view inode.
static ll_call *created_call(fuse_req_t req, fuse_ino_t parent, const char *name, uint64_t id) {
  ll_call *c = ll_new_call(req, OP_CREATED, parent);
  if (c == NULL) return NULL;  // out of memory: the release still closes the descriptor
  c->req = NULL;
  ll_set_name(c, name);
  c->x2 = (double)id;
  return c;
}

// Sends it with the descriptor, as -(fd + 1) when the kernel did not take the reply
// (JavaScript then only notes the change and closes it).
static void tell(ll_call *c, const struct stat *st, int fd, bool answered) {
  if (c == NULL) return;
  c->x3 = (double)st->st_ino;
  c->x4 = answered ? fd : -(double)fd - 1;
  ll_send_note(c);
}

// The directory to create in, with the node lock's read side held (released by the caller),
// or -1 unlocked: the node's descriptor, or for the root the one JavaScript gave for creates.
// The kernel sends a create only for a name it holds no entry of (a lookup answered "no such
// name" first), so the root's names JavaScript makes up (its hidden tree) never get here.
static int dir_hold(ll_session *s, fuse_ino_t parent) {
  int dir = ll_node_hold(s, parent);
  if (dir >= 0 || parent != FUSE_ROOT_ID) return dir;
  pthread_rwlock_rdlock(&s->node_lock);
  dir = s->root_create_fd - 1;
  if (dir < 0) pthread_rwlock_unlock(&s->node_lock);
  return dir;
}

bool ll_direct_create(ll_session *s, fuse_req_t req, fuse_ino_t parent, const char *name,
                      mode_t mode, struct fuse_file_info *fi) {
  if (!__atomic_load_n(&s->creates, __ATOMIC_ACQUIRE)) return false;
  int dir = dir_hold(s, parent);
  if (dir < 0) return false;
  uint64_t id = take_id(s);
  if (id == 0) {
    ll_node_let_go(s);
    return false;
  }
  // The kernel gives each write its offset, O_APPEND included (as handlers.ts opens).
  int flags = (fi->flags & ~O_APPEND) | O_CREAT | O_EXCL | O_CLOEXEC;
  int fd = openat(dir, name, flags, mode & 07777);
  ll_node_let_go(s);
  if (fd < 0) return false;  // there already, or a failure: JavaScript answers
  const struct fuse_ctx *ctx = fuse_req_ctx(req);
  ll_call *c = created_call(req, parent, name, id);
  // Counted before the kernel has the node: JavaScript holds back invalidations until it
  // has seen this call.
  if (c != NULL) __atomic_add_fetch(&s->created_sent, 1, __ATOMIC_RELEASE);
  struct stat st;
  int err = 0;
  // A new file belongs to its creator (the kernel checked that they may make it).
  if (getuid() == 0 && (ctx->uid != 0 || ctx->gid != 0) && fchown(fd, ctx->uid, ctx->gid) != 0) {
    err = errno;
  }
  if (err == 0 && fstat(fd, &st) != 0) err = errno;
  if (err != 0) {
    memset(&st, 0, sizeof st);
    fuse_reply_err(req, err);
    tell(c, &st, fd, false);
    return true;
  }
  ll_direct_on(s, (uint64_t)fd, true);
  ll_node_set_fd(s, id, fd);
  struct fuse_entry_param e;
  memset(&e, 0, sizeof e);
  e.ino = id;
  e.attr = st;
  e.attr_timeout = s->attr_timeout;
  e.entry_timeout = s->entry_timeout;
  fi->fh = (uint64_t)fd;
  fi->keep_cache = 1;
  fi->direct_io = 0;
  bool answered = fuse_reply_create(req, &e, fi) == 0;
  if (!answered) {
    ll_node_set_fd(s, id, -1);
    ll_direct_on(s, (uint64_t)fd, false);
  }
  tell(c, &st, fd, answered);
  return true;
}

// setCreates(session, on, entryTimeout[, rootFd]): whether the session thread makes files
// itself, and (given) a descriptor of the mount's root to make them there too (-1: none;
// returns once the thread no longer uses the one before).
napi_value ll_set_creates(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  ll_session *s = argc == 3 || argc == 4 ? ll_session_arg(env, argv[0]) : NULL;
  bool on = false;
  double entry = 0, root = -1;
  if (s == NULL || napi_get_value_bool(env, argv[1], &on) != napi_ok ||
      !ll_get_double(env, argv[2], &entry) || (argc == 4 && !ll_get_double(env, argv[3], &root))) {
    return ll_throw(env, "setCreates(session, on, entryTimeout[, rootFd])");
  }
  if (argc == 4) {
    pthread_rwlock_wrlock(&s->node_lock);
    s->root_create_fd = root < 0 ? 0 : (int)root + 1;
    pthread_rwlock_unlock(&s->node_lock);
  }
  s->entry_timeout = entry;
  __atomic_store_n(&s->creates, on, __ATOMIC_RELEASE);
  return ll_undefined(env);
}

// giveNodeIds(session, first, count): ids [first, first + count) for the creates made here;
// false (and nothing taken) while the block given before is still unused.
napi_value ll_give_node_ids(napi_env env, napi_callback_info info) {
  ll_session *s;
  double first = 0, count = 0;
  if (!ll_session_numbers(env, info, &s, &first, &count) || first < 2 || count < 1) {
    return ll_throw(env, "giveNodeIds(session, first, count)");
  }
  pthread_mutex_lock(&s->ids_lock);
  bool taken = s->spare_count == 0;
  if (taken) {
    s->spare_first = (uint64_t)first;
    s->spare_count = (uint64_t)count;
  }
  pthread_mutex_unlock(&s->ids_lock);
  napi_value out;
  napi_get_boolean(env, taken, &out);
  return out;
}

// callsCounted(session): [calls queued to JavaScript, calls it has taken] (the session thread
// counts each before queueing it; JavaScript's thread as it takes it, in queue order).
napi_value ll_calls_counted(napi_env env, napi_callback_info info) {
  ll_session *s = ll_session_only(env, info);
  if (s == NULL) return ll_throw(env, "callsCounted(session)");
  napi_value out, sent, seen;
  napi_create_array_with_length(env, 2, &out);
  napi_create_double(env, (double)__atomic_load_n(&s->calls_sent, __ATOMIC_ACQUIRE), &sent);
  napi_create_double(env, (double)__atomic_load_n(&s->calls_seen, __ATOMIC_ACQUIRE), &seen);
  napi_set_element(env, out, 0, sent);
  napi_set_element(env, out, 1, seen);
  return out;
}

// createdSent(session): how many created calls the session thread has made (each counted
// before its create is answered, and sent after).
napi_value ll_created_sent(napi_env env, napi_callback_info info) {
  ll_session *s = ll_session_only(env, info);
  if (s == NULL) return ll_throw(env, "createdSent(session)");
  napi_value out;
  napi_create_double(env, (double)__atomic_load_n(&s->created_sent, __ATOMIC_ACQUIRE), &out);
  return out;
}
