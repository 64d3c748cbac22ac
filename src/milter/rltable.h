/*
 * rltable.h - the limiter's account table: what ratelimit.c (the GCRA
 * arithmetic and the rl_* API) and rltable.c (growing, sweeping and
 * erasing entries) share.  Private to those two files: not part of the
 * limiter's API (ratelimit.h), and nothing else should include it.
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
 * What a charge runs on every message (making the key, the probe, the
 * counters of an entry) is static inline here, so that it inlines into
 * ratelimit.c's callers as it did when both were one file.
 */
#ifndef PC_RLTABLE_H
#define PC_RLTABLE_H

#include "ratelimit.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "siphash.h"

#define RL_SHARDS 256
#define RL_MIN_SLOTS 16
#define RL_NAME_MAX 1024	/* longer names count as their first 1024 bytes */
#define RL_INLINE 28		/* name bytes kept in the entry */
#define RL_LONG 0xff		/* entry len: the name is in the side part */
#define RL_HOT 2		/* kinds counted in the entry itself */
#define RL_FRAC_MAX ((1ULL << 40) - 1)	/* > PC_RATE_COUNT_MAX */

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

/* In rltable.c: the parts that allocate, move or free entries. */

/* A side part, holding k's name when k is not NULL. */
struct rl_ext *rlt_ext_new(const struct rl_key *k);
/* The entry for k, created when absent.  Shard locked. */
struct rl_entry *rlt_get(struct rl_table *t, struct rl_shard *sh,
    const struct rl_key *k, uint64_t now);
/* Removes the entry in slot i, closing the gap it leaves in its run. */
void rlt_erase(struct rl_table *t, struct rl_shard *sh, size_t i);

/* SipHash-1-3 of k's name under the table's key. */
static inline uint64_t
name_hash(const struct rl_table *t, const struct rl_key *k)
{
	return pc_siphash(&t->key, k->s, k->len, 1, 3);
}

/* ASCII A-Z to a-z in each byte of w; no locale on the hot path. */
static inline uint64_t
lower8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
	uint64_t low7 = w & ~high;
	uint64_t ge_a = low7 + ones * (0x80 - 'A');	/* high bit: >= 'A' */
	uint64_t gt_z = low7 + ones * (0x7f - 'Z');	/* high bit: > 'Z' */

	return w | ((ge_a & ~gt_z & ~w & high) >> 2);
}

static inline void
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

static inline const char *
entry_name(const struct rl_entry *e, size_t *len)
{
	if (e->len == RL_LONG) {
		*len = e->ext->len;
		return e->ext->name;
	}
	*len = e->len;
	return e->name;
}

static inline size_t
home_of(uint64_t h, size_t nslot)
{
	return (size_t)(((h & 0xffffffffu) * (uint64_t)nslot) >> 32);
}

static inline uint8_t
tag_of(uint64_t h)
{
	return (uint8_t)(0x80 | ((h >> 32) & 0x7f));
}

static inline struct rl_shard *
shard_of(struct rl_table *t, uint64_t h)
{
	return &t->shard[h >> 56];
}

/* Makes k from account and locks its shard. */
static inline struct rl_shard *
lock_key(struct rl_table *t, const char *account, struct rl_key *k)
{
	struct rl_shard *sh;

	key_make(t, account, k);
	sh = shard_of(t, k->h);
	pthread_mutex_lock(&sh->lock);
	return sh;
}

static inline struct rl_ctr
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

static inline void
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
		e->ext = rlt_ext_new(NULL);
	e->ext->ctr[kind - RL_HOT] = c;
}

static inline int
refilled(struct rl_ctr c, uint64_t now)
{
	return c.tat < now || (c.tat == now && c.frac == 0);
}

/* Every counter refilled and no flag: the entry carries nothing. */
static inline int
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

static inline int
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
static inline size_t
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

static inline struct rl_entry *
lookup(const struct rl_shard *sh, const struct rl_key *k)
{
	int found;
	size_t i = probe(sh, k, &found);

	return found ? &sh->slot[i] : NULL;
}

#endif
