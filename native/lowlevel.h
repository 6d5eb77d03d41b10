// tether's libfuse 3 low-level binding: shared declarations of the session (lowlevel.c), the
// requests handed to JavaScript (lowlevel_calls.c), the replies (lowlevel_reply.c) and the
// cache invalidation notices (lowlevel_notify.c).
#ifndef TETHER_LOWLEVEL_H
#define TETHER_LOWLEVEL_H

#define NAPI_VERSION 8
#define FUSE_USE_VERSION 34
#define _GNU_SOURCE
#include <fuse_lowlevel.h>
#include <errno.h>
#include <node_api.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

// Bumped whenever the calls or replies change shape (the TypeScript loader checks it).
#define LL_ABI 13

// Request kinds, in the order lowlevel-addon.ts lists them.
enum ll_op {
  OP_EXIT,
  OP_LOOKUP,
  OP_FORGET,
  OP_GETATTR,
  OP_SETATTR,
  OP_READLINK,
  OP_MKNOD,
  OP_MKDIR,
  OP_UNLINK,
  OP_RMDIR,
  OP_SYMLINK,
  OP_RENAME,
  OP_LINK,
  OP_OPEN,
  OP_READ,
  OP_WRITE,
  OP_FLUSH,
  OP_RELEASE,
  OP_FSYNC,
  OP_OPENDIR,
  OP_READDIR,
  OP_READDIRPLUS,
  OP_RELEASEDIR,
  OP_FSYNCDIR,
  OP_STATFS,
  OP_SETXATTR,
  OP_GETXATTR,
  OP_LISTXATTR,
  OP_REMOVEXATTR,
  OP_ACCESS,
  OP_CREATE,
  OP_BATCH_FORGET,
  OP_CREATED,  // a create the session thread answered itself (lowlevel_create.c)
  OP_NOTES,    // held notes, sent as one call (lowlevel_notes.c; never handed on as such)
};

// One request, copied out of libfuse's receive buffer on the session thread and handed to
// JavaScript through the thread-safe function. Numbers that do not apply are 0.
typedef struct ll_session ll_session;

typedef struct ll_call {
  int op;
  ll_session *session;
  fuse_req_t req;
  uint32_t uid, gid, pid, umask;
  uint64_t ino;
  double x1, x2, x3, x4;
  char *name, *name2, *data;
  size_t namelen, name2len, datalen;
  struct stat attr;
  int has_fh;
  struct ll_call *next;  // the next held note (lowlevel_notes.c)
} ll_call;

typedef struct ll_notice ll_notice;

// Descriptors below this number may be served directly by the session thread.
#define LL_DIRECT_FDS 65536
// Nodes below this number may have a descriptor the session thread answers from.
#define LL_NODE_FDS (1 << 20)

struct ll_session {
  struct fuse_session *se;
  napi_threadsafe_function tsfn;
  pthread_t loop;
  bool loop_started;
  // Cache invalidation runs on its own thread: the kernel may hold a directory's lock while
  // it waits for a reply from JavaScript, and a notice about that directory waits for it.
  pthread_t notifier;
  bool notifier_started;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  ll_notice *head, *tail;
  bool stopping;
  // Descriptors the session thread reads and writes itself (see lowlevel_direct.c).
  uint8_t direct[LL_DIRECT_FDS / 8];
  // Requests by kind as the kernel sent them (lowlevel_calls.c's seen), and under OP_NOTES the
  // batches of notes sent to JavaScript (each one wake-up of its thread at most).
  uint64_t seen[OP_NOTES + 1];
  uint8_t written[LL_DIRECT_FDS / 8];
  // Descriptors for nodes (see lowlevel_nodes.c): fd + 1 by node id, 0 for none.
  pthread_rwlock_t node_lock;
  int *node_fd;
  // Where each directory's listing ends, by node id (0: not known): see ll_dir_end.
  uint32_t *dir_end;
  double attr_timeout, negative_timeout;
  // Creates answered by the session thread (see lowlevel_create.c): on or off, the entry
  // lifetime of their replies, and the node ids JavaScript set aside for them.
  bool creates;
  double entry_timeout;
  // The mount's root for creates only (fd + 1, 0: none; under node_lock): not a node
  // descriptor, since the root's lookups and getattrs stay JavaScript's.
  int root_create_fd;
  // Owners of the files served here are set here too (setOwners): only while a chown through
  // the handlers would be made in the local view alone (the volume is offline). Turned off
  // under node_lock's write side, so no chown begun before is still being made.
  bool owners;
  // Created calls sent to JavaScript so far (it holds back invalidations until it has seen
  // them all: a node made here is not in its table before).
  uint64_t created_sent;
  // Calls queued to JavaScript, and calls it has taken from the queue (a control request waits
  // until JavaScript has taken every call queued before it: see callsCounted).
  uint64_t calls_sent, calls_seen;
  pthread_mutex_t ids_lock;
  uint64_t ids_next, ids_end, spare_first, spare_count;
  // Notes held for JavaScript (lowlevel_notes.c), and the thread that sends them when no
  // request does.
  pthread_mutex_t notes_lock;
  pthread_cond_t notes_wake;
  ll_call *notes_head, *notes_tail;
  size_t notes_count;
  bool notes_stopping;
  pthread_t noter;
  bool noter_started;
};

extern const struct fuse_lowlevel_ops ll_ops;

void ll_call_js(napi_env env, napi_value handler, void *context, void *data);
void ll_free_call(ll_call *c);
ll_call *ll_new_call(fuse_req_t req, int op, fuse_ino_t ino);
void ll_set_name(ll_call *c, const char *name);
void ll_send_call(ll_call *c);

void ll_notes_init(ll_session *s);
void ll_notes_free(ll_session *s);
void ll_noter_start(ll_session *s);
void ll_noter_stop(ll_session *s);
// A note (a call with no request to answer): held, and sent with the next ones.
void ll_send_note(ll_call *c);
// Any other call: the held notes are queued first, then it.
void ll_send_after_notes(ll_session *s, ll_call *c);
void ll_free_notes(ll_call *c);

void ll_notifier_start(ll_session *s);
void ll_notifier_stop(ll_session *s);
napi_value ll_notify_inval_inode(napi_env env, napi_callback_info info);
napi_value ll_notify_inval_entry(napi_env env, napi_callback_info info);

void ll_define_replies(napi_env env, napi_value exports);

bool ll_direct_read(ll_session *s, fuse_req_t req, size_t size, off_t off, uint64_t fh);
bool ll_direct_write(ll_session *s, fuse_req_t req, const char *buf, size_t size, off_t off,
                     uint64_t fh);
bool ll_direct_setattr(ll_session *s, fuse_req_t req, fuse_ino_t ino, const struct stat *attr,
                       int to_set, struct fuse_file_info *fi);
napi_value ll_set_direct(napi_env env, napi_callback_info info);
napi_value ll_set_owners(napi_env env, napi_callback_info info);
napi_value ll_take_written(napi_env env, napi_callback_info info);
napi_value ll_list_attrs(napi_env env, napi_callback_info info);

void ll_nodes_init(ll_session *s);
void ll_nodes_free(ll_session *s);
bool ll_node_lookup(ll_session *s, fuse_req_t req, fuse_ino_t parent, const char *name);
bool ll_node_getattr(ll_session *s, fuse_req_t req, fuse_ino_t ino);
bool ll_node_getxattr(ll_session *s, fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
napi_value ll_set_node_fd(napi_env env, napi_callback_info info);
bool ll_dir_end(ll_session *s, fuse_req_t req, fuse_ino_t ino, off_t off);
napi_value ll_set_dir_end(napi_env env, napi_callback_info info);
int ll_node_hold(ll_session *s, fuse_ino_t ino);
void ll_node_let_go(ll_session *s);
void ll_node_set_fd(ll_session *s, uint64_t node, int fd);
void ll_node_released(ll_session *s, fuse_ino_t ino, uint64_t fh);
void ll_direct_on(ll_session *s, uint64_t fd, bool on);

bool ll_direct_create(ll_session *s, fuse_req_t req, fuse_ino_t parent, const char *name,
                      mode_t mode, struct fuse_file_info *fi);
napi_value ll_set_creates(napi_env env, napi_callback_info info);
napi_value ll_give_node_ids(napi_env env, napi_callback_info info);
napi_value ll_created_sent(napi_env env, napi_callback_info info);
napi_value ll_calls_counted(napi_env env, napi_callback_info info);
napi_value ll_set_times(napi_env env, napi_callback_info info);

// Helpers shared by the files.
bool ll_get_double(napi_env env, napi_value v, double *out);
fuse_req_t ll_req_arg(napi_env env, napi_value v);
ll_session *ll_session_arg(napi_env env, napi_value v);
// The session of a call whose one argument is a session (NULL: none given, or not one).
ll_session *ll_session_only(napi_env env, napi_callback_info info);
bool ll_session_numbers(napi_env env, napi_callback_info info, ll_session **s, double *a,
                        double *b);
napi_value ll_undefined(napi_env env);
napi_value ll_throw(napi_env env, const char *msg);

#endif
