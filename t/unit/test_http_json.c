/*
 * test_http_json.c - the API's body validation against hostile input:
 * wrong types, unknown and duplicate members, huge strings, deep
 * nesting, embedded NULs, non-objects, truncated and empty bodies; and
 * error text that quotes the client, cut between UTF-8 characters only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "api_json.h"
#include "util.h"

static const struct {
	const char *body;
	const char *want;	/* NULL: accepted */
} cases[] = {
	{ "{}", NULL },
	{ "{\"address\":\"192.0.2.1\",\"hostname\":\"mx.example\"}", NULL },
	{ "", "must be a JSON object" },
	{ "[]", "must be a JSON object" },
	{ "\"x\"", "invalid JSON" },
	{ "null", "invalid JSON" },
	{ "{\"address\":", "invalid JSON" },
	{ "{\"address\":1}", "\"address\" must be a string" },
	{ "{\"address\":null}", "\"address\" must be a string" },
	{ "{\"address\":[\"a\"]}", "\"address\" must be a string" },
	{ "{\"address\":{\"a\":\"b\"}}", "\"address\" must be a string" },
	{ "{\"address\":true}", "\"address\" must be a string" },
	{ "{\"address\":\"a\",\"address\":\"b\"}", "invalid JSON" },
	{ "{\"admin\":\"yes\"}", "unknown member \"admin\"" },
	{ "{\"address\":\"a\\u0000b\"}", "invalid JSON" },
	{ "{\"note\":\"ok\"} trailing", "invalid JSON" },
	{ "{\"address\":\"\\ud800\"}", "invalid JSON" },
};

static void
test_cases(void **state)
{
	char err[300], *v[4];
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(cases); i++) {
		int rc = api_parse_body(cases[i].body, strlen(cases[i].body),
		    api_registration_fields, api_registration_nfields, v, err,
		    sizeof(err));

		if (cases[i].want == NULL) {
			if (rc != 0)
				fail_msg("refused %s: %s", cases[i].body, err);
		} else {
			if (rc == 0)
				fail_msg("accepted %s", cases[i].body);
			if (strstr(err, cases[i].want) == NULL)
				fail_msg("%s: \"%s\" lacks \"%s\"",
				    cases[i].body, err, cases[i].want);
			assert_null(v[0]);
		}
		api_free_values(v, 4);
	}
}

static void
test_values(void **state)
{
	const char *b = "{\"domain\":\"alice.example\",\"address\":\"2001:db8::25\"}";
	char err[300], *v[4];

	(void)state;
	assert_int_equal(api_parse_body(b, strlen(b), api_registration_fields,
	    api_registration_nfields, v, err, sizeof(err)), 0);
	assert_string_equal(v[0], "2001:db8::25");
	assert_null(v[1]);
	assert_string_equal(v[2], "alice.example");
	api_free_values(v, 4);
}

static void
test_huge_and_deep(void **state)
{
	size_t n = 60000, i;
	char *b = malloc(n + 64), err[300], *v[4];

	(void)state;
	/* A hostname of 60000 bytes. */
	strcpy(b, "{\"hostname\":\"");
	for (i = strlen(b); i < n; i++)
		b[i] = 'a';
	strcpy(b + n, "\"}");
	assert_int_equal(api_parse_body(b, strlen(b), api_registration_fields,
	    api_registration_nfields, v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at most 253 bytes"));
	/* 30000 levels of nesting: refused, no stack overflow. */
	strcpy(b, "{\"note\":");
	for (i = strlen(b); i < 30008; i++)
		b[i] = '[';
	b[i] = '\0';
	assert_int_equal(api_parse_body(b, strlen(b), api_registration_fields,
	    api_registration_nfields, v, err, sizeof(err)), -1);
	/* An explicit length is honoured: the bytes after it are not read. */
	strcpy(b, "{}GARBAGE");
	assert_int_equal(api_parse_body(b, 2, api_registration_fields,
	    api_registration_nfields, v, err, sizeof(err)), 0);
	assert_int_equal(api_parse_body(NULL, 0, api_registration_fields,
	    api_registration_nfields, v, err, sizeof(err)), -1);
	free(b);
}

static void
test_feedback_required(void **state)
{
	const char *b = "{\"contact\":\"x@example.org\"}";
	const char *e = "{\"message\":\"\"}";
	char err[300], *v[2];

	(void)state;
	assert_int_equal(api_parse_body(b, strlen(b), api_feedback_fields,
	    api_feedback_nfields, v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"message\" is required"));
	assert_int_equal(api_parse_body(e, strlen(e), api_feedback_fields,
	    api_feedback_nfields, v, err, sizeof(err)), -1);
	assert_null(v[1]);
}

/* 1 if s is valid UTF-8 as jansson sees it. */
static int
valid_utf8(const char *s)
{
	json_t *v = json_string(s);

	if (v == NULL)
		return 0;
	json_decref(v);
	return 1;
}

static void
test_utf8_cut(void **state)
{
	/* 39 ASCII bytes, then e-acute (2 bytes) straddling byte 40. */
	const char *b = "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9\":\"x\"}";
	const char *euro = "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xe2\x82\xac\":1}";
	char err[300], out[16], *v[2];

	(void)state;
	assert_int_equal(api_parse_body(b, strlen(b), api_feedback_fields,
	    api_feedback_nfields, v, err, sizeof(err)), -1);
	assert_true(valid_utf8(err));
	assert_non_null(strstr(err, "unknown member \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"..."));
	assert_int_equal(api_parse_body(euro, strlen(euro), api_feedback_fields,
	    api_feedback_nfields, v, err, sizeof(err)), -1);
	assert_true(valid_utf8(err));
	/* Bytes that are not UTF-8 in the JSON text jansson quotes. */
	assert_int_equal(api_parse_body("{\"a\xff\xfe\":1}", 9,
	    api_feedback_fields, api_feedback_nfields, v, err, sizeof(err)), -1);
	assert_true(valid_utf8(err));

	/* The helper itself. */
	assert_int_equal(api_utf8_cut(out, sizeof(out), "ab\xc3\xa9", 3), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(api_utf8_cut(out, sizeof(out), "ab\xc3\xa9", 4), 4);
	assert_string_equal(out, "ab\xc3\xa9");
	assert_int_equal(api_utf8_cut(out, sizeof(out), "\xf0\x9f\x98\x80z", 3), 0);
	assert_string_equal(out, "");
	api_utf8_cut(out, sizeof(out), "a\xff" "b\xc3", 10);
	assert_string_equal(out, "a?b?");
	api_utf8_cut(out, sizeof(out), "\xed\xa0\x80", 10);	/* a surrogate */
	assert_true(valid_utf8(out));
	api_utf8_cut(out, sizeof(out), "\xc0\xaf", 10);		/* overlong '/' */
	assert_string_equal(out, "??");
	/* dst smaller than max: still terminated, still whole characters. */
	api_utf8_cut(out, 4, "a\xe2\x82\xac", 100);
	assert_string_equal(out, "a");
	assert_int_equal(api_utf8_cut(out, sizeof(out), "", 10), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_huge_and_deep),
		cmocka_unit_test(test_feedback_required),
		cmocka_unit_test(test_utf8_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
