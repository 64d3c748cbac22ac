/*
 * throttle.h - failed-login throttling for portcullisd, per account and
 * per client address (the caller builds the keys).  A key may fail a few
 * times for free; after that each failure doubles the wait, up to a cap,
 * and a key that has not failed for a while is forgotten.
 *
 * Memory is bounded: a fixed table of slots, each key probing a few of
 * them, placed by a hash under a random per-table key (so nobody can
 * make up accounts that land on a victim's slots).  When those slots are
 * full, the one that failed least recently is reused, but never one
 * that is locked out now: a flood of other keys cannot free a locked-out
 * account.  When all of a key's slots are locked out, its failures go to
 * one shared overflow slot, which throttles all such keys together.  The
 * clock is passed in, so the unit test drives it.  Not thread-safe: the
 * caller serialises.
 */
#ifndef PC_THROTTLE_H
#define PC_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#define THROTTLE_KEY_MAX 128

struct throttle_policy {
	unsigned free_failures;	/* failures before any wait */
	unsigned base_delay;	/* seconds after the first failure beyond */
	unsigned max_delay;	/* cap, seconds */
	unsigned forget_after;	/* seconds without a failure */
};

struct throttle;

struct throttle *throttle_new(size_t slots, const struct throttle_policy *p);
void throttle_free(struct throttle *t);
/* Seconds key must still wait at now; 0 means it may try. */
unsigned throttle_wait(struct throttle *t, const char *key, int64_t now);
void throttle_failure(struct throttle *t, const char *key, int64_t now);
/* A success forgets the key's failures. */
void throttle_success(struct throttle *t, const char *key);

#endif
