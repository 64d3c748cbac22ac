/*
 * ratelimit.h - the per-account limiter: GCRA counters in a sharded hash
 * table, one mutex per shard, bounded by evicting idle entries.
 *
 * Pure arithmetic and data structure: no libmilter, no configuration
 * file, no clock of its own (every call takes "now" in nanoseconds of
 * CLOCK_MONOTONIC), so the unit tests and the benchmark drive it
 * directly.
 *
 * GCRA: a limit of N per window W has the emission interval T = W/N.
 * Each account and kind keeps a theoretical arrival time TAT (64-bit ns
 * plus the remainder of W/N modulo N, so the arithmetic is exact for any
 * N and W).  A charge of c at time t passes when
 *     max(TAT, t) + c*T - t <= W
 * which lets a burst of N through at once and then one per T; there is
 * no window boundary at which twice the limit could pass.  A clock that
 * goes backwards only makes max(TAT, t) - t larger: it never grants.
 */
#ifndef PC_RATELIMIT_H
#define PC_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "duration.h"

#define RL_NS 1000000000ULL

/* The counted kinds; RL_HITS counts limit hits for SuspendAfter. */
enum rl_kind { RL_MESSAGES, RL_RECIPIENTS, RL_BYTES, RL_HITS, RL_NKINDS };

/* One limit, with its emission interval precomputed. */
struct rl_limit {
	uint64_t count;		/* N; 0 means no limit */
	uint64_t window_ns;	/* W */
	uint64_t t_int, t_rem;	/* W / N and W % N */
};

enum rl_mode {
	RL_CHECK,	/* would cost c pass?  records nothing */
	RL_TAKE,	/* record c when it passes */
	RL_FORCE	/* record c in any case (already accepted) */
};

/* The flag a suspended account carries (see rl_set_suspended()). */
#define RL_F_SUSPENDED 0x01

struct rl_table;

/* Names of the kinds as configuration and output spell them. */
extern const char *const rl_kind_names[RL_NKINDS];

void rl_limit_set(struct rl_limit *l, const struct pc_rate *r);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t rl_now(void);

/*
 * max_accounts bounds the table: beyond it, idle fully refilled entries
 * are evicted.  Entries over a limit or suspended are never evicted, so
 * the bound can be exceeded by accounts that must not be forgotten.
 */
struct rl_table *rl_table_new(size_t max_accounts);
void rl_table_free(struct rl_table *t);

/*
 * Charges cost units of kind to account (lowercase, as sender_account()
 * makes it; compared case-insensitively in ASCII anyway; a name longer
 * than 1024 bytes counts as its first 1024).  Returns 1 when the
 * charge passes, 0 when it is over the limit; then *retry_ns (if not
 * NULL) is the time until it would pass.  *flags (if not NULL) receives
 * the account's flags.  A limit with count 0 always passes.
 */
int rl_charge(struct rl_table *t, const char *account, enum rl_kind kind,
    const struct rl_limit *lim, uint64_t cost, uint64_t now,
    enum rl_mode mode, uint64_t *retry_ns, unsigned *flags);

/* The account's flags (0 when unknown), without creating an entry. */
unsigned rl_flags(struct rl_table *t, const char *account);
/* Sets or clears RL_F_SUSPENDED; creates the entry when needed. */
void rl_set_suspended(struct rl_table *t, const char *account, int on);

struct rl_usage {
	uint64_t used;		/* units in use now (rounded up) */
	uint64_t refill_ns;	/* until fully refilled */
};
/* 1 and *u when the account has an entry, 0 when it is unknown. */
int rl_usage(struct rl_table *t, const char *account, enum rl_kind kind,
    const struct rl_limit *lim, uint64_t now, struct rl_usage *u);
/* Forgets the account's counters (its flags stay); 1 if it had any. */
int rl_reset(struct rl_table *t, const char *account);

/* Entries now, and evictions so far. */
size_t rl_count(struct rl_table *t);
uint64_t rl_evictions(struct rl_table *t);

/*
 * For StateFile: calls fn for every entry with the time each counter
 * still owes (TAT - now, 0 when refilled) and its remainder.  Each
 * shard is locked while its entries are visited: fn must not call back.
 */
typedef void (*rl_visit_fn)(const char *account, unsigned flags,
    const uint64_t owed_ns[RL_NKINDS], const uint64_t frac[RL_NKINDS],
    void *arg);
void rl_foreach(struct rl_table *t, uint64_t now, rl_visit_fn fn, void *arg);
/* Restores one counter: it owes owed_ns from now. */
void rl_restore(struct rl_table *t, const char *account, enum rl_kind kind,
    uint64_t owed_ns, uint64_t frac, uint64_t now);

/*
 * For tests: where account falls in t (its shard, its home slot at the
 * shard's present size, its 7-bit tag).  The hash is keyed at random per
 * table, so this is the only way a test can find names that collide.
 */
void rl_locate(struct rl_table *t, const char *account, unsigned *shard,
    size_t *home, unsigned *tag);

#endif
