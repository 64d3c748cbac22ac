/*
 * rlredis_parse.c - the parts of RateLimitBackend redis that do no I/O:
 * the URL, the key encoding, the exact increment handed to the script,
 * and the reading of its answers (error answers too, for rlredis.c).
 * Kept apart from the connections (rlredis.c) so the unit tests drive
 * them with hand-made answers, including the shapes a wrong server would
 * send.
 */
#include "rlredis_int.h"

#include <ctype.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* Below 2^53 with room for the TAT: 2^50 us is about 35 years. */
#define INC_MAX ((uint64_t)1 << 50)

/* ---- URL ------------------------------------------------------------ */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* %XX-decodes s[0..n) into dst; -1 when it does not fit or is malformed. */
static int
pct_decode(const char *s, size_t n, char *dst, size_t dlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= n || (h = hexval(s[i + 1])) < 0 ||
			    (l = hexval(s[i + 2])) < 0 || (h == 0 && l == 0))
				return -1;
			c = h * 16 + l;
			i += 2;
		}
		if (o + 1 >= dlen)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

static int
host_ok(const char *h)
{
	for (; *h != '\0'; h++)
		if (!isalnum((unsigned char)*h) && *h != '.' && *h != '-' &&
		    *h != '_')
			return 0;
	return 1;
}

int
rlredis_parse_url(const char *url, struct rlredis_target *t, char *err,
    size_t errlen)
{
	const char *p, *auth_end, *hs, *he, *slash;
	unsigned long v;
	char *end, num[16];

	memset(t, 0, sizeof(*t));
	t->port = RLREDIS_DEFAULT_PORT;
	if (strncasecmp(url, "redis://", 8) != 0)
		return pc_err(err, errlen, "not memory or redis://HOST:PORT/DB "
		    "(TLS, unix sockets and Redis Cluster are not supported)");
	p = url + 8;
	slash = strchr(p, '/');
	auth_end = memchr(p, '@', slash != NULL ? (size_t)(slash - p) :
	    strlen(p));
	if (auth_end != NULL) {
		/* The last '@' before the path ends the user information. */
		const char *q, *colon;

		for (q = auth_end; q < (slash != NULL ? slash : p + strlen(p)); q++)
			if (*q == '@')
				auth_end = q;
		colon = memchr(p, ':', (size_t)(auth_end - p));
		if (colon == NULL || colon + 1 == auth_end)
			return pc_err(err, errlen, "redis URL: the user "
			    "information must be [USER]:PASSWORD@");
		if (pct_decode(p, (size_t)(colon - p), t->user,
		    sizeof(t->user)) < 0 ||
		    pct_decode(colon + 1, (size_t)(auth_end - colon - 1),
		    t->password, sizeof(t->password)) < 0)
			return pc_err(err, errlen, "redis URL: bad or too long "
			    "user or password");
		p = auth_end + 1;
	}
	if (*p == '[') {
		hs = p + 1;
		if ((he = strchr(hs, ']')) == NULL)
			return pc_err(err, errlen, "redis URL: no ']' after the "
			    "IPv6 address");
		p = he + 1;
	} else {
		hs = p;
		he = p + strcspn(p, ":/");
		p = he;
	}
	if (he == hs || (size_t)(he - hs) >= sizeof(t->host))
		return pc_err(err, errlen, "redis URL: no host, or a host name "
		    "that is too long");
	memcpy(t->host, hs, (size_t)(he - hs));
	t->host[he - hs] = '\0';
	if (hs[-1] == '[' ? strchr(t->host, ':') == NULL ||
	    strspn(t->host, "0123456789abcdefABCDEF:.") != strlen(t->host) :
	    !host_ok(t->host))
		return pc_err(err, errlen, "redis URL: \"%.64s\" is not a host "
		    "name or address", t->host);
	if (*p == ':') {
		p++;
		if (!isdigit((unsigned char)*p))
			return pc_err(err, errlen, "redis URL: the port must be "
			    "a number 1-65535");
		v = strtoul(p, &end, 10);
		if (v == 0 || v > 65535 || end - p > 5 ||
		    (*end != '\0' && *end != '/'))
			return pc_err(err, errlen, "redis URL: the port must be "
			    "a number 1-65535");
		t->port = (unsigned)v;
		p = end;
	}
	if (*p == '/' && p[1] != '\0') {
		p++;
		v = strtoul(p, &end, 10);
		if (!isdigit((unsigned char)*p) || *end != '\0' || end - p > 3 ||
		    v > RLREDIS_DB_MAX)
			return pc_err(err, errlen, "redis URL: the database must "
			    "be a number 0-%d", RLREDIS_DB_MAX);
		t->db = (unsigned)v;
		p = end;
	} else if (*p == '/') {
		p++;
	}
	if (*p != '\0')
		return pc_err(err, errlen, "redis URL: unexpected \"%.64s\" after "
		    "the host", p);
	snprintf(num, sizeof(num), "%u", t->port);
	snprintf(t->display, sizeof(t->display), "redis://%s%s%s:%s/%u",
	    hs[-1] == '[' ? "[" : "", t->host, hs[-1] == '[' ? "]" : "", num,
	    t->db);
	return 0;
}

int
rlredis_same(const struct rlredis_target *a, const struct rlredis_target *b)
{
	return a->port == b->port && a->db == b->db &&
	    strcmp(a->host, b->host) == 0 && strcmp(a->user, b->user) == 0 &&
	    strcmp(a->password, b->password) == 0;
}

void
rlredis_key(char *buf, size_t len, const char *prefix, const char *account)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = pc_strlcpy(buf, prefix, len);
	const unsigned char *p;

	if (o >= len)
		return;
	for (p = (const unsigned char *)account; *p != '\0'; p++) {
		unsigned c = *p >= 'A' && *p <= 'Z' ? *p + 32u : *p;
		int plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    strchr("@._+=-", (int)c) != NULL;

		if (plain) {
			if (o + 1 >= len)
				break;
			buf[o++] = (char)c;
		} else {
			if (o + 3 >= len)
				break;
			buf[o++] = '%';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	buf[o] = '\0';
}

void
rlredis_increment(const struct rl_limit *l, uint64_t cost, uint64_t *inc,
    uint64_t *frac)
{
	unsigned __int128 p;
	uint64_t w = l->window_ns / 1000;

	*inc = *frac = 0;
	if (l->count == 0)
		return;
	p = (unsigned __int128)cost * w;
	*frac = (uint64_t)(p % l->count);
	p /= l->count;
	if (p > INC_MAX) {
		p = INC_MAX;
		*frac = 0;
	}
	*inc = (uint64_t)p;
}

const char *
rlredis_reply_error(const redisReply *r)
{
	if (r == NULL)
		return "no answer";
	return r->type == REDIS_REPLY_ERROR ? r->str : NULL;
}

/* ---- reading answers ----------------------------------------------- */

static int
int_at(const redisReply *r, size_t i, long long *v)
{
	if (r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
	    r->element[i]->type != REDIS_REPLY_INTEGER ||
	    r->element[i]->integer < 0)
		return -1;
	*v = r->element[i]->integer;
	return 0;
}

int
rlredis_read_suspension(const char *value, size_t len, time_t *since,
    char *reason, size_t rlen)
{
	long long s = 0;
	size_t i = 0, n;

	for (; i < len && isdigit((unsigned char)value[i]) && i < 19; i++)
		s = s * 10 + (value[i] - '0');
	if (i == 0 || (i < len && value[i] != ' '))
		return -1;
	if (i < len)
		i++;
	*since = (time_t)s;
	if (rlen > 0) {
		n = len - i < rlen - 1 ? len - i : rlen - 1;
		memcpy(reason, value + i, n);
		reason[n] = '\0';
	}
	return 0;
}

int
rlredis_read_charge(const redisReply *r, struct rlredis_charge *out,
    char *err, size_t errlen)
{
	long long ok, retry;
	const redisReply *s;

	memset(out, 0, sizeof(*out));
	if (rlredis_reply_error(r) != NULL)
		return pc_err(err, errlen, "%s", rlredis_reply_error(r));
	if (int_at(r, 0, &ok) < 0 || int_at(r, 1, &retry) < 0 ||
	    r->elements != 3 || ok > 1)
		return pc_err(err, errlen, "odd answer to the charge script");
	out->ok = (int)ok;
	out->retry_ns = (uint64_t)retry * 1000;
	s = r->element[2];
	if (s->type == REDIS_REPLY_STRING) {
		out->suspended = 1;
		if (rlredis_read_suspension(s->str, s->len, &out->since,
		    out->reason, sizeof(out->reason)) < 0) {
			out->since = 0;
			pc_strlcpy(out->reason, "suspended", sizeof(out->reason));
		}
	} else if (s->type != REDIS_REPLY_NIL) {
		return pc_err(err, errlen, "odd answer to the charge script");
	}
	return 0;
}

int
rlredis_read_hit(const redisReply *r, int *first, int *over, char *err,
    size_t errlen)
{
	long long f, o;

	if (rlredis_reply_error(r) != NULL)
		return pc_err(err, errlen, "%s", rlredis_reply_error(r));
	if (int_at(r, 0, &f) < 0 || int_at(r, 1, &o) < 0 || r->elements != 2 ||
	    f > 1 || o > 1)
		return pc_err(err, errlen, "odd answer to the hit script");
	*first = (int)f;
	*over = (int)o;
	return 0;
}

int
rlredis_read_usage(const redisReply *r, const struct rl_limit *lim,
    int *known, struct rl_usage *u, char *err, size_t errlen)
{
	long long k, owed, frac;

	memset(u, 0, sizeof(*u));
	if (rlredis_reply_error(r) != NULL)
		return pc_err(err, errlen, "%s", rlredis_reply_error(r));
	if (int_at(r, 0, &k) < 0 || int_at(r, 1, &owed) < 0 ||
	    int_at(r, 2, &frac) < 0 || r->elements != 3 || k > 1)
		return pc_err(err, errlen, "odd answer to the usage script");
	*known = (int)k;
	if (owed > 0 || frac > 0) {
		uint64_t w = lim->window_ns / 1000;

		u->refill_ns = ((uint64_t)owed + (frac != 0)) * 1000;
		if (lim->count != 0 && w != 0) {
			unsigned __int128 n = (unsigned __int128)(uint64_t)owed *
			    lim->count + ((uint64_t)frac < lim->count ?
			    (uint64_t)frac : 0);
			unsigned __int128 q = (n + w - 1) / w;

			u->used = q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
		}
	}
	return 0;
}

int
rlredis_read_integer(const redisReply *r, long long *v, char *err,
    size_t errlen)
{
	if (rlredis_reply_error(r) != NULL)
		return pc_err(err, errlen, "%s", rlredis_reply_error(r));
	if (r->type != REDIS_REPLY_INTEGER)
		return pc_err(err, errlen, "odd answer: not an integer");
	*v = r->integer;
	return 0;
}
