/*
 * throttle.c - failed-login throttling; see throttle.h for the policy.
 */
#include "throttle.h"

#include <stdlib.h>
#include <string.h>

#include "siphash.h"
#include "util.h"

#define PROBES 8

struct slot {
	char key[THROTTLE_KEY_MAX];
	unsigned failures;
	int64_t last;		/* time of the last failure; 0 = free slot */
	int64_t until;		/* no attempt before this time */
};

struct throttle {
	struct slot *v;
	size_t n;
	struct throttle_policy p;
	struct pc_sipkey key;	/* the hash key, random per table */
	/*
	 * Failures of keys whose every probe slot holds a key that is locked
	 * out: they share this slot, so a table filled with locked-out keys
	 * still throttles newcomers (together) instead of forgetting them.
	 */
	struct slot overflow;
};

struct throttle *
throttle_new(size_t slots, const struct throttle_policy *p)
{
	struct throttle *t = xcalloc(1, sizeof(*t));

	t->n = slots < PROBES ? PROBES : slots;
	t->v = xcalloc(t->n, sizeof(*t->v));
	t->p = *p;
	if (t->p.base_delay == 0)	/* keeps the doubling loop short */
		t->p.base_delay = 1;
	if (t->p.max_delay < t->p.base_delay)
		t->p.max_delay = t->p.base_delay;
	pc_sipkey_random(&t->key);
	return t;
}

void
throttle_free(struct throttle *t)
{
	if (t == NULL)
		return;
	free(t->v);
	free(t);
}

/*
 * SipHash-2-4 (Aumasson and Bernstein) under the table's random key:
 * which keys share probe slots cannot be worked out from outside, so
 * made-up accounts cannot be aimed at a victim's slots.  Keys are cut at
 * the slot's size, as they are stored.
 */
static size_t
hash(const struct throttle *t, const char *s)
{
	return (size_t)pc_siphash(&t->key, s,
	    strnlen(s, THROTTLE_KEY_MAX - 1), 2, 4);
}

static int
expired(const struct throttle *t, const struct slot *s, int64_t now)
{
	return s->last != 0 && now - s->last >= (int64_t)t->p.forget_after &&
	    now >= s->until;
}

static int
locked(const struct slot *s, int64_t now)
{
	return s->last != 0 && now < s->until;
}

/*
 * The key's slot.  Without one, create picks a free slot, else the slot
 * that failed least recently among those not locked out: a key that is
 * locked out is never evicted, whatever floods the table.  When every
 * probe slot is locked out, *full is set and NULL returned.
 */
static struct slot *
find(struct throttle *t, const char *key, int64_t now, int create, int *full)
{
	size_t h = hash(t, key), i;
	struct slot *s, *victim = NULL;

	*full = 0;
	for (i = 0; i < PROBES; i++) {
		s = &t->v[(h + i) % t->n];
		if (s->last != 0 && expired(t, s, now))
			memset(s, 0, sizeof(*s));
		if (s->last != 0 && strncmp(s->key, key, sizeof(s->key) - 1) == 0)
			return s;
		if (locked(s, now))
			continue;
		if (victim == NULL || s->last < victim->last)
			victim = s;
	}
	if (victim == NULL) {
		*full = 1;
		return NULL;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	pc_strlcpy(victim->key, key, sizeof(victim->key));
	return victim;
}

static unsigned
wait_of(const struct slot *s, int64_t now)
{
	return now >= s->until ? 0 : (unsigned)(s->until - now);
}

unsigned
throttle_wait(struct throttle *t, const char *key, int64_t now)
{
	int full;
	struct slot *s = find(t, key, now, 0, &full);

	if (s != NULL)
		return wait_of(s, now);
	return full ? wait_of(&t->overflow, now) : 0;
}

static void
charge(struct throttle *t, struct slot *s, int64_t now)
{
	unsigned over, delay;

	if (s->last != 0 && now - s->last >= (int64_t)t->p.forget_after &&
	    now >= s->until)
		s->failures = 0;	/* the overflow slot forgets too */
	s->failures++;
	s->last = now > 0 ? now : 1;
	if (s->failures <= t->p.free_failures)
		return;
	over = s->failures - t->p.free_failures - 1;
	delay = t->p.base_delay;
	while (over-- > 0 && delay < t->p.max_delay)
		delay *= 2;
	if (delay > t->p.max_delay)
		delay = t->p.max_delay;
	s->until = now + delay;
}

void
throttle_failure(struct throttle *t, const char *key, int64_t now)
{
	int full;
	struct slot *s = find(t, key, now, 1, &full);

	charge(t, s != NULL ? s : &t->overflow, now);
}

void
throttle_success(struct throttle *t, const char *key)
{
	int full;
	struct slot *s = find(t, key, 0, 0, &full);

	if (s != NULL)
		memset(s, 0, sizeof(*s));
}
