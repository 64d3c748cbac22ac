/*
 * rltable.c - the limiter's account table (layout in rltable.h): its
 * allocation, the insert that grows or sweeps a shard, the erase that
 * closes a gap in a probe run, and the counts over all shards.
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
#include "rltable.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static uint64_t
entry_hash(const struct rl_table *t, const struct rl_entry *e)
{
	struct rl_key k;
	const char *s = entry_name(e, &k.len);

	memcpy(k.s, s, k.len);
	memset(k.s + k.len, 0, 8);
	return name_hash(t, &k);
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

struct rl_ext *
rlt_ext_new(const struct rl_key *k)
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

struct rl_entry *
rlt_get(struct rl_table *t, struct rl_shard *sh, const struct rl_key *k,
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
		e->ext = rlt_ext_new(k);
	}
	sh->ctrl[i] = tag_of(k->h);
	sh->count++;
	return e;
}

void
rlt_erase(struct rl_table *t, struct rl_shard *sh, size_t i)
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
