/*
 * throttle.c - failed-login throttling; see throttle.h for the policy.
 */
#include "throttle.h"

#include <stdlib.h>
#include <string.h>

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

/* FNV-1a: keys are short, and the probing bounds any collision chain. */
static size_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

static int
expired(const struct throttle *t, const struct slot *s, int64_t now)
{
	return s->last != 0 && now - s->last >= (int64_t)t->p.forget_after &&
	    now >= s->until;
}

/* The key's slot, or NULL; keys longer than the slot are cut (still unique enough). */
static struct slot *
find(struct throttle *t, const char *key, int64_t now, int create)
{
	size_t h = hash(key), i;
	struct slot *s, *victim = NULL;

	for (i = 0; i < PROBES; i++) {
		s = &t->v[(h + i) % t->n];
		if (s->last != 0 && expired(t, s, now))
			memset(s, 0, sizeof(*s));
		if (s->last != 0 && strncmp(s->key, key, sizeof(s->key) - 1) == 0)
			return s;
		if (victim == NULL || s->last < victim->last)
			victim = s;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	pc_strlcpy(victim->key, key, sizeof(victim->key));
	return victim;
}

unsigned
throttle_wait(struct throttle *t, const char *key, int64_t now)
{
	struct slot *s = find(t, key, now, 0);

	if (s == NULL || now >= s->until)
		return 0;
	return (unsigned)(s->until - now);
}

void
throttle_failure(struct throttle *t, const char *key, int64_t now)
{
	struct slot *s = find(t, key, now, 1);
	unsigned over, delay;

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
throttle_success(struct throttle *t, const char *key)
{
	struct slot *s = find(t, key, 0, 0);

	if (s != NULL)
		memset(s, 0, sizeof(*s));
}
