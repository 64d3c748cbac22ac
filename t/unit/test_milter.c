/*
 * test_milter.c - drives the real xxfi_* callbacks through the fake MTA
 * of fake_mseam.c, so every reply code and text of the contract is checked
 * exactly, without an MTA.  (miltertest shows only the kind of reply;
 * t/e2e/submission.sh checks the same codes through a real Postfix.)
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

#include "fake_mseam.h"
#include "mconf.h"
#include "milter.h"
#include "mseam.h"
#include "spf.h"
#include "spf_dns.h"
#include "stamp.h"
#include "util.h"

static SMFICTX *const ctx = FAKE_CTX;

struct step {
	const char *ip;
	const char *tls;	/* {tls_version}, NULL without TLS */
	const char *login;	/* {auth_authen}, NULL unauthenticated */
	const char *mail_from;
	const char *from_hdr[3];	/* From: values, NULL-terminated */
	sfsistat want;		/* first non-CONTINUE answer, or CONTINUE */
	const char *rcode, *xcode, *text;
};

/* The connect step from client.example at ip (IPv4 or IPv6). */
static sfsistat
connect_from(const char *ip)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr *sa;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons(40000);
		sa = (struct sockaddr *)&sin;
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
		sin6.sin6_family = AF_INET6;
		sa = (struct sockaddr *)&sin6;
	}
	return milter_desc.xxfi_connect(ctx, "client.example", sa);
}

/*
 * Runs connect .. EOM and returns the first answer that is not CONTINUE
 * (the steps without an answer must return NOREPLY).  When late_qid is
 * not NULL, {i} is first sent after RCPT, as Postfix does by default:
 * its queue file opens once the first recipient has been accepted
 * (smtpd_delay_open_until_valid_rcpt), after the milter has seen it.
 */
static sfsistat
run_session_qid(const struct step *st, const char *late_qid)
{
	char *argv[2], hv[256];
	sfsistat r;
	size_t i;

	fake_mta_reset();
	if (late_qid == NULL)
		fake_mta_macro("i", "4XQID");
	fake_mta_macro("{daemon_name}", "submission");
	if (st->tls != NULL)
		fake_mta_macro("{tls_version}", st->tls);
	if (st->login != NULL) {
		fake_mta_macro("{auth_authen}", st->login);
		fake_mta_macro("{auth_type}", "PLAIN");
	}
	/* Connect, HELO, headers and body are negotiated "no reply". */
	assert_int_equal(connect_from(st->ip), SMFIS_NOREPLY);
	assert_int_equal(milter_desc.xxfi_helo(ctx, "client.example"),
	    SMFIS_NOREPLY);
	argv[0] = (char *)st->mail_from;
	argv[1] = NULL;
	if ((r = milter_desc.xxfi_envfrom(ctx, argv)) != SMFIS_CONTINUE)
		goto out;
	argv[0] = "<friend@elsewhere.example>";
	if ((r = milter_desc.xxfi_envrcpt(ctx, argv)) != SMFIS_CONTINUE)
		goto out;
	if (late_qid != NULL)
		fake_mta_macro("i", late_qid);
	for (i = 0; i < PC_ARRAY_LEN(st->from_hdr) && st->from_hdr[i] != NULL; i++) {
		pc_strlcpy(hv, st->from_hdr[i], sizeof(hv));
		assert_int_equal(milter_desc.xxfi_header(ctx, "From", hv),
		    SMFIS_NOREPLY);
	}
	assert_null(milter_desc.xxfi_eoh);	/* negotiated away */
	assert_int_equal(milter_desc.xxfi_body(ctx, (unsigned char *)"hi\r\n", 4),
	    SMFIS_NOREPLY);
	r = milter_desc.xxfi_eom(ctx);
out:
	milter_desc.xxfi_close(ctx);
	assert_null(mta.priv);
	return r;
}

static sfsistat
run_session(const struct step *st)
{
	return run_session_qid(st, NULL);
}

static const struct step steps[] = {
	{ "198.51.100.7", NULL, NULL, "<alice@isp.example>", { NULL },
	  SMFIS_REJECT, "530", "5.7.0", "Authentication required" },
	{ "198.51.100.7", NULL, "alice", "<alice@isp.example>", { "Alice <alice@isp.example>" },
	  SMFIS_CONTINUE, NULL, NULL, NULL },
	{ "198.51.100.7", NULL, "alice@isp.example", "<ceo@bank.example>", { NULL },
	  SMFIS_REJECT, "553", "5.7.1",
	  "<ceo@bank.example>: Sender address rejected: not owned by user alice@isp.example" },
	{ "198.51.100.7", NULL, "alice", "<alice@isp.example>", { "CEO <ceo@bank.example>" },
	  SMFIS_REJECT, "553", "5.7.1",
	  "<ceo@bank.example>: Sender address rejected: not owned by user alice@isp.example" },
	{ "198.51.100.7", NULL, "alice", "<alice@isp.example>",
	  { "alice@isp.example", "ceo@bank.example" },
	  SMFIS_REJECT, "550", "5.6.0", "Message has more than one From: header" },
	{ "198.51.100.7", NULL, "alice", "<alice@isp.example>", { "Alice <alice@isp" },
	  SMFIS_REJECT, "550", "5.6.0", "Malformed From: header" },
	{ "198.51.100.7", NULL, "alice", "<alice@isp.example", { NULL },
	  SMFIS_REJECT, "553", "5.1.7", "Malformed sender address" },
	/* '%' and controls never reach the reply text. */
	{ "198.51.100.7", NULL, "alice", "<x%y@bank.example>", { NULL },
	  SMFIS_REJECT, "553", "5.7.1",
	  "<x?y@bank.example>: Sender address rejected: not owned by user alice@isp.example" },
	/* An {auth_authen} that cannot be an account: OnInternalError tempfail. */
	{ "198.51.100.7", NULL, "al\r\nice", "<alice@isp.example>", { NULL },
	  SMFIS_TEMPFAIL, "451", "4.3.0", "Temporary local problem" },
	{ "192.0.2.7", NULL, NULL, "<anyone@anywhere.example>", { "x@anywhere.example" },
	  SMFIS_CONTINUE, NULL, NULL, NULL },
	{ "2001:db8::7", NULL, NULL, "<anyone@anywhere.example>", { NULL },
	  SMFIS_CONTINUE, NULL, NULL, NULL },
	{ "2001:db9::7", NULL, NULL, "<anyone@anywhere.example>", { NULL },
	  SMFIS_REJECT, "530", "5.7.0", "Authentication required" },
};

static void
test_replies(void **state)
{
	size_t i;

	(void)state;
	fake_install_conf("AccountDomain isp.example\n"
	    "TrustedNetworks 192.0.2.0/24, 2001:db8::/32\n");
	for (i = 0; i < PC_ARRAY_LEN(steps); i++) {
		sfsistat r = run_session(&steps[i]);

		if (r != steps[i].want)
			fail_msg("step %zu (%s): answer %d, want %d (%s %s %s)", i,
			    steps[i].mail_from, r, steps[i].want, mta.rcode,
			    mta.xcode, mta.text);
		if (steps[i].rcode == NULL) {
			assert_string_equal(mta.rcode, "");
			continue;
		}
		assert_string_equal(mta.rcode, steps[i].rcode);
		assert_string_equal(mta.xcode, steps[i].xcode);
		assert_string_equal(mta.text, steps[i].text);
	}
	mconf_install(NULL);
}

static void
test_require_tls(void **state)
{
	static const struct step no_tls = {
		"198.51.100.7", NULL, "alice", "<alice@isp.example>", { NULL },
		SMFIS_REJECT, "530", "5.7.0", "Must issue a STARTTLS command first",
	};
	static const struct step tls = {
		"198.51.100.7", "TLSv1.3", "alice", "<alice@isp.example>", { NULL },
		SMFIS_CONTINUE, NULL, NULL, NULL,
	};
	/* Without TLS and without AUTH, the TLS reply comes first. */
	static const struct step neither = {
		"198.51.100.7", NULL, NULL, "<alice@isp.example>", { NULL },
		SMFIS_REJECT, "530", "5.7.0", "Must issue a STARTTLS command first",
	};

	(void)state;
	fake_install_conf("AccountDomain isp.example\nRequireTLS yes\n");
	assert_int_equal(run_session(&no_tls), SMFIS_REJECT);
	assert_string_equal(mta.text, no_tls.text);
	assert_int_equal(run_session(&neither), SMFIS_REJECT);
	assert_string_equal(mta.text, neither.text);
	assert_int_equal(run_session(&tls), SMFIS_CONTINUE);
	mconf_install(NULL);
}

static void
test_on_internal_error_accept(void **state)
{
	static const struct step bad_login = {
		"198.51.100.7", NULL, "al\tice", "<alice@isp.example>", { NULL },
		SMFIS_ACCEPT, NULL, NULL, NULL,
	};

	(void)state;
	fake_install_conf("OnInternalError accept\n");
	assert_int_equal(run_session(&bad_login), SMFIS_ACCEPT);
	mconf_install(NULL);
}

static void
test_header_from_off(void **state)
{
	static const struct step foreign = {
		"198.51.100.7", NULL, "alice@isp.example", "<alice@isp.example>",
		{ "ceo@bank.example" }, SMFIS_CONTINUE, NULL, NULL, NULL,
	};

	(void)state;
	fake_install_conf("CheckHeaderFrom no\n");
	assert_int_equal(run_session(&foreign), SMFIS_CONTINUE);
	mconf_install(NULL);
}

/* Installs OriginStamp with a fresh key in key (a mkstemp() template). */
static void
stamp_setup(char *key, struct stamp_keyring *kr)
{
	static const char hex[] =
	    "k1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
	char conf[512];
	int fd = mkstemp(key);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, hex, strlen(hex)), (ssize_t)strlen(hex));
	close(fd);
	snprintf(conf, sizeof(conf), "AccountDomain isp.example\n"
	    "OriginStamp yes\nOriginKeyFile %s\n", key);
	fake_install_conf(conf);
	assert_int_equal(stamp_keyring_load(key, 1, kr, conf, sizeof(conf)), 0);
}

/* Opens the stamp the filter inserted k headers ago (0: the newest). */
static void
stamp_at(const struct stamp_keyring *kr, size_t k, struct stamp_origin *o)
{
	char id[32];

	assert_true(k < mta.hdrs.n);
	assert_string_equal(mta.hdrs.name[k], STAMP_HEADER);
	assert_int_equal(stamp_open(kr, mta.hdrs.value[k],
	    strlen(mta.hdrs.value[k]), o, id, sizeof(id)), STAMP_OK);
}

static void
stamp_done(char *key, struct stamp_keyring *kr)
{
	stamp_keyring_free(kr);
	unlink(key);
	mconf_install(NULL);
}

/*
 * OriginStamp: the header is added at the top and names the account and
 * the queue ID, also when the MTA had none yet at MAIL and RCPT (Postfix).
 */
static void
test_origin_stamp(void **state)
{
	static const struct step ok = {
		"198.51.100.7", NULL, "alice", "<alice@isp.example>", { NULL },
		SMFIS_CONTINUE, NULL, NULL, NULL,
	};
	const char *late[] = { NULL, "4YLATE" };
	const char *want_qid[] = { "4XQID", "4YLATE" };
	char key[] = "/tmp/pc-test-milter-key-XXXXXX";
	struct stamp_keyring kr;
	struct stamp_origin o;

	(void)state;
	stamp_setup(key, &kr);
	for (size_t i = 0; i < PC_ARRAY_LEN(late); i++) {
		assert_int_equal(run_session_qid(&ok, late[i]), SMFIS_CONTINUE);
		assert_int_equal(mta.hdrs.n, 1);
		stamp_at(&kr, 0, &o);
		assert_string_equal(o.account, "alice@isp.example");
		assert_string_equal(o.addr, "198.51.100.7");
		assert_string_equal(o.qid, want_qid[i]);
	}
	stamp_done(key, &kr);
}

/*
 * Several messages on one connection each name their own queue ID,
 * although the milter stops looking once it has one: MAIL, the end of a
 * message and an abort (RSET) all forget it.
 */
static void
test_qid_per_message(void **state)
{
	static const struct {
		const char *at_mail;	/* {i} from MAIL on */
		const char *after_rcpt;	/* {i} from after RCPT on, or NULL */
		int abort;		/* RSET instead of the end of message */
	} msg[] = {
		{ "4AFIRST", NULL, 0 },
		{ "4BSECOND", NULL, 1 },
		{ "4CTHIRD", NULL, 0 },
		{ "", "4DLATE", 0 },	/* Postfix: none until a recipient */
	};
	static const char *const stamped[] = { "4DLATE", "4CTHIRD", "4AFIRST" };
	char key[] = "/tmp/pc-test-milter-key-XXXXXX";
	char from[] = "<alice@isp.example>";
	char rcpt[] = "<friend@elsewhere.example>";
	char *argv[2] = { NULL, NULL };
	struct stamp_keyring kr;
	struct stamp_origin o;
	size_t i;

	(void)state;
	stamp_setup(key, &kr);
	fake_mta_reset();
	fake_mta_macro("{daemon_name}", "submission");
	fake_mta_macro("{auth_authen}", "alice");
	fake_mta_macro("{auth_type}", "PLAIN");
	assert_int_equal(connect_from("198.51.100.7"), SMFIS_NOREPLY);
	assert_int_equal(milter_desc.xxfi_helo(ctx, "client.example"),
	    SMFIS_NOREPLY);
	for (i = 0; i < PC_ARRAY_LEN(msg); i++) {
		fake_mta_macro("i", msg[i].at_mail);
		argv[0] = from;
		assert_int_equal(milter_desc.xxfi_envfrom(ctx, argv),
		    SMFIS_CONTINUE);
		argv[0] = rcpt;
		assert_int_equal(milter_desc.xxfi_envrcpt(ctx, argv),
		    SMFIS_CONTINUE);
		if (msg[i].after_rcpt != NULL)
			fake_mta_macro("i", msg[i].after_rcpt);
		if (msg[i].abort)
			assert_int_equal(milter_desc.xxfi_abort(ctx),
			    SMFIS_CONTINUE);
		else
			assert_int_equal(milter_desc.xxfi_eom(ctx),
			    SMFIS_CONTINUE);
	}
	milter_desc.xxfi_close(ctx);
	assert_int_equal(mta.hdrs.n, PC_ARRAY_LEN(stamped));
	for (i = 0; i < PC_ARRAY_LEN(stamped); i++) {
		stamp_at(&kr, i, &o);
		assert_string_equal(o.qid, stamped[i]);
	}
	stamp_done(key, &kr);
}

/* SPFCheck reject and header, with DNS from an in-memory zone. */
static void
test_spf_reply(void **state)
{
	static const struct step refused = {
		"198.51.100.7", NULL, "alice", "<alice@isp.example>", { NULL },
		SMFIS_REJECT, "550", "5.7.23",
		"SPF of isp.example does not authorize this provider's relays (fail)",
	};
	static const struct step marked = {
		"198.51.100.7", NULL, "alice", "<alice@isp.example>", { NULL },
		SMFIS_CONTINUE, NULL, NULL, NULL,
	};
	SPF_dns_server_t *zone = SPF_dns_zone_new(NULL, "t", 0);

	(void)state;
	assert_int_equal(SPF_dns_zone_add_str(zone, "isp.example", ns_t_txt,
	    NETDB_SUCCESS, "v=spf1 ip4:198.51.100.99 -all"), SPF_E_SUCCESS);
	spf_use_dns_below(zone);
	spf_cache_flush();
	fake_install_conf("AccountDomain isp.example\nSPFCheck reject\n"
	    "SPFRelayAddress 192.0.2.25\n");
	assert_int_equal(run_session(&refused), SMFIS_REJECT);
	assert_string_equal(mta.rcode, refused.rcode);
	assert_string_equal(mta.xcode, refused.xcode);
	assert_string_equal(mta.text, refused.text);
	fake_install_conf("AccountDomain isp.example\nSPFCheck header\n"
	    "SPFRelayAddress 192.0.2.25\n");
	assert_int_equal(run_session(&marked), SMFIS_CONTINUE);
	assert_int_equal(mta.hdrs.n, 1);
	assert_string_equal(mta.hdrs.name[0], SPF_HEADER_NAME);
	assert_true(strncmp(mta.hdrs.value[0],
	    "fail domain=isp.example; relay=192.0.2.25", 41) == 0);
	mconf_install(NULL);
	spf_use_dns_below(NULL);
	SPF_dns_free(zone);
	spf_cache_flush();
}

/*
 * Negotiation: the steps without an answer are taken, the unused ones
 * dropped where the MTA offers to, and a libmilter that cannot offer
 * "no reply" is refused rather than left waiting for answers.
 */
static void
test_negotiate(void **state)
{
	const unsigned long every = 0x001FFFFFUL;	/* all protocol bits */
	const unsigned long noreply = SMFIP_NR_CONN | SMFIP_NR_HELO |
	    SMFIP_NR_HDR | SMFIP_NR_BODY;
	unsigned long f0, f1, f2, f3;

	(void)state;
	fake_mta_reset();
	assert_int_equal(milter_desc.xxfi_negotiate(ctx, SMFIF_ADDHDRS |
	    SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_CHGBODY, every, 0, 0,
	    &f0, &f1, &f2, &f3), SMFIS_CONTINUE);
	assert_int_equal(f0, SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE);
	assert_int_equal(f1, noreply | SMFIP_NOUNKNOWN | SMFIP_NODATA |
	    SMFIP_NOEOH);
	assert_int_equal(f2 | f3, 0);
	assert_int_equal(mta.symlists, 5);

	/* An MTA that cannot skip end of headers still gets no answers. */
	assert_int_equal(milter_desc.xxfi_negotiate(ctx, 0, noreply |
	    SMFIP_NODATA, 0, 0, &f0, &f1, &f2, &f3), SMFIS_CONTINUE);
	assert_int_equal(f1, noreply | SMFIP_NODATA);

	/* libmilter older than 8.14 offers no "no reply" at all. */
	fake_mta_reset();
	assert_int_equal(milter_desc.xxfi_negotiate(ctx, 0, 0x7FUL, 0, 0,
	    &f0, &f1, &f2, &f3), SMFIS_REJECT);
	assert_int_equal(milter_desc.xxfi_negotiate(ctx, 0, every & ~SMFIP_NR_HDR,
	    0, 0, &f0, &f1, &f2, &f3), SMFIS_REJECT);
	assert_int_equal(mta.symlists, 0);
}

/*
 * Connect gets no answer, so a problem there (no configuration) is
 * answered at MAIL, with OnInternalError's tempfail, and nothing passes.
 */
static void
test_unanswered_error(void **state)
{
	char *argv[2] = { "<alice@isp.example>", NULL };

	(void)state;
	mconf_install(NULL);
	fake_mta_reset();
	fake_mta_macro("{auth_authen}", "alice");
	assert_int_equal(connect_from("198.51.100.7"), SMFIS_NOREPLY);
	assert_null(mta.priv);
	assert_int_equal(milter_desc.xxfi_helo(ctx, "client.example"),
	    SMFIS_NOREPLY);
	assert_int_equal(milter_desc.xxfi_envfrom(ctx, argv), SMFIS_TEMPFAIL);
	assert_string_equal(mta.rcode, "451");
	assert_string_equal(mta.xcode, "4.3.0");
	assert_int_equal(milter_desc.xxfi_header(ctx, "From", "alice@isp.example"),
	    SMFIS_NOREPLY);
	assert_int_equal(milter_desc.xxfi_eom(ctx), SMFIS_TEMPFAIL);
	milter_desc.xxfi_close(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_require_tls),
		cmocka_unit_test(test_on_internal_error_accept),
		cmocka_unit_test(test_header_from_off),
		cmocka_unit_test(test_origin_stamp),
		cmocka_unit_test(test_qid_per_message),
		cmocka_unit_test(test_spf_reply),
		cmocka_unit_test(test_negotiate),
		cmocka_unit_test(test_unanswered_error),
	};

	mseam = &fake_mseam;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
