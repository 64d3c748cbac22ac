/*
 * ratelimit.c - GCRA counters per account in a sharded open-addressing
 * table.
 *
 * Layout, chosen so that charging an account that is not in any cache
 * costs one miss to main memory: 256 shards, each behind its own mutex
 * (no global lock), each an open-addressing table with linear probing in
 * two arrays.  The control array holds one byte per slot: 0 for an empty
 * slot, else 0x80 and 7 bits of the name's hash.  It is about 1 MB for a
 * million accounts, so it mostly stays in the CPU's caches, and a probe
 * scans it rather than the entries.  The entry array holds one 64-byte
 * entry per slot, aligned to a cache line: the counters of the two kinds
 * charged on every message (messages and recipients; TAT and its 40-bit
 * remainder), the flags, and the name when it has at most 28 bytes.  A
 * longer name, and the counters of bytes and limit hits, live in a side
 * allocation that only accounts using them have.
 *
 * The hash is SipHash-1-3 under a key drawn at random per table, so a
 * sender choosing account names cannot aim them at one slot or shard.
 * Its top byte picks the shard, its low 32 bits the home slot (scaled to
 * the shard's size, which need not be a power of two), bits 32-38 the
 * tag.  Names compare exactly after ASCII lowercasing, so two names
 * with the same hash never share counters.
 *
 * A shard grows by half when it is 7/8 full.  Memory is bounded per
 * shard: when a shard reaches its share of the bound, an insert first
 * sweeps the shard and drops the entries whose every counter is fully
 * refilled (an idle entry carries no information: a new one starts the
 * same way).  Entries that still owe something, or are suspended, are
 * never dropped; when those fill a shard it grows past the bound, and
 * the next sweep waits until it has grown by a quarter, so a shard of
 * busy accounts does not sweep on every insert.
 */
#include "ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "siphash.h"
#include "util.h"

#define RL_SHARDS 256
#define RL_MIN_SLOTS 16
#define RL_NAME_MAX 1024	/* longer names count as their first 1024 bytes */
#define RL_INLINE 28		/* name bytes kept in the entry */
#define RL_LONG 0xff		/* entry len: the name is in the side part */
#define RL_HOT 2		/* kinds counted in the entry itself */
#define RL_FRAC_MAX ((1ULL << 40) - 1)	/* > PC_RATE_COUNT_MAX */

const char *const rl_kind_names[RL_NKINDS] = {
	"messages", "recipients", "bytes", "hits",
};

struct rl_ctr {
	uint64_t tat;		/* theoretical arrival time, ns */
	uint64_t frac;		/* remainder of TAT, in 1/N ns; < N */
};

/* What only some accounts need: the other counters, a long name. */
struct rl_ext {
	struct rl_ctr ctr[RL_NKINDS - RL_HOT];
	uint16_t len;		/* of name, when the entry says RL_LONG */
	char name[];		/* the whole name, NUL-terminated */
};

/* One account in one cache line. */
struct rl_entry {
	uint64_t tat[RL_HOT];	/* messages, recipients */
	struct rl_ext *ext;	/* NULL until needed */
	uint32_t frac_lo[RL_HOT];	/* the remainders, 40 bits each */
	uint8_t frac_hi[RL_HOT];
	uint8_t flags;
	uint8_t len;		/* of the name, or RL_LONG */
	char name[RL_INLINE];	/* the name, or its first RL_INLINE bytes */
};

_Static_assert(sizeof(struct rl_entry) == 64, "an entry is one cache line");
_Static_assert(RL_MESSAGES < RL_HOT && RL_RECIPIENTS < RL_HOT &&
    RL_BYTES >= RL_HOT && RL_HITS >= RL_HOT, "hot kinds come first");

struct rl_shard {
	pthread_mutex_t lock;
	uint8_t *ctrl;		/* nslot bytes: 0 empty, else 0x80 | tag */
	struct rl_entry *slot;	/* nslot entries */
	size_t nslot;		/* < 2^32; any size, not a power of two */
	size_t count;
	size_t sweep_at;	/* sweep when count reaches this */
	uint64_t evictions;
} __attribute__((aligned(64)));

struct rl_table {
	struct pc_sipkey key;	/* the SipHash key, random per table */
	size_t cap;		/* per shard */
	struct rl_shard shard[RL_SHARDS];
};

/* An account's name as the table keeps it, and its hash. */
struct rl_key {
	uint64_t h;
	size_t len;
	char s[RL_NAME_MAX + 8];	/* the name, then 8 zero bytes */
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

/* SipHash-1-3 of k's name under the table's key. */
static uint64_t
name_hash(const struct rl_table *t, const struct rl_key *k)
{
	return pc_siphash(&t->key, k->s, k->len, 1, 3);
}

/* ASCII A-Z to a-z in each byte of w; no locale on the hot path. */
static uint64_t
lower8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
	uint64_t low7 = w & ~high;
	uint64_t ge_a = low7 + ones * (0x80 - 'A');	/* high bit: >= 'A' */
	uint64_t gt_z = low7 + ones * (0x7f - 'Z');	/* high bit: > 'Z' */

	return w | ((ge_a & ~gt_z & ~w & high) >> 2);
}

static void
key_make(const struct rl_table *t, const char *account, struct rl_key *k)
{
	size_t n = strnlen(account, RL_NAME_MAX), i;
	uint64_t w;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, account + i, 8);
		w = lower8(w);
		memcpy(k->s + i, &w, 8);
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)account[i];

		k->s[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32u : c);
	}
	memset(k->s + n, 0, 8);
	k->len = n;
	k->h = name_hash(t, k);
}

static const char *
entry_name(const struct rl_entry *e, size_t *len)
{
	if (e->len == RL_LONG) {
		*len = e->ext->len;
		return e->ext->name;
	}
	*len = e->len;
	return e->name;
}

static uint64_t
entry_hash(const struct rl_table *t, const struct rl_entry *e)
{
	struct rl_key k;
	const char *s = entry_name(e, &k.len);

	memcpy(k.s, s, k.len);
	memset(k.s + k.len, 0, 8);
	return name_hash(t, &k);
}

static size_t
home_of(uint64_t h, size_t nslot)
{
	return (size_t)(((h & 0xffffffffu) * (uint64_t)nslot) >> 32);
}

static uint8_t
tag_of(uint64_t h)
{
	return (uint8_t)(0x80 | ((h >> 32) & 0x7f));
}

static struct rl_shard *
shard_of(struct rl_table *t, uint64_t h)
{
	return &t->shard[h >> 56];
}

static void PC_NORETURN
oom(size_t n)
{
	fprintf(stderr, "portcullis: out of memory allocating %zu bytes\n", n);
	abort();
}

/* Memory aligned to cache lines, so that an entry spans one. */
static void *
lines_alloc(size_t n)
{
	void *p;

	if (posix_memalign(&p, 64, n) != 0)
		oom(n);
	return p;
}

static struct rl_ext *
ext_new(const struct rl_key *k)
{
	size_t n = k != NULL ? k->len + 1 : 0;
	struct rl_ext *x = xmalloc(sizeof(*x) + n);

	memset(x, 0, sizeof(*x));
	if (k != NULL) {
		x->len = (uint16_t)k->len;
		memcpy(x->name, k->s, n);
	}
	return x;
}

static struct rl_ctr
ctr_get(const struct rl_entry *e, enum rl_kind kind)
{
	struct rl_ctr c = { 0, 0 };

	if (kind < RL_HOT) {
		c.tat = e->tat[kind];
		c.frac = e->frac_lo[kind] | (uint64_t)e->frac_hi[kind] << 32;
	} else if (e->ext != NULL) {
		c = e->ext->ctr[kind - RL_HOT];
	}
	return c;
}

static void
ctr_put(struct rl_entry *e, enum rl_kind kind, struct rl_ctr c)
{
	/* No limit has a remainder this large (N <= 10^12 < 2^40). */
	if (c.frac > RL_FRAC_MAX)
		c.frac = 0;
	if (kind < RL_HOT) {
		e->tat[kind] = c.tat;
		e->frac_lo[kind] = (uint32_t)c.frac;
		e->frac_hi[kind] = (uint8_t)(c.frac >> 32);
		return;
	}
	if (e->ext == NULL)
		e->ext = ext_new(NULL);
	e->ext->ctr[kind - RL_HOT] = c;
}

static int
refilled(struct rl_ctr c, uint64_t now)
{
	return c.tat < now || (c.tat == now && c.frac == 0);
}

static int
idle(const struct rl_entry *e, uint64_t now)
{
	int k;

	if (e->flags != 0)
		return 0;
	for (k = 0; k < RL_NKINDS; k++)
		if (!refilled(ctr_get(e, (enum rl_kind)k), now))
			return 0;
	return 1;
}

/* The entries, then the control bytes, in one allocation. */
static void
shard_alloc(struct rl_shard *sh, size_t nslot)
{
	sh->nslot = nslot;
	sh->slot = lines_alloc(nslot * (sizeof(*sh->slot) + 1));
	sh->ctrl = (uint8_t *)(sh->slot + nslot);
	memset(sh->ctrl, 0, nslot);
}

struct rl_table *
rl_table_new(size_t max_accounts)
{
	struct rl_table *t = lines_alloc(sizeof(*t));
	size_t i;

	memset(t, 0, sizeof(*t));
	pc_sipkey_random(&t->key);
	t->cap = max_accounts / RL_SHARDS;
	if (t->cap < RL_MIN_SLOTS)
		t->cap = RL_MIN_SLOTS;
	for (i = 0; i < RL_SHARDS; i++) {
		struct rl_shard *sh = &t->shard[i];

		pthread_mutex_init(&sh->lock, NULL);
		shard_alloc(sh, RL_MIN_SLOTS);
		sh->sweep_at = t->cap;
	}
	return t;
}

void
rl_table_free(struct rl_table *t)
{
	size_t i, j;

	if (t == NULL)
		return;
	for (i = 0; i < RL_SHARDS; i++) {
		struct rl_shard *sh = &t->shard[i];

		for (j = 0; j < sh->nslot; j++)
			if (sh->ctrl[j] != 0)
				free(sh->slot[j].ext);
		free(sh->slot);
		pthread_mutex_destroy(&sh->lock);
	}
	free(t);
}

static int
same(const struct rl_entry *e, const struct rl_key *k)
{
	if (k->len <= RL_INLINE)
		return e->len == k->len && memcmp(e->name, k->s, k->len) == 0;
	return e->len == RL_LONG && memcmp(e->name, k->s, RL_INLINE) == 0 &&
	    e->ext->len == k->len && memcmp(e->ext->name + RL_INLINE,
	    k->s + RL_INLINE, k->len - RL_INLINE) == 0;
}

/*
 * The slot holding k, or the empty slot that ends its probe (*found 0).
 * There is always an empty slot: a shard grows before it is 7/8 full.
 */
static size_t
probe(const struct rl_shard *sh, const struct rl_key *k, int *found)
{
	size_t i = home_of(k->h, sh->nslot);
	uint8_t tag = tag_of(k->h), c;

	while ((c = sh->ctrl[i]) != 0) {
		if (c == tag && same(&sh->slot[i], k)) {
			*found = 1;
			return i;
		}
		if (++i == sh->nslot)
			i = 0;
	}
	*found = 0;
	return i;
}

static struct rl_entry *
lookup(const struct rl_shard *sh, const struct rl_key *k)
{
	int found;
	size_t i = probe(sh, k, &found);

	return found ? &sh->slot[i] : NULL;
}

/*
 * Moves the shard's entries into fresh arrays of nslot slots, dropping
 * (and counting as evicted) the idle ones when sweep is set.
 */
static void
rebuild(struct rl_table *t, struct rl_shard *sh, size_t nslot, int sweep,
    uint64_t now)
{
	uint8_t *octrl = sh->ctrl;
	struct rl_entry *oslot = sh->slot;
	size_t onslot = sh->nslot, i, j;

	shard_alloc(sh, nslot);
	sh->count = 0;
	for (i = 0; i < onslot; i++) {
		struct rl_entry *e = &oslot[i];
		uint64_t h;

		if (octrl[i] == 0)
			continue;
		if (sweep && idle(e, now)) {
			free(e->ext);
			sh->evictions++;
			continue;
		}
		h = entry_hash(t, e);
		for (j = home_of(h, nslot); sh->ctrl[j] != 0;)
			if (++j == nslot)
				j = 0;
		sh->ctrl[j] = octrl[i];
		sh->slot[j] = *e;
		sh->count++;
	}
	free(oslot);
}

/* Slots for m entries without growing. */
static size_t
room_for(size_t m)
{
	size_t n = m + m / 7 + 2;

	return n < RL_MIN_SLOTS ? RL_MIN_SLOTS : n;
}

static void
sweep(struct rl_table *t, struct rl_shard *sh, uint64_t now)
{
	size_t i, live = 0, nslot = sh->nslot;

	for (i = 0; i < sh->nslot; i++)
		live += sh->ctrl[i] != 0 && !idle(&sh->slot[i], now);
	sh->sweep_at = live + live / 4 + 1;
	if (sh->sweep_at < t->cap)
		sh->sweep_at = t->cap;
	/* Shrink a shard that an earlier crowd of owing accounts grew. */
	if (nslot > 2 * room_for(sh->sweep_at))
		nslot = room_for(sh->sweep_at);
	if (live < sh->count || nslot != sh->nslot)
		rebuild(t, sh, nslot, 1, now);
}

/* The entry for k, created when absent.  Shard locked. */
static struct rl_entry *
get(struct rl_table *t, struct rl_shard *sh, const struct rl_key *k,
    uint64_t now)
{
	struct rl_entry *e;
	int found;
	size_t i = probe(sh, k, &found);

	if (found)
		return &sh->slot[i];
	if (sh->count >= sh->sweep_at) {
		sweep(t, sh, now);
		i = probe(sh, k, &found);
	}
	if (sh->count + 1 > sh->nslot - sh->nslot / 8) {
		rebuild(t, sh, sh->nslot + sh->nslot / 2, 0, now);
		i = probe(sh, k, &found);
	}
	e = &sh->slot[i];
	memset(e, 0, sizeof(*e));
	if (k->len <= RL_INLINE) {
		e->len = (uint8_t)k->len;
		memcpy(e->name, k->s, k->len);
	} else {
		e->len = RL_LONG;
		memcpy(e->name, k->s, RL_INLINE);
		e->ext = ext_new(k);
	}
	sh->ctrl[i] = tag_of(k->h);
	sh->count++;
	return e;
}

/* Removes the entry in slot i, closing the gap it leaves in its run. */
static void
erase(struct rl_table *t, struct rl_shard *sh, size_t i)
{
	size_t j = i, n = sh->nslot;

	free(sh->slot[i].ext);
	sh->ctrl[i] = 0;
	sh->count--;
	for (;;) {
		size_t home;
		int between;

		if (++j == n)
			j = 0;
		if (sh->ctrl[j] == 0)
			return;
		home = home_of(entry_hash(t, &sh->slot[j]), n);
		/* Is home cyclically in (i, j]?  Then j must stay. */
		between = i < j ? (i < home && home <= j) :
		    (i < home || home <= j);
		if (!between) {
			sh->slot[i] = sh->slot[j];
			sh->ctrl[i] = sh->ctrl[j];
			sh->ctrl[j] = 0;
			i = j;
		}
	}
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

/* Makes k from account and locks its shard. */
static struct rl_shard *
lock_key(struct rl_table *t, const char *account, struct rl_key *k)
{
	struct rl_shard *sh;

	key_make(t, account, k);
	sh = shard_of(t, k->h);
	pthread_mutex_lock(&sh->lock);
	return sh;
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
		e = get(t, sh, &k, now);
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
		e = get(t, sh, &k, rl_now());
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
			erase(t, sh, i);
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
	e = get(t, sh, &k, now);
	c.tat = sat_add(now, owed_ns);
	c.frac = frac;
	ctr_put(e, kind, c);
	pthread_mutex_unlock(&sh->lock);
}

void
rl_locate(struct rl_table *t, const char *account, unsigned *shard,
    size_t *home, unsigned *tag)
{
	struct rl_key k;
	struct rl_shard *sh;

	sh = lock_key(t, account, &k);
	*shard = (unsigned)(sh - t->shard);
	*home = home_of(k.h, sh->nslot);
	*tag = tag_of(k.h) & 0x7fu;
	pthread_mutex_unlock(&sh->lock);
}
