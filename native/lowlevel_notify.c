// Cache invalidation notices (fuse_lowlevel_notify_inval_inode/_entry), queued from
// JavaScript and sent by a thread of their own: the kernel handles a notice in the writer's
// context and may first wait for a directory lock held by a request that JavaScript has yet
// to answer, so the JavaScript thread never sends one itself.
#include "lowlevel.h"

#include <stdlib.h>
#include <string.h>

struct ll_notice {
  struct ll_notice *next;
  uint64_t ino;  // the inode, or the parent of the entry
  char *name;    // NULL: an inode notice
  size_t namelen;
};

static void *run_notifier(void *p) {
  ll_session *s = p;
  pthread_mutex_lock(&s->lock);
  for (;;) {
    while (s->head == NULL && !s->stopping) pthread_cond_wait(&s->wake, &s->lock);
    ll_notice *n = s->head;
    if (n == NULL) break;  // stopping, and nothing left
    s->head = n->next;
    if (s->head == NULL) s->tail = NULL;
    pthread_mutex_unlock(&s->lock);
    // ENOENT (the kernel holds no such node or entry) and ENODEV (unmounted) are expected.
    if (n->name == NULL) {
      fuse_lowlevel_notify_inval_inode(s->se, n->ino, 0, 0);
    } else {
      fuse_lowlevel_notify_inval_entry(s->se, n->ino, n->name, n->namelen);
    }
    free(n->name);
    free(n);
    pthread_mutex_lock(&s->lock);
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

void ll_notifier_start(ll_session *s) {
  s->notifier_started = pthread_create(&s->notifier, NULL, run_notifier, s) == 0;
}

void ll_notifier_stop(ll_session *s) {
  if (!s->notifier_started) return;
  pthread_mutex_lock(&s->lock);
  s->stopping = true;
  pthread_cond_signal(&s->wake);
  pthread_mutex_unlock(&s->lock);
  pthread_join(s->notifier, NULL);
  s->notifier_started = false;
}

static napi_value enqueue(napi_env env, ll_session *s, uint64_t ino, const char *name, size_t len) {
  ll_notice *n = calloc(1, sizeof *n);
  if (n == NULL) return ll_throw(env, "out of memory");
  n->ino = ino;
  if (name != NULL) {
    n->name = malloc(len + 1);
    if (n->name == NULL) {
      free(n);
      return ll_throw(env, "out of memory");
    }
    memcpy(n->name, name, len);
    n->name[len] = 0;
    n->namelen = len;
  }
  pthread_mutex_lock(&s->lock);
  if (s->stopping) {
    pthread_mutex_unlock(&s->lock);
    free(n->name);
    free(n);
    return ll_undefined(env);
  }
  if (s->tail != NULL) s->tail->next = n;
  else s->head = n;
  s->tail = n;
  pthread_cond_signal(&s->wake);
  pthread_mutex_unlock(&s->lock);
  return ll_undefined(env);
}

// notifyInvalInode(session, ino): the node's attributes and cached content are stale.
napi_value ll_notify_inval_inode(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  double ino;
  ll_session *s = argc == 2 ? ll_session_arg(env, argv[0]) : NULL;
  if (s == NULL || !ll_get_double(env, argv[1], &ino)) {
    return ll_throw(env, "notifyInvalInode(session, ino)");
  }
  return enqueue(env, s, (uint64_t)ino, NULL, 0);
}

// notifyInvalEntry(session, parent, name): the name's entry (or its absence) is stale.
napi_value ll_notify_inval_entry(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  double parent;
  void *name = NULL;
  size_t len = 0;
  ll_session *s = argc == 3 ? ll_session_arg(env, argv[0]) : NULL;
  if (s == NULL || !ll_get_double(env, argv[1], &parent) ||
      napi_get_buffer_info(env, argv[2], &name, &len) != napi_ok) {
    return ll_throw(env, "notifyInvalEntry(session, parent, name: Buffer)");
  }
  return enqueue(env, s, (uint64_t)parent, name, len);
}
