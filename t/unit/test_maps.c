/*
 * test_maps.c - unit tests for src/lib/maps.c: the Postfix-style
 * "key value" file format (comments, continuations, CRLF, missing final
 * newline), the errors an administrator sees ("FILE:LINE: ..."), and that
 * big maps load and answer every key.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "maps.h"
#include "util.h"

#define IN(s) s, sizeof(s) - 1

/* Writes len bytes to a new temp file; returns its malloc'd path. */
static char *
temp_file(const char *data, size_t len)
{
	char *path = xstrdup("/tmp/pc_test_maps_XXXXXX");
	int fd = mkstemp(path);
	size_t off = 0;

	assert_true(fd >= 0);
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		assert_true(n > 0);
		off += (size_t)n;
	}
	assert_int_equal(close(fd), 0);
	return path;
}

/* ---- format cases that load -------------------------------------------- */

struct want {
	const char *key;	/* as looked up */
	const char *value;
	unsigned line;
};

struct ok_case {
	const char *name;
	const char *text;
	size_t len;
	size_t count;
	struct want want[4];
};

static const struct ok_case ok_cases[] = {
	{ "empty file", IN(""), 0, { { NULL, NULL, 0 } } },
	{ "only comments and blanks", IN("# comment\n\n   \n\t# indented\n\r\n"),
	    0, { { NULL, NULL, 0 } } },
	{ "simple", IN("a 1\nb 2\n"), 2,
	    { { "a", "1", 1 }, { "b", "2", 2 } } },
	{ "no final newline", IN("a 1\nb 2"), 2,
	    { { "a", "1", 1 }, { "b", "2", 2 } } },
	{ "CRLF", IN("a 1\r\nb two words\r\n"), 2,
	    { { "a", "1", 1 }, { "b", "two words", 2 } } },
	{ "CRLF without final newline", IN("a 1\r\nb 2\r"), 2,
	    { { "a", "1", 1 }, { "b", "2", 2 } } },
	{ "value keeps spaces, commas, semicolons",
	    IN("alice@example.org  alice@example.org, @example.net\n"
	    "@example.com messages 10/1h; recipients 50/1d\n"), 2,
	    { { "alice@example.org", "alice@example.org, @example.net", 1 },
	      { "@example.com", "messages 10/1h; recipients 50/1d", 2 } } },
	{ "tabs and trailing white space", IN("k\t \tv  v \t\n"), 1,
	    { { "k", "v  v", 1 } } },
	{ "# inside a value is not a comment", IN("k v # x\n"), 1,
	    { { "k", "v # x", 1 } } },
	{ "comments between entries", IN("# head\na 1\n  # note\nb 2\n"), 2,
	    { { "a", "1", 2 }, { "b", "2", 4 } } },
	{ "continuation lines", IN("k a,\n  b,\n\tc\nz 9\n"), 2,
	    { { "k", "a, b, c", 1 }, { "z", "9", 4 } } },
	{ "continuation across comment and blank", IN("k a\n# c\n\n  b\n"), 1,
	    { { "k", "a b", 1 } } },
	{ "value only on continuation", IN("k\n   v\n"), 1,
	    { { "k", "v", 1 } } },
	{ "CRLF continuation", IN("k a\r\n  b\r\n"), 1,
	    { { "k", "a b", 1 } } },
	{ "case-insensitive keys", IN("Alice@Example.ORG v\n"), 1,
	    { { "ALICE@example.org", "v", 1 }, { "alice@example.org", "v", 1 } } },
	{ "UTF-8 key bytes kept", IN("j\xc3\xb6rg@example.org x\n"), 1,
	    { { "J\xc3\xb6RG@example.org", "x", 1 } } },
	{ "unlimited keyword", IN("bulk@example.org unlimited\n"), 1,
	    { { "BULK@EXAMPLE.ORG", "unlimited", 1 } } },
};

static void
collect(const char *key, const char *value, void *arg)
{
	struct dstr *d = arg;

	dstr_appendf(d, "%s=%s;", key, value);
}

static void
test_load_ok(void **state)
{
	char err[512];

	(void)state;
	for (size_t i = 0; i < PC_ARRAY_LEN(ok_cases); i++) {
		const struct ok_case *c = &ok_cases[i];
		char *path = temp_file(c->text, c->len);
		struct pc_map *m = NULL;

		err[0] = '\0';
		if (pc_map_load(path, &m, err, sizeof(err)) != 0)
			fail_msg("case \"%s\": %s", c->name, err);
		if (pc_map_count(m) != c->count)
			fail_msg("case \"%s\": %zu entries, want %zu", c->name,
			    pc_map_count(m), c->count);
		for (size_t j = 0; j < PC_ARRAY_LEN(c->want) &&
		    c->want[j].key != NULL; j++) {
			const char *v = pc_map_get(m, c->want[j].key);

			if (v == NULL || strcmp(v, c->want[j].value) != 0)
				fail_msg("case \"%s\": %s -> [%s], want [%s]",
				    c->name, c->want[j].key, v ? v : "(null)",
				    c->want[j].value);
			assert_int_equal(pc_map_line(m, c->want[j].key),
			    c->want[j].line);
		}
		assert_null(pc_map_get(m, "absent"));
		assert_int_equal(pc_map_line(m, "absent"), 0);
		pc_map_free(m);
		unlink(path);
		free(path);
	}
}

/* ---- format cases that are refused -------------------------------------- */

struct bad_case {
	const char *name;
	const char *text;
	size_t len;
	const char *err;	/* after "PATH:" */
};

static const struct bad_case bad_cases[] = {
	{ "key without value", IN("a 1\nlonely\nb 2\n"),
	    "2: key \"lonely\" has no value" },
	{ "key without value at EOF", IN("a 1\nlonely"),
	    "2: key \"lonely\" has no value" },
	{ "key with only white space", IN("k  \t \r\n"),
	    "1: key \"k\" has no value" },
	{ "duplicate key", IN("a 1\nb 2\na 3\n"),
	    "3: duplicate key \"a\" (first defined at line 1)" },
	{ "duplicate differing in case", IN("# x\nUser@Dom v\nuser@dom w\n"),
	    "3: duplicate key \"user@dom\" (first defined at line 2)" },
	{ "NUL in value", IN("a 1\nb x\0y\n"), "2: NUL byte in line" },
	{ "NUL in comment", IN("# \0\n"), "1: NUL byte in line" },
	{ "NUL on last line without newline", IN("a 1\n\0"),
	    "2: NUL byte in line" },
	{ "continuation first", IN("  x\nk v\n"),
	    "1: continuation line (starts with white space) with no entry "
	    "before it" },
	{ "continuation after only a comment", IN("# hi\n\tx\n"),
	    "2: continuation line (starts with white space) with no entry "
	    "before it" },
};

static void
test_load_errors(void **state)
{
	char err[512], want[512];

	(void)state;
	for (size_t i = 0; i < PC_ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		char *path = temp_file(c->text, c->len);
		struct pc_map *m = (struct pc_map *)&want;	/* sentinel */

		err[0] = '\0';
		if (pc_map_load(path, &m, err, sizeof(err)) != -1)
			fail_msg("case \"%s\" loaded", c->name);
		/* A failed load leaves *out alone, so reload keeps the old map. */
		assert_ptr_equal(m, (struct pc_map *)&want);
		snprintf(want, sizeof(want), "%s:%s", path, c->err);
		if (strcmp(err, want) != 0)
			fail_msg("case \"%s\": [%s], want [%s]", c->name, err,
			    want);
		unlink(path);
		free(path);
	}
}

/* ---- line length ------------------------------------------------------ */

struct long_case {
	const char *name;
	size_t linelen;		/* bytes before the line end */
	const char *eol;
	int ok;
};

static const struct long_case long_cases[] = {
	{ "64 KiB exactly", PC_MAP_LINE_MAX, "\n", 1 },
	{ "64 KiB exactly with CRLF", PC_MAP_LINE_MAX, "\r\n", 1 },
	{ "64 KiB exactly, last line", PC_MAP_LINE_MAX, "", 1 },
	{ "one byte over", PC_MAP_LINE_MAX + 1, "\n", 0 },
	{ "one byte over with CRLF", PC_MAP_LINE_MAX + 1, "\r\n", 0 },
	{ "one byte over, last line", PC_MAP_LINE_MAX + 1, "", 0 },
	{ "70 KiB", 70 * 1024, "\n", 0 },
	{ "70 KiB, last line", 70 * 1024, "", 0 },
	{ "1 MiB", 1024 * 1024, "\n", 0 },
};

static void
test_long_lines(void **state)
{
	char err[512], want[512];

	(void)state;
	for (size_t i = 0; i < PC_ARRAY_LEN(long_cases); i++) {
		const struct long_case *c = &long_cases[i];
		struct dstr d;
		struct pc_map *m = NULL;
		char *path;
		int rc;

		/* Line 1 is ordinary; line 2 is "k " then value bytes. */
		dstr_init(&d);
		dstr_puts(&d, "first 1\nk ");
		while (d.len < strlen("first 1\n") + c->linelen)
			dstr_putc(&d, 'v');
		dstr_puts(&d, c->eol);
		path = temp_file(d.buf, d.len);
		rc = pc_map_load(path, &m, err, sizeof(err));
		if (c->ok) {
			if (rc != 0)
				fail_msg("case \"%s\": %s", c->name, err);
			assert_int_equal(strlen(pc_map_get(m, "k")),
			    c->linelen - 2);
			pc_map_free(m);
		} else {
			assert_int_equal(rc, -1);
			snprintf(want, sizeof(want),
			    "%s:2: line longer than %d bytes", path,
			    PC_MAP_LINE_MAX);
			if (strcmp(err, want) != 0)
				fail_msg("case \"%s\": [%s]", c->name, err);
		}
		unlink(path);
		free(path);
		dstr_free(&d);
	}
}

/* ---- files that cannot be read ----------------------------------------- */

static void
test_unreadable(void **state)
{
	char err[512], want[512];
	struct pc_map *m = NULL;

	(void)state;
	assert_int_equal(pc_map_load("/nonexistent/portcullis.map", &m, err,
	    sizeof(err)), -1);
	snprintf(want, sizeof(want), "/nonexistent/portcullis.map: %s",
	    strerror(ENOENT));
	assert_string_equal(err, want);
	assert_null(m);

	assert_int_equal(pc_map_load("/tmp", &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, strerror(EISDIR)));
	assert_null(m);

	/* A NULL map behaves as an empty one; err may be NULL. */
	assert_null(pc_map_get(NULL, "k"));
	assert_int_equal(pc_map_count(NULL), 0);
	assert_int_equal(pc_map_line(NULL, "k"), 0);
	pc_map_foreach(NULL, collect, NULL);
	pc_map_free(NULL);
	assert_int_equal(pc_map_load("/nonexistent", &m, NULL, 0), -1);
}

/* ---- size -------------------------------------------------------------- */

#define BIG 10000

static void
test_big_map(void **state)
{
	struct dstr d, order, want;
	struct pc_map *m = NULL;
	char err[512], key[64], val[64];
	char *path;

	(void)state;
	dstr_init(&d);
	dstr_init(&want);
	for (int i = 0; i < BIG; i++) {
		/* Mixed case in the file, lowercase in foreach. */
		dstr_appendf(&d, "User%d@Example%d.ORG\tlimit %d/1h; x\n", i,
		    i % 97, i);
		dstr_appendf(&want, "user%d@example%d.org=limit %d/1h; x;", i,
		    i % 97, i);
	}
	path = temp_file(d.buf, d.len);
	if (pc_map_load(path, &m, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(pc_map_count(m), BIG);
	for (int i = 0; i < BIG; i++) {
		const char *v;

		snprintf(key, sizeof(key), "USER%d@example%d.org", i, i % 97);
		snprintf(val, sizeof(val), "limit %d/1h; x", i);
		v = pc_map_get(m, key);
		if (v == NULL || strcmp(v, val) != 0)
			fail_msg("%s -> %s", key, v ? v : "(null)");
		assert_int_equal(pc_map_line(m, key), (unsigned)i + 1);
		/* Near misses are not found. */
		snprintf(key, sizeof(key), "user%d@example%d.org.", i, i % 97);
		assert_null(pc_map_get(m, key));
	}
	assert_null(pc_map_get(m, ""));
	dstr_init(&order);
	pc_map_foreach(m, collect, &order);
	assert_string_equal(order.buf, want.buf);
	pc_map_free(m);
	unlink(path);
	free(path);
	dstr_free(&d);
	dstr_free(&order);
	dstr_free(&want);
}

/* One entry with many continuation lines: the joins must not be quadratic. */
static void
test_long_continuation(void **state)
{
	struct dstr d;
	struct pc_map *m = NULL;
	char err[512];
	char *path;

	(void)state;
	dstr_init(&d);
	dstr_puts(&d, "k first");
	for (int i = 0; i < 100000; i++)
		dstr_puts(&d, "\n  pattern@example.org,");
	dstr_puts(&d, "\nz last\n");
	path = temp_file(d.buf, d.len);
	if (pc_map_load(path, &m, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(pc_map_count(m), 2);
	assert_int_equal(strlen(pc_map_get(m, "k")),
	    strlen("first") + 100000 * strlen(" pattern@example.org,"));
	assert_int_equal(pc_map_line(m, "z"), 100002);
	pc_map_free(m);
	unlink(path);
	free(path);
	dstr_free(&d);
}

/*
 * Pairs found by search that share a 32-bit FNV-1a hash: the table must
 * tell them apart by comparing the keys, not trust the hash.
 */
static void
test_hash_collisions(void **state)
{
	static const char one[] = "user449599@example.org v1\n";
	static const char both[] =
	    "user449599@example.org v1\nUSER612382@example.org v2\n"
	    "user449598@example.org v3\nuser612383@example.org v4\n";
	struct pc_map *m = NULL;
	char err[512];
	char *path;

	(void)state;
	path = temp_file(one, sizeof(one) - 1);
	assert_int_equal(pc_map_load(path, &m, err, sizeof(err)), 0);
	assert_string_equal(pc_map_get(m, "user449599@example.org"), "v1");
	assert_null(pc_map_get(m, "user612382@example.org"));
	pc_map_free(m);
	unlink(path);
	free(path);

	path = temp_file(both, sizeof(both) - 1);
	if (pc_map_load(path, &m, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(pc_map_get(m, "user449599@example.org"), "v1");
	assert_string_equal(pc_map_get(m, "user612382@example.org"), "v2");
	assert_string_equal(pc_map_get(m, "user449598@example.org"), "v3");
	assert_string_equal(pc_map_get(m, "user612383@example.org"), "v4");
	assert_int_equal(pc_map_line(m, "user612382@example.org"), 2);
	pc_map_free(m);
	unlink(path);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_ok),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_big_map),
		cmocka_unit_test(test_hash_collisions),
		cmocka_unit_test(test_long_continuation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
