/*
 * test_ratelimit.c - the limiter's arithmetic (burst, refill, exact
 * boundaries, a clock that goes backwards, huge counts, overflow, windows
 * of 1s and 30d), its table (threads, case, eviction), RateLimitMap
 * values, and StateFile round trips.  Every call passes "now" itself, so
 * nothing here depends on the speed of the machine.
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
		cmocka_unit_test(test_map_specs),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_state_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
