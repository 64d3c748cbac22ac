/*
 * test_rlmilter.c - rate limits, RateLimitAction and suspension through
 * the real xxfi_* callbacks (the fake MTA of fake_mseam.c records replies
 * and quarantines), and the ControlSocket commands through
 * control_command().
 * The exact reply texts of the contract are checked here; the e2e test
 * t/e2e/ratelimit.sh checks them again through Postfix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "fake_mseam.h"
#include "mconf.h"
#include "milter.h"
#include "mseam.h"
#include "suspend.h"
#include "util.h"

static SMFICTX *const ctx = FAKE_CTX;

/*
 * One session from ip: MAIL FROM as login, nrcpt recipients, EOM.
 * Returns the first answer that is not CONTINUE; *accepted counts the
 * recipients that passed.
 */
static sfsistat
session(const char *ip, const char *login, int nrcpt, int *accepted)
{
	struct sockaddr_in sin;
	char from[300], *argv[2];
	sfsistat r;
	int i, ok = 0;

	fake_mta_reset();
	fake_mta_macro("i", "4RLQID");
	if (login != NULL) {
		fake_mta_macro("{auth_authen}", login);
		fake_mta_macro("{auth_type}", "PLAIN");
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	assert_int_equal(milter_desc.xxfi_connect(ctx, "client.example",
	    (struct sockaddr *)&sin), SMFIS_NOREPLY);
	snprintf(from, sizeof(from), "<%s>", login != NULL ? login : "x@y.example");
	argv[0] = from;
	argv[1] = NULL;
	if ((r = milter_desc.xxfi_envfrom(ctx, argv)) != SMFIS_CONTINUE)
		goto out;
	for (i = 0; i < nrcpt; i++) {
		argv[0] = "<friend@elsewhere.example>";
		if (milter_desc.xxfi_envrcpt(ctx, argv) == SMFIS_CONTINUE)
			ok++;
		else
			r = SMFIS_TEMPFAIL;
	}
	if (ok == 0)
		goto out;
	assert_int_equal(milter_desc.xxfi_body(ctx, (unsigned char *)"hi\r\n", 4),
	    SMFIS_NOREPLY);
	if (milter_desc.xxfi_eom(ctx) != SMFIS_CONTINUE)
		fail_msg("EOM refused");
out:
	milter_desc.xxfi_close(ctx);
	if (accepted != NULL)
		*accepted = ok;
	return r;
}

static const char base[] =
    "SenderPolicy any\nStateFile none\nControlSocket none\n";

static void
test_messages_tempfail(void **state)
{
	char conf[512];
	int i;

	(void)state;
	snprintf(conf, sizeof(conf), "%sRateLimit messages 2/1h\n", base);
	fake_install_conf(conf);
	for (i = 0; i < 2; i++)
		assert_int_equal(session("198.51.100.7", "Ann@Isp.Example", 1, NULL),
		    SMFIS_CONTINUE);
	/* Another account is not affected. */
	assert_int_equal(session("198.51.100.7", "ben@isp.example", 1, NULL),
	    SMFIS_CONTINUE);
	assert_int_equal(session("198.51.100.7", "ann@isp.example", 1, NULL),
	    SMFIS_TEMPFAIL);
	assert_string_equal(mta.rcode, "450");
	assert_string_equal(mta.xcode, "4.7.1");
	assert_string_equal(mta.text, "Rate limit exceeded for ann@isp.example: "
	    "messages 2/1h; retry in 1800 seconds");
	mconf_install(NULL);
}

static void
test_recipients_at_rcpt(void **state)
{
	char conf[512];
	int ok;

	(void)state;
	snprintf(conf, sizeof(conf), "%sRateLimit recipients 3/1d\n", base);
	fake_install_conf(conf);
	assert_int_equal(session("198.51.100.7", "cat@isp.example", 5, &ok),
	    SMFIS_TEMPFAIL);
	assert_int_equal(ok, 3);
	assert_string_equal(mta.rcode, "450");
	assert_string_equal(mta.text, "Rate limit exceeded for cat@isp.example: "
	    "recipients 3/1d; retry in 28800 seconds");
	mconf_install(NULL);
}

static void
test_reject_quarantine_log(void **state)
{
	char conf[512];

	(void)state;
	snprintf(conf, sizeof(conf), "%sRateLimit messages 1/1h\n"
	    "RateLimitAction reject\n", base);
	fake_install_conf(conf);
	assert_int_equal(session("198.51.100.7", "dan@isp.example", 1, NULL),
	    SMFIS_CONTINUE);
	assert_int_equal(session("198.51.100.7", "dan@isp.example", 1, NULL),
	    SMFIS_REJECT);
	assert_string_equal(mta.rcode, "550");
	assert_string_equal(mta.xcode, "5.7.1");
	assert_string_equal(mta.text, "Rate limit exceeded for dan@isp.example: "
	    "messages 1/1h; retry in 3600 seconds");

	snprintf(conf, sizeof(conf), "%sRateLimit messages 1/1h\n"
	    "RateLimitAction quarantine\n", base);
	fake_install_conf(conf);
	assert_int_equal(session("198.51.100.7", "dan@isp.example", 1, NULL),
	    SMFIS_CONTINUE);
	assert_string_equal(mta.quarantined, "quarantined: rate limit messages 1/1h");
	assert_string_equal(mta.rcode, "");

	snprintf(conf, sizeof(conf), "%sRateLimit messages 1/1h\n"
	    "RateLimitAction log\n", base);
	fake_install_conf(conf);
	assert_int_equal(session("198.51.100.7", "dan@isp.example", 1, NULL),
	    SMFIS_CONTINUE);
	assert_string_equal(mta.quarantined, "");
	assert_string_equal(mta.rcode, "");
	mconf_install(NULL);
}

static void
test_suspend_after(void **state)
{
	char conf[512];
	int i;

	(void)state;
	snprintf(conf, sizeof(conf), "%sRateLimit messages 1/1h\n"
	    "SuspendAfter 2/1h\n", base);
	fake_install_conf(conf);
	assert_int_equal(session("198.51.100.7", "eve@isp.example", 1, NULL),
	    SMFIS_CONTINUE);
	assert_int_equal(session("198.51.100.7", "eve@isp.example", 1, NULL),
	    SMFIS_TEMPFAIL);
	for (i = 0; i < 2; i++) {
		assert_int_equal(session("198.51.100.7", "eve@isp.example", 1,
		    NULL), SMFIS_REJECT);
		assert_string_equal(mta.rcode, "550");
		assert_string_equal(mta.xcode, "5.7.1");
		assert_string_equal(mta.text, "Account eve@isp.example suspended; "
		    "contact postmaster");
	}
	assert_true(suspend_is("EVE@isp.example"));
	mconf_install(NULL);
}

static void
test_distinct_addresses(void **state)
{
	char conf[512];

	(void)state;
	snprintf(conf, sizeof(conf), "%sDistinctAddressLimit 2/1h\n", base);
	fake_install_conf(conf);
	assert_int_equal(session("198.51.100.1", "fay@isp.example", 1, NULL),
	    SMFIS_CONTINUE);
	assert_int_equal(session("198.51.100.2", "fay@isp.example", 1, NULL),
	    SMFIS_CONTINUE);
	assert_int_equal(session("198.51.100.1", "fay@isp.example", 1, NULL),
	    SMFIS_CONTINUE);
	assert_int_equal(session("198.51.100.3", "fay@isp.example", 1, NULL),
	    SMFIS_REJECT);
	assert_string_equal(mta.text, "Account fay@isp.example suspended; "
	    "contact postmaster");
	mconf_install(NULL);
}

/* Trusted clients without AUTH are limited per client address. */
static void
test_trusted_per_address(void **state)
{
	char conf[512];

	(void)state;
	snprintf(conf, sizeof(conf), "%sTrustedNetworks 192.0.2.0/24\n"
	    "RateLimit messages 1/1h\n", base);
	fake_install_conf(conf);
	assert_int_equal(session("192.0.2.10", NULL, 1, NULL), SMFIS_CONTINUE);
	assert_int_equal(session("192.0.2.11", NULL, 1, NULL), SMFIS_CONTINUE);
	assert_int_equal(session("192.0.2.10", NULL, 1, NULL), SMFIS_TEMPFAIL);
	assert_string_equal(mta.text, "Rate limit exceeded for [192.0.2.10]: "
	    "messages 1/1h; retry in 3600 seconds");
	mconf_install(NULL);
}

static void
command(const char *line, struct dstr *out)
{
	char buf[512];

	pc_strlcpy(buf, line, sizeof(buf));
	dstr_clear(out);
	control_command(buf, out);
}

static void
test_control_commands(void **state)
{
	char conf[512];
	struct dstr out;

	(void)state;
	dstr_init(&out);
	snprintf(conf, sizeof(conf), "%sRateLimit messages 2/1h\n"
	    "AccountDomain isp.example\n", base);
	fake_install_conf(conf);
	assert_int_equal(session("198.51.100.7", "gus", 1, NULL), SMFIS_CONTINUE);
	command("usage GUS\n", &out);
	assert_non_null(strstr(out.buf, "account gus@isp.example\nsuspended no\n"
	    "messages used=1 limit=2/1h refill_in=1800s\n"));
	assert_non_null(strstr(out.buf, "\nOK\n"));
	command("reset gus\n", &out);
	assert_string_equal(out.buf, "OK\n");
	command("usage gus\n", &out);
	assert_non_null(strstr(out.buf, "messages used=0 "));
	command("suspend gus stolen password, ticket 7\n", &out);
	assert_string_equal(out.buf, "OK\n");
	command("suspend gus\n", &out);
	assert_string_equal(out.buf, "ERR gus@isp.example is already suspended\n");
	assert_int_equal(session("198.51.100.7", "gus", 1, NULL), SMFIS_REJECT);
	command("usage gus\n", &out);
	assert_non_null(strstr(out.buf, "reason=\"stolen password, ticket 7\""));
	command("resume gus\n", &out);
	assert_string_equal(out.buf, "OK\n");
	command("resume gus\n", &out);
	assert_string_equal(out.buf, "ERR gus@isp.example is not suspended\n");
	assert_int_equal(session("198.51.100.7", "gus", 1, NULL), SMFIS_CONTINUE);
	command("stats\n", &out);
	assert_non_null(strstr(out.buf, "portcullis_messages_total{action=\"accept\"}"));
	command("usage\n", &out);
	assert_string_equal(out.buf, "ERR usage needs an account\n");
	command("frobnicate x\n", &out);
	assert_string_equal(out.buf, "ERR unknown command\n");
	command("usage a\tb\n", &out);
	assert_string_equal(out.buf, "ERR unusable account name\n");
	dstr_free(&out);
	mconf_install(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages_tempfail),
		cmocka_unit_test(test_recipients_at_rcpt),
		cmocka_unit_test(test_reject_quarantine_log),
		cmocka_unit_test(test_suspend_after),
		cmocka_unit_test(test_distinct_addresses),
		cmocka_unit_test(test_trusted_per_address),
		cmocka_unit_test(test_control_commands),
	};

	mseam = &fake_mseam;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
