/*
 * spf-stamp-bench.c - cost per message of sealing and opening the origin
 * stamp, and of an SPF evaluation with a cold and a warm result cache.
 * DNS comes from libspf2's in-memory zone, or with "-r ADDR:PORT" from a
 * real server (e.g. dnsmasq on loopback), so the figures separate the
 * milter's own cost from the resolver's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mconf.h"
#include "spf.h"
#include "spf_dns.h"
#include "stamp.h"
#include "util.h"

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int
main(int argc, char **argv)
{
	static const struct stamp_key k = { "cur", { 9, 8, 7 } };
	struct stamp_keyring kr = { NULL, 0 };
	struct stamp_origin o = { "alice@isp.example", "198.51.100.7",
	    1714560000, "4VxYz1Abc" }, back;
	struct spf_outcome out;
	static struct mconf m;
	char text[STAMP_TEXT_MAX + 1], err[256], id[32];
	const char *resolver = argc > 2 && strcmp(argv[1], "-r") == 0 ? argv[2] : NULL;
	SPF_dns_server_t *zone = NULL;
	int i, n = 20000, ns = resolver ? 200 : 2000;
	double t;

	kr.v = xmalloc(sizeof(k));
	kr.v[0] = k;
	kr.n = 1;
	t = now_us();
	for (i = 0; i < n; i++)
		stamp_seal(&kr, &o, text, sizeof(text), err, sizeof(err));
	printf("stamp seal: %.2f us/message\n", (now_us() - t) / n);
	t = now_us();
	for (i = 0; i < n; i++)
		if (stamp_open(&kr, text, strlen(text), &back, id, sizeof(id)) != STAMP_OK)
			return 1;
	printf("stamp open (trace): %.2f us/stamp\n", (now_us() - t) / n);

	spf_conf_parse_check(&m, "reject", err, sizeof(err));
	spf_conf_parse_relay(&m, "192.0.2.25", err, sizeof(err));
	if (resolver != NULL &&
	    spf_conf_parse_resolver(&m, resolver, err, sizeof(err)) < 0)
		return fprintf(stderr, "%s\n", err), 1;
	if (spf_conf_finish(&m, "bench", err, sizeof(err)) < 0)
		return fprintf(stderr, "%s\n", err), 1;
	if (resolver == NULL) {
		zone = SPF_dns_zone_new(NULL, "bench", 0);
		SPF_dns_zone_add_str(zone, "good.example", ns_t_txt, NETDB_SUCCESS,
		    "v=spf1 include:_spf.good.example -all");
		SPF_dns_zone_add_str(zone, "_spf.good.example", ns_t_txt,
		    NETDB_SUCCESS, "v=spf1 ip4:203.0.113.0/24 ip4:192.0.2.25 -all");
		for (i = 0; i < ns; i++) {
			char d[64];

			snprintf(d, sizeof(d), "d%d.example", i);
			SPF_dns_zone_add_str(zone, d, ns_t_txt, NETDB_SUCCESS,
			    "v=spf1 include:_spf.good.example -all");
		}
		spf_use_dns_below(zone);
	}
	/* Cold: a domain never seen before, every time. */
	spf_evaluate(m.spf, "alice@good.example", "good.example", &out);
	t = now_us();
	for (i = 0; i < ns; i++) {
		char d[64], snd[80];

		snprintf(d, sizeof(d), resolver ? "good.example" : "d%d.example", i);
		snprintf(snd, sizeof(snd), "alice@%s", d);
		if (resolver)
			spf_cache_flush();
		spf_evaluate(m.spf, snd, d, &out);
	}
	printf("spf cold cache (%s): %.2f us/message (%s)\n",
	    resolver ? resolver : "in-memory zone", (now_us() - t) / ns,
	    spf_result_name(out.result));
	t = now_us();
	for (i = 0; i < n; i++)
		spf_evaluate(m.spf, "alice@good.example", "good.example", &out);
	printf("spf warm cache: %.2f us/message (cached=%d)\n",
	    (now_us() - t) / n, out.cached);
	return 0;
}
