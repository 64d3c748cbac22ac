/*
 * http_session.c - the pages' login sessions: a bounded in-memory table
 * of random session ids, each with its own CSRF token and an idle
 * timeout.  Sessions live in the HTTP server's memory, used under its
 * state lock (a handler that lets go of it works on a copy of its
 * session), and a restart logs everybody out, which is acceptable for a
 * page used once a quarter.
 */
#include "http.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "util.h"

#define IDLE_SECONDS (30 * 60)

struct http_sessions {
	struct http_session *v;
	size_t n;
};

struct http_sessions *
http_sessions_new(size_t max)
{
	struct http_sessions *s = xcalloc(1, sizeof(*s));

	s->n = max > 0 ? max : 1;
	s->v = xcalloc(s->n, sizeof(*s->v));
	return s;
}

void
http_sessions_free(struct http_sessions *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s->v, s->n * sizeof(*s->v));
	free(s->v);
	free(s);
}

struct http_session *
http_session_create(struct http_sessions *s, const char *account, int64_t now)
{
	struct http_session *e, *victim = &s->v[0];
	size_t i;

	/* A free or timed-out slot, else the one closest to timing out. */
	for (i = 0; i < s->n; i++) {
		e = &s->v[i];
		if (e->id[0] == '\0' || e->expires <= now) {
			victim = e;
			break;
		}
		if (e->expires < victim->expires)
			victim = e;
	}
	memset(victim, 0, sizeof(*victim));
	http_random_hex(victim->id, sizeof(victim->id));
	http_random_hex(victim->csrf, sizeof(victim->csrf));
	pc_strlcpy(victim->account, account, sizeof(victim->account));
	victim->expires = now + IDLE_SECONDS;
	return victim;
}

struct http_session *
http_session_find(struct http_sessions *s, const char *id, int64_t now)
{
	size_t i;

	if (id == NULL || strlen(id) != 64)
		return NULL;
	for (i = 0; i < s->n; i++) {
		struct http_session *e = &s->v[i];

		if (e->id[0] == '\0' || CRYPTO_memcmp(e->id, id, 64) != 0)
			continue;
		if (e->expires <= now) {
			memset(e, 0, sizeof(*e));
			return NULL;
		}
		e->expires = now + IDLE_SECONDS;
		return e;
	}
	return NULL;
}

void
http_session_drop(struct http_sessions *s, const char *id)
{
	size_t i;

	if (id == NULL)
		return;
	for (i = 0; i < s->n; i++)
		if (s->v[i].id[0] != '\0' && strcmp(s->v[i].id, id) == 0)
			memset(&s->v[i], 0, sizeof(s->v[i]));
}
