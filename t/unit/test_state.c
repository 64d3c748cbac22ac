/*
 * test_state.c - StateFile under concurrent saves: a save that took its
 * snapshot before a suspension must not replace the file a later save
 * wrote with that suspension in it (the timer racing "portcullisctl
 * milter suspend").
 *
 * The interleaving is forced, not hoped for: the test links with
 * -Wl,--wrap=suspend_foreach, so the first save stops right after its
 * snapshot (suspend_foreach is the snapshot's last step) until the test
 * lets it go.  Meanwhile an account is suspended and a second save runs.
 * When the snapshot is taken under the save lock, the second save waits
 * for the first and the file ends with the suspension; when it is taken
 * before the lock, the second save finishes first and the first one
 * renames its older snapshot over it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "state.h"
#include "suspend.h"

/* How long the second save gets to finish while the first is held. */
#define SECOND_SAVE_MS 500

void __real_suspend_foreach(void (*fn)(const char *, const char *, time_t,
    void *), void *arg);
void __wrap_suspend_foreach(void (*fn)(const char *, const char *, time_t,
    void *), void *arg);

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int snapshot_taken, released, second_done;
static _Thread_local int hold_here;
static char path[PATH_MAX];

void
__wrap_suspend_foreach(void (*fn)(const char *, const char *, time_t, void *),
    void *arg)
{
	__real_suspend_foreach(fn, arg);
	if (!hold_here)
		return;
	pthread_mutex_lock(&mu);
	snapshot_taken = 1;
	pthread_cond_broadcast(&cv);
	while (!released)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

/* Waits until *flag is set or ms pass; returns the flag. */
static int
wait_for(int *flag, long ms)
{
	struct timespec until;
	int v;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&mu);
	while (!*flag && pthread_cond_timedwait(&cv, &mu, &until) != ETIMEDOUT)
		;
	v = *flag;
	pthread_mutex_unlock(&mu);
	return v;
}

static void *
first_save(void *arg)
{
	char err[1024];

	hold_here = 1;
	*(int *)arg = state_save(path, err, sizeof(err));
	return NULL;
}

static void *
second_save(void *arg)
{
	char err[1024];

	*(int *)arg = state_save(path, err, sizeof(err));
	pthread_mutex_lock(&mu);
	second_done = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void
test_older_snapshot_never_wins(void **state)
{
	char dir[] = "/tmp/pc-test-state-XXXXXX", err[1024];
	pthread_t a, b;
	int rc_a = -1, rc_b = -1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);

	assert_int_equal(pthread_create(&a, NULL, first_save, &rc_a), 0);
	assert_true(wait_for(&snapshot_taken, 10000));
	suspend_restore("late@x", "suspended during an older save",
	    (time_t)1700000001);
	assert_int_equal(pthread_create(&b, NULL, second_save, &rc_b), 0);
	/* Done at once when it does not wait for the first save's lock. */
	(void)wait_for(&second_done, SECOND_SAVE_MS);
	pthread_mutex_lock(&mu);
	released = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	assert_int_equal(rc_a, 0);
	assert_int_equal(rc_b, 0);

	/* What a restart would read. */
	assert_int_equal(suspend_resume("late@x"), 1);
	assert_int_equal(state_load(path, err, sizeof(err)), 0);
	assert_true(suspend_is("late@x"));

	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_older_snapshot_never_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
