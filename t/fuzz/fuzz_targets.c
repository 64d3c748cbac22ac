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
