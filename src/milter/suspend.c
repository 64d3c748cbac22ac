/*
 * suspend.c - suspended accounts and the addresses accounts log in from.
 *
 * The hot path asks "is this account suspended?" through the limiter's
 * per-account flag (one shard lock, taken anyway for the message check),
 * or with RateLimitBackend redis in the same script call that checks the
 * message limit.  The details (reason, since) are needed only by
 * portcullisctl and StateFile, so they sit in a small list behind one
 * mutex; with redis that list is the local mirror (see suspend.h).
 *
 * DistinctAddressLimit keeps, per account, at most limit + 1 recent
 * addresses with the time each was last seen, in a sharded table of its
 * own; it is consulted only when the key is set.  With redis the shared
 * count comes from rlstore.c and this table is the fallback.
 */
#include "suspend.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rlconf.h"
#include "log.h"
#include "mconf.h"
#include "metrics.h"
#include "notify.h"
#include "ratelimit.h"
#include "rlredis.h"
#include "util.h"

#define REASON_MAX 256

struct susp {
	char *account;
	char reason[REASON_MAX];
	time_t since;
	int unshared;	/* made while Redis failed: not in Redis yet */
};

static pthread_mutex_t susp_lock = PTHREAD_MUTEX_INITIALIZER;
static struct susp *susp;
static size_t nsusp;
static struct rl_table *table;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static size_t table_max = 1000000;

static void
make_table(void)
{
	table = rl_table_new(table_max);
}

void
suspend_init(size_t max_accounts)
{
	if (max_accounts != 0)
		table_max = max_accounts;
	pthread_once(&table_once, make_table);
}

struct rl_table *
suspend_table(void)
{
	suspend_init(0);
	return table;
}

/* The live configuration's Redis, or NULL; *c to release after. */
static const struct rlredis_target *
live_redis(struct mconf **c)
{
	*c = mconf_acquire();
	return *c != NULL && (*c)->rl != NULL ? (*c)->rl->redis : NULL;
}

static ssize_t
find_susp(const char *account)
{
	size_t i;

	for (i = 0; i < nsusp; i++)
		if (strcasecmp(susp[i].account, account) == 0)
			return (ssize_t)i;
	return -1;
}

/* Adds to this process's list and flags the limiter; 1 when new. */
static int
local_add(const char *account, const char *reason, time_t since)
{
	int fresh = 0;

	pthread_mutex_lock(&susp_lock);
	if (find_susp(account) < 0) {
		susp = xrealloc(susp, (nsusp + 1) * sizeof(*susp));
		susp[nsusp].account = xstrdup(account);
		pc_str_lower(susp[nsusp].account);
		pc_strlcpy(susp[nsusp].reason, reason != NULL ? reason : "",
		    sizeof(susp[nsusp].reason));
		susp[nsusp].since = since;
		susp[nsusp].unshared = 0;
		nsusp++;
		fresh = 1;
	}
	pthread_mutex_unlock(&susp_lock);
	rl_set_suspended(suspend_table(), account, 1);
	return fresh;
}

/* Removes from this process's list and flag; 1 when it was there. */
static int
local_remove(const char *account)
{
	ssize_t i;
	int had;

	pthread_mutex_lock(&susp_lock);
	if ((had = (i = find_susp(account)) >= 0)) {
		free(susp[i].account);
		susp[i] = susp[--nsusp];
	}
	pthread_mutex_unlock(&susp_lock);
	if (rl_flags(suspend_table(), account) & RL_F_SUSPENDED)
		had = 1;
	rl_set_suspended(suspend_table(), account, 0);
	return had;
}

static int
local_is(const char *account)
{
	return (rl_flags(suspend_table(), account) & RL_F_SUSPENDED) != 0;
}

/*
 * A suspension this node made while Redis failed is not in Redis: Redis's
 * "not suspended" must not lift it.  It is written there now instead
 * (1: it holds; 0: there is none).
 */
static int
share_unshared(const struct rlredis_target *t, const char *account)
{
	char reason[REASON_MAX], err[512];
	time_t since = 0;
	ssize_t i;
	int shared;

	pthread_mutex_lock(&susp_lock);
	if ((i = find_susp(account)) < 0 || !susp[i].unshared) {
		pthread_mutex_unlock(&susp_lock);
		return 0;
	}
	pc_strlcpy(reason, susp[i].reason, sizeof(reason));
	since = susp[i].since;
	pthread_mutex_unlock(&susp_lock);
	if (t != NULL && rlredis_suspend(t, account, reason, since, &shared,
	    err, sizeof(err)) == 0) {
		pthread_mutex_lock(&susp_lock);
		if ((i = find_susp(account)) >= 0)
			susp[i].unshared = 0;
		pthread_mutex_unlock(&susp_lock);
		pc_log_warn("suspension of %s, made while Redis could not be "
		    "reached, is now shared", account);
	}
	return 1;
}

int
suspend_mirror(const struct rlredis_target *t, const char *account, int on,
    const char *reason, time_t since)
{
	if (!on && share_unshared(t, account))
		return 1;
	if (on == local_is(account))
		return on;
	if (on)
		local_add(account, reason, since);
	else
		local_remove(account);
	return on;
}

int
suspend_is(const char *account)
{
	struct mconf *c;
	const struct rlredis_target *t = live_redis(&c);
	char reason[REASON_MAX], err[512];
	time_t since = 0;
	int yes;

	if (t != NULL && rlredis_suspended(t, account, &yes, reason,
	    sizeof(reason), &since, err, sizeof(err)) == 0) {
		yes = suspend_mirror(t, account, yes, reason, since);
		mconf_release(c);
		return yes;
	}
	mconf_release(c);
	return local_is(account);
}

int
suspend_account(const struct mconf *c, const char *account,
    const char *reason, time_t since)
{
	const struct rlredis_target *t = c != NULL && c->rl != NULL ?
	    c->rl->redis : NULL;
	char err[512];
	int fresh = local_add(account, reason, since), shared;

	/* Redis says whether it is new cluster-wide: one node notifies. */
	if (t != NULL && rlredis_suspend(t, account, reason, since, &shared,
	    err, sizeof(err)) == 0) {
		fresh = shared;
	} else if (t != NULL) {
		ssize_t i;

		pthread_mutex_lock(&susp_lock);
		if ((i = find_susp(account)) >= 0)
			susp[i].unshared = 1;	/* see share_unshared() */
		pthread_mutex_unlock(&susp_lock);
	}
	if (fresh) {
		metrics_suspension();
		if (c != NULL && c->rl != NULL)
			notify_run(c->rl->notify, "suspend", account, reason, NULL);
	}
	return fresh;
}

void
suspend_restore(const char *account, const char *reason, time_t since)
{
	local_add(account, reason, since);
}

int
suspend_resume(const char *account)
{
	struct mconf *c;
	const struct rlredis_target *t = live_redis(&c);
	char err[512];
	int had = local_remove(account), shared;

	if (t != NULL && rlredis_resume(t, account, &shared, err,
	    sizeof(err)) == 0)
		had = shared;
	mconf_release(c);
	return had;
}

int
suspend_info(const char *account, char *reason, size_t rlen, time_t *since)
{
	struct mconf *c;
	const struct rlredis_target *t = live_redis(&c);
	char err[512];
	ssize_t i;
	int yes;

	if (t != NULL && rlredis_suspended(t, account, &yes, reason, rlen,
	    since, err, sizeof(err)) == 0 &&
	    suspend_mirror(t, account, yes, reason, *since) == yes) {
		mconf_release(c);
		return yes;
	}
	mconf_release(c);
	pthread_mutex_lock(&susp_lock);
	if ((i = find_susp(account)) >= 0) {
		pc_strlcpy(reason, susp[i].reason, rlen);
		*since = susp[i].since;
	}
	pthread_mutex_unlock(&susp_lock);
	return i >= 0;
}

void
suspend_foreach(void (*fn)(const char *, const char *, time_t, void *),
    void *arg)
{
	size_t i;

	pthread_mutex_lock(&susp_lock);
	for (i = 0; i < nsusp; i++)
		fn(susp[i].account, susp[i].reason, susp[i].since, arg);
	pthread_mutex_unlock(&susp_lock);
}

size_t
suspend_count(void)
{
	struct mconf *c;
	const struct rlredis_target *t = live_redis(&c);
	char err[512];
	size_t n;

	if (t != NULL && rlredis_suspended_count(t, &n, err, sizeof(err)) == 0) {
		mconf_release(c);
		return n;
	}
	mconf_release(c);
	pthread_mutex_lock(&susp_lock);
	n = nsusp;
	pthread_mutex_unlock(&susp_lock);
	return n;
}

/* ---- DistinctAddressLimit ---------------------------------------- */

#define DA_SHARDS 64
#define DA_SHARD_MAX 65536

struct da_seen {
	struct pc_addr addr;
	uint64_t at;
};

struct da_entry {
	struct da_entry *next;
	char *account;
	unsigned n, cap;
	struct da_seen seen[];	/* cap of them */
};

static struct {
	pthread_mutex_t lock;
	struct da_entry *head;
	size_t count;
} da[DA_SHARDS];
static pthread_once_t da_once = PTHREAD_ONCE_INIT;

static void
da_init(void)
{
	size_t i;

	for (i = 0; i < DA_SHARDS; i++)
		pthread_mutex_init(&da[i].lock, NULL);
}

static unsigned
da_shard(const char *s)
{
	unsigned h = 5381;

	for (; *s != '\0'; s++)
		h = h * 33 + (unsigned)(unsigned char)(*s | 0x20);
	return h % DA_SHARDS;
}

/* Drops addresses older than the window; entries left empty go too. */
static void
da_expire(size_t sh, uint64_t window_ns, uint64_t now)
{
	struct da_entry **pp = &da[sh].head;

	while (*pp != NULL) {
		struct da_entry *e = *pp;
		unsigned i, j;

		for (i = j = 0; i < e->n; i++)
			if (now - e->seen[i].at <= window_ns)
				e->seen[j++] = e->seen[i];
		e->n = j;
		if (e->n == 0) {
			*pp = e->next;
			free(e->account);
			free(e);
			da[sh].count--;
		} else {
			pp = &e->next;
		}
	}
}

unsigned
suspend_seen_from(const char *account, const struct pc_addr *addr,
    uint64_t window_ns, unsigned limit, uint64_t now)
{
	size_t sh = da_shard(account);
	unsigned cap = limit + 1, i, n, oldest = 0;
	struct da_entry *e;

	pthread_once(&da_once, da_init);
	pthread_mutex_lock(&da[sh].lock);
	for (e = da[sh].head; e != NULL; e = e->next)
		if (strcasecmp(e->account, account) == 0)
			break;
	if (e == NULL) {
		if (da[sh].count >= DA_SHARD_MAX)
			da_expire(sh, window_ns, now);
		e = xcalloc(1, sizeof(*e) + cap * sizeof(e->seen[0]));
		e->account = xstrdup(account);
		e->cap = cap;
		e->next = da[sh].head;
		da[sh].head = e;
		da[sh].count++;
	} else if (e->cap < cap) {
		/* The limit grew on reload; only the head's links point here. */
		struct da_entry **pp = &da[sh].head;

		while (*pp != e)
			pp = &(*pp)->next;
		e = xrealloc(e, sizeof(*e) + cap * sizeof(e->seen[0]));
		e->cap = cap;
		*pp = e;
	}
	/* Forget addresses that left the window; refresh or add this one. */
	for (i = n = 0; i < e->n && n < cap; i++)
		if (now >= e->seen[i].at && now - e->seen[i].at <= window_ns)
			e->seen[n++] = e->seen[i];
	e->n = n;
	for (i = 0; i < e->n; i++)
		if (pc_addr_cmp(&e->seen[i].addr, addr) == 0)
			break;
	if (i == e->n) {
		if (e->n == cap) {
			for (i = 1; i < e->n; i++)
				if (e->seen[i].at < e->seen[oldest].at)
					oldest = i;
			i = oldest;
		} else {
			e->n++;
		}
		e->seen[i].addr = *addr;
	}
	e->seen[i].at = now;
	n = e->n;
	pthread_mutex_unlock(&da[sh].lock);
	return n;
}

void
suspend_forget_addresses(const char *account)
{
	size_t sh = da_shard(account);
	struct da_entry **pp;

	pthread_once(&da_once, da_init);
	pthread_mutex_lock(&da[sh].lock);
	for (pp = &da[sh].head; *pp != NULL; pp = &(*pp)->next)
		if (strcasecmp((*pp)->account, account) == 0) {
			struct da_entry *e = *pp;

			*pp = e->next;
			free(e->account);
			free(e);
			da[sh].count--;
			break;
		}
	pthread_mutex_unlock(&da[sh].lock);
}
