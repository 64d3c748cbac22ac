/*
 * test_sender.c - sender ownership decisions under every SenderPolicy,
 * and the account normalisation they rely on.
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
#include "sender.h"
#include "util.h"

static struct pc_map *
map_from(const char *text)
{
	char path[] = "/tmp/pc-test-sendermap-XXXXXX", err[256];
	struct pc_map *m = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	if (pc_map_load(path, &m, err, sizeof(err)) < 0)
		fail_msg("map: %s", err);
	unlink(path);
	return m;
}

static const struct {
	int policy;
	const char *account;	/* already normalised */
	const char *sender;	/* MAIL FROM argument */
	int allowed;
	const char *reason;	/* substring of the reason */
} cases[] = {
	{ SENDER_ANY, "alice@isp.example", "<anyone@anywhere.example>", 1, "any" },
	{ SENDER_ANY, "alice", "<x@y.example>", 1, "any" },

	{ SENDER_EXACT, "alice@isp.example", "<alice@isp.example>", 1, "is the account" },
	{ SENDER_EXACT, "alice@isp.example", "<Alice@ISP.Example>", 1, "is the account" },
	{ SENDER_EXACT, "alice@isp.example", "<bob@isp.example>", 0, "not the account" },
	{ SENDER_EXACT, "alice@isp.example", "<alice@isp.example.evil>", 0, "not" },
	{ SENDER_EXACT, "alice@isp.example", "<alice+tag@isp.example>", 0, "not" },
	{ SENDER_EXACT, "alice@isp.example", "<alice@sub.isp.example>", 0, "not" },
	{ SENDER_EXACT, "alice@isp.example", "<>", 1, "null sender" },
	{ SENDER_EXACT, "alice", "<alice@isp.example>", 0, "not the account" },

	{ SENDER_DOMAIN, "alice@isp.example", "<bob@isp.example>", 1, "domain is the account's" },
	{ SENDER_DOMAIN, "alice@isp.example", "<BOB@Isp.Example>", 1, "domain" },
	{ SENDER_DOMAIN, "alice@isp.example", "<bob@sub.isp.example>", 0, "not the account's" },
	{ SENDER_DOMAIN, "alice@isp.example", "<bob@isp.example.evil>", 0, "not" },
	{ SENDER_DOMAIN, "alice@isp.example", "<bob@xisp.example>", 0, "not" },
	{ SENDER_DOMAIN, "alice@isp.example", "<@relay.example:bob@isp.example>", 1, "domain" },
	{ SENDER_DOMAIN, "alice", "<alice@isp.example>", 0, "set AccountDomain" },
	{ SENDER_DOMAIN, "alice@", "<alice@isp.example>", 0, "AccountDomain" },

	{ SENDER_MAP, "alice@isp.example", "<alice@isp.example>", 1, "account itself" },
	{ SENDER_MAP, "alice@isp.example", "<ALICE@isp.example>", 1, "account itself" },
	{ SENDER_MAP, "alice@isp.example", "<mum@family.example>", 1, "@family.example" },
	{ SENDER_MAP, "alice@isp.example", "<dad@FAMILY.example>", 1, "@family.example" },
	{ SENDER_MAP, "alice@isp.example", "<orders@shop.example>", 1, "*@shop.example" },
	{ SENDER_MAP, "alice@isp.example", "<info@club.example>", 1, "info@club.example" },
	{ SENDER_MAP, "alice@isp.example", "<news@club.example>", 0, "no SenderMap pattern" },
	{ SENDER_MAP, "alice@isp.example", "<bob@isp.example>", 0, "no SenderMap pattern" },
	{ SENDER_MAP, "alice@isp.example", "<x@sub.family.example>", 0, "no SenderMap pattern" },
	{ SENDER_MAP, "ALICE@ISP.EXAMPLE", "<mum@family.example>", 1, "@family.example" },
	{ SENDER_MAP, "carol@isp.example", "<mum@family.example>", 0, "no SenderMap entry" },
	{ SENDER_MAP, "carol@isp.example", "<carol@isp.example>", 1, "account itself" },
	{ SENDER_MAP, "bob@isp.example", "<bob@isp.example>", 1, "account itself" },
	{ SENDER_MAP, "bob@isp.example", "<team@work.example>", 1, "team@work.example" },
};

static void
test_decisions(void **state)
{
	struct mconf c;
	struct pc_mailbox mb;
	char reason[256], err[256];
	size_t i;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.sender_map = map_from(
	    "# account            allowed senders\n"
	    "alice@isp.example    @family.example, *@shop.example,\n"
	    "                     info@club.example\n"
	    "Bob@ISP.example      team@work.example\n");
	for (i = 0; i < PC_ARRAY_LEN(cases); i++) {
		c.sender_policy = cases[i].policy;
		if (pc_path_parse(cases[i].sender, &mb, err, sizeof(err)) < 0)
			fail_msg("case %zu: %s: %s", i, cases[i].sender, err);
		reason[0] = '\0';
		if (decide_sender(&c, cases[i].account, &mb, reason,
		    sizeof(reason)) != cases[i].allowed)
			fail_msg("case %zu: %s as %s: want %d (%s)", i,
			    cases[i].account, cases[i].sender, cases[i].allowed,
			    reason);
		if (strstr(reason, cases[i].reason) == NULL)
			fail_msg("case %zu: reason \"%s\" lacks \"%s\"", i, reason,
			    cases[i].reason);
	}
	pc_map_free(c.sender_map);
}

static void
test_accounts(void **state)
{
	static const struct {
		const char *domain;	/* AccountDomain */
		const char *login;
		int rc;
		const char *want;
	} logins[] = {
		{ "isp.example", "alice", 0, "alice@isp.example" },
		{ "isp.example", "Alice", 0, "alice@isp.example" },
		{ "isp.example", "alice@Other.Example", 0, "alice@other.example" },
		{ NULL, "alice", 0, "alice" },
		{ NULL, "Alice@ISP.example", 0, "alice@isp.example" },
		{ "isp.example", "", -1, "" },
		{ "isp.example", "al ice", -1, "" },
		{ "isp.example", "alice\r\nevent=suspend", -1, "" },
		{ "isp.example", "alice\t", -1, "" },
		{ "isp.example", "alice\x7f", -1, "" },
		{ "isp.example", "\xc3\xa9lise", 0, "\xc3\xa9lise@isp.example" },
	};
	struct mconf c;
	char buf[ACCOUNT_MAX], *huge;
	size_t i;

	(void)state;
	memset(&c, 0, sizeof(c));
	for (i = 0; i < PC_ARRAY_LEN(logins); i++) {
		c.account_domain = (char *)logins[i].domain;
		assert_int_equal(sender_account(&c, logins[i].login, buf,
		    sizeof(buf)), logins[i].rc);
		assert_string_equal(buf, logins[i].want);
	}
	assert_int_equal(sender_account(&c, NULL, buf, sizeof(buf)), -1);

	/* A 10 kB login never fits an account and never half-fits. */
	huge = xmalloc(10001);
	memset(huge, 'a', 10000);
	huge[10000] = '\0';
	assert_int_equal(sender_account(&c, huge, buf, sizeof(buf)), -1);
	assert_string_equal(buf, "");
	free(huge);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_accounts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
