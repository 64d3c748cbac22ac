/*
 * test_spf.c - SPF decisions against libspf2's in-memory DNS zone, under
 * portcullis' screening layer: every result, include loops, void
 * lookups, the lookup limit, hostile macros and lengths, the cache, and
 * the SPFCheck actions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mconf.h"
#include "spf.h"
#include "spf_dns.h"
#include "spf_resolver.h"
#include "util.h"

static SPF_dns_server_t *zone;

static void
txt(const char *name, const char *rec)
{
	assert_int_equal(SPF_dns_zone_add_str(zone, name, ns_t_txt,
	    NETDB_SUCCESS, rec), SPF_E_SUCCESS);
}

static int
setup(void **state)
{
	char longrec[1200];
	int i;

	(void)state;
	zone = SPF_dns_zone_new(NULL, "test", 0);
	assert_non_null(zone);
	txt("pass.example", "v=spf1 ip4:192.0.2.25 -all");
	txt("both.example", "v=spf1 ip4:192.0.2.25 ip4:192.0.2.26 -all");
	txt("fail.example", "v=spf1 ip4:198.51.100.1 -all");
	txt("soft.example", "v=spf1 ip4:198.51.100.1 ~all");
	txt("neutral.example", "v=spf1 ?all");
	txt("nospf.example", "google-site-verification=abc");
	txt("perm.example", "v=spf1 ip4:192.0.2.25 frobnicate -all");
	txt("two.example", "v=spf1 -all");
	txt("two.example", "v=spf1 +all");
	assert_int_equal(SPF_dns_zone_add_str(zone, "temp.example", ns_t_txt,
	    TRY_AGAIN, NULL), SPF_E_SUCCESS);
	txt("loop1.example", "v=spf1 include:loop2.example -all");
	txt("loop2.example", "v=spf1 include:loop1.example -all");
	txt("inc.example", "v=spf1 include:pass.example -all");
	txt("void.example", "v=spf1 a:v1.example a:v2.example a:v3.example "
	    "ip4:192.0.2.25 -all");
	txt("twovoid.example", "v=spf1 a:v1.example a:v2.example "
	    "ip4:192.0.2.25 -all");
	txt("many.example", "v=spf1 include:i1.example include:i2.example "
	    "include:i3.example include:i4.example include:i5.example "
	    "include:i6.example include:i7.example include:i8.example "
	    "include:i9.example include:i10.example include:i11.example "
	    "ip4:192.0.2.25 -all");
	for (i = 1; i <= 11; i++) {
		char n[32];

		snprintf(n, sizeof(n), "i%d.example", i);
		txt(n, "v=spf1 ip4:203.0.113.1 ?all");
	}
	/* CVE-2023-42118 territory: hostile macro transformers. */
	txt("macro0.example", "v=spf1 exists:%{l0r}.x.example -all");
	txt("macrobig.example", "v=spf1 exists:%{d999}.x.example -all");
	txt("macrobad.example", "v=spf1 exists:%{z}.x.example -all");
	txt("macroend.example", "v=spf1 exists:x.example%");
	txt("macrook.example", "v=spf1 exists:%{l}.ok.example -all");
	assert_int_equal(SPF_dns_zone_add_str(zone, "alice.ok.example", ns_t_a,
	    NETDB_SUCCESS, "127.0.0.2"), SPF_E_SUCCESS);
	memset(longrec, 0, sizeof(longrec));
	pc_strlcpy(longrec, "v=spf1", sizeof(longrec));
	while (strlen(longrec) < 1100)
		pc_strlcat(longrec, " ip4:203.0.113.9", sizeof(longrec));
	pc_strlcat(longrec, " -all", sizeof(longrec));
	txt("long.example", longrec);
	txt("ctrl.example", "v=spf1 ip4:192.0.2.25\x01 -all");
	spf_use_dns_below(zone);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	spf_use_dns_below(NULL);
	SPF_dns_free(zone);
	spf_cache_flush();
	return 0;
}

static struct spf_conf *
conf(const char *relays)
{
	static struct mconf m;
	char err[256];

	if (m.spf != NULL)
		spf_conf_free(&m);
	assert_int_equal(spf_conf_parse_check(&m, "reject", err, sizeof(err)), 0);
	assert_int_equal(spf_conf_parse_relay(&m, relays, err, sizeof(err)), 0);
	assert_int_equal(spf_conf_finish(&m, "test", err, sizeof(err)), 0);
	return m.spf;
}

static const struct {
	const char *domain;
	enum spf_result want;
} cases[] = {
	{ "pass.example", SPFR_PASS },
	{ "fail.example", SPFR_FAIL },
	{ "soft.example", SPFR_SOFTFAIL },
	{ "neutral.example", SPFR_NEUTRAL },
	{ "nospf.example", SPFR_NONE },
	{ "nxdomain.example", SPFR_NONE },
	{ "perm.example", SPFR_PERMERROR },
	{ "two.example", SPFR_PERMERROR },
	{ "temp.example", SPFR_TEMPERROR },
	{ "loop1.example", SPFR_PERMERROR },
	{ "inc.example", SPFR_PASS },
	{ "void.example", SPFR_PERMERROR },
	{ "twovoid.example", SPFR_PASS },
	{ "many.example", SPFR_PERMERROR },
	{ "macro0.example", SPFR_PERMERROR },
	{ "macrobig.example", SPFR_PERMERROR },
	{ "macrobad.example", SPFR_PERMERROR },
	{ "macroend.example", SPFR_PERMERROR },
	{ "macrook.example", SPFR_FAIL },
	{ "long.example", SPFR_PERMERROR },
	{ "ctrl.example", SPFR_PERMERROR },
};

static void
test_results(void **state)
{
	struct spf_conf *sc = conf("192.0.2.25");
	struct spf_outcome o;
	char sender[300];
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(cases); i++) {
		spf_cache_flush();
		snprintf(sender, sizeof(sender), "bob@%s", cases[i].domain);
		spf_evaluate(sc, sender, cases[i].domain, &o);
		if (o.result != cases[i].want)
			fail_msg("%s: %s (%s), want %s", cases[i].domain,
			    spf_result_name(o.result), o.reason,
			    spf_result_name(cases[i].want));
		assert_string_equal(o.domain, cases[i].domain);
	}
	/* The macro screen lets a sane macro through (alice exists). */
	spf_cache_flush();
	spf_evaluate(sc, "alice@macrook.example", "macrook.example", &o);
	assert_int_equal(o.result, SPFR_PASS);
}

static void
test_relays_and_cache(void **state)
{
	struct spf_conf *sc = conf("192.0.2.25, 192.0.2.26");
	struct spf_outcome o;

	(void)state;
	spf_cache_flush();
	/* One relay not authorized: the domain does not cover us. */
	spf_evaluate(sc, "bob@pass.example", "pass.example", &o);
	assert_int_equal(o.result, SPFR_FAIL);
	assert_string_equal(o.relay, "192.0.2.26");
	assert_int_equal(o.cached, 0);
	spf_evaluate(sc, "carol@pass.example", "pass.example", &o);
	assert_int_equal(o.result, SPFR_FAIL);
	assert_int_equal(o.cached, 1);
	spf_evaluate(sc, "bob@both.example", "both.example", &o);
	assert_int_equal(o.result, SPFR_PASS);
	/* A temperror is never cached and never a pass. */
	spf_evaluate(sc, "bob@temp.example", "temp.example", &o);
	assert_int_equal(o.result, SPFR_TEMPERROR);
	spf_evaluate(sc, "bob@temp.example", "temp.example", &o);
	assert_int_equal(o.cached, 0);
	/* A record with %{l} is cached per sender, not per domain. */
	spf_evaluate(sc, "alice@macrook.example", "macrook.example", &o);
	assert_int_equal(o.result, SPFR_PASS);	/* exists: not about the address */
	sc = conf("192.0.2.25");
	spf_cache_flush();
	spf_evaluate(sc, "alice@macrook.example", "macrook.example", &o);
	assert_int_equal(o.result, SPFR_PASS);
	spf_evaluate(sc, "mallory@macrook.example", "macrook.example", &o);
	assert_int_equal(o.result, SPFR_FAIL);
	assert_int_equal(o.cached, 0);
	spf_evaluate(sc, "alice@macrook.example", "macrook.example", &o);
	assert_int_equal(o.result, SPFR_PASS);
	assert_int_equal(o.cached, 1);
}

static void
test_decide(void **state)
{
	static struct mconf m;
	struct pc_mailbox mb;
	struct spf_outcome o;
	char err[256], hv[512];

	(void)state;
	spf_cache_flush();
	memset(&mb, 0, sizeof(mb));
	pc_strlcpy(mb.local, "bob", sizeof(mb.local));
	assert_int_equal(spf_conf_parse_relay(&m, "192.0.2.25", err, sizeof(err)), 0);
	assert_int_equal(spf_conf_parse_check(&m, "reject", err, sizeof(err)), 0);
	assert_int_equal(spf_conf_finish(&m, "t", err, sizeof(err)), 0);
	pc_strlcpy(mb.domain, "fail.example", sizeof(mb.domain));
	assert_int_equal(spf_decide(&m, &mb, &o), SPF_ACT_REJECT);
	pc_strlcpy(mb.domain, "soft.example", sizeof(mb.domain));
	assert_int_equal(spf_decide(&m, &mb, &o), SPF_ACT_REJECT);
	pc_strlcpy(mb.domain, "neutral.example", sizeof(mb.domain));
	assert_int_equal(spf_decide(&m, &mb, &o), SPF_ACT_CONTINUE);
	pc_strlcpy(mb.domain, "temp.example", sizeof(mb.domain));
	assert_int_equal(spf_decide(&m, &mb, &o), SPF_ACT_DNSERR);
	m.spf->mode = SPF_HEADER;
	pc_strlcpy(mb.domain, "fail.example", sizeof(mb.domain));
	assert_int_equal(spf_decide(&m, &mb, &o), SPF_ACT_CONTINUE);
	spf_header_value(&o, hv, sizeof(hv));
	assert_true(strncmp(hv, "fail domain=fail.example; relay=192.0.2.25 (",
	    44) == 0);
	m.spf->mode = SPF_LOG;
	pc_strlcpy(mb.domain, "temp.example", sizeof(mb.domain));
	assert_int_equal(spf_decide(&m, &mb, &o), SPF_ACT_CONTINUE);
	m.spf->mode = SPF_REJECT;
	mb.null_path = 1;
	mb.domain[0] = '\0';
	assert_int_equal(spf_decide(&m, &mb, &o), SPF_ACT_CONTINUE);
	assert_int_equal(o.checked, 0);
	spf_conf_free(&m);
}

static void
test_screen(void **state)
{
	static const struct { const char *t; int spf, ok; } s[] = {
		{ "v=spf1 -all", 1, 1 },
		{ "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d}", 1, 1 },
		{ "v=spf1 a:%{d128}", 1, 1 },
		{ "v=spf1 a:%{d129}", 1, 0 },
		{ "v=spf1 a:%{d0}", 1, 0 },
		{ "v=spf1 a:%{d01}", 1, 0 },
		{ "v=spf1 a:%{d1111}", 1, 0 },
		{ "v=spf1 a:%{c}", 1, 0 },	/* c only in explanations */
		{ "%{c} is not allowed to send", 0, 1 },
		{ "v=spf1 a:%{d", 1, 0 },
		{ "v=spf1 a:%x", 1, 0 },
		{ "v=spf1 %%%_%-", 1, 1 },
		{ "v=spf1 a:%{d.-+,/_=.}", 1, 0 },
		{ "v=spf1 a:%{d.-+,/_=}", 1, 1 },
	};
	char why[128];
	size_t i;
	int local;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(s); i++) {
		local = 0;
		if ((spf_screen_txt(s[i].t, strlen(s[i].t), s[i].spf, &local,
		    why, sizeof(why)) == 0) != s[i].ok)
			fail_msg("\"%s\": want %s", s[i].t, s[i].ok ? "ok" : "refused");
	}
	local = 0;
	assert_int_equal(spf_screen_txt("v=spf1 exists:%{L}.x", 20, 1, &local,
	    why, sizeof(why)), 0);
	assert_int_equal(local, 1);
}

static void
test_resolver_parse(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[128];

	(void)state;
	assert_int_equal(spf_dns_resolver_parse("127.0.0.1:12953", &ss, &len,
	    err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(spf_dns_resolver_parse("[::1]:53", &ss, &len, err,
	    sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(spf_dns_resolver_parse("::1", &ss, &len, err,
	    sizeof(err)), 0);
	assert_int_equal(spf_dns_resolver_parse("ns.example:53", &ss, &len,
	    err, sizeof(err)), -1);
	assert_int_equal(spf_dns_resolver_parse("127.0.0.1:0", &ss, &len,
	    err, sizeof(err)), -1);
	assert_int_equal(spf_dns_resolver_parse(NULL, &ss, &len, err,
	    sizeof(err)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_relays_and_cache),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_screen),
		cmocka_unit_test(test_resolver_parse),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
