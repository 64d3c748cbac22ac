/*
 * test_ratelimit.c - the limiter's arithmetic (burst, refill, exact
 * boundaries, a clock that goes backwards, huge counts, overflow, windows
 * of 1s and 30d), its table (threads, case, long names, colliding hashes,
 * growth, eviction, the side counters), RateLimitMap values, and
 * StateFile round trips.  Every call passes "now" itself, so nothing here
 * depends on the speed of the machine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rlconf.h"
#include "ratelimit.h"
#include "state.h"
#include "suspend.h"
#include "util.h"

#define S(x) ((uint64_t)(x) * RL_NS)
#define T0 S(1000000)		/* an arbitrary monotonic start */

static struct rl_limit
lim(uint64_t count, uint64_t seconds)
{
	struct pc_rate r = { count, seconds };
	struct rl_limit l;

	rl_limit_set(&l, &r);
	return l;
}

static int
take(struct rl_table *t, const char *a, const struct rl_limit *l, uint64_t c,
    uint64_t now, uint64_t *retry)
{
	return rl_charge(t, a, RL_MESSAGES, l, c, now, RL_TAKE, retry, NULL);
}

/* A burst of N passes at once; N+1 does not, and says when it would. */
static void
test_burst(void **state)
{
	struct rl_table *t = rl_table_new(1000);
	struct rl_limit l = lim(5, 3600);
	uint64_t retry = 0;
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_true(take(t, "a@x", &l, 1, T0, &retry));
	assert_false(take(t, "a@x", &l, 1, T0, &retry));
	assert_int_equal(retry, S(720));	/* 3600 s / 5 */
	/* A refused take records nothing: the wait does not grow. */
	assert_false(take(t, "a@x", &l, 1, T0, &retry));
	assert_int_equal(retry, S(720));
	rl_table_free(t);
}

/* After the burst, one per interval, to the nanosecond; never 2x. */
static void
test_refill_exact_boundary(void **state)
{
	struct rl_table *t = rl_table_new(1000);
	struct rl_limit l = lim(5, 3600);
	uint64_t retry, now;
	int i, passed = 0;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_true(take(t, "a@x", &l, 1, T0, &retry));
	assert_false(take(t, "a@x", &l, 1, T0 + S(720) - 1, &retry));
	assert_int_equal(retry, 1);
	assert_true(take(t, "a@x", &l, 1, T0 + S(720), &retry));
	assert_false(take(t, "a@x", &l, 1, T0 + S(720), &retry));
	/* Across the "window boundary" at 3600 s nothing extra appears. */
	for (now = T0 + S(720); now <= T0 + S(7200); now += S(10))
		passed += take(t, "a@x", &l, 1, now, &retry);
	/* From 720 s to 7200 s: one per 720 s = 9 more, not a new burst of 5. */
	assert_int_equal(passed, 9);
	rl_table_free(t);
}

/* W/N not a whole number of nanoseconds: the remainder is kept exactly. */
static void
test_fractional_interval(void **state)
{
	struct rl_table *t = rl_table_new(1000);
	struct rl_limit l = lim(3, 1);		/* 333333333.33 ns apart */
	uint64_t retry;
	int i, n = 0;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_true(take(t, "a@x", &l, 1, T0, &retry));
	assert_false(take(t, "a@x", &l, 1, T0, &retry));
	assert_int_equal(retry, 333333334);
	assert_false(take(t, "a@x", &l, 1, T0 + 333333333, &retry));
	assert_true(take(t, "a@x", &l, 1, T0 + 333333334, &retry));
	/* Over 1000 s exactly 3000 pass (plus the first burst of 3). */
	for (i = 0; i < 100000; i++)
		n += take(t, "a@x", &l, 1, T0 + S(1) + (uint64_t)i * 10000000ULL,
		    &retry);
	/* 100000 tries over 1000 s at 3/s after the take at 0.33 s. */
	assert_true(n >= 2999 && n <= 3001);
	rl_table_free(t);
}

/* A clock that goes backwards never grants anything. */
static void
test_clock_backwards(void **state)
{
	struct rl_table *t = rl_table_new(1000);
	struct rl_limit l = lim(2, 60);
	uint64_t retry;

	(void)state;
	assert_true(take(t, "a@x", &l, 1, T0, &retry));
	assert_true(take(t, "a@x", &l, 1, T0, &retry));
	assert_false(take(t, "a@x", &l, 1, T0 - S(3600), &retry));
	assert_int_equal(retry, S(3600) + S(30));
	assert_false(take(t, "a@x", &l, 1, T0 + S(30) - 1, &retry));
	assert_true(take(t, "a@x", &l, 1, T0 + S(30), &retry));
	assert_false(take(t, "a@x", &l, 1, T0 + S(30), &retry));
	rl_table_free(t);
}

/* Huge N: 10^12 per second (a fraction of a nanosecond each). */
static void
test_huge_n(void **state)
{
	struct rl_table *t = rl_table_new(1000);
	struct rl_limit l = lim(PC_RATE_COUNT_MAX, 1);
	uint64_t retry;

	(void)state;
	assert_int_equal(l.t_int, 0);
	assert_true(take(t, "a@x", &l, PC_RATE_COUNT_MAX, T0, &retry));
	assert_false(take(t, "a@x", &l, 1, T0, &retry));
	assert_int_equal(retry, 1);
	/* One nanosecond refills 1000 units, exactly. */
	assert_true(take(t, "a@x", &l, 1000, T0 + 1, &retry));
	assert_false(take(t, "a@x", &l, 1, T0 + 1, &retry));
	/* And unit by unit. */
	assert_true(take(t, "b@x", &l, PC_RATE_COUNT_MAX - 1, T0, &retry));
	assert_true(take(t, "b@x", &l, 1, T0, &retry));
	assert_false(take(t, "b@x", &l, 1, T0, &retry));
	rl_table_free(t);
}

/* Costs and windows at the extremes neither wrap nor crash. */
static void
test_overflow(void **state)
{
	struct rl_table *t = rl_table_new(1000);
	struct rl_limit l = lim(1, PC_DURATION_MAX);
	struct rl_limit big = lim(PC_RATE_COUNT_MAX, PC_DURATION_MAX);
	struct rl_usage u;
	uint64_t retry;

	(void)state;
	assert_false(take(t, "a@x", &big, UINT64_MAX, T0, &retry));
	assert_true(take(t, "a@x", &big, PC_RATE_COUNT_MAX, T0, &retry));
	assert_false(take(t, "a@x", &big, 1, T0, &retry));
	/* A forced charge far beyond the limit saturates instead of wrapping. */
	assert_false(rl_charge(t, "b@x", RL_BYTES, &l, UINT64_MAX, T0,
	    RL_FORCE, &retry, NULL));
	assert_false(rl_charge(t, "b@x", RL_BYTES, &l, 1, T0, RL_FORCE,
	    &retry, NULL));
	assert_false(rl_charge(t, "b@x", RL_BYTES, &l, 1, UINT64_MAX - 1,
	    RL_CHECK, &retry, NULL));
	assert_int_equal(rl_usage(t, "b@x", RL_BYTES, &l, T0, &u), 1);
	assert_true(u.used >= 1);
	/* A clock centuries on still works: 2^62 ns is 146 years. */
	assert_true(take(t, "c@x", &l, 1, (uint64_t)1 << 62, &retry));
	assert_false(take(t, "c@x", &l, 1, ((uint64_t)1 << 62) + S(1), &retry));
	assert_int_equal(retry, S(PC_DURATION_MAX) - S(1));
	rl_table_free(t);
}

static void
test_windows_1s_30d(void **state)
{
	struct rl_table *t = rl_table_new(1000);
	struct rl_limit one = lim(1, 1), month = lim(3, 30 * 86400);
	uint64_t retry;

	(void)state;
	assert_true(take(t, "a@x", &one, 1, T0, &retry));
	assert_false(take(t, "a@x", &one, 1, T0 + S(1) - 1, &retry));
	assert_int_equal(retry, 1);
	assert_true(take(t, "a@x", &one, 1, T0 + S(1), &retry));

	assert_true(take(t, "m@x", &month, 3, T0, &retry));
	assert_false(take(t, "m@x", &month, 1, T0 + S(86400), &retry));
	assert_int_equal(retry, S(9 * 86400));
	assert_true(take(t, "m@x", &month, 1, T0 + S(10 * 86400), &retry));
	rl_table_free(t);
}

/* Names compare case-insensitively; a zero limit is no limit. */
static void
test_case_and_off(void **state)
{
	struct rl_table *t = rl_table_new(1000);
	struct rl_limit l = lim(1, 60), off = lim(0, 0);
	uint64_t retry;
	int i;

	(void)state;
	assert_true(take(t, "Alice@Example.NET", &l, 1, T0, &retry));
	assert_false(take(t, "alice@example.net", &l, 1, T0, &retry));
	for (i = 0; i < 1000; i++)
		assert_true(take(t, "b@x", &off, 1, T0, &retry));
	assert_int_equal(rl_count(t), 1);	/* no entry for "no limit" */
	assert_int_equal(rl_reset(t, "ALICE@example.net"), 1);
	assert_true(take(t, "alice@example.net", &l, 1, T0, &retry));
	rl_table_free(t);
}

#define NTHREADS 8
#define PER_THREAD 20000

static struct rl_table *shared;
static struct rl_limit shared_lim;

static void *
charger(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < PER_THREAD; i++)
		if (!rl_charge(shared, "hot@x", RL_RECIPIENTS, &shared_lim, 1, T0,
		    RL_TAKE, NULL, NULL))
			return (void *)1;
	return NULL;
}

/* N threads charging one account count exactly N x k. */
static void
test_threads_exact(void **state)
{
	pthread_t th[NTHREADS];
	struct rl_usage u;
	void *r;
	int i;

	(void)state;
	shared = rl_table_new(1000);
	shared_lim = lim(1000000000, 86400);
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, charger, NULL), 0);
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(th[i], &r), 0);
		assert_null(r);
	}
	assert_int_equal(rl_usage(shared, "hot@x", RL_RECIPIENTS, &shared_lim,
	    T0, &u), 1);
	assert_int_equal(u.used, NTHREADS * PER_THREAD);
	/* And the limit holds exactly under contention. */
	rl_table_free(shared);
	shared = rl_table_new(1000);
	shared_lim = lim(NTHREADS * PER_THREAD - 5, 86400);
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, charger, NULL), 0);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], &r);
	assert_int_equal(rl_usage(shared, "hot@x", RL_RECIPIENTS, &shared_lim,
	    T0, &u), 1);
	assert_int_equal(u.used, NTHREADS * PER_THREAD - 5);
	rl_table_free(shared);
}

/* Eviction bounds the table but never forgets an account over its limit. */
static void
test_eviction_keeps_limited(void **state)
{
	struct rl_table *t = rl_table_new(4096);	/* 16 per shard */
	struct rl_limit month = lim(1, 30 * 86400), minute = lim(10, 60);
	uint64_t retry, now = T0;
	char name[64];
	int i;

	(void)state;
	/* Accounts over their limit, and a suspended one. */
	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "spammer%d@x", i);
		assert_true(take(t, name, &month, 1, now, &retry));
		assert_false(take(t, name, &month, 1, now, &retry));
	}
	rl_set_suspended(t, "stolen@x", 1);
	/* 200,000 passers-by, each idle again a minute later. */
	for (i = 0; i < 200000; i++) {
		snprintf(name, sizeof(name), "user%d@x", i);
		now += S(1);
		assert_true(take(t, name, &minute, 1, now, &retry));
	}
	assert_true(rl_evictions(t) > 190000);
	assert_true(rl_count(t) < 4096 + 256 * 16);
	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "spammer%d@x", i);
		assert_false(take(t, name, &month, 1, now, &retry));
	}
	assert_int_equal(rl_flags(t, "stolen@x"), RL_F_SUSPENDED);
	rl_table_free(t);
}

/* When only accounts over their limit fill the table, it grows instead. */
static void
test_eviction_all_limited(void **state)
{
	struct rl_table *t = rl_table_new(256 * 16);
	struct rl_limit day = lim(1, 86400);
	uint64_t retry;
	char name[64];
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "s%d@x", i);
		assert_true(take(t, name, &day, 1, T0, &retry));
	}
	assert_int_equal(rl_count(t), 20000);
	for (i = 0; i < 20000; i += 97) {
		snprintf(name, sizeof(name), "s%d@x", i);
		assert_false(take(t, name, &day, 1, T0 + S(3600), &retry));
	}
	rl_table_free(t);
}

/* Fills buf with a name of len bytes that ends in the number i. */
static void
long_name(char *buf, size_t len, unsigned i)
{
	char tail[32];
	size_t n = (size_t)snprintf(tail, sizeof(tail), "@%u.example", i);

	memset(buf, 'a', len);
	memcpy(buf + len - n, tail, n);
	buf[len] = '\0';
}

struct seen {
	char name[1100];
	uint64_t owed[RL_NKINDS];
	unsigned flags;
	int n;
};

static void
find_visit(const char *account, unsigned flags, const uint64_t owed[RL_NKINDS],
    const uint64_t frac[RL_NKINDS], void *arg)
{
	struct seen *s = arg;

	(void)frac;
	if (strcmp(account, s->name) == 0) {
		memcpy(s->owed, owed, sizeof(s->owed));
		s->flags = flags;
		s->n++;
	}
}

/*
 * Names longer than the entry holds live beside it: names that share the
 * first bytes keep apart, case still does not matter, and StateFile sees
 * the whole name.
 */
static void
test_long_names(void **state)
{
	struct rl_table *t = rl_table_new(1000);
	struct rl_limit l = lim(2, 3600);
	static const size_t lens[] = { 1, 7, 8, 9, 27, 28, 29, 30, 64, 255,
	    256, 1000, 1024 };
	char a[1100], b[1100], up[1100];
	struct seen s;
	uint64_t retry;
	size_t i, j;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(lens); i++) {
		/* Equal but for the last byte, beyond the inline part. */
		memset(a, 'x', lens[i]);
		a[lens[i]] = '\0';
		memcpy(b, a, lens[i] + 1);
		b[lens[i] - 1] = 'y';
		for (j = 0; j <= lens[i]; j++)
			up[j] = (char)(a[j] == 'x' ? 'X' : a[j]);
		assert_true(take(t, a, &l, 2, T0, &retry));
		assert_false(take(t, up, &l, 1, T0, &retry));
		assert_true(take(t, b, &l, 1, T0, &retry));
		assert_true(take(t, b, &l, 1, T0, &retry));
		assert_false(take(t, b, &l, 1, T0, &retry));
	}
	assert_int_equal(rl_count(t), 2 * PC_ARRAY_LEN(lens));

	/* Beyond 1024 bytes only the first 1024 count. */
	memset(a, 'x', 1024);
	memcpy(a + 1024, "tail", 5);
	assert_false(take(t, a, &l, 1, T0, &retry));
	assert_int_equal(rl_count(t), 2 * PC_ARRAY_LEN(lens));

	/* StateFile gets the whole name back. */
	memset(&s, 0, sizeof(s));
	long_name(s.name, 300, 7);
	assert_true(take(t, s.name, &l, 1, T0, &retry));
	rl_set_suspended(t, s.name, 1);
	rl_foreach(t, T0, find_visit, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.owed[RL_MESSAGES], S(1800));
	assert_int_equal(s.flags, RL_F_SUSPENDED);
	/* Reset keeps a suspended entry and its name; then it goes. */
	assert_int_equal(rl_reset(t, s.name), 1);
	assert_int_equal(rl_flags(t, s.name), RL_F_SUSPENDED);
	assert_true(take(t, s.name, &l, 2, T0, &retry));
	rl_set_suspended(t, s.name, 0);
	assert_int_equal(rl_reset(t, s.name), 1);
	assert_int_equal(rl_reset(t, s.name), 0);
	rl_table_free(t);
}

/*
 * n names "<prefix><number>@x" that fall in the same shard and home slot
 * of t and, when tag is set, have the same tag; the first with home slot
 * home.  Found by trying names, as the key is random per table.
 */
static size_t
collide(struct rl_table *t, const char *prefix, size_t home, int tag,
    char (*name)[64], size_t n)
{
	unsigned sh0 = 0, tag0 = 0, sh, tg;
	size_t i, h, found = 0;

	for (i = 0; found < n && i < 100000000; i++) {
		char cand[64];

		snprintf(cand, sizeof(cand), "%s%08zu@x", prefix, i);
		rl_locate(t, cand, &sh, &h, &tg);
		if (h != home)
			continue;
		if (found == 0) {
			sh0 = sh;
			tag0 = tg;
		} else if (sh != sh0 || (tag && tg != tag0)) {
			continue;
		}
		memcpy(name[found++], cand, sizeof(cand));
	}
	return found;
}

/*
 * Names whose hashes pick the same shard, the same home slot and the
 * same tag, at the last slot of a new shard so that the run wraps
 * around: each keeps its own counter, and removing one leaves the others
 * reachable.  The names are 40 bytes long and share their first 30, so
 * only the part kept beside the entry tells them apart.
 */
static void
test_colliding_names(void **state)
{
	struct rl_table *t = rl_table_new(1000);
	struct rl_limit l = lim(4, 3600);
	struct rl_usage u;
	char name[4][64], pair[2][64];
	unsigned sh0, sh, tg;
	uint64_t retry;
	size_t k, h;

	(void)state;
	/* A new shard has 16 slots: home 15 wraps to slot 0. */
	assert_int_equal(collide(t, "cccccccccccccccccccccccccccccc", 15, 1,
	    name, 4), 4);
	assert_int_equal(strlen(name[0]), 40);
	for (k = 0; k < 4; k++)
		assert_true(take(t, name[k], &l, k + 1, T0, &retry));
	for (k = 0; k < 4; k++) {
		assert_int_equal(rl_usage(t, name[k], RL_MESSAGES, &l, T0, &u), 1);
		assert_int_equal(u.used, k + 1);
	}
	assert_false(take(t, name[3], &l, 1, T0, &retry));
	/* Take out the first and then the third of the run. */
	assert_int_equal(rl_reset(t, name[0]), 1);
	assert_int_equal(rl_usage(t, name[0], RL_MESSAGES, &l, T0, &u), 0);
	for (k = 1; k < 4; k++) {
		assert_int_equal(rl_usage(t, name[k], RL_MESSAGES, &l, T0, &u), 1);
		assert_int_equal(u.used, k + 1);
	}
	assert_int_equal(rl_reset(t, name[2]), 1);
	assert_int_equal(rl_usage(t, name[1], RL_MESSAGES, &l, T0, &u), 1);
	assert_int_equal(u.used, 2);
	assert_int_equal(rl_usage(t, name[3], RL_MESSAGES, &l, T0, &u), 1);
	assert_int_equal(u.used, 4);
	assert_int_equal(rl_usage(t, name[2], RL_MESSAGES, &l, T0, &u), 0);
	/* The removed names come back fresh. */
	assert_true(take(t, name[0], &l, 3, T0, &retry));
	assert_true(take(t, name[2], &l, 3, T0, &retry));
	assert_int_equal(rl_count(t), 4);
	rl_table_free(t);

	/* Short names with the same tag, in the same slot. */
	t = rl_table_new(1000);
	assert_int_equal(collide(t, "s", 7, 1, pair, 2), 2);
	assert_true(take(t, pair[0], &l, 4, T0, &retry));
	assert_true(take(t, pair[1], &l, 1, T0, &retry));
	assert_false(take(t, pair[0], &l, 1, T0, &retry));
	rl_table_free(t);

	/*
	 * One name at home 15, one at home 0 where it belongs: removing the
	 * first must not pull the second back before its home.
	 */
	t = rl_table_new(1000);
	assert_int_equal(collide(t, "h", 15, 0, pair, 1), 1);
	rl_locate(t, pair[0], &sh0, &h, &tg);
	for (k = 0; k < 100000000; k++) {
		snprintf(pair[1], sizeof(pair[1]), "g%08zu@x", k);
		rl_locate(t, pair[1], &sh, &h, &tg);
		if (sh == sh0 && h == 0)
			break;
	}
	assert_true(k < 100000000);
	assert_true(take(t, pair[0], &l, 1, T0, &retry));
	assert_true(take(t, pair[1], &l, 2, T0, &retry));
	assert_int_equal(rl_reset(t, pair[0]), 1);
	assert_int_equal(rl_usage(t, pair[1], RL_MESSAGES, &l, T0, &u), 1);
	assert_int_equal(u.used, 2);
	rl_table_free(t);
}

/*
 * A crowd of accounts that all owe something grows the table far past
 * its bound without losing one; once they have refilled, new accounts
 * push them out again.
 */
static void
test_growth_and_sweep(void **state)
{
	struct rl_table *t = rl_table_new(256 * 16);	/* 16 per shard */
	struct rl_limit day = lim(1, 86400), minute = lim(10, 60);
	struct rl_usage u;
	uint64_t retry, later = T0 + S(2 * 86400);
	char name[64];
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "crowd%d@x", i);
		assert_true(take(t, name, &day, 1, T0, &retry));
		assert_true(rl_charge(t, name, RL_BYTES, &day, 1, T0, RL_FORCE,
		    &retry, NULL));
	}
	assert_int_equal(rl_count(t), 20000);
	assert_int_equal(rl_evictions(t), 0);
	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "crowd%d@x", i);
		assert_int_equal(rl_usage(t, name, RL_MESSAGES, &day, T0, &u), 1);
		assert_int_equal(u.used, 1);
		assert_int_equal(rl_usage(t, name, RL_BYTES, &day, T0, &u), 1);
		assert_int_equal(u.used, 1);
	}
	/*
	 * Two days on the crowd is idle.  Passers-by, one a second, each
	 * owing for 6 s, push it out, and the shards, swept, shrink back
	 * to their share of the bound.
	 */
	for (i = 0; i < 40000; i++) {
		snprintf(name, sizeof(name), "passer%d@x", i);
		assert_true(take(t, name, &minute, 1, later + S(i), &retry));
	}
	later += S(40000 - 1);
	assert_true(rl_evictions(t) >= 20000 + 40000 - 256 * 16);
	assert_true(rl_count(t) <= 256 * 16);
	for (i = 40000 - 6; i < 40000; i++) {
		snprintf(name, sizeof(name), "passer%d@x", i);
		assert_int_equal(rl_usage(t, name, RL_MESSAGES, &minute, later,
		    &u), 1);
		assert_int_equal(u.used, 1);
	}
	for (i = 0; i < 1000; i++) {
		unsigned sh, tag;
		size_t home;

		snprintf(name, sizeof(name), "probe%d@x", i);
		rl_locate(t, name, &sh, &home, &tag);
		assert_true(home < 32);
	}
	rl_table_free(t);
}

/*
 * Bytes and limit hits are counted beside the entry: they keep an
 * account from eviction like the others, survive the table's growth and
 * reset, and StateFile and the control socket see them.
 */
static void
test_side_counters(void **state)
{
	struct rl_table *t = rl_table_new(256 * 16);
	struct rl_limit bytes = lim(1000, 3600), minute = lim(10, 60);
	struct rl_usage u;
	struct seen s;
	uint64_t retry, now = T0;
	char name[64];
	int i;

	(void)state;
	assert_true(rl_charge(t, "big@x", RL_BYTES, &bytes, 600, T0, RL_TAKE,
	    &retry, NULL));
	assert_false(rl_charge(t, "big@x", RL_BYTES, &bytes, 600, T0, RL_TAKE,
	    &retry, NULL));
	assert_int_equal(retry, S(720));
	assert_true(rl_charge(t, "big@x", RL_HITS, &minute, 1, T0, RL_FORCE,
	    &retry, NULL));
	/* Its messages counter is idle; bytes and hits are not. */
	/* 100,000 passers-by over 1000 s, while big@x still owes bytes. */
	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "user%d@x", i);
		now += S(1) / 100;
		assert_true(take(t, name, &minute, 1, now, &retry));
	}
	assert_true(rl_evictions(t) > 90000);
	assert_int_equal(rl_usage(t, "big@x", RL_BYTES, &bytes, T0, &u), 1);
	assert_int_equal(u.used, 600);
	assert_int_equal(rl_usage(t, "big@x", RL_HITS, &minute, T0, &u), 1);
	assert_int_equal(u.used, 1);
	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "big@x");
	rl_foreach(t, T0, find_visit, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.owed[RL_BYTES], S(2160));
	assert_int_equal(s.owed[RL_HITS], S(6));
	assert_int_equal(s.owed[RL_MESSAGES], 0);

	/* Restored, with a remainder no limit can have: read as none. */
	rl_restore(t, "back@x", RL_BYTES, S(36), 999, T0);
	rl_restore(t, "back@x", RL_RECIPIENTS, S(36), (uint64_t)1 << 50, T0);
	rl_restore(t, "back@x", RL_MESSAGES, 0, 5, T0);
	assert_int_equal(rl_usage(t, "back@x", RL_BYTES, &bytes, T0, &u), 1);
	assert_int_equal(u.used, 11);		/* 10 and 999/1000 units */
	assert_int_equal(u.refill_ns, S(36) + 1);
	assert_int_equal(rl_usage(t, "back@x", RL_RECIPIENTS, &bytes, T0, &u), 1);
	assert_int_equal(u.used, 10);
	assert_int_equal(u.refill_ns, S(36));
	assert_int_equal(rl_usage(t, "back@x", RL_MESSAGES, &bytes, T0, &u), 1);
	assert_int_equal(u.used, 0);

	/* Reset of a suspended account clears every counter, keeps the flag. */
	rl_set_suspended(t, "big@x", 1);
	assert_int_equal(rl_reset(t, "big@x"), 1);
	assert_int_equal(rl_usage(t, "big@x", RL_BYTES, &bytes, T0, &u), 1);
	assert_int_equal(u.used, 0);
	assert_int_equal(rl_usage(t, "big@x", RL_HITS, &minute, T0, &u), 1);
	assert_int_equal(u.used, 0);
	assert_int_equal(rl_flags(t, "big@x"), RL_F_SUSPENDED);
	rl_table_free(t);
}

/* Names differ from the stored ones only in ASCII case, anywhere. */
static void
test_case_everywhere(void **state)
{
	struct rl_table *t = rl_table_new(1000);
	struct rl_limit l = lim(1, 60);
	uint64_t retry;

	(void)state;
	assert_true(take(t, "abcdefghijklmnopqrstuvwxyz@[]`{}", &l, 1, T0,
	    &retry));
	assert_false(take(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ@[]`{}", &l, 1, T0,
	    &retry));
	/* Neighbours of A-Z in ASCII, and non-ASCII bytes, are not letters. */
	assert_true(take(t, "abcdefghijklmnopqrstuvwxyz`[]@{}", &l, 1, T0,
	    &retry));
	assert_true(take(t, "\xc3\x89t\xc3\xa9@x", &l, 1, T0, &retry));
	assert_true(take(t, "\xc3\xa9t\xc3\xa9@x", &l, 1, T0, &retry));
	assert_true(take(t, "", &l, 1, T0, &retry));
	assert_false(take(t, "", &l, 1, T0, &retry));
	/* Word by word and byte by byte: 8 bytes, then 3 more. */
	assert_true(take(t, "@@@@@@@@[[[", &l, 1, T0, &retry));
	assert_true(take(t, "````````{{{", &l, 1, T0, &retry));
	assert_true(take(t, "[\\]^_[]^abc", &l, 1, T0, &retry));
	assert_true(take(t, "{|}~\x7f{}~abc", &l, 1, T0, &retry));
	assert_false(take(t, "@@@@@@@@[[[", &l, 1, T0, &retry));
	assert_int_equal(rl_count(t), 9);
	rl_table_free(t);
}

#define GROW_THREADS 4
#define GROW_NAMES 20000

static void *
inserter(void *arg)
{
	int id = (int)(intptr_t)arg, i;
	char name[64];

	for (i = 0; i < GROW_NAMES; i++) {
		snprintf(name, sizeof(name), "t%d-%d@x", id, i);
		if (!rl_charge(shared, name, RL_RECIPIENTS, &shared_lim, 1, T0,
		    RL_TAKE, NULL, NULL))
			return (void *)1;
	}
	return NULL;
}

/* Threads that add accounts while the shards grow lose none. */
static void
test_threads_growing(void **state)
{
	pthread_t th[GROW_THREADS];
	struct rl_usage u;
	char name[64];
	void *r;
	int i, j;

	(void)state;
	shared = rl_table_new(1000);
	shared_lim = lim(5, 3600);
	for (i = 0; i < GROW_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, inserter,
		    (void *)(intptr_t)i), 0);
	for (i = 0; i < GROW_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], &r), 0);
		assert_null(r);
	}
	assert_int_equal(rl_count(shared), GROW_THREADS * GROW_NAMES);
	for (i = 0; i < GROW_THREADS; i++)
		for (j = 0; j < GROW_NAMES; j += 37) {
			snprintf(name, sizeof(name), "t%d-%d@x", i, j);
			assert_int_equal(rl_usage(shared, name, RL_RECIPIENTS,
			    &shared_lim, T0, &u), 1);
			assert_int_equal(u.used, 1);
		}
	rl_table_free(shared);
}

static const struct {
	const char *spec;
	int ok, unlimited;
	uint64_t msgs, rcpts;	/* after applying over 200/1h, 1000/1d */
} specs[] = {
	{ "messages 10/1h", 1, 0, 10, 1000 },
	{ "messages 10/1h; recipients 50/1d", 1, 0, 10, 50 },
	{ "  Recipients 5/1m ;messages 1/1s ", 1, 0, 1, 5 },
	{ "unlimited", 1, 1, 200, 1000 },
	{ "UNLIMITED", 1, 1, 200, 1000 },
	{ "messages 0", 1, 0, 0, 1000 },
	{ "messages", 0, 0, 0, 0 },
	{ "letters 10/1h", 0, 0, 0, 0 },
	{ "messages 10/0s", 0, 0, 0, 0 },
	{ "messages ten/1h", 0, 0, 0, 0 },
	{ "messages 10/1h;", 0, 0, 0, 0 },
	{ "", 0, 0, 0, 0 },
	{ "messages 10/1fortnight", 0, 0, 0, 0 },
	{ "messages 10000000000000/1h", 0, 0, 0, 0 },
};

static void
test_map_specs(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(specs); i++) {
		struct acct_limits al;
		struct pc_rate m = { 200, 3600 }, r = { 1000, 86400 };
		char err[256] = "";
		int rc;

		memset(&al, 0, sizeof(al));
		al.rate[RL_MESSAGES] = m;
		al.rate[RL_RECIPIENTS] = r;
		rc = limits_parse_spec(specs[i].spec, &al, err, sizeof(err));
		if ((rc == 0) != specs[i].ok)
			fail_msg("\"%s\": rc %d (%s)", specs[i].spec, rc, err);
		if (!specs[i].ok) {
			assert_true(err[0] != '\0');
			continue;
		}
		assert_int_equal(al.unlimited, specs[i].unlimited);
		assert_int_equal(al.rate[RL_MESSAGES].count, specs[i].msgs);
		assert_int_equal(al.rate[RL_RECIPIENTS].count, specs[i].rcpts);
	}
}

static void
test_hostport(void **state)
{
	char host[64];
	unsigned port;

	(void)state;
	assert_int_equal(limits_split_hostport("127.0.0.1:9187", host,
	    sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 9187);
	assert_int_equal(limits_split_hostport("[::1]:80", host, sizeof(host),
	    &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(limits_split_hostport("127.0.0.1", host, sizeof(host),
	    &port), -1);
	assert_int_equal(limits_split_hostport("127.0.0.1:0", host,
	    sizeof(host), &port), -1);
	assert_int_equal(limits_split_hostport("127.0.0.1:70000", host,
	    sizeof(host), &port), -1);
	assert_int_equal(limits_split_hostport(":25", host, sizeof(host),
	    &port), -1);
}

/* StateFile: counters and suspensions come back; elapsed time counts. */
static void
test_state_roundtrip(void **state)
{
	struct rl_table *t = suspend_table();
	struct rl_limit l = lim(10, 3600);
	struct rl_usage u;
	char path[] = "/tmp/pc-test-state-XXXXXX", err[1024], reason[256];
	uint64_t now = rl_now(), retry;
	time_t since;
	FILE *fp;
	int fd, i;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	for (i = 0; i < 10; i++)
		assert_true(rl_charge(t, "saved@x", RL_MESSAGES, &l, 1, now,
		    RL_TAKE, &retry, NULL));
	suspend_restore("thief@x", "DistinctAddressLimit 2/1h: seen from 3",
	    (time_t)1700000000);
	assert_int_equal(state_save(path, err, sizeof(err)), 0);
	rl_reset(t, "saved@x");
	assert_int_equal(suspend_resume("thief@x"), 1);
	assert_false(suspend_is("thief@x"));

	assert_int_equal(state_load(path, err, sizeof(err)), 0);
	assert_int_equal(rl_usage(t, "saved@x", RL_MESSAGES, &l, rl_now(), &u), 1);
	assert_int_equal(u.used, 10);
	assert_false(rl_charge(t, "saved@x", RL_MESSAGES, &l, 1, rl_now(),
	    RL_CHECK, &retry, NULL));
	assert_true(suspend_is("thief@x"));
	assert_int_equal(suspend_info("thief@x", reason, sizeof(reason), &since), 1);
	assert_string_equal(reason, "DistinctAddressLimit 2/1h: seen from 3");
	assert_int_equal((long long)since, 1700000000LL);

	/* Saved an hour ago: everything has refilled. */
	rl_reset(t, "saved@x");
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "portcullis-milter-state 1\nsaved %llu\n"
	    "C old@x messages %llu 0\nC junk\n",
	    (unsigned long long)(((uint64_t)time(NULL) - 3600) * RL_NS),
	    (unsigned long long)S(1800));
	fclose(fp);
	assert_int_equal(state_load(path, err, sizeof(err)), 0);
	assert_int_equal(rl_usage(t, "old@x", RL_MESSAGES, &l, rl_now(), &u), 0);

	fp = fopen(path, "w");
	fputs("something else\n", fp);
	fclose(fp);
	assert_int_equal(state_load(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a portcullis-milter state file"));
	unlink(path);
	assert_int_equal(state_load(path, err, sizeof(err)), 0);	/* missing */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_refill_exact_boundary),
		cmocka_unit_test(test_fractional_interval),
		cmocka_unit_test(test_clock_backwards),
		cmocka_unit_test(test_huge_n),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_windows_1s_30d),
		cmocka_unit_test(test_case_and_off),
		cmocka_unit_test(test_threads_exact),
		cmocka_unit_test(test_eviction_keeps_limited),
		cmocka_unit_test(test_eviction_all_limited),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_colliding_names),
		cmocka_unit_test(test_growth_and_sweep),
		cmocka_unit_test(test_side_counters),
		cmocka_unit_test(test_case_everywhere),
		cmocka_unit_test(test_threads_growing),
		cmocka_unit_test(test_map_specs),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_state_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
