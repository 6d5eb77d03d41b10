// tether's libfuse 3 low-level binding (DESIGN decisions 17, 18, 21): a session mounted with
// fuse_session_mount, its loop on a thread of its own, every request handed to one JavaScript
// function through a thread-safe function, and replies sent from JavaScript (libfuse's reply
// calls may run on any thread). The JavaScript side (src/fuse/lowlevel*.ts) keeps the node
// table; this file only carries requests and replies.
#include "lowlevel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

napi_value ll_undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

napi_value ll_throw(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

bool ll_get_double(napi_env env, napi_value v, double *out) {
  return napi_get_value_double(env, v, out) == napi_ok;
}

fuse_req_t ll_req_arg(napi_env env, napi_value v) {
  double d = 0;
  if (!ll_get_double(env, v, &d) || d == 0) return NULL;
  return (fuse_req_t)(uintptr_t)d;
}

ll_session *ll_session_arg(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return p;
}

// Reads a call made (session, a, b), a and b numbers: false where it was not so made.
bool ll_session_numbers(napi_env env, napi_callback_info info, ll_session **s, double *a,
                        double *b) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  *s = argc == 3 ? ll_session_arg(env, argv[0]) : NULL;
  return *s != NULL && ll_get_double(env, argv[1], a) && ll_get_double(env, argv[2], b);
}

ll_session *ll_session_only(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  return argc == 1 ? ll_session_arg(env, argv[0]) : NULL;
}

static napi_value num(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

static napi_value bytes(napi_env env, const char *p, size_t len) {
  napi_value v;
  void *unused;
  napi_create_buffer_copy(env, len, p, &unused, &v);
  return v;
}

static void free_data(napi_env env, void *data, void *hint) { free(data); }

// setattr's values: mode, uid, gid, size, atime s/ns, mtime s/ns.
static napi_value attr_array(napi_env env, const struct stat *st) {
  napi_value ab, arr;
  void *raw;
  napi_create_arraybuffer(env, 8 * sizeof(double), &raw, &ab);
  double *d = raw;
  d[0] = st->st_mode;
  d[1] = st->st_uid;
  d[2] = st->st_gid;
  d[3] = (double)st->st_size;
  d[4] = (double)st->st_atim.tv_sec;
  d[5] = (double)st->st_atim.tv_nsec;
  d[6] = (double)st->st_mtim.tv_sec;
  d[7] = (double)st->st_mtim.tv_nsec;
  napi_create_typedarray(env, napi_float64_array, 8, ab, 0, &arr);
  return arr;
}

static void invoke(napi_env env, napi_value handler, ll_call *c, int op, double ino, napi_value a[4]) {
  napi_value argv[11], global, result;
  argv[0] = num(env, op);
  argv[1] = num(env, (double)(uintptr_t)c->req);
  argv[2] = num(env, ino);
  for (int i = 0; i < 4; i++) argv[3 + i] = a[i];
  argv[7] = num(env, c->uid);
  argv[8] = num(env, c->gid);
  argv[9] = num(env, c->pid);
  argv[10] = num(env, c->umask);
  napi_get_global(env, &global);
  if (napi_call_function(env, global, handler, 11, argv, &result) != napi_ok) {
    // The handler threw: the exception is reported by Node; the request is answered here.
    napi_value ex;
    napi_get_and_clear_last_exception(env, &ex);
    if (c->req != NULL) fuse_reply_err(c->req, EIO);
  }
}

static void batch_forget(napi_env env, napi_value handler, ll_call *c) {
  const struct fuse_forget_data *f = (const void *)c->data;
  size_t n = c->datalen / sizeof *f;
  for (size_t i = 0; i < n; i++) {
    napi_value a[4] = {num(env, (double)f[i].nlookup), num(env, 0), num(env, 0), num(env, 0)};
    invoke(env, handler, c, OP_FORGET, (double)f[i].ino, a);
  }
}

static void one_call(napi_env env, napi_value handler, ll_call *c);

void ll_call_js(napi_env env, napi_value handler, void *context, void *data) {
  ll_call *c = data;
  if (c->op == OP_NOTES) {
    // Each note is taken (and counted) as if it had come alone, in the order it was held.
    ll_call *n = c->next;
    free(c);
    while (n != NULL) {
      ll_call *next = n->next;
      n->next = NULL;
      one_call(env, handler, n);
      n = next;
    }
    return;
  }
  one_call(env, handler, c);
}

static void one_call(napi_env env, napi_value handler, ll_call *c) {
  if (c->op != OP_EXIT) __atomic_add_fetch(&c->session->calls_seen, 1, __ATOMIC_RELEASE);
  if (env == NULL) {
    // The thread-safe function is being torn down: answer what can still be answered.
    if (c->req != NULL) fuse_reply_err(c->req, EIO);
    ll_free_call(c);
    return;
  }
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  if (c->op == OP_BATCH_FORGET) {
    batch_forget(env, handler, c);
  } else {
    napi_value a[4];
    a[0] = c->name != NULL ? bytes(env, c->name, c->namelen) : num(env, c->x1);
    a[1] = c->op == OP_SETATTR ? attr_array(env, &c->attr) : num(env, c->x2);
    if (c->name2 != NULL) {
      a[2] = bytes(env, c->name2, c->name2len);
    } else if (c->data != NULL) {
      napi_value buf;
      if (napi_create_external_buffer(env, c->datalen, c->data, free_data, NULL, &buf) == napi_ok) {
        c->data = NULL;  // the Buffer owns it now
      } else {
        buf = bytes(env, c->data, c->datalen);
      }
      a[2] = buf;
    } else {
      a[2] = num(env, c->x3);
    }
    a[3] = num(env, c->x4);
    invoke(env, handler, c, c->op, (double)c->ino, a);
  }
  napi_close_handle_scope(env, scope);
  ll_free_call(c);
}

static void *run_loop(void *p) {
  ll_session *s = p;
  fuse_session_loop(s->se);
  ll_call *c = calloc(1, sizeof *c);
  if (c != NULL) {
    c->op = OP_EXIT;
    c->session = s;
    ll_send_after_notes(s, c);  // after the notes still held
  }
  return NULL;
}

static bool string_arg(napi_env env, napi_value v, char *out, size_t cap) {
  size_t len = 0;
  return napi_get_value_string_utf8(env, v, out, cap, &len) == napi_ok && len + 1 < cap;
}

static void free_session(ll_session *s) {
  if (s->se != NULL) fuse_session_destroy(s->se);
  pthread_mutex_destroy(&s->lock);
  pthread_mutex_destroy(&s->ids_lock);
  pthread_cond_destroy(&s->wake);
  ll_notes_free(s);
  ll_nodes_free(s);
  free(s);
}

// mount(mountpoint, options, handler): options is the -o string ("fsname=…,allow_other").
static napi_value mount(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  static char mountpoint[4096], options[4096];
  if (argc < 3 || !string_arg(env, argv[0], mountpoint, sizeof mountpoint) ||
      !string_arg(env, argv[1], options, sizeof options)) {
    return ll_throw(env, "mount(mountpoint, options, handler) wants two strings and a function");
  }
  ll_session *s = calloc(1, sizeof *s);
  if (s == NULL) return ll_throw(env, "out of memory");
  pthread_mutex_init(&s->lock, NULL);
  pthread_mutex_init(&s->ids_lock, NULL);
  pthread_cond_init(&s->wake, NULL);
  ll_notes_init(s);
  ll_nodes_init(s);
  char *args[] = {"tether", "-o", options, NULL};
  struct fuse_args fa = FUSE_ARGS_INIT(options[0] != 0 ? 3 : 1, args);
  s->se = fuse_session_new(&fa, &ll_ops, sizeof ll_ops, s);
  if (s->se == NULL) {
    free_session(s);
    return ll_throw(env, "fuse_session_new refused the options");
  }
  if (fuse_session_mount(s->se, mountpoint) != 0) {
    free_session(s);
    return ll_throw(env, "fuse_session_mount failed (is /dev/fuse there, and the mount point a directory?)");
  }
  napi_value name;
  napi_create_string_utf8(env, "tether-fuse", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[2], NULL, name, 0, 1, NULL, NULL, s, ll_call_js,
                                      &s->tsfn) != napi_ok) {
    fuse_session_unmount(s->se);
    free_session(s);
    return ll_throw(env, "cannot create the request queue");
  }
  ll_notifier_start(s);
  ll_noter_start(s);
  if (pthread_create(&s->loop, NULL, run_loop, s) != 0) {
    ll_noter_stop(s);
    ll_notifier_stop(s);
    fuse_session_unmount(s->se);
    napi_release_threadsafe_function(s->tsfn, napi_tsfn_abort);
    free_session(s);
    return ll_throw(env, "cannot start the session thread");
  }
  s->loop_started = true;
  napi_value out;
  napi_create_external(env, s, NULL, NULL, &out);
  return out;
}

// destroy(session): after the exit call (the kernel ended the session) and once every request
// has been answered; joins the threads and frees the session.
static napi_value destroy(napi_env env, napi_callback_info info) {
  ll_session *s = ll_session_only(env, info);
  if (s == NULL) return ll_throw(env, "destroy(session) wants a session");
  if (s->loop_started) pthread_join(s->loop, NULL);
  ll_noter_stop(s);
  ll_notifier_stop(s);
  fuse_session_unmount(s->se);
  napi_release_threadsafe_function(s->tsfn, napi_tsfn_release);
  free_session(s);
  return ll_undefined(env);
}

// kernelCounts(session): requests by kind (indexed as OP) as the kernel sent them, those the
// session thread answered itself among them.
static napi_value kernel_counts(napi_env env, napi_callback_info info) {
  ll_session *s = ll_session_only(env, info);
  if (s == NULL) return ll_throw(env, "kernelCounts(session)");
  size_t n = sizeof s->seen / sizeof s->seen[0];
  napi_value ab, out;
  void *raw;
  napi_create_arraybuffer(env, n * sizeof(double), &raw, &ab);
  for (size_t i = 0; i < n; i++) {
    ((double *)raw)[i] = (double)__atomic_load_n(&s->seen[i], __ATOMIC_RELAXED);
  }
  napi_create_typedarray(env, napi_float64_array, n, ab, 0, &out);
  return out;
}

static void define(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);
  napi_set_named_property(env, exports, name, f);
}

static napi_value init(napi_env env, napi_value exports) {
  define(env, exports, "mount", mount);
  define(env, exports, "destroy", destroy);
  define(env, exports, "notifyInvalInode", ll_notify_inval_inode);
  define(env, exports, "notifyInvalEntry", ll_notify_inval_entry);
  define(env, exports, "setDirect", ll_set_direct);
  define(env, exports, "setOwners", ll_set_owners);
  define(env, exports, "takeWritten", ll_take_written);
  define(env, exports, "listAttrs", ll_list_attrs);
  define(env, exports, "setNodeFd", ll_set_node_fd);
  define(env, exports, "setDirEnd", ll_set_dir_end);
  define(env, exports, "setTimes", ll_set_times);
  define(env, exports, "setCreates", ll_set_creates);
  define(env, exports, "giveNodeIds", ll_give_node_ids);
  define(env, exports, "createdSent", ll_created_sent);
  define(env, exports, "callsCounted", ll_calls_counted);
  define(env, exports, "kernelCounts", kernel_counts);
  ll_define_replies(env, exports);
  napi_value abi;
  napi_create_int32(env, LL_ABI, &abi);
  napi_set_named_property(env, exports, "abi", abi);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
