/*
 * fuzz_targets.c - see fuzz.h.  Every target must return without a
 * sanitizer report for any input.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "arf.h"
#include "mconf.h"
#include "spf.h"
#include "spf_dns.h"
#include "spf_resolver.h"
#include "stamp.h"
#include "util.h"

static struct stamp_keyring keys;
static struct mconf m;

static void
count(void *arg, const char *v, size_t len, enum arf_where w)
{
	(void)v; (void)w;
	*(size_t *)arg += len;
}

void
fuzz_init(void)
{
	static const struct stamp_key k = { "k1", { 1, 2, 3, 4, 5, 6, 7, 8 } };
	char err[256];

	keys.v = xmalloc(sizeof(k));
	keys.v[0] = k;
	keys.n = 1;
	if (spf_conf_parse_check(&m, "reject", err, sizeof(err)) < 0 ||
	    spf_conf_parse_relay(&m, "192.0.2.25, 2001:db8::25", err,
	    sizeof(err)) < 0 ||
	    spf_conf_finish(&m, "fuzz", err, sizeof(err)) < 0)
		abort();
}

int
fuzz_arf(const uint8_t *data, size_t len)
{
	struct arf_report r;
	size_t total = 0;

	arf_find_field((const char *)data, len, STAMP_HEADER, count, &total, &r);
	return 0;
}

int
fuzz_stamp(const uint8_t *data, size_t len)
{
	struct stamp_origin o;
	char id[32];

	stamp_open(&keys, (const char *)data, len, &o, id, sizeof(id));
	return 0;
}

int
fuzz_spf(const uint8_t *data, size_t len)
{
	SPF_dns_server_t *zone;
	struct spf_outcome out;
	char *rec;
	int local = 0;
	char why[128];

	if (len > 4096)
		return 0;
	rec = xstrndup((const char *)data, len);
	(void)spf_screen_txt(rec, strlen(rec), 1, &local, why, sizeof(why));
	zone = SPF_dns_zone_new(NULL, "fuzz", 0);
	if (zone == NULL) {
		free(rec);
		return 0;
	}
	SPF_dns_zone_add_str(zone, "fuzz.example", ns_t_txt, NETDB_SUCCESS, rec);
	SPF_dns_zone_add_str(zone, "inc.example", ns_t_txt, NETDB_SUCCESS,
	    "v=spf1 ip4:192.0.2.0/24 -all");
	SPF_dns_zone_add_str(zone, "fuzz.example", ns_t_a, NETDB_SUCCESS,
	    "192.0.2.25");
	SPF_dns_zone_add_str(zone, "fuzz.example", ns_t_mx, NETDB_SUCCESS,
	    "mx.fuzz.example");
	spf_use_dns_below(zone);
	spf_cache_flush();
	spf_evaluate(m.spf, "Us.er+x@fuzz.example", "fuzz.example", &out);
	spf_use_dns_below(NULL);
	SPF_dns_free(zone);
	free(rec);
	return 0;
}

/* The reply fuzz_dns built for this input, handed to the screen above. */
struct wire {
	const unsigned char *a;
	size_t alen;
	const unsigned char *q;
	size_t qlen;
};

static SPF_dns_rr_t *
wire_lookup(SPF_dns_server_t *d, const char *domain, ns_type type,
    int should_cache)
{
	const struct wire *w = d->hook;

	(void)should_cache;
	if (!spf_resolver_matches(w->q, w->qlen, w->a, w->alen))
		return SPF_dns_rr_new_init(d, domain, type, 0, TRY_AGAIN);
	return spf_resolver_parse(d, domain, type, w->a, w->alen);
}

int
fuzz_dns(const uint8_t *data, size_t len)
{
	static const ns_type types[] = { ns_t_txt, ns_t_a, ns_t_aaaa, ns_t_mx,
	    ns_t_ptr };
	SPF_dns_server_t below, *screen;
	struct spf_budget b;
	struct wire w;
	unsigned char q[512], *a;
	SPF_dns_rr_t *rr;
	ns_type type;
	int qlen, i;
	size_t qend;

	if (len < 13 || len > 65535)
		return 0;
	/* Byte 0 picks the type; 1-12 are the reply's header. */
	type = types[data[0] % PC_ARRAY_LEN(types)];
	qlen = spf_resolver_query(q, sizeof(q), (uint16_t)(data[1] << 8 |
	    data[2]), "fuzz.example", type);
	if (qlen < 0)
		abort();
	/* The raw input as a reply, then one that repeats our question. */
	(void)spf_resolver_matches(q, (size_t)qlen, data + 1, len - 1);
	qend = (size_t)qlen - 11;	/* the question, without the OPT record */
	w.alen = qend + len - 13;
	a = xmalloc(w.alen);		/* exactly: ASan sees any over-read */
	memcpy(a, data + 1, 12);
	memcpy(a + 12, q + 12, qend - 12);
	memcpy(a + qend, data + 13, len - 13);
	w.a = a;
	w.q = q;
	w.qlen = (size_t)qlen;
	memset(&below, 0, sizeof(below));
	below.name = "fuzz-wire";
	below.lookup = wire_lookup;
	below.hook = &w;
	spf_budget_start(&b, 5000);
	screen = spf_dns_screen_new(&below, &b);
	rr = SPF_dns_lookup(screen, "fuzz.example", type, 0);
	if (rr != NULL) {
		for (i = 0; i < rr->num_rr; i++)
			if (type == ns_t_txt || type == ns_t_mx ||
			    type == ns_t_ptr)
				(void)strlen(rr->rr[i]->txt);
		SPF_dns_rr_free(rr);
	}
	spf_dns_layer_free(screen);
	free(a);
	return 0;
}
