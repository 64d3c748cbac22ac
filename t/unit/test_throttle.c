/*
 * test_throttle.c - the failed-login throttle: free failures, doubling
 * waits up to the cap, forgetting, success resets, keys kept apart, and
 * a flood of keys that cannot grow memory or evict by collision alone,
 * and never frees a key that is locked out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "throttle.h"

static const struct throttle_policy pol = { 3, 2, 60, 600 };

static void
test_free_then_doubling(void **state)
{
	struct throttle *t = throttle_new(64, &pol);
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_int_equal(throttle_wait(t, "acct:a", 1000), 0);
		throttle_failure(t, "acct:a", 1000);
	}
	assert_int_equal(throttle_wait(t, "acct:a", 1000), 0);
	throttle_failure(t, "acct:a", 1000);		/* 4th: 2 s */
	assert_int_equal(throttle_wait(t, "acct:a", 1000), 2);
	assert_int_equal(throttle_wait(t, "acct:a", 1001), 1);
	assert_int_equal(throttle_wait(t, "acct:a", 1002), 0);
	throttle_failure(t, "acct:a", 1002);		/* 5th: 4 s */
	assert_int_equal(throttle_wait(t, "acct:a", 1002), 4);
	for (i = 0; i < 50; i++)
		throttle_failure(t, "acct:a", 2000);	/* capped */
	assert_int_equal(throttle_wait(t, "acct:a", 2000), 60);
	assert_int_equal(throttle_wait(t, "acct:b", 2000), 0);
	throttle_free(t);
}

static void
test_success_and_forget(void **state)
{
	struct throttle *t = throttle_new(64, &pol);
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		throttle_failure(t, "k", 100);
	assert_true(throttle_wait(t, "k", 100) > 0);
	throttle_success(t, "k");
	assert_int_equal(throttle_wait(t, "k", 100), 0);
	for (i = 0; i < 5; i++)
		throttle_failure(t, "k", 100);
	/* Long after the last failure the key starts over. */
	assert_int_equal(throttle_wait(t, "k", 100 + 600), 0);
	throttle_failure(t, "k", 100 + 600);
	assert_int_equal(throttle_wait(t, "k", 100 + 600), 0);
	throttle_free(t);
}

static void
test_bounded_flood(void **state)
{
	struct throttle *t = throttle_new(16, &pol);
	char key[64];
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		throttle_failure(t, "victim", 10);
	/* 100000 made-up keys: memory is fixed, and nothing crashes. */
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "acct:flood%d", i);
		throttle_failure(t, key, 11);
	}
	assert_int_equal(throttle_wait(t, "acct:flood99999", 11), 0);
	/* A key longer than a slot is still throttled. */
	for (i = 0; i < 10; i++)
		throttle_failure(t, "acct:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 20);
	assert_true(throttle_wait(t, "acct:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 20) > 0);
	assert_int_equal(throttle_wait(t, "", 20), 0);
	throttle_free(t);
}

/*
 * A locked-out account stays locked out whatever else fails: floods of
 * other keys, failing once or locking themselves out too, never evict it,
 * at any table size.  Keys that find no free slot are still throttled.
 */
static void
test_lockout_survives_flood(void **state)
{
	static const size_t sizes[] = { 8, 16, 64, 4096 };
	struct throttle *t;
	char key[64];
	size_t z;
	int i, j;

	(void)state;
	for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		t = throttle_new(sizes[z], &pol);
		for (i = 0; i < 6; i++)
			throttle_failure(t, "acct:victim@test.example", 100);
		assert_int_equal(throttle_wait(t, "acct:victim@test.example",
		    100), 8);
		/* One failure each from 200000 other accounts. */
		for (i = 0; i < 200000; i++) {
			snprintf(key, sizeof(key), "acct:flood%d", i);
			throttle_failure(t, key, 101);
		}
		assert_int_equal(throttle_wait(t, "acct:victim@test.example",
		    101), 7);
		/* Thousands of accounts locked out as well. */
		for (i = 0; i < 3000; i++) {
			snprintf(key, sizeof(key), "acct:lock%d", i);
			for (j = 0; j < 5; j++)
				throttle_failure(t, key, 102);
		}
		assert_int_equal(throttle_wait(t, "acct:victim@test.example",
		    102), 6);
		/* A success of the victim is what frees it. */
		throttle_success(t, "acct:victim@test.example");
		assert_int_equal(throttle_wait(t, "acct:victim@test.example",
		    102), 0);
		throttle_free(t);
	}
	/* A full table of locked-out keys still throttles a newcomer. */
	t = throttle_new(8, &pol);
	for (i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "acct:full%d", i);
		for (j = 0; j < 10; j++)
			throttle_failure(t, key, 200);
	}
	for (i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "acct:full%d", i);
		assert_int_equal(throttle_wait(t, key, 200), 60);
	}
	assert_int_equal(throttle_wait(t, "acct:new", 200), 0);
	for (j = 0; j < 4; j++)
		throttle_failure(t, "acct:new", 200);
	assert_true(throttle_wait(t, "acct:new", 200) > 0);
	/* Long after, everything is forgotten and the table is free again. */
	assert_int_equal(throttle_wait(t, "acct:new", 200 + 600), 0);
	throttle_failure(t, "acct:new", 200 + 600);
	assert_int_equal(throttle_wait(t, "acct:new", 200 + 600), 0);
	throttle_free(t);
}

static void
test_zero_policy(void **state)
{
	static const struct throttle_policy z = { 0, 0, 0, 0 };
	struct throttle *t = throttle_new(0, &z);

	(void)state;
	throttle_failure(t, "x", 5);
	assert_int_equal(throttle_wait(t, "x", 5), 1);	/* never 0 s waits */
	throttle_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_then_doubling),
		cmocka_unit_test(test_success_and_forget),
		cmocka_unit_test(test_bounded_flood),
		cmocka_unit_test(test_lockout_survives_flood),
		cmocka_unit_test(test_zero_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
