/*
 * test_log.c - unit tests for src/lib/log.c: the logfmt and JSON escaping
 * that keeps client-supplied strings from splitting or forging log lines,
 * the value cap, and pc_log_event's JSON-lines file.
 *
 * The checks parse the output back (a small logfmt parser and JSON
 * validator live here, written independently of log.c) rather than only
 * comparing strings, so "the forged key cannot appear" is asserted as a
 * property of what a log reader would see.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "util.h"

#define IN(s) s, sizeof(s) - 1
#define NOCAP PC_LOG_NO_CAP

/* ---- independent helpers ---------------------------------------------- */

/* Well-formed UTF-8 check by decoding (not the table approach of log.c). */
static int
utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned cp, n, j;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			n = 2;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 3;
			cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 4;
			cp = s[i] & 0x07;
		} else
			return 0;
		if (i + n > len)
			return 0;
		for (j = 1; j < n; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
		    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n;
	}
	return 1;
}

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* p at the opening quote; returns the byte after the closing one or NULL. */
static const char *
json_string_end(const char *p)
{
	const char *start;
	int i;

	if (*p++ != '"')
		return NULL;
	start = p;
	for (;;) {
		unsigned char c = (unsigned char)*p;

		if (c == '\0' || c < 0x20)
			return NULL;
		if (c == '"')
			break;
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				for (i = 1; i <= 4; i++)
					if (!is_hex(p[i]))
						return NULL;
				p += 5;
				continue;
			}
			if (strchr("\"\\/bfnrt", *p) == NULL || *p == '\0')
				return NULL;
		}
		p++;
	}
	if (!utf8_valid((const unsigned char *)start, (size_t)(p - start)))
		return NULL;
	return p + 1;
}

/* A flat JSON object whose members all have string values, and nothing more. */
static int
json_object_ok(const char *p)
{
	if (*p++ != '{')
		return 0;
	if (*p == '}')
		return p[1] == '\0';
	for (;;) {
		if ((p = json_string_end(p)) == NULL || *p++ != ':')
			return 0;
		if ((p = json_string_end(p)) == NULL)
			return 0;
		if (*p == '}')
			return p[1] == '\0';
		if (*p++ != ',')
			return 0;
	}
}

struct kv {
	char key[64];
	struct dstr val;
};

#define KV_MAX 16

/*
 * Reads a logfmt line the way a strict log reader would.  Returns the
 * number of fields, or -1 if the line is not well-formed (raw control
 * byte, bad escape, unterminated quote, junk after a quoted value).
 */
static int
logfmt_parse(const char *s, struct kv *out)
{
	int n = 0;

	while (*s != '\0') {
		size_t k = 0;

		if (n > 0 && *s++ != ' ')
			return -1;
		if (n == KV_MAX)
			return -1;
		while (*s != '=') {
			if (!((*s >= 'a' && *s <= 'z') ||
			    (*s >= '0' && *s <= '9') || *s == '_') || k == 63)
				return -1;
			out[n].key[k++] = *s++;
		}
		out[n].key[k] = '\0';
		if (k == 0)
			return -1;
		s++;
		dstr_clear(&out[n].val);
		if (*s == '"') {
			for (s++; *s != '"'; s++) {
				unsigned char c = (unsigned char)*s;

				if (c == '\0' || c < 0x20 || c == 0x7f)
					return -1;
				if (c != '\\') {
					dstr_putc(&out[n].val, (char)c);
					continue;
				}
				s++;
				if (*s == 'n')
					dstr_putc(&out[n].val, '\n');
				else if (*s == 'r')
					dstr_putc(&out[n].val, '\r');
				else if (*s == 't')
					dstr_putc(&out[n].val, '\t');
				else if (*s == '"' || *s == '\\')
					dstr_putc(&out[n].val, *s);
				else if (*s == 'x' && is_hex(s[1]) &&
				    is_hex(s[2])) {
					char hex[3] = { s[1], s[2], 0 };

					dstr_putc(&out[n].val,
					    (char)strtol(hex, NULL, 16));
					s += 2;
				} else
					return -1;
			}
			s++;
			if (*s != '\0' && *s != ' ')
				return -1;
		} else {
			for (; *s != '\0' && *s != ' '; s++) {
				unsigned char c = (unsigned char)*s;

				if (c < 0x20 || c == 0x7f || c == '"' ||
				    c == '=' || c == '\\')
					return -1;
				dstr_putc(&out[n].val, (char)c);
			}
			if (out[n].val.len == 0)
				return -1;
		}
		n++;
	}
	return n;
}

static void
kv_init(struct kv *kv)
{
	for (int i = 0; i < KV_MAX; i++)
		dstr_init(&kv[i].val);
}

static void
kv_free(struct kv *kv)
{
	for (int i = 0; i < KV_MAX; i++)
		dstr_free(&kv[i].val);
}

static int
has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

/* ---- logfmt values ----------------------------------------------------- */

struct esc_case {
	const char *name;
	const char *in;
	size_t len;
	size_t cap;
	const char *want;
};

static const struct esc_case logfmt_cases[] = {
	{ "plain", IN("alice@example.org"), NOCAP, "alice@example.org" },
	{ "empty", IN(""), NOCAP, "\"\"" },
	{ "space", IN("hello world"), NOCAP, "\"hello world\"" },
	{ "equals", IN("a=b"), NOCAP, "\"a=b\"" },
	{ "quotes", IN("say \"hi\""), NOCAP, "\"say \\\"hi\\\"\"" },
	{ "lone quote", IN("\""), NOCAP, "\"\\\"\"" },
	{ "backslash", IN("C:\\dir"), NOCAP, "\"C:\\\\dir\"" },
	{ "trailing backslash", IN("x\\"), NOCAP, "\"x\\\\\"" },
	{ "CRLF forgery", IN("x\r\nevent=suspend account=root"), NOCAP,
	    "\"x\\r\\nevent=suspend account=root\"" },
	{ "bare LF forgery", IN("x\nevent=suspend"), NOCAP,
	    "\"x\\nevent=suspend\"" },
	{ "NUL", IN("a\0b"), NOCAP, "\"a\\x00b\"" },
	{ "NUL then forged line", IN("a\0\nreason=x"), NOCAP,
	    "\"a\\x00\\nreason=x\"" },
	{ "tab", IN("a\tb"), NOCAP, "\"a\\tb\"" },
	{ "escape sequence", IN("\x1b[31mred"), NOCAP, "\"\\x1b[31mred\"" },
	{ "DEL", IN("a\x7f"), NOCAP, "\"a\\x7f\"" },
	{ "utf8 2-byte", IN("caf\xc3\xa9"), NOCAP, "caf\xc3\xa9" },
	{ "utf8 3-byte", IN("\xe6\x97\xa5\xe6\x9c\xac"), NOCAP,
	    "\xe6\x97\xa5\xe6\x9c\xac" },
	{ "utf8 4-byte", IN("\xf0\x9f\x98\x80"), NOCAP, "\xf0\x9f\x98\x80" },
	{ "latin1 byte", IN("caf\xe9"), NOCAP, "\"caf\\xe9\"" },
	{ "lone 0xff", IN("\xff"), NOCAP, "\"\\xff\"" },
	{ "lone continuation", IN("\x80x"), NOCAP, "\"\\x80x\"" },
	{ "cut sequence at end", IN("a\xc3"), NOCAP, "\"a\\xc3\"" },
	{ "cut 3-byte then ASCII", IN("\xe2\x82z"), NOCAP,
	    "\"\\xe2\\x82z\"" },
	{ "overlong slash", IN("\xc0\xaf"), NOCAP, "\"\\xc0\\xaf\"" },
	{ "overlong 3-byte", IN("\xe0\x80\xaf"), NOCAP,
	    "\"\\xe0\\x80\\xaf\"" },
	{ "surrogate", IN("\xed\xa0\x80"), NOCAP, "\"\\xed\\xa0\\x80\"" },
	{ "above U+10FFFF", IN("\xf4\x90\x80\x80"), NOCAP,
	    "\"\\xf4\\x90\\x80\\x80\"" },
	{ "C1 NEL", IN("a\xc2\x85" "b"), NOCAP, "\"a\\xc2\\x85b\"" },
	{ "C1 CSI", IN("\xc2\x9b" "2J"), NOCAP, "\"\\xc2\\x9b2J\"" },
	{ "U+2028", IN("a\xe2\x80\xa8" "b"), NOCAP,
	    "\"a\\xe2\\x80\\xa8b\"" },
	{ "NBSP passes", IN("a\xc2\xa0" "b"), NOCAP, "a\xc2\xa0" "b" },
	{ "cap ASCII", IN("abcdef"), 3, "\"abc...\"" },
	{ "cap exact fit", IN("abc"), 3, "abc" },
	{ "cap never splits 2-byte", IN("a\xc3\xa9"), 2, "\"a...\"" },
	{ "cap fits 2-byte", IN("a\xc3\xa9" "b"), 3, "\"a\xc3\xa9...\"" },
	{ "cap never splits 4-byte", IN("ab\xf0\x9f\x98\x80"), 5,
	    "\"ab...\"" },
	{ "cap counts input not escapes", IN("\n\n\nzz"), 3,
	    "\"\\n\\n\\n...\"" },
	{ "cap 0", IN("abc"), 0, "\"...\"" },
};

static void
test_logfmt_values(void **state)
{
	struct dstr d;

	(void)state;
	dstr_init(&d);
	for (size_t i = 0; i < PC_ARRAY_LEN(logfmt_cases); i++) {
		const struct esc_case *c = &logfmt_cases[i];

		dstr_clear(&d);
		pc_logfmt_value_len(&d, c->in, c->len, c->cap);
		if (strcmp(d.buf, c->want) != 0)
			fail_msg("logfmt case \"%s\": got [%s] want [%s]",
			    c->name, d.buf, c->want);
		assert_false(has_control(d.buf, d.len));
	}
	dstr_free(&d);
}

/* ---- JSON strings ------------------------------------------------------ */

static const struct esc_case json_cases[] = {
	{ "plain", IN("alice@example.org"), NOCAP, "alice@example.org" },
	{ "empty", IN(""), NOCAP, "" },
	{ "space and =", IN("a b=c"), NOCAP, "a b=c" },
	{ "quote", IN("say \"hi\""), NOCAP, "say \\\"hi\\\"" },
	{ "backslash", IN("a\\b"), NOCAP, "a\\\\b" },
	{ "slash untouched", IN("a/b"), NOCAP, "a/b" },
	{ "CRLF forgery", IN("x\r\n\",\"event\":\"suspend"), NOCAP,
	    "x\\r\\n\\\",\\\"event\\\":\\\"suspend" },
	{ "NUL", IN("a\0b"), NOCAP, "a\\u0000b" },
	{ "controls", IN("\x01\x08\x0c\x1f"), NOCAP,
	    "\\u0001\\u0008\\u000c\\u001f" },
	{ "tab", IN("\t"), NOCAP, "\\t" },
	{ "DEL", IN("\x7f"), NOCAP, "\\u007f" },
	{ "utf8", IN("caf\xc3\xa9 \xf0\x9f\x98\x80"), NOCAP,
	    "caf\xc3\xa9 \xf0\x9f\x98\x80" },
	{ "latin1 to U+FFFD", IN("caf\xe9"), NOCAP, "caf\xef\xbf\xbd" },
	{ "each bad byte replaced", IN("\xff\xfe"), NOCAP,
	    "\xef\xbf\xbd\xef\xbf\xbd" },
	{ "cut sequence", IN("a\xe2\x82"), NOCAP,
	    "a\xef\xbf\xbd\xef\xbf\xbd" },
	{ "surrogate", IN("\xed\xb0\x80"), NOCAP,
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "overlong", IN("\xc1\xbf"), NOCAP, "\xef\xbf\xbd\xef\xbf\xbd" },
	{ "C1 NEL", IN("\xc2\x85"), NOCAP, "\\u0085" },
	{ "U+2028 U+2029", IN("\xe2\x80\xa8\xe2\x80\xa9"), NOCAP,
	    "\\u2028\\u2029" },
	{ "cap", IN("abcdef"), 4, "abcd..." },
	{ "cap never splits 3-byte", IN("ab\xe2\x82\xac"), 4, "ab..." },
	{ "cap fits 3-byte", IN("a\xe2\x82\xac" "b"), 4, "a\xe2\x82\xac..." },
};

static void
test_json_escape(void **state)
{
	struct dstr d, q;

	(void)state;
	dstr_init(&d);
	dstr_init(&q);
	for (size_t i = 0; i < PC_ARRAY_LEN(json_cases); i++) {
		const struct esc_case *c = &json_cases[i];

		dstr_clear(&d);
		pc_json_escape_len(&d, c->in, c->len, c->cap);
		if (strcmp(d.buf, c->want) != 0)
			fail_msg("json case \"%s\": got [%s] want [%s]",
			    c->name, d.buf, c->want);
		/* The body must be a complete JSON string once quoted. */
		dstr_clear(&q);
		dstr_appendf(&q, "{\"k\":\"%s\"}", d.buf);
		if (!json_object_ok(q.buf))
			fail_msg("json case \"%s\": invalid JSON %s", c->name,
			    q.buf);
	}
	/* The NUL-terminated entry point agrees and treats NULL as "". */
	dstr_clear(&d);
	pc_json_escape(&d, "a\"b\n", NOCAP);
	assert_string_equal(d.buf, "a\\\"b\\n");
	dstr_clear(&d);
	pc_json_escape(&d, NULL, NOCAP);
	assert_string_equal(d.buf, "");
	dstr_free(&d);
	dstr_free(&q);
}

/*
 * Plain ASCII is copied in runs and everything else is looked at one
 * byte at a time: put each kind of byte at every position of values 1 to
 * 40 bytes long, in plain text, without a cap and with one that ends
 * just before it, so no run swallows it or loses it.
 */
static void
test_json_escape_every_position(void **state)
{
	static const struct {
		const char *in, *out;
	} specials[] = {
		{ "\n", "\\n" }, { "\"", "\\\"" }, { "\\", "\\\\" },
		{ "\x1f", "\\u001f" }, { "\x7f", "\\u007f" },
		{ "\x80", "\xef\xbf\xbd" }, { "\xff", "\xef\xbf\xbd" },
		{ "\xc3\xa9", "\xc3\xa9" }, { "\xc2\x85", "\\u0085" },
		{ " ", " " }, { "=", "=" }, { "~", "~" },
	};
	char in[64], want[128];
	struct dstr d;

	(void)state;
	dstr_init(&d);
	for (size_t k = 0; k < PC_ARRAY_LEN(specials); k++) {
		size_t sl = strlen(specials[k].in);

		for (size_t len = sl; len <= 40; len++) {
			for (size_t at = 0; at + sl <= len; at++) {
				memset(in, 'a', len);
				memcpy(in + at, specials[k].in, sl);
				/* No cap: the special escaped where it stands. */
				memset(want, 'a', at);
				want[at] = '\0';
				pc_strlcat(want, specials[k].out, sizeof(want));
				for (size_t j = at + sl; j < len; j++)
					pc_strlcat(want, "a", sizeof(want));
				dstr_clear(&d);
				pc_json_escape_len(&d, in, len, NOCAP);
				if (strcmp(d.buf, want) != 0)
					fail_msg("special %zu at %zu of %zu: got "
					    "[%s] want [%s]", k, at, len, d.buf,
					    want);
				/* A cap just before the special keeps what fits. */
				dstr_clear(&d);
				pc_json_escape_len(&d, in, len, at);
				memset(want, 'a', at);
				memcpy(want + at, "...", 4);
				if (strcmp(d.buf, want) != 0)
					fail_msg("special %zu at %zu of %zu, cap %zu: "
					    "got [%s] want [%s]", k, at, len, at,
					    d.buf, want);
			}
		}
	}
	dstr_free(&d);
}

/* ---- whole field lists ------------------------------------------------- */

struct fields_case {
	const char *name;
	struct pc_logfield f[4];
	size_t n;
	const char *logfmt;
	const char *json;
};

static const struct fields_case fields_cases[] = {
	{ "none", { { NULL, NULL, 0 } }, 0, "", "{}" },
	{ "simple",
	    { { "event", "origin", 1 }, { "account", "alice", 0 } }, 2,
	    "event=origin account=alice",
	    "{\"event\":\"origin\",\"account\":\"alice\"}" },
	{ "NULL and empty",
	    { { "qid", NULL, 1 }, { "helo", "", 0 }, { "ptr", NULL, 0 } }, 3,
	    "qid=\"\" helo=\"\" ptr=\"\"",
	    "{\"qid\":\"\",\"helo\":\"\",\"ptr\":\"\"}" },
	{ "forged fields in helo",
	    { { "event", "origin", 1 },
	      { "helo", "x\r\nevent=suspend account=root", 0 },
	      { "account", "bob", 0 } }, 3,
	    "event=origin helo=\"x\\r\\nevent=suspend account=root\" "
	    "account=bob",
	    "{\"event\":\"origin\",\"helo\":\"x\\r\\nevent=suspend "
	    "account=root\",\"account\":\"bob\"}" },
	{ "quote breakout attempt",
	    { { "from", "a\" account=\"root", 0 } }, 1,
	    "from=\"a\\\" account=\\\"root\"",
	    "{\"from\":\"a\\\" account=\\\"root\"}" },
	{ "trusted value is still escaped",
	    { { "reason", "two words\n", 1 } }, 1,
	    "reason=\"two words\\n\"",
	    "{\"reason\":\"two words\\n\"}" },
};

static void
test_fields(void **state)
{
	struct dstr d;
	struct kv kv[KV_MAX];

	(void)state;
	dstr_init(&d);
	kv_init(kv);
	for (size_t i = 0; i < PC_ARRAY_LEN(fields_cases); i++) {
		const struct fields_case *c = &fields_cases[i];

		dstr_clear(&d);
		pc_logfmt_append(&d, c->f, c->n);
		if (strcmp(d.buf, c->logfmt) != 0)
			fail_msg("fields \"%s\": logfmt [%s] want [%s]",
			    c->name, d.buf, c->logfmt);
		/* A reader sees exactly our keys, with the original values. */
		assert_int_equal(logfmt_parse(d.buf, kv), (int)c->n);
		for (size_t j = 0; j < c->n; j++) {
			const char *v = c->f[j].value ? c->f[j].value : "";

			assert_string_equal(kv[j].key, c->f[j].key);
			assert_string_equal(kv[j].val.buf, v);
		}
		dstr_clear(&d);
		pc_json_append(&d, c->f, c->n);
		if (strcmp(d.buf, c->json) != 0)
			fail_msg("fields \"%s\": json [%s] want [%s]",
			    c->name, d.buf, c->json);
		assert_true(json_object_ok(d.buf));
	}
	kv_free(kv);
	dstr_free(&d);
}

/* ---- the cap on 10 kB client values ------------------------------------ */

struct cap_case {
	const char *name;
	const char *prefix;	/* then unit repeated to 10 kB */
	const char *unit;
	size_t kept;		/* input bytes that survive the cap */
};

static const struct cap_case cap_cases[] = {
	{ "ASCII", "", "a", PC_LOG_VALUE_CAP },
	{ "2-byte", "", "\xc3\xa9", PC_LOG_VALUE_CAP },
	{ "3-byte", "", "\xe2\x82\xac", PC_LOG_VALUE_CAP / 3 * 3 },
	{ "3-byte shifted", "a", "\xe2\x82\xac",
	    1 + (PC_LOG_VALUE_CAP - 1) / 3 * 3 },
	{ "4-byte shifted", "ab", "\xf0\x9f\x98\x80",
	    2 + (PC_LOG_VALUE_CAP - 2) / 4 * 4 },
	{ "CRLF", "", "\r\n", PC_LOG_VALUE_CAP },
};

static void
test_cap_10k(void **state)
{
	struct dstr in, d, want;
	struct kv kv[KV_MAX];

	(void)state;
	dstr_init(&in);
	dstr_init(&d);
	dstr_init(&want);
	kv_init(kv);
	for (size_t i = 0; i < PC_ARRAY_LEN(cap_cases); i++) {
		const struct cap_case *c = &cap_cases[i];
		struct pc_logfield f[2] = { { "helo", NULL, 0 },
		    { "account", "alice", 1 } };

		dstr_clear(&in);
		dstr_puts(&in, c->prefix);
		while (in.len < 10000)
			dstr_puts(&in, c->unit);
		f[0].value = in.buf;

		/* logfmt: the decoded value is the kept prefix plus "...". */
		dstr_clear(&d);
		pc_logfmt_append(&d, f, 2);
		assert_false(has_control(d.buf, d.len));
		assert_int_equal(logfmt_parse(d.buf, kv), 2);
		assert_string_equal(kv[1].key, "account");
		if (kv[0].val.len != c->kept + 3 ||
		    memcmp(kv[0].val.buf, in.buf, c->kept) != 0 ||
		    memcmp(kv[0].val.buf + c->kept, "...", 3) != 0)
			fail_msg("cap \"%s\": kept %zu bytes, want %zu",
			    c->name, kv[0].val.len - 3, c->kept);

		/* JSON: valid, and the same prefix survives, then "...". */
		dstr_clear(&d);
		pc_json_append(&d, f, 2);
		assert_true(json_object_ok(d.buf));
		dstr_clear(&want);
		dstr_puts(&want, "{\"helo\":\"");
		pc_json_escape_len(&want, in.buf, c->kept, NOCAP);
		dstr_puts(&want, "...\",\"account\":\"alice\"}");
		assert_string_equal(d.buf, want.buf);
	}
	/* A trusted value is never cut. */
	dstr_clear(&in);
	while (in.len < 10000)
		dstr_putc(&in, 'x');
	dstr_clear(&d);
	pc_logfmt_append(&d, &(struct pc_logfield){ "rcpts", in.buf, 1 }, 1);
	assert_int_equal(d.len, strlen("rcpts=") + 10000);
	kv_free(kv);
	dstr_free(&in);
	dstr_free(&d);
	dstr_free(&want);
}

/*
 * Random bytes, the nastiest alphabet we can think of: every output must
 * be one well-formed field whose logfmt value decodes back to the input.
 */
static void
test_random_roundtrip(void **state)
{
	static const char alphabet[] = "a =\"\\\r\n\t\0\x7f\x80\xbf\xc2\xc3"
	    "\xa9\xe2\x82\xac\xed\xa0\xf0\x9f\x98\xf4\x90\xff";
	char buf[64];
	struct dstr d;
	struct kv kv[KV_MAX];
	unsigned seed = 12345;

	(void)state;
	dstr_init(&d);
	kv_init(kv);
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = (size_t)(rand_r(&seed) % (int)sizeof(buf));

		for (size_t i = 0; i < len; i++)
			buf[i] = alphabet[rand_r(&seed) %
			    (int)(sizeof(alphabet) - 1)];
		dstr_clear(&d);
		dstr_puts(&d, "v=");
		pc_logfmt_value_len(&d, buf, len, NOCAP);
		assert_false(has_control(d.buf, d.len));
		assert_int_equal(logfmt_parse(d.buf, kv), 1);
		assert_int_equal(kv[0].val.len, len);
		assert_memory_equal(kv[0].val.buf, buf, len);

		dstr_clear(&d);
		dstr_puts(&d, "{\"v\":\"");
		pc_json_escape_len(&d, buf, len, 16);
		dstr_puts(&d, "\"}");
		assert_true(json_object_ok(d.buf));
	}
	kv_free(kv);
	dstr_free(&d);
}

/* ---- facilities -------------------------------------------------------- */

static void
test_facility_parse(void **state)
{
	static const struct {
		const char *name;
		int rc, want;
	} cases[] = {
		{ "mail", 0, LOG_MAIL }, { "MAIL", 0, LOG_MAIL },
		{ "daemon", 0, LOG_DAEMON }, { "user", 0, LOG_USER },
		{ "auth", 0, LOG_AUTH }, { "local0", 0, LOG_LOCAL0 },
		{ "Local7", 0, LOG_LOCAL7 }, { "local8", -1, 0 },
		{ "", -1, 0 }, { "mail ", -1, 0 }, { NULL, -1, 0 },
	};
	char err[128];

	(void)state;
	for (size_t i = 0; i < PC_ARRAY_LEN(cases); i++) {
		int fac = -42;

		assert_int_equal(pc_log_facility_parse(cases[i].name, &fac),
		    cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(fac, cases[i].want);
		else
			assert_int_equal(fac, -42);
	}
	err[0] = '\0';
	assert_int_equal(pc_log_open("t", "mial", 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mial"));
}

/* ---- diagnostics on stderr --------------------------------------------- */

/* Runs fn with stderr sent to a temp file and returns what it wrote. */
static char *
capture_stderr(void (*fn)(void))
{
	char path[] = "/tmp/pc_test_log_XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	char *buf = xmalloc(8192);
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	fn();
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	n = pread(fd, buf, 8191, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static void
diag_hostile(void)
{
	errno = ENOENT;
	pc_log_warn("bad HELO %s", "evil\r\nportcullis: fatal: forged");
	assert_int_equal(errno, ENOENT);	/* logging keeps errno */
	pc_log_err("code %d", 7);
	pc_log_info("plain %s", "info");
}

static void
fatal_child(void)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0)
		pc_log_fatal("cannot open %s", "/etc/x.conf");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
}

static void
test_diag_stderr(void **state)
{
	char *out;

	(void)state;
	/* Foreground: every diagnostic is one line on stderr. */
	assert_int_equal(pc_log_open("pc-test", "local3", 1, NULL, 0), 0);
	out = capture_stderr(diag_hostile);
	assert_string_equal(out,
	    "pc-test: warning: bad HELO evil\\r\\nportcullis: fatal: forged\n"
	    "pc-test: error: code 7\n"
	    "pc-test: plain info\n");
	free(out);
	/* Background: syslog only. */
	assert_int_equal(pc_log_open("pc-test", "mail", 0, NULL, 0), 0);
	out = capture_stderr(diag_hostile);
	assert_string_equal(out, "");
	free(out);
	/* Fatal: logged, then exit status 1. */
	assert_int_equal(pc_log_open("pc-test", NULL, 1, NULL, 0), 0);
	out = capture_stderr(fatal_child);
	assert_string_equal(out, "pc-test: fatal: cannot open /etc/x.conf\n");
	free(out);
	assert_int_equal(pc_log_open("pc-test", NULL, 0, NULL, 0), 0);
}

/* ---- events into the JSON file ----------------------------------------- */

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	struct dstr d;
	char buf[4096];
	size_t n;

	assert_non_null(fp);
	dstr_init(&d);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		dstr_append(&d, buf, n);
	fclose(fp);
	*len = d.len;
	return dstr_steal(&d);
}

static int
open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(dir);
	while (readdir(dir) != NULL)
		n++;
	closedir(dir);
	return n;
}

/* Checks one JSON line: ts first, then exactly the expected members. */
static void
check_event_line(const char *line, size_t len, const char *members)
{
	static const char pat[] = "{\"ts\":\"DDDD-DD-DDTDD:DD:DD.DDDZ\",";
	char *copy = xstrndup(line, len);

	assert_true(len > sizeof(pat));
	for (size_t i = 0; i < sizeof(pat) - 1; i++) {
		if (pat[i] == 'D')
			assert_true(line[i] >= '0' && line[i] <= '9');
		else
			assert_int_equal(line[i], pat[i]);
	}
	assert_true(json_object_ok(copy));
	assert_string_equal(copy + sizeof(pat) - 1, members);
	free(copy);
}

static const struct pc_logfield hostile_event[] = {
	{ "event", "origin", 1 },
	{ "account", "alice@example.org", 0 },
	{ "helo", "x\r\n{\"event\":\"suspend\"}\n", 0 },
	{ "from", "\xff\xfe<a@b>", 0 },
	{ "ptr", NULL, 0 },
};

static const char hostile_members[] =
    "\"event\":\"origin\",\"account\":\"alice@example.org\","
    "\"helo\":\"x\\r\\n{\\\"event\\\":\\\"suspend\\\"}\\n\","
    "\"from\":\"\xef\xbf\xbd\xef\xbf\xbd<a@b>\",\"ptr\":\"\"}";

static void
test_event_jsonfile(void **state)
{
	char path[] = "/tmp/pc_test_log_XXXXXX", rotated[64], err[256];
	int fd = mkstemp(path);
	size_t len;
	char *buf, *nl;
	struct stat st;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);	/* so pc_log_set_jsonfile creates it */
	umask(022);
	assert_int_equal(pc_log_set_jsonfile(path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);

	pc_log_event(hostile_event, PC_ARRAY_LEN(hostile_event));
	buf = slurp(path, &len);
	nl = memchr(buf, '\n', len);
	assert_non_null(nl);
	assert_int_equal((size_t)(nl - buf), len - 1);	/* exactly one line */
	check_event_line(buf, len - 1, hostile_members);
	free(buf);

	/* A failed reopen keeps the old file in use and says why. */
	assert_int_equal(pc_log_set_jsonfile("/nonexistent/dir/x.json", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/dir/x.json"));
	assert_non_null(strstr(err, strerror(ENOENT)));
	pc_log_event(hostile_event, 1);
	buf = slurp(path, &len);
	nl = memchr(buf, '\n', len);
	assert_non_null(nl);
	assert_int_equal(buf[len - 1], '\n');
	check_event_line(nl + 1, len - 1 - (size_t)(nl + 1 - buf),
	    "\"event\":\"origin\"}");
	free(buf);

	/* Rotation: rename, reopen, the next event lands in the new file. */
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	assert_int_equal(rename(path, rotated), 0);
	assert_int_equal(pc_log_set_jsonfile(path, err, sizeof(err)), 0);
	pc_log_event(hostile_event + 1, 1);
	buf = slurp(path, &len);
	check_event_line(buf, len - 1,
	    "\"account\":\"alice@example.org\"}");
	assert_int_equal(buf[len - 1], '\n');
	free(buf);

	/* Reopening again and again leaks no descriptor. */
	fd = open_fds();
	for (int i = 0; i < 10; i++)
		assert_int_equal(pc_log_set_jsonfile(path, err, sizeof(err)),
		    0);
	assert_int_equal(open_fds(), fd);

	/* Closed: events no longer reach the file, the descriptor is gone. */
	assert_int_equal(pc_log_set_jsonfile(NULL, err, sizeof(err)), 0);
	assert_int_equal(open_fds(), fd - 1);
	pc_log_event(hostile_event, 1);
	buf = slurp(path, &len);
	assert_null(memchr(buf, '\n', len - 1));
	free(buf);
	unlink(path);
	unlink(rotated);
}

#define THREADS 8
#define EVENTS 500

static void *
event_thread(void *arg)
{
	char num[32];
	struct pc_logfield f[3] = { { "event", "origin", 1 },
	    { "qid", num, 1 }, { "helo", (const char *)arg, 0 } };

	for (int i = 0; i < EVENTS; i++) {
		snprintf(num, sizeof(num), "%d", i);
		pc_log_event(f, 3);
	}
	return NULL;
}

/* cmocka's asserts are not for other threads: report failure instead. */
static void *
reopen_thread(void *arg)
{
	for (int i = 0; i < 50; i++) {
		if (pc_log_set_jsonfile(arg, NULL, 0) != 0)
			return arg;
		usleep(100);
	}
	return NULL;
}

/* Many threads and a reopening "reload": no line lost, split or mixed. */
static void
test_event_threads(void **state)
{
	char path[] = "/tmp/pc_test_log_XXXXXX", helo[THREADS][2048];
	pthread_t t[THREADS + 1];
	int fd = mkstemp(path);
	size_t len, lines = 0;
	char *buf, *p, *nl;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pc_log_set_jsonfile(path, NULL, 0), 0);
	for (int i = 0; i < THREADS; i++) {
		/* Long values so that unlocked writes would interleave. */
		memset(helo[i], 'a' + i, sizeof(helo[i]) - 1);
		helo[i][sizeof(helo[i]) - 1] = '\0';
		assert_int_equal(pthread_create(&t[i], NULL, event_thread,
		    helo[i]), 0);
	}
	assert_int_equal(pthread_create(&t[THREADS], NULL, reopen_thread,
	    path), 0);
	for (int i = 0; i <= THREADS; i++) {
		void *rv;

		pthread_join(t[i], &rv);
		assert_null(rv);
	}
	assert_int_equal(pc_log_set_jsonfile(NULL, NULL, 0), 0);

	buf = slurp(path, &len);
	assert_int_equal(buf[len - 1], '\n');
	for (p = buf; p < buf + len; p = nl + 1) {
		nl = memchr(p, '\n', len - (size_t)(p - buf));
		assert_non_null(nl);
		*nl = '\0';
		if (!json_object_ok(p))
			fail_msg("line %zu is not a JSON object", lines + 1);
		lines++;
	}
	assert_int_equal(lines, THREADS * EVENTS);
	/* Informational: whether lines met a writer here depends on timing. */
	print_message("%lu of %d lines left to another thread's write\n",
	    pc_log_json_handed(), THREADS * EVENTS);
	free(buf);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logfmt_values),
		cmocka_unit_test(test_json_escape),
		cmocka_unit_test(test_json_escape_every_position),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_cap_10k),
		cmocka_unit_test(test_random_roundtrip),
		cmocka_unit_test(test_facility_parse),
		cmocka_unit_test(test_diag_stderr),
		cmocka_unit_test(test_event_jsonfile),
		cmocka_unit_test(test_event_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
