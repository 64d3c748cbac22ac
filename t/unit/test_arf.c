/*
 * test_arf.c - finding X-Portcullis-Origin in RFC 5965 reports (shaped
 * like the RFC's own examples), forwarded messages, and hostile input:
 * missing parts, huge headers, wrong and missing boundaries, deep
 * nesting, base64 and quoted-printable bodies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arf.h"
#include "util.h"

#define H "X-Portcullis-Origin"

struct seen {
	char v[8][256];
	enum arf_where w[8];
	size_t n;
};

static void
cb(void *arg, const char *value, size_t len, enum arf_where where)
{
	struct seen *s = arg;

	if (s->n < 8) {
		snprintf(s->v[s->n], sizeof(s->v[0]), "%.*s", (int)len, value);
		s->w[s->n++] = where;
	}
}

static struct seen
walk(const char *msg, struct arf_report *rep)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(arf_find_field(msg, strlen(msg), H, cb, &s, rep), 0);
	return s;
}

/* RFC 5965 appendix B.2, with the stamp added to the original message. */
static const char rfc5965[] =
    "From: <abusedesk@example.com>\r\n"
    "Date: Thu, 8 Mar 2005 17:40:36 EDT\r\n"
    "Subject: FW: Earn money\r\n"
    "To: <abuse@example.net>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/report; report-type=feedback-report;\r\n"
    "     boundary=\"part1_13d.2e68ed54_boundary\"\r\n"
    "\r\n"
    "--part1_13d.2e68ed54_boundary\r\n"
    "Content-Type: text/plain; charset=\"US-ASCII\"\r\n"
    "Content-Transfer-Encoding: 7bit\r\n"
    "\r\n"
    "This is an email abuse report for an email message received from IP\r\n"
    "192.0.2.1 on Thu, 8 Mar 2005 14:00:00 EDT.  For more information\r\n"
    "about this format please see http://www.mipassoc.org/arf/.\r\n"
    "\r\n"
    "--part1_13d.2e68ed54_boundary\r\n"
    "Content-Type: message/feedback-report\r\n"
    "\r\n"
    "Feedback-Type: abuse\r\n"
    "User-Agent: SomeGenerator/1.0\r\n"
    "Version: 1\r\n"
    "Original-Mail-From: <somespammer@example.net>\r\n"
    "Original-Rcpt-To: <user@example.com>\r\n"
    "Arrival-Date: Thu, 8 Mar 2005 14:00:00 EDT\r\n"
    "Reporting-MTA: dns; mail.example.com\r\n"
    "Source-IP: 192.0.2.1\r\n"
    "Authentication-Results: mail.example.com;\r\n"
    "               spf=fail smtp.mail=somespammer@example.com\r\n"
    "Reported-Domain: example.net\r\n"
    "Reported-Uri: http://example.net/earn_money.html\r\n"
    "Reported-Uri: mailto:user@example.com\r\n"
    "Removal-Recipient: user@example.com\r\n"
    "\r\n"
    "--part1_13d.2e68ed54_boundary\r\n"
    "Content-Type: message/rfc822\r\n"
    "Content-Disposition: inline\r\n"
    "\r\n"
    "From: <somespammer@example.net>\r\n"
    "Received: from mailserver.example.net (mailserver.example.net\r\n"
    "        [192.0.2.1]) by example.com with ESMTP id M63d4137594e46;\r\n"
    "        Thu, 08 Mar 2005 14:00:00 -0400\r\n"
    "X-Portcullis-Origin: 1.k1.AAAA\r\n"
    "  BBBB\r\n"
    "To: <Undisclosed Recipients>\r\n"
    "Subject: Earn money\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-type: text/plain\r\n"
    "Message-ID: 8787KJKJ3K4J3K4J3K4J3.mail@example.net\r\n"
    "Date: Thu, 02 Sep 2004 12:31:03 -0500\r\n"
    "\r\n"
    "Spam Spam Spam\r\n"
    "Spam Spam Spam\r\n"
    "--part1_13d.2e68ed54_boundary--\r\n";

static void
test_rfc5965(void **state)
{
	struct arf_report r;
	struct seen s = walk(rfc5965, &r);

	(void)state;
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "1.k1.AAAA  BBBB");
	assert_int_equal(s.w[0], ARF_ORIGINAL);
	assert_true(r.is_report);
	assert_true(r.has_feedback);
	assert_true(r.has_original);
	assert_string_equal(r.feedback_type, "abuse");
	assert_string_equal(r.source_ip, "192.0.2.1");
	assert_string_equal(r.original_mail_from, "<somespammer@example.net>");
	assert_string_equal(r.reported_domain, "example.net");
	assert_int_equal(r.problems, 0);
}

/* RFC 5965 B.1 shape, headers only (text/rfc822-headers), LF endings. */
static const char headers_only[] =
    "Content-Type: multipart/report; report-type=feedback-report; boundary=b\n"
    "\n"
    "--b\n"
    "Content-Type: text/plain\n\nreport\n"
    "--b\n"
    "Content-Type: message/feedback-report\n\nFeedback-Type: fraud\n"
    "Version: 1\n\n"
    "--b\n"
    "Content-Type: text/rfc822-headers\n\n"
    "Received: by x\n"
    "x-portcullis-origin: 1.k1.HEADERS\n"
    "Subject: hi\n"
    "--b--\n";

static void
test_headers_only(void **state)
{
	struct arf_report r;
	struct seen s = walk(headers_only, &r);

	(void)state;
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "1.k1.HEADERS");
	assert_true(r.has_original);
	assert_string_equal(r.feedback_type, "fraud");
}

static void
test_forwarded(void **state)
{
	static const char inline_fwd[] =
	    "From: user@example.com\nSubject: Fwd: spam\n\n"
	    "Look at this:\n"
	    "> From: someone@isp.example\n"
	    "> X-Portcullis-Origin: 1.k1.QUOTED\n"
	    ">  MORE\n"
	    "> Subject: buy\n";
	static const char attached_b64[] =
	    "Content-Type: multipart/mixed; boundary=\"==x==\"\n\n"
	    "--==x==\nContent-Type: text/plain\n\nsee attached\n"
	    "--==x==\nContent-Type: message/rfc822\n\n"
	    "X-Portcullis-Origin: 1.k1.ATTACHED\nSubject: a\n\nbody\n"
	    "--==x==\nContent-Type: text/rfc822-headers\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    /* "X-Portcullis-Origin: 1.k1.B64\n" */
	    "WC1Qb3J0Y3VsbGlzLU9yaWdpbjogMS5rMS5CNjQK\n"
	    "--==x==--\n";
	static const char qp[] =
	    "Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n"
	    "X-Portcullis-Origin: 1.k1.Q=\nP=3D\n";
	struct seen s;

	(void)state;
	s = walk(inline_fwd, NULL);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "1.k1.QUOTED  MORE");
	assert_int_equal(s.w[0], ARF_INLINE);
	s = walk(attached_b64, NULL);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0], "1.k1.ATTACHED");
	assert_int_equal(s.w[0], ARF_ATTACHED);
	assert_string_equal(s.v[1], "1.k1.B64");
	s = walk(qp, NULL);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "1.k1.QP=");
}

static void
test_hostile(void **state)
{
	struct arf_report r;
	struct seen s;
	struct dstr d;
	int i;

	(void)state;
	/* A report without its original part. */
	s = walk("Content-Type: multipart/report; report-type=feedback-report;"
	    " boundary=b\n\n--b\nContent-Type: message/feedback-report\n\n"
	    "Feedback-Type: abuse\n\n--b--\n", &r);
	assert_int_equal(s.n, 0);
	assert_true(r.is_report);
	assert_false(r.has_original);
	/* The boundary named is never used: fall back to scanning the text. */
	s = walk("Content-Type: multipart/mixed; boundary=nope\n\n--other\n"
	    "X-Portcullis-Origin: 1.k1.FOUND\n--other--\n", &r);
	assert_int_equal(s.n, 1);
	assert_true(r.problems & ARF_P_NO_BOUNDARY);
	/* No boundary parameter at all. */
	s = walk("Content-Type: multipart/mixed\n\nX-Portcullis-Origin: 1.k1.X\n", &r);
	assert_int_equal(s.n, 1);
	assert_true(r.problems & ARF_P_NO_BOUNDARY);
	/* Unterminated multipart: the last part is still read. */
	s = walk("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	    "Content-Type: message/rfc822\n\nX-Portcullis-Origin: 1.k1.END\n", &r);
	assert_int_equal(s.n, 1);
	assert_true(r.problems & ARF_P_NO_END);
	/* A huge folded header: capped, not a crash. */
	dstr_init(&d);
	dstr_puts(&d, "X-Portcullis-Origin: 1.k1.");
	for (i = 0; i < 20000; i++)
		dstr_puts(&d, "AAAAAAAAAA\n ");
	dstr_puts(&d, "\nSubject: x\n\nbody\n");
	memset(&s, 0, sizeof(s));
	assert_int_equal(arf_find_field(d.buf, d.len, H, cb, &s, &r), 0);
	assert_int_equal(s.n, 1);
	assert_true(r.problems & ARF_P_FIELD_TOO_LONG);
	dstr_free(&d);
	/* Nesting deeper than ARF_DEPTH_MAX. */
	dstr_init(&d);
	for (i = 0; i < 50; i++)
		dstr_puts(&d, "Content-Type: message/rfc822\n\n");
	dstr_puts(&d, "X-Portcullis-Origin: 1.k1.DEEP\n\n");
	memset(&s, 0, sizeof(s));
	assert_int_equal(arf_find_field(d.buf, d.len, H, cb, &s, &r), 0);
	assert_int_equal(s.n, 0);
	assert_true(r.problems & ARF_P_TOO_DEEP);
	dstr_free(&d);
	/* Many parts. */
	dstr_init(&d);
	dstr_puts(&d, "Content-Type: multipart/mixed; boundary=b\n\n");
	for (i = 0; i < 200; i++)
		dstr_puts(&d, "--b\nContent-Type: text/plain\n\nx\n");
	dstr_puts(&d, "--b--\n");
	memset(&s, 0, sizeof(s));
	assert_int_equal(arf_find_field(d.buf, d.len, H, cb, &s, &r), 0);
	assert_true(r.problems & ARF_P_TOO_MANY_PARTS);
	dstr_free(&d);
	/* Empty, header-only, garbage, NUL bytes. */
	s = walk("", &r);
	assert_int_equal(s.n, 0);
	s = walk("X-Portcullis-Origin:", &r);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "");
	{
		static const char nul[] = "Subject: a\0b\nX-Portcullis-Origin: 1.k1.N\n\n";

		memset(&s, 0, sizeof(s));
		assert_int_equal(arf_find_field(nul, sizeof(nul) - 1, H, cb, &s,
		    &r), 0);
		assert_int_equal(s.n, 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5965),
		cmocka_unit_test(test_headers_only),
		cmocka_unit_test(test_forwarded),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
