/*
 * ratelimit.c - the limiter of ratelimit.h: the GCRA step, exact in
 * nanoseconds, and the rl_* operations that charge, inspect, reset,
 * save and restore an account's counters.  The table they live in (its
 * layout, growth and eviction) is rltable.h and rltable.c.
 */
#include "ratelimit.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "rltable.h"

const char *const rl_kind_names[RL_NKINDS] = {
	"messages", "recipients", "bytes", "hits",
};

void
rl_limit_set(struct rl_limit *l, const struct pc_rate *r)
{
	memset(l, 0, sizeof(*l));
	if (r == NULL || r->count == 0 || r->seconds == 0)
		return;
	l->count = r->count;
	l->window_ns = r->seconds * RL_NS;	/* <= PC_DURATION_MAX s: fits */
	l->t_int = l->window_ns / l->count;
	l->t_rem = l->window_ns % l->count;
}

uint64_t
rl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * RL_NS + (uint64_t)ts.tv_nsec;
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/*
 * The GCRA step for one counter (see ratelimit.h): whether a charge of
 * cost passes, and in *next the counter as it would be after it.
 */
static int
gcra(struct rl_ctr s, const struct rl_limit *l, uint64_t cost, uint64_t now,
    struct rl_ctr *next, uint64_t *retry_ns)
{
	uint64_t tat = s.tat, frac = s.frac, inc, incf, debt;
	int ok;

	if (frac >= l->count)
		frac = 0;	/* the limit changed on reload */
	if (tat < now) {
		tat = now;
		frac = 0;
	}
	if (cost == 1) {
		inc = l->t_int;
		incf = l->t_rem;
	} else {
		unsigned __int128 p = (unsigned __int128)cost * l->window_ns;
		unsigned __int128 q = p / l->count;

		inc = q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
		incf = (uint64_t)(p % l->count);
	}
	frac += incf;		/* both < N <= 10^12: no overflow */
	if (frac >= l->count) {
		frac -= l->count;
		inc = sat_add(inc, 1);
	}
	tat = sat_add(tat, inc);
	debt = tat - now;
	/* A saturated TAT is a debt beyond any clock: it never passes. */
	ok = tat != UINT64_MAX && (debt < l->window_ns ||
	    (debt == l->window_ns && frac == 0));
	if (!ok && retry_ns != NULL)
		*retry_ns = debt - l->window_ns + (frac != 0);
	next->tat = tat;
	next->frac = frac;
	return ok;
}

int
rl_charge(struct rl_table *t, const char *account, enum rl_kind kind,
    const struct rl_limit *lim, uint64_t cost, uint64_t now,
    enum rl_mode mode, uint64_t *retry_ns, unsigned *flags)
{
	struct rl_key k;
	struct rl_shard *sh;
	struct rl_entry *e;
	struct rl_ctr next;
	int ok = 1;

	if (retry_ns != NULL)
		*retry_ns = 0;
	/* No limit and no flags wanted: nothing to look up (a kind not set). */
	if (lim->count == 0 && flags == NULL)
		return 1;
	sh = lock_key(t, account, &k);
	if (lim->count == 0 || mode == RL_CHECK) {
		/* Nothing to record: do not create an entry for it. */
		e = lookup(sh, &k);
		if (flags != NULL)
			*flags = e != NULL ? e->flags : 0;
		if (lim->count != 0) {
			struct rl_ctr zero = { 0, 0 };

			ok = gcra(e != NULL ? ctr_get(e, kind) : zero, lim, cost,
			    now, &next, retry_ns);
		}
	} else {
		e = rlt_get(t, sh, &k, now);
		ok = gcra(ctr_get(e, kind), lim, cost, now, &next, retry_ns);
		if (ok || mode == RL_FORCE)
			ctr_put(e, kind, next);
		if (flags != NULL)
			*flags = e->flags;
	}
	pthread_mutex_unlock(&sh->lock);
	return ok;
}

unsigned
rl_flags(struct rl_table *t, const char *account)
{
	struct rl_key k;
	struct rl_shard *sh;
	struct rl_entry *e;
	unsigned f;

	sh = lock_key(t, account, &k);
	e = lookup(sh, &k);
	f = e != NULL ? e->flags : 0;
	pthread_mutex_unlock(&sh->lock);
	return f;
}

void
rl_set_suspended(struct rl_table *t, const char *account, int on)
{
	struct rl_key k;
	struct rl_shard *sh;
	struct rl_entry *e;

	sh = lock_key(t, account, &k);
	if (on) {
		e = rlt_get(t, sh, &k, rl_now());
		e->flags |= RL_F_SUSPENDED;
	} else if ((e = lookup(sh, &k)) != NULL) {
		e->flags &= (uint8_t)~RL_F_SUSPENDED;
	}
	pthread_mutex_unlock(&sh->lock);
}

int
rl_usage(struct rl_table *t, const char *account, enum rl_kind kind,
    const struct rl_limit *lim, uint64_t now, struct rl_usage *u)
{
	struct rl_key k;
	struct rl_shard *sh;
	struct rl_entry *e;
	struct rl_ctr s = { 0, 0 };

	sh = lock_key(t, account, &k);
	e = lookup(sh, &k);
	if (e != NULL)
		s = ctr_get(e, kind);
	pthread_mutex_unlock(&sh->lock);
	memset(u, 0, sizeof(*u));
	if (e == NULL)
		return 0;
	if (!refilled(s, now)) {
		u->refill_ns = s.tat - now + (s.frac != 0);
		if (lim->count != 0) {
			/* (owed ns) * N / W, rounded up: the units in use. */
			unsigned __int128 n = (unsigned __int128)(s.tat - now) *
			    lim->count + (s.frac < lim->count ? s.frac : 0);
			unsigned __int128 q = (n + lim->window_ns - 1) /
			    lim->window_ns;

			u->used = q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
		}
	}
	return 1;
}

int
rl_reset(struct rl_table *t, const char *account)
{
	struct rl_key k;
	struct rl_shard *sh;
	struct rl_entry *e;
	int found;
	size_t i;

	sh = lock_key(t, account, &k);
	i = probe(sh, &k, &found);
	if (found) {
		e = &sh->slot[i];
		if (e->flags == 0) {
			rlt_erase(t, sh, i);
		} else {
			memset(e->tat, 0, sizeof(e->tat));
			memset(e->frac_lo, 0, sizeof(e->frac_lo));
			memset(e->frac_hi, 0, sizeof(e->frac_hi));
			if (e->ext != NULL)
				memset(e->ext->ctr, 0, sizeof(e->ext->ctr));
		}
	}
	pthread_mutex_unlock(&sh->lock);
	return found;
}

void
rl_foreach(struct rl_table *t, uint64_t now, rl_visit_fn fn, void *arg)
{
	size_t i, j;
	int k;

	for (i = 0; i < RL_SHARDS; i++) {
		struct rl_shard *sh = &t->shard[i];

		pthread_mutex_lock(&sh->lock);
		for (j = 0; j < sh->nslot; j++) {
			const struct rl_entry *e = &sh->slot[j];
			uint64_t owed[RL_NKINDS], frac[RL_NKINDS];
			char name[RL_INLINE + 1];
			const char *s;
			size_t len;

			if (sh->ctrl[j] == 0 || idle(e, now))
				continue;
			for (k = 0; k < RL_NKINDS; k++) {
				struct rl_ctr c = ctr_get(e, (enum rl_kind)k);
				int live = c.tat > now;

				owed[k] = live ? c.tat - now : 0;
				frac[k] = live ? c.frac : 0;
			}
			s = entry_name(e, &len);
			if (e->len != RL_LONG) {
				memcpy(name, s, len);
				name[len] = '\0';
				s = name;
			}
			fn(s, e->flags, owed, frac, arg);
		}
		pthread_mutex_unlock(&sh->lock);
	}
}

void
rl_restore(struct rl_table *t, const char *account, enum rl_kind kind,
    uint64_t owed_ns, uint64_t frac, uint64_t now)
{
	struct rl_key k;
	struct rl_shard *sh;
	struct rl_entry *e;
	struct rl_ctr c;

	if (owed_ns == 0)
		return;
	sh = lock_key(t, account, &k);
	e = rlt_get(t, sh, &k, now);
	c.tat = sat_add(now, owed_ns);
	c.frac = frac;
	ctr_put(e, kind, c);
	pthread_mutex_unlock(&sh->lock);
}
