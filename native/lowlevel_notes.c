// Notes: calls that only tell JavaScript what the session thread already answered (a create it
// made, a release it answered), batched so that one wake-up of JavaScript's thread carries many
// (an untar sends two a file, and tar waits on neither). A note is counted as sent when it is
// held (callsCounted), and the held notes go to JavaScript, in order, as one call: before any
// other call (so JavaScript sees them ahead of every later request), once NOTES_MAX are held,
// or NOTES_MS after the first was (by a thread of their own, for when no request follows).
#include "lowlevel.h"

#include <stdlib.h>
#include <time.h>

// Held notes sent at once once this many are held.
#define NOTES_MAX 64
// The longest a note is held.
#define NOTES_MS 2

// Hands the held notes to JavaScript as one call (notes_lock held).
static void flush_locked(ll_session *s) {
  ll_call *first = s->notes_head;
  if (first == NULL) return;
  size_t n = s->notes_count;
  s->notes_head = s->notes_tail = NULL;
  s->notes_count = 0;
  ll_call *batch = calloc(1, sizeof *batch);
  if (batch != NULL) {
    batch->op = OP_NOTES;
    batch->session = s;
    batch->next = first;
    if (napi_call_threadsafe_function(s->tsfn, batch, napi_tsfn_blocking) == napi_ok) {
      __atomic_add_fetch(&s->seen[OP_NOTES], 1, __ATOMIC_RELAXED);
      return;
    }
    free(batch);
  }
  // Not queued: counted as taken, so nothing waits for them (their replies were sent).
  __atomic_add_fetch(&s->calls_seen, n, __ATOMIC_RELEASE);
  ll_free_notes(first);
}

void ll_free_notes(ll_call *c) {
  while (c != NULL) {
    ll_call *next = c->next;
    ll_free_call(c);
    c = next;
  }
}

void ll_send_note(ll_call *c) {
  if (c == NULL) return;
  ll_session *s = c->session;
  pthread_mutex_lock(&s->notes_lock);
  __atomic_add_fetch(&s->calls_sent, 1, __ATOMIC_RELEASE);
  if (s->notes_tail != NULL) s->notes_tail->next = c;
  else s->notes_head = c;
  s->notes_tail = c;
  if (++s->notes_count >= NOTES_MAX) flush_locked(s);
  else if (s->notes_count == 1) pthread_cond_signal(&s->notes_wake);
  pthread_mutex_unlock(&s->notes_lock);
}

void ll_send_after_notes(ll_session *s, ll_call *c) {
  pthread_mutex_lock(&s->notes_lock);
  flush_locked(s);
  if (c->op != OP_EXIT) __atomic_add_fetch(&s->calls_sent, 1, __ATOMIC_RELEASE);
  bool queued = napi_call_threadsafe_function(s->tsfn, c, napi_tsfn_blocking) == napi_ok;
  pthread_mutex_unlock(&s->notes_lock);
  if (queued) return;
  if (c->op != OP_EXIT) __atomic_add_fetch(&s->calls_seen, 1, __ATOMIC_RELEASE);
  if (c->req != NULL) fuse_reply_err(c->req, EIO);
  ll_free_call(c);
}

static void *run_noter(void *p) {
  ll_session *s = p;
  pthread_mutex_lock(&s->notes_lock);
  while (!s->notes_stopping) {
    if (s->notes_head == NULL) {
      pthread_cond_wait(&s->notes_wake, &s->notes_lock);
      continue;
    }
    // Notes held: more may join them for NOTES_MS, then they go.
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += NOTES_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    while (!s->notes_stopping && s->notes_head != NULL &&
           pthread_cond_timedwait(&s->notes_wake, &s->notes_lock, &until) == 0) {
    }
    flush_locked(s);
  }
  flush_locked(s);
  pthread_mutex_unlock(&s->notes_lock);
  return NULL;
}

void ll_notes_init(ll_session *s) {
  pthread_mutex_init(&s->notes_lock, NULL);
  pthread_cond_init(&s->notes_wake, NULL);
}

void ll_noter_start(ll_session *s) {
  s->noter_started = pthread_create(&s->noter, NULL, run_noter, s) == 0;
}

// Sends what is still held and ends the thread (before the session is freed).
void ll_noter_stop(ll_session *s) {
  if (!s->noter_started) return;
  pthread_mutex_lock(&s->notes_lock);
  s->notes_stopping = true;
  pthread_cond_signal(&s->notes_wake);
  pthread_mutex_unlock(&s->notes_lock);
  pthread_join(s->noter, NULL);
  s->noter_started = false;
}

void ll_notes_free(ll_session *s) {
  ll_free_notes(s->notes_head);
  s->notes_head = s->notes_tail = NULL;
  pthread_mutex_destroy(&s->notes_lock);
  pthread_cond_destroy(&s->notes_wake);
}
