/*
 * test_util.c - cmocka tests for src/lib/util.c: the growable string
 * (whose appends are inline in util.h), decimal formatting and the
 * bounded copies that replaced snprintf() on the milter's hot path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Appends land whole and NUL-terminated across every growth step. */
static void
test_dstr_growth(void **state)
{
	struct dstr d;
	char want[5000];
	size_t i;

	(void)state;
	dstr_init(&d);
	for (i = 0; i < sizeof(want) - 1; i++) {
		want[i] = (char)('a' + i % 26);
		if (i % 3 == 0)
			dstr_putc(&d, want[i]);
		else
			dstr_append(&d, want + i, 1);
		assert_int_equal(d.len, i + 1);
		assert_true(d.len < d.cap);
		assert_int_equal(d.buf[d.len], '\0');
	}
	want[i] = '\0';
	assert_string_equal(d.buf, want);

	/* One append far larger than the buffer, then nothing at all. */
	dstr_clear(&d);
	dstr_append(&d, want, sizeof(want) - 1);
	dstr_append(&d, "", 0);
	assert_int_equal(d.len, sizeof(want) - 1);
	assert_string_equal(d.buf, want);
	dstr_free(&d);
}

/* A zeroed dstr (how log.c keeps its spare buffer) grows on first use. */
static void
test_dstr_from_zero(void **state)
{
	struct dstr d;

	(void)state;
	memset(&d, 0, sizeof(d));
	dstr_putc(&d, 'x');
	assert_string_equal(d.buf, "x");
	dstr_free(&d);

	memset(&d, 0, sizeof(d));
	dstr_append(&d, "", 0);
	assert_non_null(d.buf);
	assert_string_equal(d.buf, "");
	dstr_puts(&d, "abc");
	assert_string_equal(d.buf, "abc");
	dstr_free(&d);
}

/* Exactly full: the byte that needs the last slot forces growth. */
static void
test_dstr_exact_fit(void **state)
{
	struct dstr d;
	char fill[64];

	(void)state;
	dstr_init(&d);
	memset(fill, 'z', sizeof(fill));
	dstr_append(&d, fill, d.cap - 1);
	assert_int_equal(d.len + 1, d.cap);
	dstr_putc(&d, '!');
	assert_true(d.len < d.cap);
	assert_int_equal(d.buf[d.len - 1], '!');
	assert_int_equal(d.buf[d.len], '\0');
	dstr_free(&d);
}

/*
 * A dstr in the caller's storage: appends stay there while they fit, the
 * first that does not moves everything to the heap (the caller's bytes
 * untouched after that), and free and steal never hand the caller's
 * array to free().  Under ASan a free() of the stack array would abort.
 */
static void
test_dstr_borrowed(void **state)
{
	char stack[8], *p;
	struct dstr d;

	(void)state;
	dstr_init_buf(&d, stack, sizeof(stack));
	assert_ptr_equal(d.buf, stack);
	assert_string_equal(d.buf, "");
	dstr_puts(&d, "abcdef");
	dstr_putc(&d, 'g');		/* 7 bytes and the NUL: exactly full */
	assert_ptr_equal(d.buf, stack);
	assert_string_equal(stack, "abcdefg");
	dstr_putc(&d, 'h');		/* one more: to the heap */
	assert_ptr_not_equal(d.buf, stack);
	assert_string_equal(d.buf, "abcdefgh");
	assert_true(d.len < d.cap);
	dstr_puts(&d, "ijklmnopqrstuvwxyz");
	assert_string_equal(d.buf, "abcdefghijklmnopqrstuvwxyz");
	assert_string_equal(stack, "abcdefg");
	dstr_free(&d);
	assert_null(d.buf);

	/* Freed while still borrowed: nothing to free. */
	dstr_init_buf(&d, stack, sizeof(stack));
	dstr_puts(&d, "ab");
	dstr_free(&d);
	assert_string_equal(stack, "ab");

	/* Stolen while borrowed: a heap copy the caller may free. */
	dstr_init_buf(&d, stack, sizeof(stack));
	dstr_puts(&d, "xyz");
	p = dstr_steal(&d);
	assert_ptr_not_equal(p, stack);
	assert_string_equal(p, "xyz");
	free(p);
	assert_null(d.buf);

	/* All of it, NULs inside too (the milter keeps From: values so). */
	dstr_init_buf(&d, stack, sizeof(stack));
	dstr_append(&d, "a\0b\0", 4);
	p = dstr_steal(&d);
	assert_memory_equal(p, "a\0b\0", 5);
	free(p);

	/* Room for the NUL only: the first byte moves it. */
	dstr_init_buf(&d, stack, 1);
	dstr_append(&d, "", 0);
	assert_ptr_equal(d.buf, stack);
	dstr_append(&d, "q", 1);
	assert_ptr_not_equal(d.buf, stack);
	assert_string_equal(d.buf, "q");
	p = dstr_steal(&d);
	assert_string_equal(p, "q");
	free(p);
}

static void
test_u64_str(void **state)
{
	static const uint64_t v[] = { 0, 1, 9, 10, 99, 100, 4294967295u,
	    4294967296u, 10000000000000000000u, UINT64_MAX };
	char buf[PC_U64_STRLEN], ref[32];
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(v); i++) {
		snprintf(ref, sizeof(ref), "%llu", (unsigned long long)v[i]);
		assert_ptr_equal(pc_u64_str(buf, v[i]), buf);
		assert_string_equal(buf, ref);
	}
	assert_int_equal(strlen(pc_u64_str(buf, UINT64_MAX)) + 1,
	    PC_U64_STRLEN);
}

/* strlcpy/strlcat report the would-be length, so callers see a cut. */
static void
test_strlcat_cut(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(pc_strlcpy(buf, "user", sizeof(buf)), 4);
	assert_int_equal(pc_strlcat(buf, "@", sizeof(buf)), 5);
	assert_int_equal(pc_strlcat(buf, "example", sizeof(buf)), 12);
	assert_string_equal(buf, "user@ex");
	/* Already full: still the would-be length, buffer untouched. */
	assert_int_equal(pc_strlcat(buf, "xy", sizeof(buf)), 9);
	assert_string_equal(buf, "user@ex");
	assert_int_equal(pc_strlcpy(buf, "", sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dstr_growth),
		cmocka_unit_test(test_dstr_from_zero),
		cmocka_unit_test(test_dstr_exact_fit),
		cmocka_unit_test(test_dstr_borrowed),
		cmocka_unit_test(test_u64_str),
		cmocka_unit_test(test_strlcat_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
