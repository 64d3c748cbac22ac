/*
 * test_mconf.c - the milter's key table against its sample file and man
 * page (they must name every key), its defaults, its cross-key checks,
 * and the reference counting that lets reload swap configurations under
 * open connections.
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
#include "testutil.h"
#include "util.h"

/* Every key of the table is documented in the sample file and the man page. */
static void
test_keys_documented(void **state)
{
	(void)state;
	tu_keys_documented(mconf_keys, mconf_nkeys,
	    "conf/portcullis-milter.conf", "doc/portcullis-milter.conf.5");
}

/* The shipped sample loads as it is. */
static void
test_sample_loads(void **state)
{
	char path[4096], err[1024];
	struct mconf *c;

	(void)state;
	tu_src_path(path, sizeof(path), "conf/portcullis-milter.conf");
	c = mconf_load(path, err, sizeof(err));
	if (c == NULL)
		fail_msg("%s", err);
	mconf_free(c);
}

static void
test_defaults(void **state)
{
	char err[1024];
	struct mconf *c = mconf_load(NULL, err, sizeof(err));

	(void)state;
	assert_non_null(c);
	assert_string_equal(c->socket, "inet:8891@127.0.0.1");
	assert_string_equal(c->syslog_facility, "mail");
	assert_int_equal(c->require_auth, 1);
	assert_int_equal(c->require_tls, 0);
	assert_int_equal(c->trusted.n, 0);
	assert_int_equal(c->sender_policy, SENDER_DOMAIN);
	assert_int_equal(c->check_header_from, 1);
	assert_int_equal(c->on_error, ONERR_TEMPFAIL);
	assert_null(c->user);
	assert_null(c->logfile);
	assert_null(c->sender_map);
	mconf_free(c);
}

static const struct {
	const char *text;
	const char *want;
} bad[] = {
	{ "SenderPolicy map\n", "SenderPolicy map needs SenderMap" },
	{ "SenderPolicy map\nSenderMap /nonexistent/map\n", "/nonexistent/map" },
	{ "SenderPolicy everyone\n", ":1: SenderPolicy: \"everyone\" is not one of any, exact, domain, map" },
	{ "Socket tcp:25\n", "Socket: \"tcp:25\" is not" },
	{ "SyslogFacility kernel-ish\n", "SyslogFacility: unknown facility" },
	{ "RequireAuth perhaps\n", ":1: RequireAuth:" },
	{ "TrustedNetworks 127.0.0.1/8\n", ":1: TrustedNetworks:" },
	{ "OnInternalError reject\n", ":1: OnInternalError:" },
	{ "RateLimit letters 10/1h\n", ":1: RateLimit: \"letters\" is not messages" },
	{ "RateLimit messages 10/1x\n", ":1: RateLimit:" },
	{ "RateLimitAction bounce\n", ":1: RateLimitAction: \"bounce\" is not one of" },
	{ "RateLimitBackend redis://127.0.0.1:6379/16\n", ":1: RateLimitBackend: redis URL: the database must be a number 0-15" },
	{ "RateLimitBackend redis://127.0.0.1:65536/0\n", ":1: RateLimitBackend: redis URL: the port must be" },
	{ "RateLimitBackend rediss://127.0.0.1\n", ":1: RateLimitBackend: not memory or redis://" },
	{ "SuspendAfter 3\n", ":1: SuspendAfter:" },
	{ "DistinctAddressLimit 3/1h/2\n", ":1: DistinctAddressLimit:" },
	{ "MetricsListen 9187\n", ":1: MetricsListen:" },
	{ "ControlSocket control.sock\n", ":1: ControlSocket:" },
	{ "StateFile milter.state\n", ":1: StateFile:" },
	{ "RateLimitMap /nonexistent/rlmap\n", "/nonexistent/rlmap" },
	{ "NotifyCommand notify.sh\n", "NotifyCommand: \"notify.sh\" must start" },
	{ "Sockets inet:1@127.0.0.1\n", ":1: Sockets: unknown key" },
};

static void
test_bad_configs(void **state)
{
	char err[1024];
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(bad); i++) {
		char *path = tu_write_tmp("mconf", bad[i].text);
		struct mconf *c = mconf_load(path, err, sizeof(err));

		if (c != NULL)
			fail_msg("accepted: %s", bad[i].text);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("\"%s\" lacks \"%s\"", err, bad[i].want);
		if (strstr(err, "/tmp/pc-test-mconf-") == NULL &&
		    strstr(err, "/nonexistent/") == NULL)
			fail_msg("\"%s\" does not name the file", err);
		unlink(path);
		free(path);
	}
}

static void
test_good_config(void **state)
{
	char *map = tu_write_tmp("mconf", "alice@isp.example @family.example\n");
	char text[1024], err[1024], *path;
	struct mconf *c;
	struct pc_addr a;

	(void)state;
	snprintf(text, sizeof(text),
	    "socket unix:/run/portcullis/milter.sock\n"
	    "TrustedNetworks 192.0.2.0/24, 2001:db8::/32\n"
	    "AccountDomain ISP.Example\n"
	    "SenderPolicy map\n"
	    "SenderMap %s\n"
	    "RequireTLS yes\n"
	    "OnInternalError accept\n", map);
	path = tu_write_tmp("mconf", text);
	c = mconf_load(path, err, sizeof(err));
	if (c == NULL)
		fail_msg("%s", err);
	assert_string_equal(c->socket, "unix:/run/portcullis/milter.sock");
	assert_string_equal(c->account_domain, "isp.example");
	assert_int_equal(c->sender_policy, SENDER_MAP);
	assert_non_null(pc_map_get(c->sender_map, "ALICE@isp.example"));
	assert_int_equal(c->require_tls, 1);
	assert_int_equal(c->on_error, ONERR_ACCEPT);
	assert_int_equal(pc_addr_parse("192.0.2.200", &a, NULL, 0), 0);
	assert_true(pc_netlist_contains(&c->trusted, &a));
	mconf_free(c);
	unlink(path);
	unlink(map);
	free(path);
	free(map);
}

/* A connection's configuration outlives a reload; ASan sees misuse. */
static void
test_refcount(void **state)
{
	char err[1024];
	struct mconf *a = mconf_load(NULL, err, sizeof(err));
	struct mconf *b = mconf_load(NULL, err, sizeof(err));
	struct mconf *pinned;

	(void)state;
	mconf_install(a);
	pinned = mconf_acquire();
	assert_ptr_equal(pinned, a);
	mconf_install(b);		/* reload */
	assert_string_equal(pinned->socket, "inet:8891@127.0.0.1");
	mconf_release(pinned);		/* last user of a frees it */
	pinned = mconf_acquire();
	assert_ptr_equal(pinned, b);
	mconf_release(pinned);
	mconf_install(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_documented),
		cmocka_unit_test(test_sample_loads),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_good_config),
		cmocka_unit_test(test_refcount),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
