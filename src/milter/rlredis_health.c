/*
 * rlredis_health.c - the process-wide view of each RateLimitBackend
 * redis server, kept apart from the connections (rlredis.c) that report
 * to it.  When a command fails (after one reopen of a broken connection)
 * or Redis answers an error, the server is marked down for the process
 * and retried after a back-off that doubles from 250 ms to 5 s; until
 * then nobody waits for it, and one thread at a time probes it.  The
 * outage is logged when it starts, at most once a minute while it lasts,
 * and when it ends.
 */
#include "rlredis_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define DOWN_REMIND_NS (60 * RL_NS)

/*
 * Right after a reload that changed the URL, sessions pinned to the old
 * configuration still use the old server: a few entries, least recently
 * used replaced, keep the two views apart.
 */
#define HEALTH_SLOTS 4

struct health {
	struct rlredis_target t;
	int used, down;
	uint64_t last_use, down_since, retry_at, backoff_ms, last_log;
	uint64_t fallbacks;
	char why[256];
};

static pthread_mutex_t health_lock = PTHREAD_MUTEX_INITIALIZER;
static struct health healths[HEALTH_SLOTS];

static _Thread_local int failed_here;

int
rlredis_failed(void)
{
	return failed_here;
}

void
rlredis_clear_failed(void)
{
	failed_here = 0;
}

/* The entry of t (health_lock held); *fresh: new, and not the first. */
static struct health *
health_of(const struct rlredis_target *t, uint64_t now, int *fresh)
{
	struct health *h, *lru = &healths[0];
	size_t i;

	*fresh = 0;
	for (i = 0; i < HEALTH_SLOTS; i++) {
		h = &healths[i];
		if (h->used && rlredis_same(&h->t, t)) {
			h->last_use = now;
			return h;
		}
		if (!h->used || (lru->used && h->last_use < lru->last_use))
			lru = h;
	}
	/* The first server of the process needs no news; a reload's does. */
	*fresh = healths[0].used;
	memset(lru, 0, sizeof(*lru));
	lru->t = *t;
	lru->used = 1;
	lru->last_use = now;
	return lru;
}

/* Log lines are written after the lock is released. */
struct note {
	int what;	/* 0 none, 1 new target, 2 still down */
	uint64_t secs, count;
	char why[256];
};

static void
note_log(const struct rlredis_target *t, const struct note *n)
{
	if (n->what == 1)
		pc_log_info("RateLimitBackend: using %s", t->display);
	else if (n->what == 2)
		pc_log_err("RateLimitBackend %s still unreachable after %" PRIu64
		    "s (%s); %" PRIu64 " decisions made on this node's own "
		    "limits so far", t->display, n->secs, n->why, n->count);
}

/* 0: go ahead; -1: in back-off, do not wait for the server. */
int
rlredis_gate(const struct rlredis_target *t, char *err, size_t errlen)
{
	struct note n = { 0, 0, 0, "" };
	struct health *h;
	uint64_t now = rl_now();
	int rc = 0, fresh;

	pthread_mutex_lock(&health_lock);
	h = health_of(t, now, &fresh);
	if (fresh)
		n.what = 1;
	if (h->down && now < h->retry_at) {
		h->fallbacks++;
		if (now - h->last_log >= DOWN_REMIND_NS) {
			h->last_log = now;
			n.what = 2;
			n.secs = (uint64_t)((now - h->down_since) / RL_NS);
			n.count = h->fallbacks;
			pc_strlcpy(n.why, h->why, sizeof(n.why));
		}
		pc_err(err, errlen, "%s unreachable: %s", t->display, h->why);
		rc = -1;
	} else if (h->down) {
		/* This thread probes; the others keep falling back. */
		h->retry_at = now + h->backoff_ms * 1000000ULL;
	}
	pthread_mutex_unlock(&health_lock);
	note_log(t, &n);
	if (rc < 0)
		failed_here = 1;
	return rc;
}

void
rlredis_went_ok(const struct rlredis_target *t)
{
	struct health *h;
	uint64_t now = rl_now(), secs = 0, count = 0;
	int fresh, back = 0;

	pthread_mutex_lock(&health_lock);
	h = health_of(t, now, &fresh);
	if (h->down) {
		back = 1;
		secs = (uint64_t)((now - h->down_since) / RL_NS);
		count = h->fallbacks;
		h->down = 0;
		h->backoff_ms = 0;
		h->fallbacks = 0;
	}
	pthread_mutex_unlock(&health_lock);
	if (back)
		pc_log_warn("RateLimitBackend %s answers again after %" PRIu64
		    "s; %" PRIu64 " decisions were made on this node's own "
		    "limits meanwhile; limits are shared again", t->display,
		    secs, count);
}

int
rlredis_went_bad(const struct rlredis_target *t, const char *why)
{
	struct health *h;
	uint64_t now = rl_now();
	int fresh, first = 0;

	failed_here = 1;
	pthread_mutex_lock(&health_lock);
	h = health_of(t, now, &fresh);
	if (!h->down) {
		first = 1;
		h->down = 1;
		h->down_since = h->last_log = now;
		h->backoff_ms = RLREDIS_BACKOFF_MIN_MS;
		h->fallbacks = 1;
	} else {
		h->backoff_ms *= 2;
		if (h->backoff_ms > RLREDIS_BACKOFF_MAX_MS)
			h->backoff_ms = RLREDIS_BACKOFF_MAX_MS;
	}
	pc_strlcpy(h->why, why, sizeof(h->why));
	h->retry_at = now + h->backoff_ms * 1000000ULL;
	pthread_mutex_unlock(&health_lock);
	if (first)
		pc_log_err("RateLimitBackend %s: %s; FALLING BACK to this "
		    "node's own in-process rate limits (not shared with other "
		    "nodes) until it answers again", t->display, why);
	return -1;
}
