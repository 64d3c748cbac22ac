/*
 * throttle.h - failed-login throttling for portcullisd, per account and
 * per client address (the caller builds the keys).  A key may fail a few
 * times for free; after that each failure doubles the wait, up to a cap,
 * and a key that has not failed for a while is forgotten.
 *
 * Memory is bounded: a fixed table of slots, each key probing a few of
 * them; when those are full, the slot used least recently is reused, so
 * a flood of made-up accounts costs the attacker's own keys first.  The
 * clock is passed in, so the unit test drives it.  Not thread-safe: one
 * table per thread.
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
