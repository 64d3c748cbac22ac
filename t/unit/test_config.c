/*
 * test_config.c - the shared "Key value" parser, durations and rates:
 * good files, every kind of bad file, and the error text an
 * administrator will read (file, line and key).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "duration.h"
#include "util.h"

struct tconf {
	char *name;
	int flag;
	uint64_t count;
	uint64_t window;
	struct pc_rate rate;
	int mode;
	struct pc_netlist nets;
	struct pc_strlist words;
	int customs;
};

static const char *const modes[] = { "alpha", "beta", NULL };

static int
parse_custom(void *obj, const char *value, char *err, size_t errlen)
{
	struct tconf *t = obj;

	if (strcmp(value, "bad") == 0)
		return pc_err(err, errlen, "custom says no");
	t->customs++;
	return 0;
}

#define OFF(f) offsetof(struct tconf, f)
static const struct pc_cfkey keys[] = {
	{ "Name", PC_CF_STRING, "dflt", OFF(name), NULL, 0, 0, NULL, NULL },
	{ "Flag", PC_CF_BOOL, "no", OFF(flag), NULL, 0, 0, NULL, NULL },
	{ "Count", PC_CF_UINT, "5", OFF(count), NULL, 1, 100, NULL, NULL },
	{ "Window", PC_CF_DURATION, "1h", OFF(window), NULL, 0, 0, NULL, NULL },
	{ "Rate", PC_CF_RATE, "10/1m", OFF(rate), NULL, 0, 0, NULL, NULL },
	{ "Mode", PC_CF_ENUM, "alpha", OFF(mode), modes, 0, 0, NULL, NULL },
	{ "Nets", PC_CF_NETLIST, NULL, OFF(nets), NULL, 0, 0, NULL, NULL },
	{ "Words", PC_CF_STRLIST, NULL, OFF(words), NULL, 0, 0, NULL, NULL },
	{ "Custom", PC_CF_CUSTOM, NULL, 0, NULL, 0, 0, parse_custom, NULL },
};

static char *
write_tmp(const char *data, size_t len)
{
	char *path = xstrdup("/tmp/pc-test-config-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static int
load_text(const char *text, size_t len, struct tconf *t, char *err, size_t errlen)
{
	char *path = write_tmp(text, len);
	int rc;

	memset(t, 0, sizeof(*t));
	pc_netlist_init(&t->nets);
	rc = pc_config_load(keys, PC_ARRAY_LEN(keys), t, path, err, errlen);
	unlink(path);
	free(path);
	return rc;
}

/* Files that must be refused, and what the message must contain. */
static const struct {
	const char *text;
	size_t len;		/* 0: strlen */
	const char *want;
} bad_files[] = {
	{ "Nope 1\n", 0, ":1: Nope: unknown key" },
	{ "Name a\nName b\n", 0, ":2: Name: given twice (first at line 1)" },
	{ "\n\nFlag maybe\n", 0, ":3: Flag: \"maybe\" is not yes or no" },
	{ "Count 0\n", 0, ":1: Count: 0 is out of range 1..100" },
	{ "Count 101\n", 0, "out of range" },
	{ "Count -1\n", 0, "is not a whole number" },
	{ "Count 99999999999999999999999\n", 0, "is not a whole number" },
	{ "Count 12abc\n", 0, "is not a whole number" },
	{ "Window 10x\n", 0, ":1: Window: \"10x\": unknown unit 'x'" },
	{ "Window 1h30\n", 0, "missing unit" },
	{ "Window 99999d\n", 0, "too long" },
	{ "Rate 10\n", 0, "a rate is COUNT/DURATION" },
	{ "Rate /1h\n", 0, "a rate is COUNT/DURATION" },
	{ "Rate x/1h\n", 0, "the count must be a whole number" },
	{ "Rate 10/0s\n", 0, "at least 1s" },
	{ "Mode gamma\n", 0, ":1: Mode: \"gamma\" is not one of alpha, beta" },
	{ "Nets 10.0.0.1/8\n", 0, ":1: Nets: " },
	{ "Nets 10.0.0.0/8, bogus\n", 0, ":1: Nets: " },
	{ "Words a,,b\n", 0, "empty item in list" },
	{ "Custom bad\n", 0, ":1: Custom: custom says no" },
	{ "Name\n", 0, ":1: Name: missing value" },
	{ "Name   # only a comment\n", 0, ":1: Name: missing value" },
	{ "Na-me x\n", 0, "is not a key name" },
	{ "Name a\r\nFlag yes\r\nBogus\r\n", 0, ":3: Bogus: unknown key" },
	{ "Name a\0b\n", 9, ":1: NUL byte in line" },
	{ "Flag yes\nFlag\x01 no\n", 0, ":2:" },
};

static void
test_bad_files(void **state)
{
	char err[512];
	struct tconf t;
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(bad_files); i++) {
		size_t len = bad_files[i].len ? bad_files[i].len :
		    strlen(bad_files[i].text);

		err[0] = '\0';
		if (load_text(bad_files[i].text, len, &t, err, sizeof(err)) != -1)
			fail_msg("case %zu accepted: %s", i, bad_files[i].text);
		if (strstr(err, bad_files[i].want) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
			    bad_files[i].want);
		/* The message names the file it came from. */
		assert_non_null(strstr(err, "/tmp/pc-test-config-"));
	}
}

static void
test_good_file(void **state)
{
	static const char text[] =
	    "# a comment\n"
	    "   \n"
	    "name   Some Value with spaces   # trailing comment\n"
	    "FLAG on\n"
	    "Count 100\n"
	    "Window 1h30m\n"
	    "Rate 200/h\n"
	    "Mode BETA\n"
	    "Nets 10.0.0.0/8, 192.168.0.0/16\n"
	    "Nets 2001:db8::/32\n"
	    "Words one, two\n"
	    "Words three\n"
	    "Custom a\n"
	    "Custom b\n"
	    "Name2ndline# not a comment";
	char err[512] = "";
	struct tconf t;
	struct pc_addr a;

	(void)state;
	/* The last line has no newline and is an unknown key: still reported. */
	assert_int_equal(load_text(text, sizeof(text) - 1, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":15: \"Name2ndline#\" is not a key name"));

	assert_int_equal(load_text(text, strstr(text, "Name2nd") - text, &t, err,
	    sizeof(err)), 0);
	assert_string_equal(t.name, "Some Value with spaces");
	assert_int_equal(t.flag, 1);
	assert_int_equal(t.count, 100);
	assert_int_equal(t.window, 5400);
	assert_int_equal(t.rate.count, 200);
	assert_int_equal(t.rate.seconds, 3600);
	assert_int_equal(t.mode, 1);
	assert_int_equal(t.nets.n, 3);
	assert_int_equal(pc_addr_parse("192.168.4.4", &a, NULL, 0), 0);
	assert_true(pc_netlist_contains(&t.nets, &a));
	assert_int_equal(pc_addr_parse("2001:db8::25", &a, NULL, 0), 0);
	assert_true(pc_netlist_contains(&t.nets, &a));
	assert_int_equal(pc_addr_parse("172.16.0.1", &a, NULL, 0), 0);
	assert_false(pc_netlist_contains(&t.nets, &a));
	assert_int_equal(t.words.n, 3);
	assert_string_equal(t.words.v[2], "three");
	assert_int_equal(t.customs, 2);
	pc_config_free(keys, PC_ARRAY_LEN(keys), &t);
}

static void
test_empty_file_gives_defaults(void **state)
{
	char err[512];
	struct tconf t;

	(void)state;
	assert_int_equal(load_text("", 0, &t, err, sizeof(err)), 0);
	assert_string_equal(t.name, "dflt");
	assert_int_equal(t.count, 5);
	assert_int_equal(t.window, 3600);
	assert_int_equal(t.rate.count, 10);
	assert_int_equal(t.rate.seconds, 60);
	assert_int_equal(t.nets.n, 0);
	pc_config_free(keys, PC_ARRAY_LEN(keys), &t);
}

static void
test_huge_line(void **state)
{
	size_t len = 70000;
	char *text = xmalloc(len + 1), err[512];
	struct tconf t;

	(void)state;
	memcpy(text, "Name ", 5);
	memset(text + 5, 'x', len - 6);
	text[len - 1] = '\n';
	assert_int_equal(load_text(text, len, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: line longer than"));
	free(text);
}

static void
test_missing_file(void **state)
{
	struct tconf t;
	char err[512];

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(pc_config_load(keys, PC_ARRAY_LEN(keys), &t,
	    "/nonexistent/portcullis.conf", err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/portcullis.conf: cannot open: "
	    "No such file or directory");
}

static const struct {
	const char *in;
	int ok;
	uint64_t seconds;
	const char *canon;
} durations[] = {
	{ "30s", 1, 30, "30s" }, { "15m", 1, 900, "15m" }, { "1h", 1, 3600, "1h" },
	{ "1d", 1, 86400, "1d" }, { "1w", 1, 604800, "1w" }, { "90", 1, 90, "90s" },
	{ "1h30m", 1, 5400, "90m" }, { "30d", 1, 2592000, "30d" },
	{ "0", 1, 0, "0s" }, { "3650d", 1, 315360000, "3650d" },
	{ "", 0, 0, NULL }, { "3651d", 0, 0, NULL }, { "1y", 0, 0, NULL },
	{ "h", 0, 0, NULL }, { "-1s", 0, 0, NULL }, { "1 h", 0, 0, NULL },
	{ "1h ", 0, 0, NULL }, { "1hh", 0, 0, NULL }, { "1h30", 0, 0, NULL },
	{ "99999999999999999999999s", 0, 0, NULL },
};

static void
test_durations(void **state)
{
	char err[256], buf[32];
	uint64_t s;
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(durations); i++) {
		int rc = pc_duration_parse(durations[i].in, &s, err, sizeof(err));

		if (durations[i].ok != (rc == 0))
			fail_msg("duration \"%s\": rc %d (%s)", durations[i].in,
			    rc, err);
		if (!durations[i].ok)
			continue;
		assert_int_equal(s, durations[i].seconds);
		pc_duration_format(s, buf, sizeof(buf));
		assert_string_equal(buf, durations[i].canon);
	}
}

static const struct {
	const char *in;
	int ok;
	uint64_t count, seconds;
	const char *canon;
} rates[] = {
	{ "100/1h", 1, 100, 3600, "100/1h" }, { "200/h", 1, 200, 3600, "200/1h" },
	{ "1/1s", 1, 1, 1, "1/1s" }, { "5/30d", 1, 5, 2592000, "5/30d" },
	{ "0", 1, 0, 0, "0" }, { "0/1h", 1, 0, 0, "0" },
	{ "1000000000000/1s", 1, 1000000000000ULL, 1, "1000000000000/1s" },
	{ "1000000000001/1s", 0, 0, 0, NULL }, { "100", 0, 0, 0, NULL },
	{ "/1h", 0, 0, 0, NULL }, { "10/", 0, 0, 0, NULL }, { "10/0", 0, 0, 0, NULL },
	{ "1.5/1h", 0, 0, 0, NULL }, { "10/1h/2", 0, 0, 0, NULL },
	{ "", 0, 0, 0, NULL }, { "10 /1h", 0, 0, 0, NULL },
};

static void
test_rates(void **state)
{
	struct pc_rate r;
	char err[256], buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(rates); i++) {
		int rc = pc_rate_parse(rates[i].in, &r, err, sizeof(err));

		if (rates[i].ok != (rc == 0))
			fail_msg("rate \"%s\": rc %d (%s)", rates[i].in, rc, err);
		if (!rates[i].ok)
			continue;
		assert_int_equal(r.count, rates[i].count);
		assert_int_equal(r.seconds, rates[i].seconds);
		pc_rate_format(&r, buf, sizeof(buf));
		assert_string_equal(buf, rates[i].canon);
	}
}

static void
test_bools(void **state)
{
	static const struct { const char *in; int rc, v; } cases[] = {
		{ "yes", 0, 1 }, { "YES", 0, 1 }, { "true", 0, 1 }, { "on", 0, 1 },
		{ "1", 0, 1 }, { "no", 0, 0 }, { "False", 0, 0 }, { "off", 0, 0 },
		{ "0", 0, 0 }, { "", -1, 0 }, { "y", -1, 0 }, { "yes ", -1, 0 },
	};
	size_t i;
	int v;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(cases); i++) {
		v = -1;
		assert_int_equal(pc_bool_parse(cases[i].in, &v), cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(v, cases[i].v);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_empty_file_gives_defaults),
		cmocka_unit_test(test_huge_line),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_bools),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
