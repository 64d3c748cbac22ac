/*
 * test_mailbox.c - cmocka tests for src/lib/mailbox.c: the envelope
 * reverse-path parser, the From: header parser (groups, comments, encoded
 * words that try to smuggle addresses, folding, hostile bytes), display
 * names, formatting and comparison, plus a mutation fuzz that checks every
 * address the header parser accepts also passes the envelope parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox.h"
#include "util.h"

/* ---- envelope ---- */

struct path_case {
	const char *in;
	int rc;
	const char *local, *domain;	/* rc 0 */
	int null_path;
	const char *errsub;		/* rc -1 */
};

#define OK(in, l, d) { in, 0, l, d, 0, NULL }
#define BAD(in, e) { in, -1, NULL, NULL, 0, e }

static const struct path_case path_cases[] = {
	OK("<user@example.com>", "user", "example.com"),
	OK("<User@Example.COM>", "User", "example.com"),
	OK("user@example.com", "user", "example.com"),
	{ "<>", 0, "", "", 1, NULL },
	OK("<@a.example,@b.example:user@dom.example>", "user", "dom.example"),
	OK("<@[192.0.2.1]:user@dom.example>", "user", "dom.example"),
	OK("<\"john doe\"@example.com>", "john doe", "example.com"),
	OK("<\"a\\\"b\\\\c\"@x.org>", "a\"b\\c", "x.org"),
	OK("<\"<evil@attacker.example>\"@x.org>", "<evil@attacker.example>",
	    "x.org"),
	OK("\"quoted\"@x.org", "quoted", "x.org"),
	OK("<user@[192.0.2.1]>", "user", "[192.0.2.1]"),
	OK("<user@[IPv6:2001:DB8::1]>", "user", "[ipv6:2001:db8::1]"),
	OK("<postmaster>", "postmaster", ""),
	OK("postmaster", "postmaster", ""),
	OK("<δοκιμή@παράδειγμα.δοκιμή>", "δοκιμή", "παράδειγμα.δοκιμή"),
	OK("<用户@例子.广告>", "用户", "例子.广告"),
	OK("<Ünïcødé@BÜCHER.Example>", "Ünïcødé", "bÜcher.example"),
	OK("<first.last+tag@sub.example.co.uk>", "first.last+tag",
	    "sub.example.co.uk"),
	OK("<a!#$%&'*+-/=?^_`{|}~@x.example>", "a!#$%&'*+-/=?^_`{|}~",
	    "x.example"),
	/* not RFC dot-atoms, but Postfix accepts them by default */
	OK("<john..doe@x.example>", "john..doe", "x.example"),
	/* UTF-8 (SMTPUTF8): the first code points past the C1 range, and
	 * the last of each length. */
	OK("<j\xc3\xb6rg\xc2\xa1@x.example>", "j\xc3\xb6rg\xc2\xa1", "x.example"),
	OK("<a\xdf\xbf\xef\xbf\xbd\xf4\x8f\xbf\xbf@x.example>",
	    "a\xdf\xbf\xef\xbf\xbd\xf4\x8f\xbf\xbf", "x.example"),
	OK("<.a.@x.example>", ".a.", "x.example"),
	OK("<a@xn--bcher-kva.example>", "a", "xn--bcher-kva.example"),
	OK("<a@x-y.example>", "a", "x-y.example"),

	BAD("", "empty address"),
	BAD("<", "missing '>'"),
	BAD(">", "unbalanced '>'"),
	BAD("<user@example.com", "missing '>'"),
	BAD("user@example.com>", "unbalanced '>'"),
	BAD("<<user@x.example>>", "unexpected '<'"),
	BAD("<user@x.example>junk", "junk after '>'"),
	BAD("<user@x.example>>", "junk after '>'"),
	BAD("<user@x.example><evil@y.example>", "junk after '>'"),
	BAD("<a@b>,<c@d>", "junk after '>'"),
	BAD("<>junk", "junk after '<>'"),
	BAD("<user@x.example> ", "white space"),
	BAD(" <user@x.example>", "white space"),
	BAD("<user@x.example>\r\n", "control"),
	BAD("<us\rer@x.example>", "control"),
	BAD("<user@x.example\n>", "control"),
	BAD("<user@x.example>\nRCPT TO:<evil@y.example>", "control"),
	BAD("<\x01user@x.example>", "control"),
	BAD("<user@x.example\x7f>", "control"),
	BAD("<user@x.ex\tample>", "control"),
	BAD("<\"a\tb\"@x.example>", "control"),
	BAD("<@x.example>", "bad source route"),
	BAD("<@>", "empty domain in source route"),
	BAD("<@a,b:user@x.example>", "bad source route"),
	BAD("<@a..b:user@x.example>", "empty label"),
	BAD("<@a.example:>", "empty local part"),
	BAD("<\"\"@x.example>", "empty local part"),
	BAD("<\"unterminated@x.example>", "unterminated quoted"),
	BAD("<\"a\\", "unterminated quoted"),
	BAD("<\"a\"b@x.example>", "unexpected 'b'"),
	BAD("<a b@x.example>", "unexpected ' '"),
	BAD("<a(comment)@x.example>", "unexpected '('"),
	BAD("<user@>", "empty domain"),
	BAD("user@", "empty domain"),
	BAD("@x.example", "empty local part"),
	BAD("<user@.x.example>", "empty label"),
	BAD("<user@x..example>", "empty label"),
	BAD("<user@x.example.>", "empty label"),
	BAD("<user@-x.example>", "'-'"),
	BAD("<user@x-.example>", "'-'"),
	BAD("<user@x_y.example>", "bad character '_'"),
	BAD("<user@x y.example>", "bad character ' '"),
	BAD("<user@x@y.example>", "bad character '@'"),
	BAD("<user@x.example<evil@y>", "bad character '<'"),
	BAD("<user@[300.1.1.1]>", "bad address literal"),
	BAD("<user@[010.1.1.1]>", "bad address literal"),
	BAD("<user@[IPv6:1.2.3.4]>", "bad address literal"),
	BAD("<user@[1.2.3.4>", "unterminated address literal"),
	BAD("<user@[]>", "bad address literal"),
	BAD("<user@[x400:foo]>", "unsupported address literal"),
	BAD("<user@[::1]>", "unsupported address literal"),
	BAD("<user@[1.2.3.4]x>", "unexpected 'x'"),
	BAD("<user@[1.2.3.4 ]>", "bad character ' '"),
	BAD("<user@[[1.2.3.4]]>", "unexpected ']'"),
	BAD("<user@[IPv6:fe80::1%eth0]>", "bad character '%'"),
	BAD("<\xff@x.example>", "UTF-8"),
	BAD("<\xc0\x80@x.example>", "UTF-8"),		/* overlong NUL */
	BAD("<a\xc1\x80" "b@x.example>", "UTF-8"),	/* overlong '@' */
	BAD("<user@x\xed\xa0\x80.example>", "UTF-8"),	/* surrogate */
	BAD("<user\xc2\x85@x.example>", "UTF-8"),	/* C1 NEL */
	BAD("<user\xc2\x80@x.example>", "UTF-8"),	/* C1, first */
	BAD("<user\xc2\x9f@x.example>", "UTF-8"),	/* C1, last */
	BAD("<a\xe0\x80\xc0" "b@x.example>", "UTF-8"),	/* 3-byte overlong */
	BAD("<a\xf0\x80\x81\x80" "b@x.example>", "UTF-8"), /* 4-byte overlong */
	BAD("<user\xf4\x90\x80\x80@x.example>", "UTF-8"), /* > U+10FFFF */
	BAD("<user@x.example\xe4>", "UTF-8"),		/* cut short */
};

static void
check_path_case(size_t i, const struct path_case *c)
{
	struct pc_mailbox m;
	char err[256] = "";
	int rc = pc_path_parse(c->in, &m, err, sizeof(err));

	if (rc != c->rc)
		fail_msg("path case %zu \"%s\": rc %d, want %d (%s)", i, c->in,
		    rc, c->rc, err);
	if (rc == 0) {
		if (strcmp(m.local, c->local) != 0 ||
		    strcmp(m.domain, c->domain) != 0 ||
		    m.null_path != c->null_path)
			fail_msg("path case %zu \"%s\": got [%s] [%s] %d", i,
			    c->in, m.local, m.domain, m.null_path);
	} else if (err[0] == '\0' || strstr(err, c->errsub) == NULL) {
		fail_msg("path case %zu \"%s\": message \"%s\", want \"%s\"",
		    i, c->in, err, c->errsub);
	}
}

static void
test_path_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(path_cases); i++)
		check_path_case(i, &path_cases[i]);
}

/* What follows a NUL is never seen, so it cannot add or change anything. */
static void
test_path_embedded_nul(void **state)
{
	static const char bare[] = "a@b.example\0<evil@x.example>";
	static const char angle[] = "<a@b.example>\0<evil@x.example>";
	static const char cut[] = "<a@b.example\0>";
	static const char quoted[] = "<\"a\0\"@evil.example>";
	struct pc_mailbox m;
	char err[256];

	(void)state;
	assert_true(sizeof(bare) > strlen(bare) + 1);
	assert_int_equal(pc_path_parse(bare, &m, err, sizeof(err)), 0);
	assert_string_equal(m.local, "a");
	assert_string_equal(m.domain, "b.example");
	assert_int_equal(pc_path_parse(angle, &m, err, sizeof(err)), 0);
	assert_string_equal(m.domain, "b.example");
	assert_int_equal(pc_path_parse(cut, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing '>'"));
	assert_int_equal(pc_path_parse(quoted, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unterminated"));
}

static char *
repeat(char c, size_t n)
{
	char *s = xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Limits exactly at and one past the edge, and a 10 kB address. */
static void
test_path_lengths(void **state)
{
	struct pc_mailbox m;
	struct dstr d;
	char err[256], out[PC_MAILBOX_FMT_MAX];
	char *l256 = repeat('a', PC_LOCAL_MAX), *l257 = repeat('a',
	    PC_LOCAL_MAX + 1), *lab63 = repeat('b', 63), *lab64 =
	    repeat('b', 64), *big = repeat('x', 10240);

	(void)state;
	dstr_init(&d);
	dstr_appendf(&d, "<%s@x.example>", l256);
	assert_int_equal(pc_path_parse(d.buf, &m, err, sizeof(err)), 0);
	assert_int_equal(strlen(m.local), PC_LOCAL_MAX);
	dstr_clear(&d);
	dstr_appendf(&d, "<\"%s\"@x.example>", l256);
	assert_int_equal(pc_path_parse(d.buf, &m, err, sizeof(err)), 0);

	dstr_clear(&d);
	dstr_appendf(&d, "<%s@x.example>", l257);
	assert_int_equal(pc_path_parse(d.buf, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "local part longer"));
	dstr_clear(&d);
	dstr_appendf(&d, "<\"%s\"@x.example>", l257);
	assert_int_equal(pc_path_parse(d.buf, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "local part longer"));

	/* 4 x 63 + 3 dots = 255 bytes: the longest domain */
	dstr_clear(&d);
	dstr_appendf(&d, "<a@%s.%s.%s.%s>", lab63, lab63, lab63, lab63);
	assert_int_equal(pc_path_parse(d.buf, &m, err, sizeof(err)), 0);
	assert_int_equal(strlen(m.domain), PC_DOMAIN_MAX);
	pc_mailbox_format(&m, out, sizeof(out));
	assert_int_equal(strlen(out), 2 + PC_DOMAIN_MAX);
	dstr_clear(&d);
	dstr_appendf(&d, "<a@%s.%s.%s.%s.b>", lab63, lab63, lab63, lab63);
	assert_int_equal(pc_path_parse(d.buf, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "domain longer"));
	dstr_clear(&d);
	dstr_appendf(&d, "<a@%s.example>", lab64);
	assert_int_equal(pc_path_parse(d.buf, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "label longer than 63"));

	dstr_clear(&d);
	dstr_appendf(&d, "<%s@x.example>", big);
	assert_int_equal(pc_path_parse(d.buf, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "local part longer"));
	dstr_clear(&d);
	dstr_appendf(&d, "<a@%s>", big);
	assert_int_equal(pc_path_parse(d.buf, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "domain longer"));
	dstr_clear(&d);
	dstr_appendf(&d, "<\"%s", big);
	assert_int_equal(pc_path_parse(d.buf, &m, err, sizeof(err)), -1);

	dstr_free(&d);
	free(l256);
	free(l257);
	free(lab63);
	free(lab64);
	free(big);
}

/* ---- From: header ---- */

struct from_case {
	const char *hdr;
	int rc;
	size_t n;
	const char *addr[3];	/* pc_mailbox_format() of the first three */
	const char *errsub;
};

#define FOK(h, n, ...) { h, 0, n, { __VA_ARGS__ }, NULL }
#define FBAD(h, e) { h, -1, 0, { NULL }, e }

static const struct from_case from_cases[] = {
	FOK("a@b.example", 1, "a@b.example"),
	FOK("John Doe <john@example.com>", 1, "john@example.com"),
	FOK("\"Doe, John\" <john@example.com>", 1, "john@example.com"),
	FOK("John Q. Public <jqp@example.com>", 1, "jqp@example.com"),
	FOK("<John@Example.COM>", 1, "John@example.com"),
	FOK("john@example.com (John Doe)", 1, "john@example.com"),
	FOK("Name <j@x.example> (comment)", 1, "j@x.example"),
	FOK("a@x.example\t", 1, "a@x.example"),
	/* comments never contribute addresses */
	FOK("(comment (nested \\) still) <fake@x.example>) <real@y.example>",
	    1, "real@y.example"),
	FOK("(evil@attacker.example) real@y.example", 1, "real@y.example"),
	FOK("real@y.example (evil@attacker.example)", 1, "real@y.example"),
	FOK("real(evil@attacker.example)@y.example", 1, "real@y.example"),
	FOK("Evil (<evil@attacker.example>) <real@y.example>", 1,
	    "real@y.example"),
	/* nor do quoted display names */
	FOK("\"<evil@attacker.example>\" <real@y.example>", 1,
	    "real@y.example"),
	FOK("\"evil@attacker.example, \" <real@y.example>", 1,
	    "real@y.example"),
	FOK("\"\\\"<evil@attacker.example>\" <real@y.example>", 1,
	    "real@y.example"),
	/* nor encoded words: they are atoms, never decoded while parsing */
	FOK("=?UTF-8?B?PGV2aWxAYXR0YWNrZXIuZXhhbXBsZT4=?= <real@y.example>",
	    1, "real@y.example"),
	FOK("=?utf-8?Q?=3Cevil=40attacker=2Eexample=3E?= <real@y.example>", 1,
	    "real@y.example"),
	FBAD("=?UTF-8?B?PGV2aWxAYXR0YWNrZXIuZXhhbXBsZT4=?=", "encoded word"),
	FBAD("=?utf-8?Q?=3Cevil=40attacker=2Eexample=3E?=", "encoded word"),
	FBAD("=?UTF-8?B?ZXZpbEBhdHRhY2tlci5leGFtcGxlLCA=?= real@y.example",
	    "encoded word"),
	FBAD("Plain Words real@y.example", "missing @domain"),
	FOK("\"=?UTF-8?B?PGV2aWxAYXR0YWNrZXIuZXhhbXBsZT4=?=\" <r@y.example>",
	    1, "r@y.example"),
	/* lists and groups */
	FOK("a@x.example, b@y.example", 2, "a@x.example", "b@y.example"),
	FOK("a@x.example,b@y.example,C <c@z.example>", 3, "a@x.example",
	    "b@y.example", "c@z.example"),
	FOK("Team: a@x.example, B <b@y.example>;", 2, "a@x.example",
	    "b@y.example"),
	FOK("Team: a@x.example;, c@z.example", 2, "a@x.example",
	    "c@z.example"),
	FOK("Team:;, c@z.example", 1, "c@z.example"),
	FOK("Team: John <j@x.example>, (c) k@y.example;", 2, "j@x.example",
	    "k@y.example"),
	FOK("a@x.example,,b@y.example", 2, "a@x.example", "b@y.example"),
	FOK(",a@x.example,", 1, "a@x.example"),
	FBAD("undisclosed-recipients:;", "no address"),
	FBAD("A: B: c@d.example;;", "nested group"),
	FBAD(": a@x.example;", "group without a name"),
	FBAD("a@x.example;", "unexpected ';'"),
	FBAD("Team: a@x.example", "missing ';'"),
	FBAD("Team: <j@x.example>", "missing ';'"),
	FBAD("Team: a@x.example; junk", "unexpected text after address"),
	/* folding; MTAs give milters CRLF or LF */
	FOK("John\r\n Doe <j@x.example>", 1, "j@x.example"),
	FOK("John\n\tDoe <j@x.example>", 1, "j@x.example"),
	FOK("a@x.example,\r\n b@y.example", 2, "a@x.example", "b@y.example"),
	FOK("Name <j@x.example>\r\n ", 1, "j@x.example"),
	FOK("\"a\r\n b\"@x.example", 1, "\"a b\"@x.example"),
	FBAD("John\r\nDoe <j@x.example>", "not folding"),
	FBAD("a@x.example\r\n", "not folding"),
	FBAD("a@x.example\nBcc: evil@x.example", "not folding"),
	FBAD("a@x.example\rb", "bare CR"),
	FBAD("a@x.example\r", "bare CR"),
	FBAD("a@x.example\x01", "control"),
	FBAD("a@x\x7f.example", "control"),
	FBAD("\"a\x1b[2J\"@x.example", "control"),
	FBAD("\"a\tb\"@x.example", "control character in local part"),
	/* unbalanced */
	FBAD("John <j@x.example", "missing '>'"),
	FBAD("John j@x.example>", "missing @domain"),
	FBAD("j@x.example>", "unexpected '>'"),
	FBAD("John <j@x.example>>", "unexpected '>'"),
	FBAD("<<j@x.example>>", "unexpected '<'"),
	FBAD("John <j@x.example>, Jane <", "end of header"),
	FBAD("\"John <j@x.example>", "unterminated quoted string"),
	FBAD("\"John\\\" <j@x.example>", "unterminated quoted string"),
	FBAD("(John <j@x.example>", "unbalanced parentheses"),
	FBAD("((John) <j@x.example>", "unbalanced parentheses"),
	FBAD("John) <j@x.example>", "unbalanced parentheses"),
	FBAD("John <j@[1.2.3.4>", "unterminated domain literal"),
	FBAD("John <j@1.2.3.4]>", "']'"),
	FBAD("John \\<j@x.example>", "'\\'"),
	/* nothing there */
	FBAD("", "empty header"),
	FBAD("   ", "empty header"),
	FBAD("\r\n ", "empty header"),
	FBAD("(just a comment)", "no address"),
	FBAD(",,", "no address"),
	FBAD("John Doe", "missing @domain"),
	FBAD("<>", "empty address <>"),
	FBAD("John <>", "empty address <>"),
	/* obsolete route */
	FOK("<@route.example:j@x.example>", 1, "j@x.example"),
	FOK("J <@a.example,@b.example:j@x.example>", 1, "j@x.example"),
	FOK("<@a.example,,@b.example:j@x.example>", 1, "j@x.example"),
	FBAD("<@a.example j@x.example>", "in route"),
	FBAD("<@:j@x.example>", "empty domain in route"),
	FBAD("<@a_b.example:j@x.example>", "bad character '_'"),
	/* ambiguous or broken: refused rather than guessed */
	FBAD("Doe, John <j@x.example>", "missing @domain"),
	FBAD("evil@attacker.example <real@y.example>",
	    "unexpected '<' after address"),
	FBAD("a@x.example b@y.example", "unexpected text after address"),
	FBAD("<j@x.example> trailing", "unexpected text after address"),
	FBAD("a@x..example", "empty label"),
	FBAD("a@-x.example", "'-'"),
	FBAD("@x.example", "empty local part"),
	FBAD("a@", "no domain"),
	FBAD("a@x_y.example", "bad character '_'"),
	FBAD("a@x!.example", "bad character '!'"),
	FBAD("a@x.example@y.example", "unexpected '@'"),
	FBAD("a@[300.1.1.1]", "bad address literal"),
	FBAD("Name <\xff@x.example>", "UTF-8"),
	FBAD("Name <a@x\xc0\xae.example>", "UTF-8"),
	/* address forms */
	FOK("José <jose@exämple.example>", 1, "jose@exämple.example"),
	FOK("\"José\" <josé@EXAMPLE.com>", 1, "josé@example.com"),
	FOK("\xff\xfe <j@x.example>", 1, "j@x.example"),
	FOK("=?utf-8?q?J.R.?= <j@x.example>", 1, "j@x.example"),
	FOK("x@[192.0.2.1]", 1, "x@[192.0.2.1]"),
	FOK("x@[IPv6:2001:DB8::1]", 1, "x@[ipv6:2001:db8::1]"),
	FOK("john . doe @ example . com", 1, "john.doe@example.com"),
	FOK("\"john\".doe@x.example", 1, "john.doe@x.example"),
	FOK("\"john doe\"@x.example", 1, "\"john doe\"@x.example"),
	FOK("\"a\\\"b\"@x.example", 1, "\"a\\\"b\"@x.example"),
	/* some readers decode these even where RFC 2047 forbids them */
	FBAD("=?utf-8?b?YWRtaW5AYmFuay5leGFtcGxlPg==?=@attacker.example",
	    "encoded word in address"),
	FBAD("\"x =?utf-8?q?admin=40bank.example=3E?= y\"@attacker.example",
	    "encoded word in address"),
	FBAD("A <a.=?utf-8?q?b?=@attacker.example>", "encoded word"),
	FOK("\"a=?b\"@x.example", 1, "a=?b@x.example"),
	FOK("a?=b=?c@x.example", 1, "a?=b=?c@x.example"),
};

static void
check_from_case(size_t i, const struct from_case *c)
{
	struct pc_mailbox out[3];
	char err[256] = "", buf[PC_MAILBOX_FMT_MAX];
	size_t n = 99, k;
	int rc = pc_from_parse(c->hdr, out, PC_ARRAY_LEN(out), &n, err,
	    sizeof(err));

	if (rc != c->rc)
		fail_msg("from case %zu \"%s\": rc %d, want %d (%s)", i,
		    c->hdr, rc, c->rc, err);
	if (rc != 0) {
		if (err[0] == '\0' || strstr(err, c->errsub) == NULL)
			fail_msg("from case %zu \"%s\": message \"%s\", want "
			    "\"%s\"", i, c->hdr, err, c->errsub);
		assert_int_equal(n, 0);
		return;
	}
	if (n != c->n)
		fail_msg("from case %zu \"%s\": %zu addresses, want %zu", i,
		    c->hdr, n, c->n);
	for (k = 0; k < n; k++) {
		pc_mailbox_format(&out[k], buf, sizeof(buf));
		if (strcmp(buf, c->addr[k]) != 0)
			fail_msg("from case %zu \"%s\": address %zu is %s, want "
			    "%s", i, c->hdr, k, buf, c->addr[k]);
	}
}

static void
test_from_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(from_cases); i++)
		check_from_case(i, &from_cases[i]);
}

static void
test_from_embedded_nul(void **state)
{
	static const char list[] = "a@b.example\0, evil@x.example";
	static const char disp[] = "\"a@b.example\0\" <evil@x.example>";
	static const char angle[] = "Good <a@b.example\0> <evil@x.example>";
	struct pc_mailbox out[4];
	size_t n;
	char err[256];

	(void)state;
	assert_int_equal(pc_from_parse(list, out, 4, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].local, "a");
	assert_int_equal(pc_from_parse(disp, out, 4, &n, err, sizeof(err)),
	    -1);
	assert_int_equal(n, 0);
	assert_int_equal(pc_from_parse(angle, out, 4, &n, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "missing '>'"));
}

/* Many addresses: *n counts all of them, storing stops at max. */
static void
test_from_many(void **state)
{
	struct pc_mailbox *out = xcalloc(1000, sizeof(*out));
	struct dstr d;
	size_t n, i;
	char err[256];

	(void)state;
	dstr_init(&d);
	for (i = 0; i < 1000; i++)
		dstr_appendf(&d, "%sUser %zu <u%zu@x%zu.example>", i ? ",\r\n\t" :
		    "", i, i, i % 7);
	assert_int_equal(pc_from_parse(d.buf, out, 16, &n, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "too many addresses");
	assert_int_equal(n, 1000);
	assert_string_equal(out[15].local, "u15");
	assert_string_equal(out[16].local, "");	/* never written */

	assert_int_equal(pc_from_parse(d.buf, out, 1000, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 1000);
	assert_string_equal(out[999].local, "u999");
	assert_string_equal(out[999].domain, "x5.example");

	/* counting only */
	assert_int_equal(pc_from_parse(d.buf, NULL, 0, &n, err, sizeof(err)),
	    -1);
	assert_int_equal(n, 1000);

	/* the same inside one group */
	dstr_clear(&d);
	dstr_puts(&d, "Everyone: ");
	for (i = 0; i < 1000; i++)
		dstr_appendf(&d, "%su%zu@x.example", i ? ", " : "", i);
	dstr_puts(&d, ";");
	assert_int_equal(pc_from_parse(d.buf, out, 1000, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 1000);
	dstr_free(&d);
	free(out);
}

static void
test_from_huge(void **state)
{
	struct pc_mailbox out[2];
	struct dstr d;
	size_t n, i;
	char err[256];
	char *big = repeat('x', 10240);

	(void)state;
	dstr_init(&d);
	dstr_appendf(&d, "Big <%s@x.example>", big);
	assert_int_equal(pc_from_parse(d.buf, out, 2, &n, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "local part longer"));
	dstr_clear(&d);
	dstr_appendf(&d, "a@%s", big);
	assert_int_equal(pc_from_parse(d.buf, out, 2, &n, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "domain longer"));
	/* 10 kB display name and deeply nested comments are fine */
	dstr_clear(&d);
	dstr_appendf(&d, "\"%s\" ", big);
	for (i = 0; i < 5000; i++)
		dstr_putc(&d, '(');
	for (i = 0; i < 5000; i++)
		dstr_putc(&d, ')');
	dstr_puts(&d, " <ok@x.example>");
	assert_int_equal(pc_from_parse(d.buf, out, 2, &n, err, sizeof(err)),
	    0);
	assert_string_equal(out[0].local, "ok");
	dstr_free(&d);
	free(big);
}

/* ---- display names ---- */

struct disp_case {
	const char *hdr;
	int rc;
	const char *want;
};

static const struct disp_case disp_cases[] = {
	{ "John Doe <j@x.example>", 0, "John Doe" },
	{ "\"Doe, John\" <j@x.example>", 0, "Doe, John" },
	{ "John Q. Public <j@x.example>", 0, "John Q. Public" },
	{ "John(comment)Doe <j@x.example>", 0, "John Doe" },
	{ "=?UTF-8?B?Sm9zw6k=?= <j@x.example>", 0, "José" },
	{ "=?utf-8?b?Sm9zw6k?= <j@x.example>", 0, "José" },
	{ "=?UTF-8?Q?Jos=C3=A9_Garc=C3=ADa?= <j@x.example>", 0, "José García" },
	{ "=?UTF-8?B?Sm9zw6k=?= =?UTF-8?B?IEdhcmPDrWE=?= <j@x.example>", 0,
	    "José García" },
	{ "=?UTF-8?B?Sm9zw6k=?=\r\n =?UTF-8?B?IEdhcmPDrWE=?= <j@x.example>", 0,
	    "José García" },
	{ "=?UTF-8?B?Sm9zw6k=?= Smith <j@x.example>", 0, "José Smith" },
	{ "=?us-ascii?q?hello?= <j@x.example>", 0, "hello" },
	{ "=?UTF-8*en?Q?hi?= <j@x.example>", 0, "hi" },
	{ "=?iso-8859-1?Q?Jos=E9?= <j@x.example>", 0, "=?iso-8859-1?Q?Jos=E9?=" },
	{ "=?UTF-8?X?abc?= <j@x.example>", 0, "=?UTF-8?X?abc?=" },
	{ "=?UTF-8?Q?a=ZZ?= <j@x.example>", 0, "=?UTF-8?Q?a=ZZ?=" },
	{ "=?UTF-8?Q?a=?= <j@x.example>", 0, "=?UTF-8?Q?a=?=" },
	{ "=?UTF-8?Q?\?= <j@x.example>", 0, "=?UTF-8?Q?\?=" },
	{ "=?UTF-8?B?!!!!?= <j@x.example>", 0, "=?UTF-8?B?!!!!?=" },
	{ "\"=?UTF-8?B?Sm9zw6k=?=\" <j@x.example>", 0, "=?UTF-8?B?Sm9zw6k=?=" },
	/* decoded text is shown, never parsed; controls are neutralised */
	{ "=?UTF-8?B?PGV2aWxAYXR0YWNrZXIuZXhhbXBsZT4=?= <real@y.example>", 0,
	    "<evil@attacker.example>" },
	{ "=?UTF-8?Q?a=0D=0Ab?= <j@x.example>", 0, "a??b" },
	{ "=?UTF-8?Q?a=00b?= <j@x.example>", 0, "a?b" },
	{ "=?UTF-8?Q?a=1B=5B2Jb?= <j@x.example>", 0, "a?[2Jb" },
	{ "\"a\tb\" <j@x.example>", 0, "a b" },
	{ "j@x.example", 0, "" },
	{ "j@x.example (John Doe)", 0, "" },
	{ "<j@x.example>", 0, "" },
	{ "Team: John <j@x.example>;", 0, "John" },
	{ "Team:;, Jane <j@x.example>", 0, "Jane" },
	{ "a@x.example, Jane <j@y.example>", 0, "" },
	{ "John <j@x.example", -1, "" },
	{ "=?UTF-8?B?PGV2aWxAYXR0YWNrZXIuZXhhbXBsZT4=?=", -1, "" },
	{ "", -1, "" },
};

static void
test_display_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(disp_cases); i++) {
		const struct disp_case *c = &disp_cases[i];
		char buf[256];
		int rc;

		memset(buf, 'z', sizeof(buf));
		rc = pc_from_display(c->hdr, buf, sizeof(buf));
		if (rc != c->rc || strcmp(buf, c->want) != 0)
			fail_msg("display case %zu \"%s\": %d \"%s\", want %d "
			    "\"%s\"", i, c->hdr, rc, buf, c->rc, c->want);
	}
}

static void
test_display_truncation(void **state)
{
	char buf[16];

	(void)state;
	/* "José" is 5 bytes; 4 would split the é */
	memset(buf, 'z', sizeof(buf));
	assert_int_equal(pc_from_display("=?UTF-8?B?Sm9zw6k=?= <j@x.example>",
	    buf, 5), 0);
	assert_string_equal(buf, "Jos");
	assert_int_equal(buf[5], 'z');
	assert_int_equal(pc_from_display("=?UTF-8?B?Sm9zw6k=?= <j@x.example>",
	    buf, 6), 0);
	assert_string_equal(buf, "José");
	assert_int_equal(pc_from_display("John <j@x.example>", buf, 1), 0);
	assert_string_equal(buf, "");
	buf[0] = 'q';
	assert_int_equal(pc_from_display("John <j@x.example>", buf, 0), 0);
	assert_int_equal(buf[0], 'q');
}

/* ---- formatting and comparison ---- */

struct fmt_case {
	const char *local, *domain;
	int null_path;
	const char *want;
};

static const struct fmt_case fmt_cases[] = {
	{ "user", "x.org", 0, "user@x.org" },
	{ "first.last", "x.org", 0, "first.last@x.org" },
	{ "john doe", "x.org", 0, "\"john doe\"@x.org" },
	{ "a\"b\\c", "x.org", 0, "\"a\\\"b\\\\c\"@x.org" },
	{ ".a", "x.org", 0, "\".a\"@x.org" },
	{ "a.", "x.org", 0, "\"a.\"@x.org" },
	{ "a..b", "x.org", 0, "\"a..b\"@x.org" },
	{ "a@b", "x.org", 0, "\"a@b\"@x.org" },
	{ "<evil@x>", "y.org", 0, "\"<evil@x>\"@y.org" },
	{ "a(b)", "x.org", 0, "\"a(b)\"@x.org" },
	{ "用户", "例子.广告", 0, "用户@例子.广告" },
	{ "postmaster", "", 0, "postmaster" },
	{ "", "", 1, "" },
};

static void
test_format_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(fmt_cases); i++) {
		const struct fmt_case *c = &fmt_cases[i];
		struct pc_mailbox m, back;
		char buf[PC_MAILBOX_FMT_MAX], path[PC_MAILBOX_FMT_MAX + 2];

		memset(&m, 0, sizeof(m));
		pc_strlcpy(m.local, c->local, sizeof(m.local));
		pc_strlcpy(m.domain, c->domain, sizeof(m.domain));
		m.null_path = c->null_path;
		pc_mailbox_format(&m, buf, sizeof(buf));
		if (strcmp(buf, c->want) != 0)
			fail_msg("format case %zu: %s, want %s", i, buf,
			    c->want);
		/* what we print, the envelope parser reads back the same */
		snprintf(path, sizeof(path), "<%s>", buf);
		assert_int_equal(pc_path_parse(path, &back, NULL, 0), 0);
		assert_string_equal(back.local, m.local);
		assert_string_equal(back.domain, m.domain);
		assert_int_equal(back.null_path, m.null_path);
	}
}

static void
test_format_limits(void **state)
{
	struct pc_mailbox m;
	char buf[PC_MAILBOX_FMT_MAX], small[8];

	(void)state;
	/* the worst case fits PC_MAILBOX_FMT_MAX exactly */
	memset(&m, 0, sizeof(m));
	memset(m.local, '"', PC_LOCAL_MAX);
	memset(m.domain, 'd', PC_DOMAIN_MAX);
	pc_mailbox_format(&m, buf, sizeof(buf));
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_int_equal(buf[sizeof(buf) - 2], 'd');

	/* truncation keeps whole UTF-8 characters */
	memset(&m, 0, sizeof(m));
	pc_strlcpy(m.local, "用户", sizeof(m.local));
	pc_strlcpy(m.domain, "x.org", sizeof(m.domain));
	memset(small, 'z', sizeof(small));
	pc_mailbox_format(&m, small, 5);
	assert_string_equal(small, "用");
	assert_int_equal(small[5], 'z');
	pc_mailbox_format(&m, small, 0);
	assert_int_equal(small[0], (char)0xe7);
}

struct eq_case {
	const char *a, *b;
	int eq;
};

static const struct eq_case eq_cases[] = {
	{ "<User@Example.COM>", "<user@example.com>", 1 },
	{ "<a@X.EXAMPLE>", "a@x.example", 1 },
	{ "<\"john.doe\"@x.example>", "<john.doe@x.example>", 1 },
	{ "<@r.example:a@x.example>", "<a@x.example>", 1 },
	{ "<>", "<>", 1 },
	{ "<a@x.example>", "<b@x.example>", 0 },
	{ "<a@x.example>", "<a@y.example>", 0 },
	{ "<a@x.example>", "<a@x.example.org>", 0 },
	{ "<ab@x.example>", "<a@bx.example>", 0 },
	{ "<>", "<a@x.example>", 0 },
	{ "<postmaster>", "<postmaster@x.example>", 0 },
	/* only ASCII folds: no Unicode case tables here */
	{ "<Ä@x.example>", "<ä@x.example>", 0 },
};

static void
test_eq_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(eq_cases); i++) {
		struct pc_mailbox a, b;

		assert_int_equal(pc_path_parse(eq_cases[i].a, &a, NULL, 0), 0);
		assert_int_equal(pc_path_parse(eq_cases[i].b, &b, NULL, 0), 0);
		if (pc_mailbox_eq(&a, &b) != eq_cases[i].eq ||
		    pc_mailbox_eq(&b, &a) != eq_cases[i].eq)
			fail_msg("eq case %zu: %s vs %s should be %d", i,
			    eq_cases[i].a, eq_cases[i].b, eq_cases[i].eq);
	}
}

/* ---- mutation fuzz ---- */

static uint32_t rng_state = 0x9E3779B9u;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void
mutate(const char *seed, char *out, size_t outlen)
{
	static const char interesting[] = "<>\"()\\@,;:.[] \t\r\n=?_";
	size_t len = strlen(seed), k, edits = 1 + rng() % 4;

	pc_strlcpy(out, seed, outlen);
	for (k = 0; k < edits; k++) {
		size_t pos = len ? rng() % (len + 1) : 0;
		uint32_t op = rng() % 4;
		char c = op == 3 ? (char)(0x80 | rng() % 128) :
		    interesting[rng() % (sizeof(interesting) - 1)];

		if (op == 0 && len > 0 && pos < len) {
			memmove(out + pos, out + pos + 1, len - pos);
			len--;
		} else if (len + 2 < outlen) {
			memmove(out + pos + 1, out + pos, len - pos + 1);
			out[pos] = c;
			len++;
		}
	}
}

/* An address the header parser yields, the envelope parser accepts as is. */
static void
assert_envelope_agrees(const struct pc_mailbox *m, const char *input)
{
	char buf[PC_MAILBOX_FMT_MAX], path[PC_MAILBOX_FMT_MAX + 2], err[256];
	struct pc_mailbox back;

	pc_mailbox_format(m, buf, sizeof(buf));
	snprintf(path, sizeof(path), "<%s>", buf);
	if (pc_path_parse(path, &back, err, sizeof(err)) != 0 ||
	    strcmp(back.local, m->local) != 0 ||
	    strcmp(back.domain, m->domain) != 0)
		fail_msg("\"%s\" gave %s, which the envelope parser reads "
		    "differently (%s)", input, path, err);
}

static void
test_fuzz(void **state)
{
	static const char *from_seeds[] = {
		"John Doe <john@example.com>",
		"\"Doe, John\" <j@x.example>, a@b.example",
		"Team: a@x.example, B <b@y.example>;",
		"(c) real(x)@y.example (evil@attacker.example)",
		"=?UTF-8?B?Sm9zw6k=?= <j@[192.0.2.1]>",
		"<@a.example,@b.example:j@x.example>",
		"\"a\\\"b\"@x.example,\r\n c@d.example",
	};
	static const char *path_seeds[] = {
		"<user@example.com>", "<\"john doe\"@x.example>",
		"<@a,@b:u@[IPv6:2001:db8::1]>", "<>", "u@x.example",
	};
	char buf[256], disp[64], err[256];
	struct pc_mailbox out[4], m;
	int iter, ok = 0;
	size_t n, k;

	(void)state;
	for (iter = 0; iter < 100000; iter++) {
		int rc, drc;

		mutate(from_seeds[rng() % PC_ARRAY_LEN(from_seeds)], buf,
		    sizeof(buf));
		rc = pc_from_parse(buf, out, PC_ARRAY_LEN(out), &n, err,
		    sizeof(err));
		assert_true(err[0] != '\0' || rc == 0);
		drc = pc_from_display(buf, disp, sizeof(disp));
		assert_int_equal(drc, rc == 0 || n > 0 ? 0 : -1);
		for (k = 0; disp[k] != '\0'; k++)
			assert_false((unsigned char)disp[k] < 0x20 ||
			    disp[k] == 0x7f);
		if (rc != 0)
			continue;
		ok++;
		assert_true(n >= 1 && n <= PC_ARRAY_LEN(out));
		for (k = 0; k < n; k++)
			assert_envelope_agrees(&out[k], buf);
	}
	assert_true(ok > 5000);

	for (iter = 0; iter < 50000; iter++) {
		mutate(path_seeds[rng() % PC_ARRAY_LEN(path_seeds)], buf,
		    sizeof(buf));
		if (pc_path_parse(buf, &m, err, sizeof(err)) != 0 ||
		    m.null_path)
			continue;
		assert_envelope_agrees(&m, buf);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_table),
		cmocka_unit_test(test_path_embedded_nul),
		cmocka_unit_test(test_path_lengths),
		cmocka_unit_test(test_from_table),
		cmocka_unit_test(test_from_embedded_nul),
		cmocka_unit_test(test_from_many),
		cmocka_unit_test(test_from_huge),
		cmocka_unit_test(test_display_table),
		cmocka_unit_test(test_display_truncation),
		cmocka_unit_test(test_format_table),
		cmocka_unit_test(test_format_limits),
		cmocka_unit_test(test_eq_table),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
