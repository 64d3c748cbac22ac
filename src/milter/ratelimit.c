/*
 * ratelimit.c - GCRA counters per account in a sharded hash table.
 *
 * Layout, chosen for a threaded milter with a million accounts: 256
 * shards, each a chained hash table behind its own mutex, so two
 * worker threads only meet when their accounts hash to the same shard;
 * there is no global lock.  An entry holds the account's name and one
 * 16-byte counter per kind, in one allocation (about 100 bytes per
 * account with the bucket pointer).
 *
 * Memory is bounded per shard: when a shard reaches its share of the
 * bound, an insert first sweeps the shard and drops the entries whose
 * every counter is fully refilled (an idle entry carries no information:
 * a new one starts the same way).  Entries that still owe something, or
 * are suspended, are never dropped; when those alone fill a shard it
 * grows past the bound, and the next sweep waits until it has grown by a
 * quarter, so a shard of busy accounts does not sweep on every insert.
 */
#include "ratelimit.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util.h"

#define RL_SHARDS 256
#define RL_MIN_BUCKETS 16
#define RL_NAME_MAX 1024

const char *const rl_kind_names[RL_NKINDS] = {
	"messages", "recipients", "bytes", "hits",
};

struct rl_slot {
	uint64_t tat;		/* theoretical arrival time, ns */
	uint64_t frac;		/* remainder of TAT, in 1/N ns; < N */
};

struct rl_entry {
	struct rl_entry *next;
	uint32_t hash;
	uint16_t len;
	uint8_t flags;
	struct rl_slot slot[RL_NKINDS];
	char name[];
};

struct rl_shard {
	pthread_mutex_t lock;
	struct rl_entry **bucket;
	size_t nbucket;		/* a power of two */
	size_t count;
	size_t sweep_at;	/* sweep when count reaches this */
	uint64_t evictions;
} __attribute__((aligned(64)));

struct rl_table {
	struct rl_shard shard[RL_SHARDS];
	size_t cap;		/* per shard */
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

/* FNV-1a over the lowercased name; *len gets its length. */
static uint64_t
name_hash(const char *s, size_t *len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		/* ASCII only, like the comparison: no locale on the hot path. */
		h ^= c >= 'A' && c <= 'Z' ? c + 32u : c;
		h *= 0x100000001b3ULL;
	}
	*len = i;
	return h ^ (h >> 29);
}

struct rl_table *
rl_table_new(size_t max_accounts)
{
	struct rl_table *t;
	size_t i;

	if (posix_memalign((void **)&t, 64, sizeof(*t)) != 0)
		t = NULL;
	if (t == NULL)
		t = xmalloc(sizeof(*t));	/* exits */
	memset(t, 0, sizeof(*t));
	t->cap = max_accounts / RL_SHARDS;
	if (t->cap < RL_MIN_BUCKETS)
		t->cap = RL_MIN_BUCKETS;
	for (i = 0; i < RL_SHARDS; i++) {
		struct rl_shard *sh = &t->shard[i];

		pthread_mutex_init(&sh->lock, NULL);
		sh->nbucket = RL_MIN_BUCKETS;
		sh->bucket = xcalloc(sh->nbucket, sizeof(*sh->bucket));
		sh->sweep_at = t->cap;
	}
	return t;
}

void
rl_table_free(struct rl_table *t)
{
	size_t i, b;

	if (t == NULL)
		return;
	for (i = 0; i < RL_SHARDS; i++) {
		struct rl_shard *sh = &t->shard[i];

		for (b = 0; b < sh->nbucket; b++) {
			struct rl_entry *e = sh->bucket[b], *n;

			for (; e != NULL; e = n) {
				n = e->next;
				free(e);
			}
		}
		free(sh->bucket);
		pthread_mutex_destroy(&sh->lock);
	}
	free(t);
}

static struct rl_shard *
shard_of(struct rl_table *t, uint64_t h)
{
	return &t->shard[h >> 56];
}

static struct rl_entry **
find(struct rl_shard *sh, uint64_t h, const char *name, size_t len)
{
	struct rl_entry **pp = &sh->bucket[h & (sh->nbucket - 1)];

	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->hash == (uint32_t)h && (*pp)->len == len &&
		    (memcmp((*pp)->name, name, len) == 0 ||
		    strncasecmp((*pp)->name, name, len) == 0))
			return pp;
	return pp;
}

static int
idle(const struct rl_entry *e, uint64_t now)
{
	size_t k;

	if (e->flags != 0)
		return 0;
	for (k = 0; k < RL_NKINDS; k++)
		if (e->slot[k].tat > now ||
		    (e->slot[k].tat == now && e->slot[k].frac != 0))
			return 0;
	return 1;
}

static void
sweep(struct rl_table *t, struct rl_shard *sh, uint64_t now)
{
	size_t b;

	for (b = 0; b < sh->nbucket; b++) {
		struct rl_entry **pp = &sh->bucket[b];

		while (*pp != NULL) {
			struct rl_entry *e = *pp;

			if (idle(e, now)) {
				*pp = e->next;
				free(e);
				sh->count--;
				sh->evictions++;
			} else {
				pp = &e->next;
			}
		}
	}
	sh->sweep_at = sh->count < t->cap ? t->cap :
	    sh->count + sh->count / 4 + 1;
}

static void
grow(struct rl_shard *sh)
{
	size_t n = sh->nbucket * 2, b;
	struct rl_entry **nb = xcalloc(n, sizeof(*nb));

	for (b = 0; b < sh->nbucket; b++) {
		struct rl_entry *e = sh->bucket[b], *next;

		for (; e != NULL; e = next) {
			/* The low bits of the stored hash are the full hash's. */
			size_t i = e->hash & (n - 1);

			next = e->next;
			e->next = nb[i];
			nb[i] = e;
		}
	}
	free(sh->bucket);
	sh->bucket = nb;
	sh->nbucket = n;
}

/* The entry for name, created when absent.  Shard locked. */
static struct rl_entry *
get(struct rl_table *t, struct rl_shard *sh, uint64_t h, const char *name,
    size_t len, uint64_t now)
{
	struct rl_entry **pp = find(sh, h, name, len), *e;
	size_t i;

	if (*pp != NULL)
		return *pp;
	if (sh->count >= sh->sweep_at) {
		sweep(t, sh, now);
		pp = find(sh, h, name, len);
	}
	if (sh->count >= sh->nbucket && sh->nbucket < ((size_t)1 << 30)) {
		grow(sh);
		pp = find(sh, h, name, len);
	}
	e = xmalloc(sizeof(*e) + len + 1);
	memset(e, 0, sizeof(*e));
	e->hash = (uint32_t)h;
	e->len = (uint16_t)len;
	for (i = 0; i < len; i++)
		e->name[i] = (char)tolower((unsigned char)name[i]);
	e->name[len] = '\0';
	*pp = e;
	sh->count++;
	return e;
}

/* The GCRA step for one counter; see ratelimit.h. */
static int
gcra(struct rl_slot *s, const struct rl_limit *l, uint64_t cost, uint64_t now,
    enum rl_mode mode, uint64_t *retry_ns)
{
	uint64_t tat = s->tat, frac = s->frac, inc, incf, debt;
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
	if (ok ? mode != RL_CHECK : mode == RL_FORCE) {
		s->tat = tat;
		s->frac = frac;
	}
	return ok;
}

int
rl_charge(struct rl_table *t, const char *account, enum rl_kind kind,
    const struct rl_limit *lim, uint64_t cost, uint64_t now,
    enum rl_mode mode, uint64_t *retry_ns, unsigned *flags)
{
	size_t len;
	uint64_t h = name_hash(account, &len);
	struct rl_shard *sh = shard_of(t, h);
	struct rl_entry *e;
	int ok = 1;

	if (len > RL_NAME_MAX)
		len = RL_NAME_MAX;
	if (retry_ns != NULL)
		*retry_ns = 0;
	/* No limit and no flags wanted: nothing to look up (a kind not set). */
	if (lim->count == 0 && flags == NULL)
		return 1;
	pthread_mutex_lock(&sh->lock);
	if (lim->count == 0 || mode == RL_CHECK) {
		/* Nothing to record: do not create an entry for it. */
		struct rl_entry **pp = find(sh, h, account, len);

		e = *pp;
		if (flags != NULL)
			*flags = e != NULL ? e->flags : 0;
		if (lim->count != 0) {
			struct rl_slot zero = { 0, 0 };

			ok = gcra(e != NULL ? &e->slot[kind] : &zero, lim,
			    cost, now, RL_CHECK, retry_ns);
		}
	} else {
		e = get(t, sh, h, account, len, now);
		ok = gcra(&e->slot[kind], lim, cost, now, mode, retry_ns);
		if (flags != NULL)
			*flags = e->flags;
	}
	pthread_mutex_unlock(&sh->lock);
	return ok;
}

unsigned
rl_flags(struct rl_table *t, const char *account)
{
	size_t len;
	uint64_t h = name_hash(account, &len);
	struct rl_shard *sh = shard_of(t, h);
	struct rl_entry *e;
	unsigned f;

	pthread_mutex_lock(&sh->lock);
	e = *find(sh, h, account, len);
	f = e != NULL ? e->flags : 0;
	pthread_mutex_unlock(&sh->lock);
	return f;
}

void
rl_set_suspended(struct rl_table *t, const char *account, int on)
{
	size_t len;
	uint64_t h = name_hash(account, &len);
	struct rl_shard *sh = shard_of(t, h);
	struct rl_entry *e;

	pthread_mutex_lock(&sh->lock);
	if (on) {
		e = get(t, sh, h, account, len, rl_now());
		e->flags |= RL_F_SUSPENDED;
	} else if ((e = *find(sh, h, account, len)) != NULL) {
		e->flags &= (uint8_t)~RL_F_SUSPENDED;
	}
	pthread_mutex_unlock(&sh->lock);
}

int
rl_usage(struct rl_table *t, const char *account, enum rl_kind kind,
    const struct rl_limit *lim, uint64_t now, struct rl_usage *u)
{
	size_t len;
	uint64_t h = name_hash(account, &len);
	struct rl_shard *sh = shard_of(t, h);
	struct rl_entry *e;
	struct rl_slot s = { 0, 0 };

	pthread_mutex_lock(&sh->lock);
	e = *find(sh, h, account, len);
	if (e != NULL)
		s = e->slot[kind];
	pthread_mutex_unlock(&sh->lock);
	memset(u, 0, sizeof(*u));
	if (e == NULL)
		return 0;
	if (s.tat > now || (s.tat == now && s.frac != 0)) {
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
	size_t len;
	uint64_t h = name_hash(account, &len);
	struct rl_shard *sh = shard_of(t, h);
	struct rl_entry **pp, *e;
	int had = 0;

	pthread_mutex_lock(&sh->lock);
	pp = find(sh, h, account, len);
	if ((e = *pp) != NULL) {
		had = 1;
		if (e->flags != 0) {
			memset(e->slot, 0, sizeof(e->slot));
		} else {
			*pp = e->next;
			free(e);
			sh->count--;
		}
	}
	pthread_mutex_unlock(&sh->lock);
	return had;
}

size_t
rl_count(struct rl_table *t)
{
	size_t i, n = 0;

	for (i = 0; i < RL_SHARDS; i++) {
		pthread_mutex_lock(&t->shard[i].lock);
		n += t->shard[i].count;
		pthread_mutex_unlock(&t->shard[i].lock);
	}
	return n;
}

uint64_t
rl_evictions(struct rl_table *t)
{
	size_t i;
	uint64_t n = 0;

	for (i = 0; i < RL_SHARDS; i++) {
		pthread_mutex_lock(&t->shard[i].lock);
		n += t->shard[i].evictions;
		pthread_mutex_unlock(&t->shard[i].lock);
	}
	return n;
}

void
rl_foreach(struct rl_table *t, uint64_t now, rl_visit_fn fn, void *arg)
{
	size_t i, b, k;

	for (i = 0; i < RL_SHARDS; i++) {
		struct rl_shard *sh = &t->shard[i];

		pthread_mutex_lock(&sh->lock);
		for (b = 0; b < sh->nbucket; b++) {
			const struct rl_entry *e;

			for (e = sh->bucket[b]; e != NULL; e = e->next) {
				uint64_t owed[RL_NKINDS], frac[RL_NKINDS];

				if (idle(e, now))
					continue;
				for (k = 0; k < RL_NKINDS; k++) {
					int live = e->slot[k].tat > now;

					owed[k] = live ? e->slot[k].tat - now : 0;
					frac[k] = live ? e->slot[k].frac : 0;
				}
				fn(e->name, e->flags, owed, frac, arg);
			}
		}
		pthread_mutex_unlock(&sh->lock);
	}
}

void
rl_restore(struct rl_table *t, const char *account, enum rl_kind kind,
    uint64_t owed_ns, uint64_t frac, uint64_t now)
{
	size_t len;
	uint64_t h = name_hash(account, &len);
	struct rl_shard *sh = shard_of(t, h);
	struct rl_entry *e;

	if (len > RL_NAME_MAX || owed_ns == 0)
		return;
	pthread_mutex_lock(&sh->lock);
	e = get(t, sh, h, account, len, now);
	e->slot[kind].tat = sat_add(now, owed_ns);
	e->slot[kind].frac = frac;
	pthread_mutex_unlock(&sh->lock);
}
