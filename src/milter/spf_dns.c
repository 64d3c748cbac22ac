/*
 * spf_dns.c - the screening DNS layer under libspf2 (see spf_dns.h for
 * why), and the per-evaluation budget it shares with the resolver.
 *
 * The screen sits directly under libspf2.  It counts and times every
 * lookup of one evaluation, checks every TXT string against the macro
 * grammar and every host name against the LDH rules, and turns anything
 * it refuses into a permerror (an SPF record) or drops it (anything
 * else).  Below it is portcullis' stub resolver (spf_resolver.c) or, in
 * tests, libspf2's in-memory zone.
 */
#include "spf_dns.h"

#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf.h"
#include "util.h"

void
spf_budget_start(struct spf_budget *b, unsigned ms)
{
	memset(b, 0, sizeof(*b));
	clock_gettime(CLOCK_MONOTONIC, &b->deadline);
	b->deadline.tv_sec += ms / 1000;
	b->deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (b->deadline.tv_nsec >= 1000000000L) {
		b->deadline.tv_sec++;
		b->deadline.tv_nsec -= 1000000000L;
	}
	b->min_ttl = UINT32_MAX;
}

int
spf_budget_remaining_ms(const struct spf_budget *b)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(b->deadline.tv_sec - now.tv_sec) * 1000 +
	    (b->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms <= 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

static void
budget_abort(struct spf_budget *b, int result, const char *why)
{
	if (b->abort != 0)
		return;
	b->abort = result;
	pc_strlcpy(b->why, why, sizeof(b->why));
}

/* ---- the screen ---- */

int
spf_screen_txt(const char *txt, size_t len, int spf, int *uses_local,
    char *why, size_t whylen)
{
	size_t i, macros = 0;

	if (spf && len > SPF_SCREEN_LEN_MAX)
		return pc_err(why, whylen, "SPF record longer than %d bytes",
		    SPF_SCREEN_LEN_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)txt[i];
		size_t digits = 0, delims = 0;
		unsigned value = 0;
		int letter;

		if (c < 0x20 || c > 0x7e)
			return pc_err(why, whylen, "control or non-ASCII byte "
			    "at offset %zu", i);
		if (c != '%')
			continue;
		if (++macros > SPF_SCREEN_MACROS_MAX)
			return pc_err(why, whylen, "more than %d macros",
			    SPF_SCREEN_MACROS_MAX);
		if (i + 1 >= len)
			return pc_err(why, whylen, "'%%' at the end");
		c = (unsigned char)txt[++i];
		if (c == '%' || c == '_' || c == '-')
			continue;
		if (c != '{')
			return pc_err(why, whylen, "'%%' not followed by {, %%, "
			    "_ or - at offset %zu", i);
		if (++i >= len)
			return pc_err(why, whylen, "unterminated macro");
		letter = tolower((unsigned char)txt[i]);
		if (strchr(spf ? "slodiphv" : "slodiphcrtv", letter) == NULL ||
		    letter == '\0')
			return pc_err(why, whylen, "unknown macro letter at "
			    "offset %zu", i);
		if (letter == 'l' || letter == 's')
			*uses_local = 1;
		i++;
		while (i < len && isdigit((unsigned char)txt[i])) {
			if (digits == 0 && txt[i] == '0')
				return pc_err(why, whylen, "macro digit count "
				    "0 or with a leading zero");
			value = value * 10 + (unsigned)(txt[i] - '0');
			if (++digits > 3 || value > SPF_SCREEN_DIGITS_MAX)
				return pc_err(why, whylen, "macro digit count "
				    "above %d", SPF_SCREEN_DIGITS_MAX);
			i++;
		}
		if (i < len && (txt[i] == 'r' || txt[i] == 'R'))
			i++;
		while (i < len && strchr(".-+,/_=", txt[i]) != NULL &&
		    txt[i] != '\0') {
			if (++delims > 7)
				return pc_err(why, whylen, "too many macro "
				    "delimiters");
			i++;
		}
		if (i >= len || txt[i] != '}')
			return pc_err(why, whylen, "malformed macro at offset "
			    "%zu", i);
	}
	return 0;
}

/* An LDH host name (underscores allowed: they occur in real zones). */
static int
name_ok(const char *s)
{
	size_t i, label = 0, n = strlen(s);

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 && i + 1 != n)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

static int
is_spf_record(const char *t)
{
	return strncasecmp(t, "v=spf1", 6) == 0 && (t[6] == ' ' || t[6] == '\0');
}

/* Removes answer i, keeping each buffer with its recorded size. */
static void
drop_rr(SPF_dns_rr_t *rr, int i)
{
	int last = rr->num_rr - 1;
	SPF_dns_rr_data_t *d = rr->rr[i];
	size_t l = rr->rr_buf_len[i];

	rr->rr[i] = rr->rr[last];
	rr->rr_buf_len[i] = rr->rr_buf_len[last];
	rr->rr[last] = d;
	rr->rr_buf_len[last] = l;
	rr->num_rr--;
}

static void
screen_answer(SPF_dns_server_t *d, SPF_dns_rr_t *rr, struct spf_budget *b)
{
	static const char refused[] = "v=spf1 ?all";
	char why[128];
	int i;

	(void)d;
	for (i = 0; i < rr->num_rr; i++) {
		if (rr->rr_type == ns_t_txt) {
			const char *t = rr->rr[i]->txt;
			int spf = is_spf_record(t), local = 0;

			if (spf_screen_txt(t, strlen(t), spf, &local, why,
			    sizeof(why)) == 0) {
				if (spf && local)
					b->sender_dependent = 1;
				continue;
			}
			if (spf) {
				char msg[160];
				int n = snprintf(msg, sizeof(msg), "SPF record of "
				    "%.60s refused: ", rr->domain);

				if (n > 0 && (size_t)n < sizeof(msg))
					pc_strlcpy(msg + n, why, sizeof(msg) - (size_t)n);
				budget_abort(b, SPFR_PERMERROR, msg);
				if (SPF_dns_rr_buf_realloc(rr, i, sizeof(refused))
				    == SPF_E_SUCCESS)
					memcpy(rr->rr[i]->txt, refused,
					    sizeof(refused));
				continue;
			}
			drop_rr(rr, i--);
		} else if (rr->rr_type == ns_t_mx || rr->rr_type == ns_t_ptr) {
			if (!name_ok(rr->rr[i]->mx))
				drop_rr(rr, i--);
		}
	}
}

struct screen {
	struct spf_budget *b;
};

static SPF_dns_rr_t *
screen_lookup(SPF_dns_server_t *d, const char *domain, ns_type type,
    int should_cache)
{
	struct spf_budget *b = ((struct screen *)d->hook)->b;
	SPF_dns_rr_t *rr;

	if (b->abort == 0 && spf_budget_remaining_ms(b) == 0)
		budget_abort(b, SPFR_TEMPERROR, "SPF time budget exhausted");
	if (b->abort == 0 && ++b->queries > SPF_QUERIES_MAX)
		budget_abort(b, SPFR_PERMERROR, "too many DNS lookups");
	if (b->abort != 0)
		return SPF_dns_rr_new_init(d, domain, type, 0, TRY_AGAIN);
	rr = SPF_dns_lookup(d->layer_below, domain, type, should_cache);
	if (rr == NULL)
		return SPF_dns_rr_new_init(d, domain, type, 0, TRY_AGAIN);
	if (rr->herrno == NETDB_SUCCESS)
		screen_answer(d, rr, b);
	if (rr->herrno == TRY_AGAIN) {
		b->dns_errors++;
		/* The resolver gave up at the deadline: say so. */
		if (spf_budget_remaining_ms(b) == 0)
			budget_abort(b, SPFR_TEMPERROR,
			    "SPF time budget exhausted");
		return rr;
	}
	if (rr->ttl >= 0 && (uint32_t)rr->ttl < b->min_ttl)
		b->min_ttl = (uint32_t)rr->ttl;
	if ((rr->herrno != NETDB_SUCCESS || rr->num_rr == 0) &&
	    ++b->voids > SPF_VOID_MAX) {
		budget_abort(b, SPFR_PERMERROR, "more than 2 void DNS lookups");
		rr->herrno = TRY_AGAIN;
	}
	return rr;
}

SPF_dns_server_t *
spf_dns_screen_new(SPF_dns_server_t *below, struct spf_budget *b)
{
	SPF_dns_server_t *d = xcalloc(1, sizeof(*d));
	struct screen *s = xcalloc(1, sizeof(*s));

	s->b = b;
	d->destroy = NULL;	/* freed by spf_dns_layer_free(), not libspf2 */
	d->lookup = screen_lookup;
	d->layer_below = below;
	d->name = "portcullis-screen";
	d->hook = s;
	return d;
}

void
spf_dns_layer_free(SPF_dns_server_t *d)
{
	if (d == NULL)
		return;
	free(d->hook);
	free(d);
}
